// The framework applications of test/fixtures/frameworks/ on their usual servers
// (http.createServer for Express and Koa, fastify.listen for Fastify) and on tsgi, the
// requests both get, and what "the same response" means. Used by
// test/integration/frameworks-node.test.mjs.
//
// The same response, byte for byte, means: the same status line; the same header
// lines, in the same order, with the same names (casing included) and values; the
// same framing (Content-Length, or chunked); the same body bytes once de-chunked. Three
// things are set aside, each for its reason:
//   - Date's value (the clock moves; its presence and place are compared);
//   - Connection and Keep-Alive lines, on both sides: node:http adds "Connection:
//     keep-alive" and "Keep-Alive: timeout=5" to every keep-alive response, tsgi's
//     native server adds neither (keep-alive is HTTP/1.1's default) and its js backend,
//     node:http underneath, "Connection: keep-alive" alone;
//   - the sizes of the chunks of a chunked body (where a write ends is the sender's
//     choice; tsgi joins the writes of one turn): the de-chunked bytes are compared.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './project.mjs';
import { req } from './http-wire.mjs';
import { request } from './raw-client.mjs';

export const FRAMEWORK_DIR = join(FIXTURES, 'frameworks');

/** Starts a listener on http.createServer, 127.0.0.1, a free port. */
async function nodeHttp(listener) {
  const server = http.createServer(listener);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** name -> { file, usual(module): the application on its usual server: { port, close } }. */
export const FRAMEWORKS = {
  express: { file: join(FRAMEWORK_DIR, 'express-app.mjs'), usual: (m) => nodeHttp(m.app) },
  koa: { file: join(FRAMEWORK_DIR, 'koa-app.mjs'), usual: (m) => nodeHttp(m.listener) },
  fastify: {
    file: join(FRAMEWORK_DIR, 'fastify-app.mjs'),
    async usual(m) {
      const f = m.build();
      await f.listen({ port: 0, host: '127.0.0.1' });
      return { port: f.server.address().port, close: () => f.close() };
    },
  },
};

export const UPLOAD = randomBytes(5 * 1024 * 1024);
export const UPLOAD_DIGEST = { length: UPLOAD.length, sha256: createHash('sha256').update(UPLOAD).digest('hex') };
// stat's own mtime, as the frameworks read it: Node rounds mtimeMs to the millisecond, and a
// file written at x.9996 s has its Last-Modified at x+1 s (new Date(mtimeMs) would say x).
const STATIC_MTIME = statSync(join(FRAMEWORK_DIR, 'static', 'hello.txt')).mtime.toUTCString();

/**
 * The requests, in order: [name, method, target, headers, body]. etag is the static
 * file's ETag as the usual server gave it (for If-None-Match), when the framework has one.
 */
export function requestsFor(etag) {
  const json = Buffer.from(JSON.stringify({ numbers: [1, 2, 3.5], text: 'café ☕' }));
  const list = [
    ['routing and a query', 'GET', '/hello?name=tsgi', []],
    ['a query string', 'GET', '/query?a=1&b=two&b=three&c=%C3%A9t%C3%A9', []],
    ['a JSON body', 'POST', '/json', [['Content-Type', 'application/json'], ['Content-Length', String(json.length)]], json],
    ['cookies', 'GET', '/cookies', [['Cookie', 'a=1; b=2']]],
    ['a redirect', 'GET', '/redirect', []],
    ['a static file', 'GET', '/static/hello.txt', []],
    ['a static file, a Range', 'GET', '/static/hello.txt', [['Range', 'bytes=6-15']]],
    ['a static file, If-Modified-Since', 'GET', '/static/hello.txt', [['If-Modified-Since', STATIC_MTIME]]],
    ['a streamed body', 'GET', '/stream', []],
    ['a thrown error and its handler', 'GET', '/error', []],
    ['a 404', 'GET', '/nowhere', []],
    ['HEAD', 'HEAD', '/hello?name=head', []],
    ['the connection, as the request sees it', 'GET', '/peer', []],
    ['HTTP/1.0', 'GET', '/hello?name=old', [], '', 'HTTP/1.0'],
    ['a 5 MB upload', 'POST', '/upload', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(UPLOAD.length)]], UPLOAD],
  ];
  if (etag !== undefined) list.splice(8, 0, ['a static file, If-None-Match', 'GET', '/static/hello.txt', [['If-None-Match', etag]]]);
  return list;
}

/** Sends one of requestsFor()'s requests on a fresh connection; resolves with the parsed response. */
export function send(port, [, method, target, headers, body = '', version = 'HTTP/1.1']) {
  const head = req(method, target, headers, '', version);
  const bytes = typeof body === 'string' ? head + body : [head, body];
  // An HTTP/1.0 response ends with the close: wait for it.
  return request(port, bytes, { method, timeoutMs: 10000, ...(version === 'HTTP/1.0' ? { until: () => false } : {}) });
}

/** The response as compared (see the top of the file). */
export function normalized(res) {
  return {
    statusLine: `${res.version} ${res.status} ${res.reason}`,
    headers: res.headers
      .filter(([name]) => !/^(connection|keep-alive)$/i.test(name))
      .map(([name, value]) => (name.toLowerCase() === 'date' ? `${name}: (a date)` : `${name}: ${value}`)),
    framing: res.framing,
    body: res.body.toString('latin1'),
  };
}
