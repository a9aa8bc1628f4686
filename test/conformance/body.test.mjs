// The response body: framing, Content-Length, errors before and after the headers,
// close() exactly once, async applications and bodies, backpressure.
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs), whose body wrapper
// also checks that the server calls close() once and never pulls the body after it. The
// test of bodies of the wrong type runs its routes both ways: validate() catches them
// first (TSGI_ERR_APP_CONTRACT), so they also run unvalidated() for the server's own
// checks (TSGI_ERR_BODY_TYPE, TSGI_ERR_NO_START_RESPONSE).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeFileSync, fstatSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponse, parseResponses } from '../lib/http-wire.mjs';
import { rawRequest, responses, connect } from '../lib/raw-client.mjs';
import { waitUntil, delay } from '../lib/wait.mjs';
import { unvalidated } from '../lib/contract.mjs';
import { routedSuite } from './suite.mjs';

const CHUNK = 65536;

/** A body object with a counted close(); makeIterator.async says which protocol it has. */
function closable(makeIterator, counter) {
  return {
    [Symbol.iterator]: makeIterator.async ? undefined : makeIterator,
    [Symbol.asyncIterator]: makeIterator.async ? makeIterator : undefined,
    close() {
      counter.close++;
    },
  };
}

/** An iterator (no close() on its iterable) whose return() is counted. */
function countedIterator(values, counter, { async = false, failAt = -1, forever = false } = {}) {
  let i = 0;
  const step = () => {
    if (i === failAt) throw new Error('the body failed');
    if (!forever && i >= values.length) return { done: true, value: undefined };
    return { done: false, value: values[i++ % values.length] };
  };
  const it = {
    next: async ? async () => (await delay(2), step()) : step,
    return(v) {
      counter.return++;
      return async ? Promise.resolve({ done: true, value: v }) : { done: true, value: v };
    },
  };
  return async ? { [Symbol.asyncIterator]: () => it } : { [Symbol.iterator]: () => it };
}

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

    test('body: an empty chunk, then an error, gets a clean 500', async () => {
      routes.set('/empty-then-throw', (environ, startResponse) => {
        return (function* () {
          startResponse('200 OK', [['X-App', '1']]);
          yield '';
          throw new Error('failed after an empty chunk');
        })();
      });
      routes.set('/empty-then-throw-async', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', [['X-App', '1']]);
          yield '';
          yield new Uint8Array(0);
          await delay(5);
          throw new Error('failed after an empty chunk');
        })();
      });
      for (const path of ['/empty-then-throw', '/empty-then-throw-async']) {
        const res = await get(path);
        assert.equal(res.status, 500, `${path}: ${res.raw.toString('latin1')}`);
        assert.ok(res.complete, `${path}: a complete response`);
        assert.equal(res.header('x-app'), undefined, `${path}: none of the application's headers`);
        assert.equal(res.body.toString(), 'Internal Server Error\n');
      }
    });

    test('body: an error after the first chunk cuts a chunked response', async () => {
      routes.set('/x-then-throw', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', []);
          yield 'x';
          await delay(10);
          throw new Error('failed mid-body');
        })();
      });
      // A sync body past one 64 KiB batch: its headers went out too.
      routes.set('/big-then-throw', (environ, startResponse) => {
        return (function* () {
          startResponse('200 OK', []);
          for (let i = 0; i < 3; i++) yield Buffer.alloc(CHUNK, 0x61);
          throw new Error('failed mid-body');
        })();
      });
      for (const [path, min] of [['/x-then-throw', 1], ['/big-then-throw', CHUNK]]) {
        const r = await rawRequest(srv.port, req('GET', path), { timeoutMs: 3000 });
        assert.ok(r.closed, `${path}: the server closes the connection`);
        const res = parseResponse(r.data);
        assert.equal(res.status, 200, path);
        assert.equal(res.header('transfer-encoding'), 'chunked', path);
        assert.ok(res.body.length >= min, `${path}: the body so far (${res.body.length} bytes)`);
        assert.equal(res.complete, false, `${path}: no last chunk: ${JSON.stringify(r.text.slice(-40))}`);
        assert.ok(!r.text.endsWith('0\r\n\r\n'), path);
      }
    });

    test('body: an error after the first chunk cuts a Content-Length response short', async () => {
      routes.set('/cl-then-throw', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', [['Content-Length', '100']]);
          yield 'x';
          await delay(10);
          throw new Error('failed mid-body');
        })();
      });
      const r = await rawRequest(srv.port, req('GET', '/cl-then-throw'), { timeoutMs: 3000 });
      assert.ok(r.closed, 'the server closes the connection');
      const res = parseResponse(r.data);
      assert.equal(res.status, 200);
      assert.equal(res.header('content-length'), '100');
      assert.equal(res.body.toString(), 'x');
      assert.equal(res.complete, false);
    });

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

    test('body: close() is called once after a normal end', async () => {
      const counter = { close: 0 };
      routes.set('/close-normal', (environ, startResponse) => {
        startResponse('200 OK', []);
        return closable(function* () {
          yield 'a';
          yield 'b';
        }, counter);
      });
      const res = await get('/close-normal');
      assert.equal(res.body.toString(), 'ab');
      await delay(20);
      assert.equal(counter.close, 1);
      const asyncCounter = { close: 0 };
      const make = async function* () {
        yield 'c';
        await delay(2);
        yield 'd';
      };
      make.async = true;
      routes.set('/close-normal-async', (environ, startResponse) => {
        startResponse('200 OK', []);
        return closable(make, asyncCounter);
      });
      const res2 = await get('/close-normal-async');
      assert.equal(res2.body.toString(), 'cd');
      await delay(20);
      assert.equal(asyncCounter.close, 1);
    });

    test('body: close() is called once after an error mid-body', async () => {
      const counter = { close: 0 };
      routes.set('/close-throw', (environ, startResponse) => {
        startResponse('200 OK', []);
        return closable(function* () {
          yield 'a';
          throw new Error('mid-body');
        }, counter);
      });
      const r = await rawRequest(srv.port, req('GET', '/close-throw'), { timeoutMs: 3000 });
      assert.ok(r.closed || r.text.includes(' 500 '), r.text);
      await delay(20);
      assert.equal(counter.close, 1);
      const c2 = { close: 0 };
      const make = async function* () {
        yield 'a';
        await delay(2);
        throw new Error('mid-body');
      };
      make.async = true;
      routes.set('/close-throw-async', (environ, startResponse) => {
        startResponse('200 OK', []);
        return closable(make, c2);
      });
      await rawRequest(srv.port, req('GET', '/close-throw-async'), { timeoutMs: 3000 });
      await delay(20);
      assert.equal(c2.close, 1);
    });

    test('body: an error thrown by close() leaves the response whole and the server serving', async () => {
      routes.set('/close-throws', (environ, startResponse) => {
        startResponse('200 OK', []);
        return {
          *[Symbol.iterator]() {
            yield 'whole';
          },
          close() {
            throw new Error('close failed');
          },
        };
      });
      routes.set('/next', (environ, startResponse) => {
        startResponse('200 OK', []);
        return ['next'];
      });
      const r = await rawRequest(srv.port, req('GET', '/close-throws') + req('GET', '/next', [['Connection', 'close']]), { until: responses(2) });
      const all = parseResponses(r.data);
      assert.equal(all.length, 2, JSON.stringify(r.text));
      assert.equal(all[0].status, 200);
      assert.equal(all[0].body.toString(), 'whole');
      assert.equal(all[1].body.toString(), 'next');
    });

    test('body: close() is called once, and tsgi.signal fires, when the client goes away mid-body', async () => {
      const counter = { close: 0 };
      const seen = { aborted: 0, signal: false, pulls: 0 };
      const make = async function* () {
        for (;;) {
          seen.pulls++;
          yield Buffer.alloc(1024, 0x61);
          await delay(5);
        }
      };
      make.async = true;
      routes.set('/forever', (environ, startResponse) => {
        const signal = environ['tsgi.signal'];
        seen.signal = signal instanceof AbortSignal;
        signal?.addEventListener('abort', () => seen.aborted++);
        startResponse('200 OK', []);
        return closable(make, counter);
      });
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('GET', '/forever'));
        await c.waitFor((d) => d.length > 4096, 3000, 'some of the body');
      } finally {
        c.destroy();
      }
      await waitUntil(() => counter.close >= 1, 2000, 'close() after the client left').catch(() => {});
      const pullsAtClose = seen.pulls;
      await delay(100);
      assert.equal(counter.close, 1, 'close() once');
      assert.ok(seen.pulls <= pullsAtClose + 1, `the body is not pulled after close() (${pullsAtClose} -> ${seen.pulls})`);
      assert.ok(seen.signal, 'tsgi.signal is an AbortSignal');
      assert.equal(seen.aborted, 1, 'tsgi.signal fired once');
    });

    test('body: return() is called once on an iterator whose body has no close()', async () => {
      const cases = [
        ['normal end', { values: ['a', 'b'] }],
        ['error mid-body', { values: ['a', 'b'], failAt: 1 }],
        ['async normal end', { values: ['a', 'b'], async: true }],
        ['async error mid-body', { values: ['a', 'b'], async: true, failAt: 1 }],
      ];
      for (const [label, o] of cases) {
        const counter = { return: 0 };
        routes.set('/ret', (environ, startResponse) => {
          startResponse('200 OK', []);
          return countedIterator(o.values, counter, o);
        });
        await rawRequest(srv.port, req('GET', '/ret', [['Connection', 'close']]), { timeoutMs: 3000 });
        await delay(20);
        assert.equal(counter.return, 1, `${label}: return() calls`);
      }
      // A generator: its finally block runs once.
      let finallyRuns = 0;
      routes.set('/gen-finally', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          try {
            for (;;) {
              yield Buffer.alloc(1024);
              await delay(5);
            }
          } finally {
            finallyRuns++;
          }
        })();
      });
      const counter = { return: 0 };
      routes.set('/ret-forever', (environ, startResponse) => {
        startResponse('200 OK', []);
        return countedIterator([Buffer.alloc(1024)], counter, { async: true, forever: true });
      });
      for (const path of ['/gen-finally', '/ret-forever']) {
        const c = connect(srv.port);
        try {
          await c.connected;
          await c.write(req('GET', path));
          await c.waitFor((d) => d.length > 2048, 3000, 'some of the body');
        } finally {
          c.destroy();
        }
      }
      await waitUntil(() => finallyRuns >= 1 && counter.return >= 1, 2000, 'return() after the client left').catch(() => {});
      await delay(50);
      assert.equal(finallyRuns, 1, "client gone: the generator's finally runs once");
      assert.equal(counter.return, 1, 'client gone: return() once');
    });

    test('body: an async application (a Promise of a body)', async () => {
      routes.set('/promise', async (environ, startResponse) => {
        await delay(10);
        startResponse('200 OK', [['X-Async', 'yes']]);
        return ['from ', 'a promise'];
      });
      routes.set('/promise-of-async-gen', async (environ, startResponse) => {
        await delay(5);
        startResponse('200 OK', []);
        return (async function* () {
          await delay(5);
          yield 'async ';
          yield 'generator';
        })();
      });
      const res = await get('/promise');
      assert.equal(res.status, 200);
      assert.equal(res.header('x-async'), 'yes');
      assert.equal(res.header('content-length'), '14');
      assert.equal(res.body.toString(), 'from a promise');
      const res2 = await get('/promise-of-async-gen');
      assert.equal(res2.body.toString(), 'async generator');
    });

    test('body: an async generator is sent as it yields', async () => {
      let release;
      const gate = new Promise((r) => (release = r));
      routes.set('/gated', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          yield 'first;';
          await gate;
          yield 'second';
        })();
      });
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('GET', '/gated', [['Connection', 'close']]));
        await c.waitFor('first;', 3000, 'the first chunk before the generator goes on');
        release();
        await c.waitClose(3000);
        const res = parseResponse(c.data);
        assert.equal(res.body.toString(), 'first;second');
        assert.ok(res.complete);
      } finally {
        release();
        c.destroy();
      }
    });

    for (const kind of ['async', 'sync']) {
      test(`body: backpressure: an ${kind} body is not pulled while the client reads nothing`, async () => {
        const TOTAL = 256; // 16 MiB
        let pulled = 0;
        routes.set(`/firehose-${kind}`, (environ, startResponse) => {
          startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
          if (kind === 'async') {
            return (async function* () {
              for (let i = 0; i < TOTAL; i++) {
                pulled++;
                yield Buffer.alloc(CHUNK, i & 255);
              }
            })();
          }
          return (function* () {
            for (let i = 0; i < TOTAL; i++) {
              pulled++;
              yield Buffer.alloc(CHUNK, i & 255);
            }
          })();
        });
        const c = connect(srv.port, { paused: true });
        try {
          await c.connected;
          await c.write(req('GET', `/firehose-${kind}`, [['Connection', 'close']]));
          await delay(1000);
          const whilePaused = pulled;
          assert.ok(whilePaused > 0, 'the application was called');
          assert.ok(whilePaused < 200, `pulled ${whilePaused} chunks of 64 KiB while the client read nothing`);
          c.socket.resume();
          await c.waitClose(10000);
          const res = parseResponse(c.data);
          assert.ok(res.complete, 'the whole response');
          assert.equal(res.body.length, TOTAL * CHUNK);
          for (let i = 0; i < TOTAL; i++) {
            const at = i * CHUNK;
            if (res.body[at] !== (i & 255) || res.body[at + CHUNK - 1] !== (i & 255)) assert.fail(`chunk ${i} is wrong`);
          }
          assert.equal(pulled, TOTAL);
        } finally {
          c.destroy();
        }
      });
    }

    test('body: a body of the wrong type gets a 500', async () => {
      const apps = {
        'a string': (e, sr) => (sr('200 OK', []), 'text'),
        'a Uint8Array': (e, sr) => (sr('200 OK', []), Buffer.from('bytes')),
        null: (e, sr) => (sr('200 OK', []), null),
        'a number chunk': (e, sr) => (sr('200 OK', []), [42]),
        'an object chunk in a generator': (e, sr) =>
          (function* () {
            sr('200 OK', []);
            yield {};
          })(),
        'a body before start_response': () => ['early'],
        'no start_response at all': () => [],
        'a Promise of a string': async (e, sr) => (sr('200 OK', []), 'text'),
      };
      // Inside validate() (TSGI_ERR_APP_CONTRACT), and unvalidated (the server's own
      // checks): the client sees the same 500.
      for (const mode of ['validated', 'unvalidated']) {
        for (const [label, app] of Object.entries(apps)) {
          const route = (environ, startResponse) => app(environ, startResponse);
          routes.set('/wrong', mode === 'validated' ? route : unvalidated(route));
          const res = await get('/wrong');
          assert.equal(res.status, 500, `${label} (${mode}): ${res.raw.toString('latin1')}`);
          assert.equal(res.body.toString(), 'Internal Server Error\n', `${label} (${mode})`);
        }
      }
    });

    test('body: wsgi.file_wrapper sends a file and closes it', async () => {
      const path = join(os.tmpdir(), `tsgi-test-file-${process.pid}-${backend}`);
      const content = Buffer.alloc(50000);
      for (let i = 0; i < content.length; i++) content[i] = (i * 7) & 255;
      writeFileSync(path, content);
      let fd;
      let ino;
      try {
        routes.set('/file', (environ, startResponse) => {
          fd = openSync(path, 'r');
          ino = fstatSync(fd).ino;
          startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
          return environ['wsgi.file_wrapper'](fd, 4096);
        });
        const res = await get('/file');
        assert.equal(res.status, 200);
        assert.ok(res.body.equals(content), 'the file, byte for byte');
        await delay(20);
        // Closed: fstat fails, or the number was reused for another file.
        let stillOpen = false;
        try {
          stillOpen = fstatSync(fd).ino === ino;
        } catch (err) {
          assert.equal(err.code, 'EBADF');
        }
        assert.equal(stillOpen, false, 'the wrapper closed the file');
      } finally {
        unlinkSync(path);
      }
    });
  });
}
