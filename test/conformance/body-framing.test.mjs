// The response body's framing: Content-Length kept to (more bytes or fewer than it
// says), added when the body is at hand (a list, a generator that ends within 64 KiB),
// chunked for a streamed body in HTTP/1.1, the close in HTTP/1.0; no body and no framing
// headers for 204 and 304.
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponse, parseResponses } from '../lib/http-wire.mjs';
import { rawRequest, responses, connect } from '../lib/raw-client.mjs';
import { delay } from '../lib/wait.mjs';
import { CHUNK } from '../lib/bodies.mjs';
import { routedSuite } from './suite.mjs';

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

    test('body: more bytes than Content-Length: exactly Content-Length go out, the connection stays usable', async () => {
      routes.set('/long-list', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '5']]);
        return ['hello', ' world'];
      });
      routes.set('/long-one', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '5']]);
        return ['hello world'];
      });
      routes.set('/long-gen', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '5']]);
        return (function* () {
          yield 'hel';
          yield 'lo world';
          yield 'more';
        })();
      });
      routes.set('/long-async', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '5']]);
        return (async function* () {
          yield 'hel';
          await delay(5);
          yield 'lo world';
          yield 'more';
        })();
      });
      routes.set('/next', (environ, startResponse) => {
        startResponse('200 OK', []);
        return ['next'];
      });
      for (const path of ['/long-list', '/long-one', '/long-gen', '/long-async']) {
        const c = connect(srv.port);
        try {
          await c.connected;
          await c.write(req('GET', path));
          await c.waitFor(responses(1), 3000, `the response to ${path}`);
          await delay(30); // anything past Content-Length would have arrived by now
          const [first, ...rest] = parseResponses(c.data);
          assert.equal(first.header('content-length'), '5', path);
          assert.equal(first.body.toString(), 'hello', path);
          assert.equal(rest.length, 0, `${path}: nothing after the 5 bytes: ${JSON.stringify(c.text)}`);
          assert.equal(c.data.length, first.raw.length, `${path}: nothing after the 5 bytes: ${JSON.stringify(c.text)}`);
          await c.write(req('GET', '/next', [['Connection', 'close']]));
          await c.waitClose(3000);
          const all = parseResponses(c.data);
          assert.equal(all.length, 2, `${path}: ${JSON.stringify(c.text)}`);
          assert.equal(all[1].body.toString(), 'next', path);
        } finally {
          c.destroy();
        }
      }
    });

    test('body: fewer bytes than Content-Length: the connection is closed after them', async () => {
      routes.set('/short-list', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '10']]);
        return ['abc'];
      });
      routes.set('/short-async', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Length', '10']]);
        return (async function* () {
          yield 'ab';
          await delay(5);
          yield 'c';
        })();
      });
      routes.set('/next', (environ, startResponse) => {
        startResponse('200 OK', []);
        return ['next'];
      });
      for (const path of ['/short-list', '/short-async']) {
        // A keep-alive request with another pipelined behind it: still closed.
        const r = await rawRequest(srv.port, req('GET', path) + req('GET', '/next'), { timeoutMs: 3000 });
        assert.ok(r.closed, `${path}: the server closes the connection`);
        const all = parseResponses(r.data);
        assert.equal(all.length, 1, `${path}: only the short response: ${JSON.stringify(r.text)}`);
        assert.equal(all[0].header('content-length'), '10');
        assert.equal(all[0].body.toString(), 'abc');
        assert.equal(all[0].complete, false);
      }
    });

    test('body: no Content-Length and a list: the server adds Content-Length', async () => {
      routes.set('/list', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
        return ['a', Buffer.from('bc'), '\u00e9', new Uint8Array([0x64]), ''];
      });
      const res = await get('/list');
      assert.equal(res.header('content-length'), '6');
      assert.equal(res.header('transfer-encoding'), undefined);
      assert.equal(res.body.toString('utf8'), 'abc\u00e9d');
      routes.set('/empty-list', (environ, startResponse) => {
        startResponse('200 OK', []);
        return [];
      });
      const empty = await get('/empty-list');
      assert.equal(empty.header('content-length'), '0');
      assert.equal(empty.body.length, 0);
    });

    test('body: strings are sent as UTF-8, short and long, with 2-, 3- and 4-byte characters (a surrogate pair), whole', async () => {
      // The native server copies a short string in one pass into three bytes a UTF-16
      // unit, and measures a long one (over 1024 units) first (native/server/send.cc
      // AppendBody): lengths around that bound, and far over it.
      const mixed = (units) => {
        let s = '';
        for (let i = 0; s.length < units; i++) s += ['a', '\u00e9', '\u20ac', '\u{1F600}'][i % 4];
        return s.slice(0, units - (/[\uD800-\uDBFF]$/.test(s.slice(0, units)) ? 1 : 0));
      };
      const bodies = [1, 2, 1023, 1024, 1025, 3000, 100000].flatMap((n) => [mixed(n), '\u{1F600}'.repeat(Math.ceil(n / 2)), '\u20ac'.repeat(n)]);
      routes.set('/utf8', (environ, startResponse) => {
        startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
        return [bodies[Number(environ.QUERY_STRING)]];
      });
      for (let i = 0; i < bodies.length; i++) {
        const res = await get(`/utf8?${i}`, { timeoutMs: 5000 });
        const want = Buffer.from(bodies[i], 'utf8');
        assert.equal(res.header('content-length'), String(want.length), `body ${i}`);
        assert.ok(res.body.equals(want), `body ${i} (${bodies[i].length} units): bytes`);
      }
    });

    test('body: no Content-Length and a list over 64 KiB: the server adds Content-Length', async () => {
      routes.set('/big-list', (environ, startResponse) => {
        startResponse('200 OK', []);
        return [Buffer.alloc(40000, 0x61), Buffer.alloc(40000, 0x62), 'c'.repeat(40000)];
      });
      const res = await get('/big-list', { timeoutMs: 5000 });
      assert.equal(res.header('content-length'), '120000', `the body is at hand: ${JSON.stringify(res.headers)}`);
      assert.equal(res.header('transfer-encoding'), undefined);
      assert.equal(res.body.length, 120000);
      assert.ok(res.complete);
    });

    test('body: no Content-Length and a sync generator that ends within 64 KiB: Content-Length is added', async () => {
      routes.set('/small-gen', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (function* () {
          yield 'one ';
          yield 'two';
        })();
      });
      const res = await get('/small-gen');
      assert.equal(res.header('content-length'), '7');
      assert.equal(res.header('transfer-encoding'), undefined);
      assert.equal(res.body.toString(), 'one two');
    });

    test('body: no Content-Length and a streamed body: chunked in HTTP/1.1', async () => {
      routes.set('/async-gen', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          yield 'one ';
          await delay(5);
          yield Buffer.from('two ');
          yield 'three';
        })();
      });
      routes.set('/big-gen', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (function* () {
          for (let i = 0; i < 3; i++) yield Buffer.alloc(CHUNK, 0x30 + i);
          yield 'end';
        })();
      });
      const res = await get('/async-gen');
      assert.equal(res.header('transfer-encoding'), 'chunked');
      assert.equal(res.header('content-length'), undefined);
      assert.ok(res.complete, 'ends with the last chunk');
      assert.equal(res.body.toString(), 'one two three');
      const big = await get('/big-gen');
      assert.equal(big.header('transfer-encoding'), 'chunked');
      assert.equal(big.header('content-length'), undefined);
      assert.ok(big.complete);
      assert.equal(big.body.length, 3 * CHUNK + 3);
      assert.deepEqual(big.body.subarray(CHUNK - 1, CHUNK + 1), Buffer.from('01'));
      assert.equal(big.body.subarray(-3).toString(), 'end');
    });

    test('body: no Content-Length and a streamed body in HTTP/1.0: the close ends it', async () => {
      routes.set('/async-gen10', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          yield 'one ';
          await delay(5);
          yield 'two';
        })();
      });
      for (const headers of ['', 'Connection: keep-alive\r\n']) {
        const r = await rawRequest(srv.port, `GET /async-gen10 HTTP/1.0\r\n${headers}\r\n`, { timeoutMs: 3000 });
        assert.ok(r.closed, `${JSON.stringify(headers)}: the server closes the connection`);
        const res = parseResponse(r.data, { closed: true });
        assert.equal(res.status, 200);
        assert.equal(res.header('transfer-encoding'), undefined, 'no chunked coding for HTTP/1.0');
        assert.equal(res.header('content-length'), undefined);
        assert.equal(res.body.toString(), 'one two');
      }
    });

    test('body: 204 and 304 responses have no body and no framing headers', async () => {
      routes.set('/204', (environ, startResponse) => {
        startResponse('204 No Content', [['X-A', '1']]);
        return ['ignored'];
      });
      routes.set('/304', (environ, startResponse) => {
        startResponse('304 Not Modified', [['ETag', '"x"']]);
        return [];
      });
      routes.set('/next', (environ, startResponse) => {
        startResponse('200 OK', []);
        return ['next'];
      });
      const r = await rawRequest(srv.port, req('GET', '/204') + req('GET', '/304') + req('GET', '/next', [['Connection', 'close']]), { until: responses(3) });
      const [a, b, c] = parseResponses(r.data);
      assert.equal(a.status, 204);
      assert.equal(a.header('content-length'), undefined);
      assert.equal(a.header('transfer-encoding'), undefined);
      assert.equal(b.status, 304);
      assert.equal(b.header('transfer-encoding'), undefined);
      assert.equal(c?.body.toString(), 'next', `nothing between the responses: ${JSON.stringify(r.text)}`);
    });
  });
}
