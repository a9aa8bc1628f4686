// A plain node:http server answering as bench/apps/hello.mjs does, for `node -e`: it says
// its port on stderr as tsgi does ("bound to TCP address 127.0.0.1:PORT"), and on SIGINT
// closes its connections and exits. The startup and memory scenarios start it beside tsgi.
export const HELLO_PEER = `
const http = require('node:http');
const s = http.createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '14' }); res.end('Hello, World!\\n'); });
s.listen(0, '127.0.0.1', () => process.stderr.write('bound to TCP address 127.0.0.1:' + s.address().port + '\\n'));
process.on('SIGINT', () => { s.close(() => process.exit(0)); s.closeAllConnections(); });
`;

// The same server answering as bench/apps/upload.mjs does: the body read as node:http
// streams it, each piece dropped once counted, and its length answered. The memory
// scenario's upload runs it for the floor of a server built on node:http.
export const UPLOAD_PEER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => { const body = n + '\\n'; res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) }); res.end(body); });
});
s.listen(0, '127.0.0.1', () => process.stderr.write('bound to TCP address 127.0.0.1:' + s.address().port + '\\n'));
process.on('SIGINT', () => { s.close(() => process.exit(0)); s.closeAllConnections(); });
`;
