// The frameworks scenario: Fastify 5's hello world (GET / -> "Hello, World!\n",
// text/plain), as its users write it. tsgi serves the default export, the instance, with
// --wsgi-file (interface auto: node, a Fastify instance, served once ready());
// bench/peers/frameworks-node.mjs serves the same module by fastify.listen.
import Fastify from 'fastify';

const app = Fastify();
app.get('/', async (request, reply) => {
  reply.type('text/plain');
  return 'Hello, World!\n';
});

export default app;
