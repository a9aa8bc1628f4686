// What the server refuses: each refusal gets its status with "Connection: close", the
// connection closes, and another client, served at the same time, is served on.
// The application runs inside validate() (validated() in ../lib/contract.mjs).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { validated } from '../lib/contract.mjs';
import { BACKENDS } from '../lib/project.mjs';
import { REFUSALS, REFUSAL_LIMITS } from '../lib/refusals.mjs';
import { req, parseResponses, parseResponse } from '../lib/http-wire.mjs';
import { rawRequest, connect, responses } from '../lib/raw-client.mjs';
import { delay } from '../lib/wait.mjs';
import { backendSuite } from './suite.mjs';

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


for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv } = backendSuite(backend, validated(app), REFUSAL_LIMITS);

    for (const [name, pieces, status, , { slow = false } = {}] of REFUSALS) {
      test(name, async () => {
        // Another client, its request in progress the whole time.
        const other = connect(srv.port);
        try {
          await other.connected;
          const otherDelay = slow ? 1600 : 50;
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

    test('timeout: an idle keep-alive connection is closed after http-timeout', async () => {
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('GET', '/idle'));
        await c.waitFor(responses(1), 3000, 'the response');
        const answered = c.data.length;
        const started = Date.now();
        await c.waitClose(3500);
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 800 && elapsed < 3500, `closed after ${elapsed} ms idle (http-timeout 1 s)`);
        assert.equal(c.data.length, answered, 'nothing is sent on an idle close');
      } finally {
        c.destroy();
      }
    });

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
