#!/usr/bin/env node
// The websocket scenario's ws-on-node:http peer: bench/apps/ws-echo.mjs's server, listened
// on as its application would on node:http.
//
//   node bench/peers/ws-node-http.mjs --http 127.0.0.1:0
//
// When ready it prints, on stderr: node-http: socket 0 bound to TCP address HOST:PORT
import server from '../apps/ws-echo.mjs';
import { httpAddress } from './http-address.mjs';

const { host, port } = httpAddress(process.argv.slice(2));
server.listen(port, host, () => process.stderr.write(`node-http: socket 0 bound to TCP address ${host}:${server.address().port}\n`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
