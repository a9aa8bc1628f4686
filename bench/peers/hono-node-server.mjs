// The frameworks scenario's peer: a fetch application (bench/apps/hono-hello.mjs) on its
// usual server, @hono/node-server, with its defaults (it replaces the global Request and
// Response with its lightweight ones, as its users run it).
//   node bench/peers/hono-node-server.mjs --http 127.0.0.1:0 APP.mjs
// prints "hono-node-server: socket 0 bound to TCP address HOST:PORT (http, ...)" once it listens,
// so that bench/run.mjs finds its port as it finds tsgi's.
import { serve } from '@hono/node-server';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const at = args.indexOf('--http');
const [host, port] = (at === -1 ? '127.0.0.1:0' : args[at + 1]).split(':');
const file = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--http');
const app = (await import(pathToFileURL(resolve(file)).href)).default;
serve({ fetch: app.fetch, hostname: host, port: Number(port) }, (info) => {
  process.stderr.write(`hono-node-server: socket 0 bound to TCP address ${info.address}:${info.port} (http, @hono/node-server)\n`);
});
process.on('SIGTERM', () => process.exit(0));
