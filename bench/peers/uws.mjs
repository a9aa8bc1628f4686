#!/usr/bin/env node
// The uWebSockets.js peer of the "peers" scenario: the routes of bench/apps/peers.ts,
// answering the same bodies with the same Content-Type, on uWebSockets.js as installed
// by bench/install-peers.mjs (bench/.peers/node_modules/@trufflesuite/uws-js-unofficial);
// and the websocket scenario's: /ws echoes every WebSocket message.
//
//   node bench/peers/uws.mjs --http 127.0.0.1:0
//
// When ready it prints, on stderr:
//   uws: socket 0 bound to TCP address 127.0.0.1:PORT (http, pid N)
//
// uWebSockets.js always adds "Date" and "uWebSockets: 20" to a response; it cannot be
// told not to. A request body arrives through res.onData in the pieces the socket
// delivers: both echo routes collect those pieces, which is what reading a stream in
// pieces is on this server.
import { createRequire } from 'node:module';
import path from 'node:path';
import { uwsBinary, uwsDir } from '../lib/peers-install.mjs';
import { httpAddress } from './http-address.mjs';

const dir = uwsDir();
if (!dir) {
  process.stderr.write('uws: uWebSockets.js is not installed: run npm run bench:peers-install\n');
  process.exit(2);
}
// Without a binary for this Node, the package would serve with its node:http polyfill:
// a peer that is not uWebSockets.js (bench/lib/peers-install.mjs runs this on a Node that has one).
if (!uwsBinary(process.versions.modules, dir)) {
  process.stderr.write(`uws: uWebSockets.js has no binary for Node ${process.version} (module version ${process.versions.modules}): run this with Node 16, 18 or 20\n`);
  process.exit(2);
}
const uWS = createRequire(path.join(dir, 'package.json'))(dir);

const { host, port, address } = httpAddress(process.argv.slice(2));

const HELLO = Buffer.from('Hello, World!\n');
const BODY_64K = Buffer.alloc(64 * 1024, 'x');
const BODY_10K = Buffer.alloc(10 * 1024, 'x');

function send(res, contentType, body) {
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', contentType).end(body);
  });
}

/** Collects the request body (copying each piece: uWS reuses the ArrayBuffer) and sends it back. */
function echo(res) {
  const pieces = [];
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((ab, isLast) => {
    pieces.push(Buffer.from(ab.slice(0)));
    if (isLast && !aborted) send(res, 'application/octet-stream', Buffer.concat(pieces));
  });
}

const app = uWS
  .App()
  .get('/', (res) => send(res, 'text/plain', HELLO))
  .get('/64k', (res) => send(res, 'application/octet-stream', BODY_64K))
  .get('/10k', (res) => send(res, 'application/octet-stream', BODY_10K))
  .post('/echo', echo)
  .post('/echo-4k', echo)
  .get('/sleep', (res) => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    setTimeout(() => {
      if (!aborted) send(res, 'text/plain', HELLO);
    }, 10);
  })
  .ws('/ws', {
    compression: uWS.DISABLED,
    maxPayloadLength: 1024 * 1024,
    idleTimeout: 0,
    message: (ws, message, isBinary) => ws.send(message, isBinary),
  })
  .any('/*', (res) => {
    res.cork(() => res.writeStatus('404 Not Found').end());
  });

let token;
app.listen(host, port, (t) => {
  if (!t) {
    process.stderr.write(`uws: could not listen on ${address}\n`);
    process.exit(1);
  }
  token = t;
  process.stderr.write(`uws: socket 0 bound to TCP address ${host}:${uWS.us_socket_local_port(t)} (http, pid ${process.pid})\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (token) uWS.us_listen_socket_close(token);
    process.exit(0);
  });
}
