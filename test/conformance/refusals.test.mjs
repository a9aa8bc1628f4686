// What the server refuses: each refusal gets its status with "Connection: close", the
// connection closes, and another client, served at the same time, is served on.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, startServer, req, rawRequest, parseResponses, parseResponse, connect, responses, delay } from '../helpers.mjs';
import { testFor } from './differences.mjs';

const LIMITS = { bufferSize: 1024, limitPost: 100, httpTimeout: 1 };

function app(environ, startResponse) {
  const path = environ.PATH_INFO;
  const body = environ['wsgi.input'].read();
  if (path.startsWith('/delay/')) {
    return (async () => {
      await delay(Number(path.slice(7)));
      startResponse('200 OK', []);
      return [`served ${path}`];
    })();
  }
  startResponse('200 OK', []);
  return [`served ${path} ${body.length}`];
}

const CASES = [
  // [test name, bytes (a list of pieces, written one by one), status, options]
  ['refusal: a malformed request line -> 400', ['this is not http\r\n\r\n'], 400],
  ['refusal: a request line with two spaces -> 400', ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n'], 400],
  ['refusal: a head over buffer-size -> 431', [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`], 431],
  ['refusal: Content-Length over limit-post -> 413 before the body is sent', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n'], 413],
  [
    'refusal: Content-Length over limit-post with Expect: 100-continue -> 413, no 100 Continue',
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n'],
    413,
  ],
  [
    'refusal: a chunked body over limit-post -> 413',
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', `40\r\n${'x'.repeat(64)}\r\n`, `40\r\n${'y'.repeat(64)}\r\n0\r\n\r\n`],
    413,
  ],
  ['refusal: Transfer-Encoding: gzip, chunked -> 501', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'], 501],
  ['refusal: an HTTP/2.0 request line -> 505', ['GET / HTTP/2.0\r\nHost: a\r\n\r\n'], 505],
  ['refusal: Content-Length with Transfer-Encoding -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 400],
  ['refusal: two different Content-Lengths -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'], 400],
  ['refusal: obs-fold -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n'], 400],
  ['refusal: a bare LF -> 400', ['GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'], 400],
  ['refusal: whitespace before a colon -> 400', ['GET / HTTP/1.1\r\nHost : a\r\n\r\n'], 400],
  ['refusal: HTTP/1.1 without Host -> 400', ['GET / HTTP/1.1\r\nX-A: b\r\n\r\n'], 400],
  ['refusal: a head not complete within http-timeout -> 408', ['GET / HTTP/1.1\r\nHost: a\r\nX-Half: '], 408, { slow: true }],
  ['refusal: a body that makes no progress for http-timeout -> 408', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n', 'only some'], 408, { slow: true }],
];

for (const backend of BACKENDS) {
  describe(backend, () => {
    const test = testFor(backend);
    let srv;
    before(async () => {
      srv = await startServer(app, { backend, ...LIMITS });
    });
    after(() => srv?.close());

    for (const [name, pieces, status, { slow = false } = {}] of CASES) {
      test(name, async () => {
        // Another client, its request in progress the whole time.
        const other = connect(srv.port);
        try {
          await other.connected;
          const otherDelay = slow ? 1600 : 150;
          await other.write(req('GET', `/delay/${otherDelay}`));

          const started = Date.now();
          const r = await rawRequest(srv.port, pieces.map((p) => Buffer.from(p, 'latin1')), { timeoutMs: slow ? 3500 : 3000 });
          const elapsed = Date.now() - started;
          const all = parseResponses(r.data, { closed: r.closed });
          const final = all.filter((x) => !x.interim);
          assert.equal(final.length, 1, `one response: ${JSON.stringify(r.text)}`);
          const res = final[0];
          assert.equal(res.status, status, `status: ${JSON.stringify(r.text)}`);
          assert.equal(res.header('connection'), 'close', `Connection: close: ${JSON.stringify(r.text)}`);
          assert.ok(res.complete, 'a complete response');
          assert.ok(r.closed, `the server closes the connection (${r.timedOut ? 'timed out' : 'open'})`);
          assert.ok(!all.some((x) => x.interim), `no 100 Continue: ${JSON.stringify(r.text)}`);
          if (slow) assert.ok(elapsed >= 900 && elapsed < 3500, `408 after ${elapsed} ms (http-timeout 1 s)`);

          // The other client is served, and served on.
          await other.waitFor(responses(1), 4000, "the other client's response");
          assert.equal(parseResponses(other.data)[0].body.toString(), `served /delay/${otherDelay}`);
          await other.write(req('POST', '/after', [['Content-Length', '3'], ['Connection', 'close']], 'abc'));
          await other.waitClose(3000);
          const both = parseResponses(other.data);
          assert.equal(both.length, 2, JSON.stringify(other.text));
          assert.equal(both[1].body.toString(), 'served /after 3');
        } finally {
          other.destroy();
        }
      });
    }

    test('refusal: a request at limit-post is served', async () => {
      const body = 'z'.repeat(100);
      const r = await rawRequest(srv.port, req('POST', '/at-limit', [['Content-Length', '100'], ['Connection', 'close']], body));
      const res = parseResponse(r.data);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'served /at-limit 100');
      const chunked = await rawRequest(srv.port, req('POST', '/at-limit', [['Transfer-Encoding', 'chunked'], ['Connection', 'close']], `64\r\n${body}\r\n0\r\n\r\n`));
      assert.equal(parseResponse(chunked.data).body.toString(), 'served /at-limit 100');
    });
  });
}
