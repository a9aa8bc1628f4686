// validate(app) (lib/contract/validate.ts), by hand: a correct application passes
// through unchanged (the same status, headers, chunks and objects; close() and return()
// reached once; its own errors as they were), sync, async and Promise-returning; made-up
// environs and startResponse functions (no server).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { delay } from '../lib/wait.mjs';
import { appError, serverError, makeEnviron, call, drain, drainAsync, responding } from '../lib/validate-fakes.mjs';

describe('validate(): a correct application passes through', () => {
  test('the same status, headers, chunks and write() chunks', () => {
    const headers = [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']];
    const bytes = Buffer.from('bytes');
    const u8 = new Uint8Array([0x21]);
    const chunks = ['text ', bytes, '', u8, '\u00e9'];
    const environ = makeEnviron();
    let seenEnviron;
    const { result, calls, written } = call((e, startResponse) => {
      seenEnviron = e;
      const write = startResponse('299 Custom', headers);
      write('w1 ');
      write(bytes);
      return chunks;
    }, environ);
    assert.equal(seenEnviron, environ, 'the same environ object');
    assert.equal(calls.length, 1);
    assert.equal(calls[0].status, '299 Custom');
    assert.equal(calls[0].headers, headers, 'the same headers array');
    assert.equal(calls[0].excInfo, undefined);
    assert.deepEqual(written, ['w1 ', bytes]);
    assert.equal(written[1], bytes, 'write() passes the same object');
    const out = drain(result);
    assert.equal(out.length, chunks.length);
    chunks.forEach((c, i) => assert.equal(out[i], c, `chunk ${i} is the same object`));
  });

  test('a generator, an async generator, a Set, a custom iterable', async () => {
    const gen = call(responding('200 OK', [], (function* () {
      yield 'a';
      yield 'b';
    })()));
    assert.deepEqual(drain(gen.result), ['a', 'b']);
    const set = call(responding('200 OK', [], new Set(['x', 'y'])));
    assert.deepEqual(drain(set.result), ['x', 'y']);
    const custom = call(responding('200 OK', [], {
      [Symbol.iterator]() {
        let i = 0;
        return { next: () => (i < 2 ? { done: false, value: `c${i++}` } : { done: true, value: undefined }) };
      },
    }));
    assert.deepEqual(drain(custom.result), ['c0', 'c1']);
    const agen = call(responding('200 OK', [], (async function* () {
      yield 'p';
      await delay(1);
      yield Buffer.from('q');
    })()));
    assert.equal(typeof agen.result[Symbol.asyncIterator], 'function', 'an async body stays async');
    assert.deepEqual((await drainAsync(agen.result)).map(String), ['p', 'q']);
  });

  test("close() reaches the body's own close() once, and not return()", async () => {
    for (const async of [false, true]) {
      const counter = { close: 0, return: 0 };
      const it = {
        i: 0,
        next() {
          const step = this.i < 2 ? { done: false, value: `v${this.i++}` } : { done: true, value: undefined };
          return async ? Promise.resolve(step) : step;
        },
        return() {
          counter.return++;
          return { done: true, value: undefined };
        },
      };
      const body = {
        [async ? Symbol.asyncIterator : Symbol.iterator]: () => it,
        close() {
          counter.close++;
          return 'closed';
        },
      };
      const { result } = call(responding('200 OK', [], body));
      const out = async ? await drainAsync(result) : drain(result);
      assert.deepEqual(out, ['v0', 'v1']);
      assert.deepEqual(counter, { close: 1, return: 0 }, async ? 'async' : 'sync');
    }
    // Closed before being iterated at all.
    const counter = { close: 0 };
    const { result } = call(responding('200 OK', [], { *[Symbol.iterator]() {}, close: () => counter.close++ }));
    result.close();
    assert.equal(counter.close, 1);
  });

  test('close() calls return() on the iterator once when the body has no close()', async () => {
    for (const async of [false, true]) {
      const counter = { return: 0 };
      const it = {
        next: () => (async ? Promise.resolve({ done: false, value: 'x' }) : { done: false, value: 'x' }),
        return(v) {
          counter.return++;
          return async ? Promise.resolve({ done: true, value: v }) : { done: true, value: v };
        },
      };
      const { result } = call(responding('200 OK', [], { [async ? Symbol.asyncIterator : Symbol.iterator]: () => it }));
      const wrapped = result[async ? Symbol.asyncIterator : Symbol.iterator]();
      await wrapped.next();
      await result.close();
      assert.equal(counter.return, 1, async ? 'async' : 'sync');
    }
    // A generator's finally runs once when it is closed early.
    let finallyRuns = 0;
    const { result } = call(responding('200 OK', [], (function* () {
      try {
        for (;;) yield 'x';
      } finally {
        finallyRuns++;
      }
    })()));
    result[Symbol.iterator]().next();
    result.close();
    assert.equal(finallyRuns, 1);
  });

  test('an error thrown by the application, its body or its close() passes through unchanged', async () => {
    const boom = new TypeError('boom');
    assert.throws(
      () =>
        call(() => {
          throw boom;
        }),
      (err) => err === boom,
    );
    const { result } = call(responding('200 OK', [], (function* () {
      yield 'a';
      throw boom;
    })()));
    const it = result[Symbol.iterator]();
    it.next();
    assert.throws(() => it.next(), (err) => err === boom);
    const closing = call(responding('200 OK', [], {
      *[Symbol.iterator]() {},
      close() {
        throw boom;
      },
    }));
    assert.throws(() => closing.result.close(), (err) => err === boom);
  });

  test('a Promise-returning application: its body is wrapped and checked too', async () => {
    const ok = call(async (environ, startResponse) => {
      await delay(1);
      startResponse('200 OK', []);
      return ['from ', 'a promise'];
    });
    assert.equal(typeof ok.result.then, 'function', 'a Promise comes back');
    const body = await ok.result;
    assert.deepEqual(drain(body), ['from ', 'a promise']);
    assert.throws(() => body.close(), serverError(/close\(\) was called twice/), 'the body is the checked wrapper');

    await assert.rejects(call(async (e, sr) => (sr('200 OK', []), 'text')).result, appError(/returned the string "text": return a list of chunks/));
    await assert.rejects(call(async (e, sr) => (sr('200 OK', []), null)).result, appError(/returned null/));
    await assert.rejects(call(async (e, sr) => (sr('200 OK', []), 42)).result, appError(/returned number, which is not iterable/));
    const asyncBad = await call(async (e, sr) => {
      sr('200 OK', []);
      return (async function* () {
        yield 1;
      })();
    }).result;
    await assert.rejects(asyncBad[Symbol.asyncIterator]().next(), appError(/a body chunk is number/));
    // Inside the Promise, startResponse is checked too.
    await assert.rejects(
      call(async (e, sr) => {
        await delay(1);
        sr('200', []);
        return [];
      }).result,
      appError(/the status "200" is not like "200 OK"/),
    );
    // A rejection passes through unchanged.
    const boom = new Error('rejected');
    await assert.rejects(
      call(async () => {
        throw boom;
      }).result,
      (err) => err === boom,
    );
  });
});
