// The end of a response body: close() exactly once (after a normal end, an error, the
// client going away, whose tsgi.signal fires), return() once on an iterator without
// close(), an error in close() harmless, and wsgi.file_wrapper's file closed.
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs), whose body wrapper
// also checks that the server calls close() once and never pulls the body after it.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeFileSync, fstatSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponses } from '../lib/http-wire.mjs';
import { rawRequest, responses, connect } from '../lib/raw-client.mjs';
import { waitUntil, delay } from '../lib/wait.mjs';
import { closable, countedIterator } from '../lib/bodies.mjs';
import { routedSuite } from './suite.mjs';

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

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
