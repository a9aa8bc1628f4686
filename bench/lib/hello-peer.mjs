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

// A server on node:net with no HTTP parser, for the memory scenario's idle and upload
// parts: what Node's sockets alone hold, under whatever is built on them (node:http, or a
// parser of one's own). A request without Content-Length gets hello's answer; one with it
// has its body counted as it streams in, each piece dropped, and the count answered. It
// takes what the scenario sends (one head at a time, no chunked body), nothing more; a
// request that says "Connection: close" has its connection ended after the answer.
export const NET_PEER = `
const net = require('node:net');
const answer = (body) => 'HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: ' + body.length + '\\r\\n\\r\\n' + body;
const s = net.createServer((c) => {
  let head = '';
  let left = -1;
  let n = 0;
  let close = false;
  const reply = (body) => (close ? c.end(answer(body)) : c.write(answer(body)));
  c.on('data', (d) => {
    let rest = d;
    if (left < 0) {
      head += d.toString('latin1');
      const end = head.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const m = /content-length: *(\\d+)/i.exec(head.slice(0, end));
      close = /connection: *close/i.test(head.slice(0, end));
      rest = Buffer.from(head.slice(end + 4), 'latin1');
      head = '';
      if (!m) return reply('Hello, World!\\n');
      left = Number(m[1]);
      n = 0;
    }
    n += rest.length;
    left -= rest.length;
    if (left <= 0) {
      left = -1;
      reply(n + '\\n');
    }
  });
  c.on('error', () => {});
});
s.listen(0, '127.0.0.1', () => process.stderr.write('bound to TCP address 127.0.0.1:' + s.address().port + '\\n'));
process.on('SIGINT', () => process.exit(0));
`;
