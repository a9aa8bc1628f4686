// The websocket scenario's application for node:http: a `ws` echo on an http.Server that
// is exported, not listened on. tsgi serves it through the node interface (the server's
// 'upgrade' listeners); bench/peers/ws-node-http.mjs listens on it itself, as an
// application on node:http would.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((req, res) => res.end('websocket echo\n'));
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));

export default server;
