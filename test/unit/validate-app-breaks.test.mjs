// validate(app) (lib/contract/validate.ts), by hand: an application that breaks the
// contract gets TSGI_ERR_APP_CONTRACT (its return value, startResponse's arguments, its
// body's chunks, write()), with made-up environs and startResponse functions (no server).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, TsgiError } from '../../dist/lib/index.js';
import { APP, appError, HOP_BY_HOP, makeEnviron, fakeStartResponse, call, drain, responding } from '../lib/validate-fakes.mjs';

describe('validate(): the application breaks the contract -> TSGI_ERR_APP_CONTRACT', () => {
  test('validate() of something that is not a function', () => {
    for (const v of [undefined, null, 42, {}, 'app']) {
      assert.throws(() => validate(v), appError(/is .*, not a function/), String(v));
    }
  });

  test('a return value that is not iterable: null, undefined, a number, an object, a boolean', () => {
    for (const [v, re] of [
      [null, /returned null, not an iterable of chunks/],
      [undefined, /returned undefined, not an iterable of chunks/],
      [42, /returned number, which is not iterable/],
      [{}, /returned object, which is not iterable/],
      [{ length: 1, 0: 'x' }, /returned object, which is not iterable/],
      [true, /returned boolean, which is not iterable/],
    ]) {
      assert.throws(() => call(responding('200 OK', [], v)), appError(re), String(v));
    }
  });

  test('a bare string or Uint8Array (which would be iterated by character or by byte)', () => {
    for (const [v, re] of [
      ['hello', /returned the string "hello": return a list of chunks, not a bare chunk/],
      ['', /returned the string "": return a list of chunks/],
      [new Uint8Array([1, 2]), /returned a Uint8Array: return a list of chunks, not a bare chunk/],
      [Buffer.from('bytes'), /returned a Uint8Array: return a list of chunks/],
    ]) {
      assert.throws(() => call(responding('200 OK', [], v)), appError(re), String(v));
    }
  });

  test('startResponse called twice without excInfo; with excInfo it goes through', () => {
    let second;
    const { calls } = call((environ, startResponse) => {
      startResponse('200 OK', [['X-First', '1']]);
      try {
        startResponse('500 Internal Server Error', []);
      } catch (err) {
        second = err;
      }
      return [];
    });
    assert.ok(second instanceof TsgiError, 'the second call throws');
    assert.throws(() => {
      throw second;
    }, appError(/startResponse was called a second time without excInfo/));
    assert.equal(calls.length, 1, "the second call does not reach the server's startResponse");

    const excInfo = new Error('the database is down');
    const ok = call((environ, startResponse) => {
      startResponse('200 OK', []);
      startResponse('503 Service Unavailable', [['Retry-After', '5']], excInfo);
      return ['x'];
    });
    assert.deepEqual(
      ok.calls.map((c) => [c.status, c.excInfo]),
      [
        ['200 OK', undefined],
        ['503 Service Unavailable', excInfo],
      ],
    );
  });

  test("the server's re-raise of excInfo passes through validate()", () => {
    const excInfo = new Error('late');
    const environ = makeEnviron();
    let seen;
    validate((e, startResponse) => {
      startResponse('200 OK', []);
      try {
        startResponse('500 Internal Server Error', [], excInfo);
      } catch (err) {
        seen = err;
      }
      return [];
    })(environ, (status, headers, exc) => {
      if (exc !== undefined) throw exc; // the headers went out: re-raise
      return () => {};
    });
    assert.equal(seen, excInfo);
  });

  test('a hop-by-hop header, in any case', () => {
    for (const name of [...HOP_BY_HOP, ...HOP_BY_HOP.map((n) => n.toLowerCase()), 'CONNECTION', 'Trailers']) {
      const server = fakeStartResponse();
      assert.throws(
        () => validate(responding('200 OK', [['Content-Type', 'text/plain'], [name, 'x']]))(makeEnviron(), server.startResponse),
        appError(new RegExp(`the hop-by-hop header ${name} is the server's to set`)),
        name,
      );
      assert.equal(server.calls.length, 0, `${name}: the call does not reach the server`);
    }
  });

  test('a header name that is not a token: a space, a colon, empty, not a string', () => {
    for (const [name, shown] of [
      ['X Y', '"X Y"'],
      ['X:Y', '"X:Y"'],
      ['', '""'],
      ['X-\u00e9', '"X-\u00e9"'],
      [5, 'number'],
    ]) {
      assert.throws(() => call(responding('200 OK', [[name, 'v']])), appError(new RegExp(`the header name (the string )?${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a token`)), String(name));
    }
  });

  test('a header value with CR, LF, NUL, another control character, a character over U+00FF, or not a string', () => {
    for (const value of ['a\r\nX-Injected: 1', 'a\rb', 'a\nb', 'a\0b', 'a\x01b', 'a\x7fb', 'price: 5\u20ac', '\u0100', 5, null]) {
      assert.throws(
        () => call(responding('200 OK', [['X-A', value]])),
        appError(/the value of header X-A \(.*\) holds control characters or characters over U\+00FF/s),
        JSON.stringify(value),
      );
    }
  });

  test('headers that are not an array of [name, value] pairs', () => {
    for (const [headers, re] of [
      ['X-A: 1', /headers are the string "X-A: 1", not an array of \[name, value\] pairs/],
      [undefined, /headers are undefined, not an array/],
      [{ 'X-A': '1' }, /headers are object, not an array/],
      [[['X-A']], /a header is an array, not a \[name, value\] pair/],
      [[['X-A', '1', '2']], /a header is an array, not a \[name, value\] pair/],
      [['X-A'], /a header is the string "X-A", not a \[name, value\] pair/],
    ]) {
      assert.throws(() => call(responding('200 OK', headers)), appError(re), JSON.stringify(headers));
    }
  });

  test("a Content-Length that is not a decimal number (docs/spec.md: part of startResponse's contract)", () => {
    // The server's own startResponse throws TSGI_ERR_HEADER_INVALID for it; validate()
    // is to catch every breach of the contract first, as it does for the others.
    for (const value of ['ten', '-1', '1e3', '0x10', '']) {
      assert.throws(() => call(responding('200 OK', [['Content-Length', value]])), { code: APP }, `Content-Length: ${JSON.stringify(value)}`);
    }
  });

  test('a malformed status', () => {
    for (const status of ['200', 'OK', '99 x', '099 Low', '200OK', '20 OK', '2000 OK', 'OK 200', ' 200 OK', '200 OK\r\nX: 1', '200 O\x01K', '', 200, undefined, null]) {
      assert.throws(() => call(responding(status, [])), appError(/the status .* is not like "200 OK"/s), JSON.stringify(status));
    }
  });

  test('valid statuses and headers pass: an empty reason, tab and latin-1 in values, an empty value', () => {
    for (const status of ['200 OK', '200 ', '299 Custom Reason, Phrase', '100 Continue', '599 x\ty']) {
      const { calls } = call(responding(status, [['X-Tab', 'a\tb'], ['X-Latin', 'caf\xe9 \xff'], ['X-Empty', ''], ['x-lower', 'v'], ['Content-Length', '0']]));
      assert.equal(calls.length, 1, status);
    }
  });

  test('a chunk that is a number, an object, null (sync and async bodies)', async () => {
    for (const [chunk, re] of [
      [42, /a body chunk is number, not a string or a Uint8Array/],
      [{}, /a body chunk is object, not a string or a Uint8Array/],
      [null, /a body chunk is null, not a string or a Uint8Array/],
      [['x'], /a body chunk is an array, not a string or a Uint8Array/],
    ]) {
      // A list is at hand whole: validate() checks it when the application returns it.
      assert.throws(() => call(responding('200 OK', [], ['ok', chunk])), appError(re), JSON.stringify(chunk));
      const { result } = call(responding('200 OK', [], (function* () {
        yield 'ok';
        yield chunk;
      })()));
      const it = result[Symbol.iterator]();
      assert.equal(it.next().value, 'ok');
      assert.throws(() => it.next(), appError(re), JSON.stringify(chunk));
    }
    for (const chunk of [42, {}]) {
      const { result } = call(responding('200 OK', [], (async function* () {
        yield 'ok';
        yield chunk;
      })()));
      const it = result[Symbol.asyncIterator]();
      assert.equal((await it.next()).value, 'ok');
      await assert.rejects(it.next(), appError(/a body chunk is (number|object), not a string or a Uint8Array/));
    }
  });

  test('a non-empty chunk before startResponse; an empty one is allowed', async () => {
    // A list is checked when it is returned.
    assert.throws(() => call(() => ['early']), appError(/the body produced a chunk before startResponse was called/));
    assert.throws(() => call(() => [new Uint8Array([1])]), appError(/before startResponse/));
    const { result } = call(() => (function* () { yield 'early'; })());
    assert.throws(() => result[Symbol.iterator]().next(), appError(/the body produced a chunk before startResponse was called/));

    const asyncBody = call(() =>
      (async function* () {
        yield 'early';
      })(),
    );
    await assert.rejects(asyncBody.result[Symbol.asyncIterator]().next(), appError(/before startResponse/));

    // Empty chunks are no body: startResponse may still come after them.
    const lazy = call((environ, startResponse) =>
      (function* () {
        yield '';
        yield new Uint8Array(0);
        startResponse('200 OK', []);
        yield 'late';
      })(),
    );
    assert.deepEqual(drain(lazy.result).map(String), ['', '', 'late']);
    assert.equal(lazy.calls.length, 1);
  });

  test('write() after the end of the body, or after close()', () => {
    let write;
    const app = (environ, startResponse) => {
      write = startResponse('200 OK', []);
      write('early ');
      return ['body'];
    };
    const ended = call(app);
    assert.deepEqual(drain(ended.result), ['body']);
    assert.throws(() => write('late'), appError(/write\(\) was called after the body ended/));
    assert.deepEqual(ended.written, ['early '], 'the late chunk does not reach the server');

    // The body ran to its end, not yet closed.
    const notClosed = call(app);
    const it = notClosed.result[Symbol.iterator]();
    it.next();
    assert.equal(it.next().done, true);
    assert.throws(() => write('late'), appError(/write\(\) was called after the body ended/));

    // Closed early (the client went away).
    const closed = call(app);
    closed.result[Symbol.iterator]().next();
    closed.result.close();
    assert.throws(() => write('late'), appError(/write\(\) was called after the body ended/));
  });

  test('write() of something that is not a chunk', () => {
    let write;
    call((environ, startResponse) => {
      write = startResponse('200 OK', []);
      return [];
    });
    assert.throws(() => write(42), appError(/a body chunk is number/));
    assert.throws(() => write(undefined), appError(/a body chunk is undefined/));
  });
});
