#!/usr/bin/env node
// The frameworks scenario's usual servers for node:http frameworks: what a module of
// bench/apps/ exports by default, served as its users serve it: a Fastify instance by its
// own fastify.listen, an Express application by http.createServer(app).
//   node bench/peers/frameworks-node.mjs --http 127.0.0.1:0 bench/apps/express-hello.mjs
// prints "frameworks-node: socket 0 bound to TCP address HOST:PORT (http, ...)" once it
// listens, so that bench/run.mjs finds its port as it finds tsgi's.
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--http');
const [host, port] = (at === -1 ? '127.0.0.1:0' : args[at + 1]).split(':');
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--http');
const app = (await import(pathToFileURL(resolve(file)).href)).default;
let address;
let how;
if (typeof app === 'object' && typeof app.routing === 'function') {
  await app.listen({ port: Number(port), host });
  address = app.server.address();
  how = 'fastify.listen';
} else {
  const server = http.createServer(app);
  await new Promise((done) => server.listen(Number(port), host, done));
  address = server.address();
  how = 'http.createServer(app)';
}
process.stderr.write(`frameworks-node: socket 0 bound to TCP address ${address.address}:${address.port} (http, ${how})\n`);
process.on('SIGTERM', () => process.exit(0));
