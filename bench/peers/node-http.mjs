#!/usr/bin/env node
// The reference peer: a plain node:http server answering the same bytes as the
// benchmark applications in bench/apps/, so tsgi can be compared against it.
//
//   node bench/peers/node-http.mjs --http 127.0.0.1:0 [--scenario hello|post|stream|peers]
//   node bench/peers/node-http.mjs --http /path/to/app.sock   (a unix socket, mode 0777,
//                                                                so nginx's workers can connect)
//
// When ready it prints, on stderr:
//   node-http: socket 0 bound to TCP address 127.0.0.1:PORT (http, scenario hello, pid N)
//   node-http: socket 0 bound to UNIX address /path/to/app.sock (http, scenario hello, pid N)
//
// node:http adds "Connection: keep-alive" and "Keep-Alive: timeout=5" to every
// keep-alive response (it cannot be told not to); tsgi's native backend sends neither.
// res.sendDate = false drops the Date header, which tsgi does not send either.
import http from 'node:http';

function parseArgs(argv) {
  const out = { http: '127.0.0.1:0', scenario: 'hello' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const [name, inline] = eq === -1 ? [a, undefined] : [a.slice(0, eq), a.slice(eq + 1)];
    const value = () => (inline !== undefined ? inline : argv[++i]);
    if (name === '--http') out.http = value();
    else if (name === '--scenario') out.scenario = value();
    else {
      process.stderr.write(`node-http: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
// A path (it has a slash) is a unix socket; anything else is HOST:PORT.
const unixPath = args.http.includes('/') ? args.http : undefined;
const colon = args.http.lastIndexOf(':');
const host = args.http.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(args.http.slice(colon + 1));

const HELLO = 'Hello, World!\n';
const HELLO_LENGTH = String(Buffer.byteLength(HELLO));

// The same 16 chunks of 64 KiB as bench/apps/stream.ts: chunk i is the letter 'a' + i.
const STREAM_CHUNKS = Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, 0x61 + i));

// The peers scenario's routes (bench/apps/peers.ts answers the same bytes).
const BODY_64K = Buffer.alloc(64 * 1024, 'x');
const BODY_10K = Buffer.alloc(10 * 1024, 'x');

function send(res, contentType, body) {
  res.sendDate = false;
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(body.length) });
  res.end(body);
}

/** The whole request body, from the chunks node:http hands over. */
function readBody(req, done) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => done(Buffer.concat(chunks)));
}

const handlers = {
  hello(_req, res) {
    res.sendDate = false;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO_LENGTH });
    res.end(HELLO);
  },
  post(req, res) {
    let length = 0;
    req.on('data', (chunk) => {
      length += chunk.length;
    });
    req.on('end', () => {
      const text = `${length}\n`;
      res.sendDate = false;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  },
  peers(req, res) {
    switch (req.url) {
      case '/64k':
        return send(res, 'application/octet-stream', BODY_64K);
      case '/10k':
        return send(res, 'application/octet-stream', BODY_10K);
      // node:http hands the body over as it arrives (chunks of up to 64 KiB): reading it in
      // 4 KiB pieces is what a stream consumer gets anyway, so both echo routes read the same.
      case '/echo':
      case '/echo-4k':
        return readBody(req, (body) => send(res, 'application/octet-stream', body));
      case '/sleep':
        return setTimeout(() => send(res, 'text/plain', Buffer.from(HELLO)), 10);
      default:
        return handlers.hello(req, res);
    }
  },
  stream(_req, res) {
    // No Content-Length: HTTP/1.1 chunked, as tsgi does for a generator. Writes
    // respect backpressure, like a streaming server should.
    res.sendDate = false;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    let i = 0;
    const pump = () => {
      while (i < STREAM_CHUNKS.length) {
        if (!res.write(STREAM_CHUNKS[i++])) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  },
};

const handler = handlers[args.scenario];
if (!handler) {
  process.stderr.write(`node-http: unknown scenario ${args.scenario} (hello, post, stream, peers)\n`);
  process.exit(2);
}

const server = http.createServer(handler);
server.on('error', (err) => {
  process.stderr.write(`node-http: ${err.stack ?? err}\n`);
  process.exit(1);
});
const where = unixPath !== undefined ? { path: unixPath, readableAll: true, writableAll: true } : { host, port };
server.listen(where, () => {
  const a = server.address();
  const shown =
    typeof a === 'string' ? `UNIX address ${a}` : `TCP address ${a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`}`;
  process.stderr.write(`node-http: socket 0 bound to ${shown} (http, scenario ${args.scenario}, pid ${process.pid})\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
