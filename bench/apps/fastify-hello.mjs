// bench/frameworks-node.mjs: a Fastify 5 hello world (GET / -> "Hello, World!\n",
// text/plain). build() for its usual server, fastify.listen (bench/peers/frameworks-node.mjs);
// application for tsgi, through the documented recipe (ready(), then fastify.routing).
import Fastify from 'fastify';
import { fromNodeListener } from '../../dist/lib/index.js';

export function build() {
  const app = Fastify();
  app.get('/', async (request, reply) => {
    reply.type('text/plain');
    return 'Hello, World!\n';
  });
  return app;
}

const app = build();
await app.ready();
export const application = fromNodeListener(app.routing);
