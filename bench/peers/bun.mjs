// The Bun peer of the "peers" scenario: the routes of bench/apps/peers.ts, answering the
// same bodies with the same Content-Type, on Bun.serve. Run by the bun binary that
// bench/install-peers.mjs installs (bench/.peers/node_modules/@oven/bun-linux-x64/bin/bun):
//
//   bun bench/peers/bun.mjs --http 127.0.0.1:0
//
// When ready it prints, on stderr:
//   bun: socket 0 bound to TCP address 127.0.0.1:PORT (http, pid N)
//
// Bun always adds "Date" to a response. /echo reads the body whole (arrayBuffer());
// /echo-4k reads the body's stream piece by piece, as Bun delivers them.
import { httpAddress } from './http-address.mjs';

const { host, port } = httpAddress(process.argv.slice(2));

const HELLO = 'Hello, World!\n';
const BODY_64K = new Uint8Array(64 * 1024).fill(0x78);
const BODY_10K = new Uint8Array(10 * 1024).fill(0x78);
const TEXT = { 'Content-Type': 'text/plain' };
const OCTETS = { 'Content-Type': 'application/octet-stream' };

async function readPieces(body) {
  const pieces = [];
  if (body) for await (const piece of body) pieces.push(piece);
  return Buffer.concat(pieces);
}

const server = Bun.serve({
  hostname: host,
  port,
  async fetch(req) {
    const { pathname } = new URL(req.url);
    switch (pathname) {
      case '/':
        return new Response(HELLO, { headers: TEXT });
      case '/64k':
        return new Response(BODY_64K, { headers: OCTETS });
      case '/10k':
        return new Response(BODY_10K, { headers: OCTETS });
      case '/echo':
        return new Response(await req.arrayBuffer(), { headers: OCTETS });
      case '/echo-4k':
        return new Response(await readPieces(req.body), { headers: OCTETS });
      case '/sleep':
        await Bun.sleep(10);
        return new Response(HELLO, { headers: TEXT });
      default:
        return new Response('', { status: 404 });
    }
  },
});
process.stderr.write(`bun: socket 0 bound to TCP address ${host}:${server.port} (http, pid ${process.pid})\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.stop(true);
    process.exit(0);
  });
}
