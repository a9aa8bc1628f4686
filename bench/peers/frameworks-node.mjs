#!/usr/bin/env node
// The usual servers of bench/frameworks-node.mjs: an application of bench/apps/ on
// http.createServer (Express) or fastify.listen (Fastify), on 127.0.0.1, a free port.
//   node bench/peers/frameworks-node.mjs express|fastify
// When ready it prints on stderr: "peer: bound to TCP address 127.0.0.1:PORT".
import http from 'node:http';

const which = process.argv[2];
const { build } = await import(`../apps/${which}-hello.mjs`);
const app = build();
let port;
if (which === 'fastify') {
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = app.server.address().port;
} else {
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
}
process.stderr.write(`peer: bound to TCP address 127.0.0.1:${port}\n`);
process.on('SIGTERM', () => process.exit(0));
