#!/usr/bin/env node
// The websocket scenario's uWebSockets.js peer: an echo of every message, as installed
// by bench/install-peers.mjs (bench/.peers/node_modules/@trufflesuite/uws-js-unofficial).
//
//   node bench/peers/uws-ws.mjs --http 127.0.0.1:0
//
// When ready it prints, on stderr: uws: socket 0 bound to TCP address HOST:PORT
import { createRequire } from 'node:module';
import path from 'node:path';
import { uwsDir } from '../lib/peers-install.mjs';
import { httpAddress } from './http-address.mjs';

const dir = uwsDir();
if (!dir) {
  process.stderr.write('uws: uWebSockets.js is not installed: run npm run bench:peers-install\n');
  process.exit(2);
}
const uWS = createRequire(path.join(dir, 'package.json'))(dir);
const { host, port, address } = httpAddress(process.argv.slice(2));

const app = uWS.App().ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 1024 * 1024,
  idleTimeout: 0,
  message: (ws, message, isBinary) => ws.send(message, isBinary),
});
let token;
app.listen(host, port, (t) => {
  if (!t) {
    process.stderr.write(`uws: could not listen on ${address}\n`);
    process.exit(1);
  }
  token = t;
  process.stderr.write(`uws: socket 0 bound to TCP address ${host}:${uWS.us_socket_local_port(t)}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    if (token) uWS.us_listen_socket_close(token);
    process.exit(0);
  });
}
