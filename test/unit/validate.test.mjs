// validate(app) (lib/contract/validate.ts): what wsgiref.validate is to WSGI. Tested by hand,
// with made-up environs, startResponse functions and bodies (no server), then through
// a real server on both backends.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validate, checkEnviron, TsgiError } from '../../dist/lib/index.js';
import { BACKENDS, ROOT } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { delay } from '../lib/wait.mjs';

const APP = 'TSGI_ERR_APP_CONTRACT';
const SERVER = 'TSGI_ERR_SERVER_CONTRACT';

/** For assert.throws / assert.rejects: a TsgiError with code, whose message matches re. */
const appError = (re) => ({ name: 'TsgiError', code: APP, message: new RegExp(`^The application broke the contract: .*${re.source}`, re.flags) });
const serverError = (re) => ({ name: 'TsgiError', code: SERVER, message: new RegExp(`^The server broke the contract: .*${re.source}`, re.flags) });

const REQUIRED = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL'];
const HOP_BY_HOP = ['Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade'];

/** A complete, correct environ, as docs/spec.md describes it; overrides replace keys. */
function makeEnviron(overrides = {}) {
  const environ = {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/caf\xc3\xa9',
    QUERY_STRING: 'a=1',
    REQUEST_URI: '/caf%C3%A9?a=1',
    CONTENT_TYPE: '',
    CONTENT_LENGTH: '',
    SERVER_NAME: 'host',
    SERVER_PORT: '8080',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '5000',
    REQUEST_SCHEME: 'http',
    HTTP_HOST: 'example.com',
    HTTP_X_LATIN: 'caf\xe9 \xff',
    'wsgi.version': Object.freeze([1, 0]),
    'wsgi.url_scheme': 'http',
    'wsgi.input': {
      read: () => new Uint8Array(0),
      readline: () => new Uint8Array(0),
      readlines: () => [],
      *[Symbol.iterator]() {},
      async *[Symbol.asyncIterator]() {},
    },
    'wsgi.errors': { write() {}, writelines() {}, flush() {} },
    'wsgi.multithread': false,
    'wsgi.multiprocess': false,
    'wsgi.run_once': false,
    'wsgi.file_wrapper': () => [],
    'wsgi.input_terminated': true,
    'tsgi.backend': 'js',
    'tsgi.signal': new AbortController().signal,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete environ[k];
    else environ[k] = v;
  }
  return environ;
}

/** A server-side startResponse that records its calls; its write records the chunks. */
function fakeStartResponse() {
  const calls = [];
  const written = [];
  const write = (chunk) => written.push(chunk);
  const startResponse = (status, headers, excInfo) => {
    calls.push({ status, headers, excInfo });
    return write;
  };
  return { startResponse, calls, written, write };
}

/** Calls validate(app) as a server would; returns the (wrapped) result and the fake's records. */
function call(app, environ = makeEnviron()) {
  const sr = fakeStartResponse();
  const result = validate(app)(environ, sr.startResponse);
  return { result, ...sr };
}

/** Pulls a sync body to its end, as the server does, then closes it. */
function drain(body) {
  const out = [];
  const it = body[Symbol.iterator]();
  for (let step = it.next(); !step.done; step = it.next()) out.push(step.value);
  body.close();
  return out;
}

async function drainAsync(body) {
  const out = [];
  const it = body[Symbol.asyncIterator]();
  for (let step = await it.next(); !step.done; step = await it.next()) out.push(step.value);
  await body.close();
  return out;
}

/** An application that calls startResponse(status, headers) and returns body ([] when not given). */
const responding =
  (status, headers, ...body) =>
  (environ, startResponse) => {
    startResponse(status, headers);
    return body.length === 0 ? [] : body[0];
  };

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

describe('validate(): the server breaks the contract -> TSGI_ERR_SERVER_CONTRACT', () => {
  /** validate(app)(environ) throws serverError(re), and the application is not called. */
  const assertRefused = (environ, re, label) => {
    let called = false;
    const app = (e, startResponse) => {
      called = true;
      startResponse('200 OK', []);
      return [];
    };
    assert.throws(() => validate(app)(environ, fakeStartResponse().startResponse), serverError(re), label);
    assert.equal(called, false, `${label}: the application is not called`);
    assert.throws(() => checkEnviron(environ), serverError(re), `${label}: checkEnviron`);
  };

  test('a correct environ passes, with tsgi.signal on its prototype as the server has it', () => {
    checkEnviron(makeEnviron());
    const controller = new AbortController();
    const proto = {
      get 'tsgi.signal'() {
        return controller.signal;
      },
    };
    const environ = Object.assign(Object.create(proto), makeEnviron({ 'tsgi.signal': undefined }));
    assert.equal(Object.hasOwn(environ, 'tsgi.signal'), false);
    checkEnviron(environ);
    const { calls } = call(responding('200 OK', []), environ);
    assert.equal(calls.length, 1);
  });

  test('each required CGI key missing', () => {
    for (const key of REQUIRED) {
      assertRefused(makeEnviron({ [key]: undefined }), new RegExp(`environ has no ${key}$`), key);
    }
  });

  test('a CGI value that is not a string', () => {
    for (const key of REQUIRED) {
      assertRefused(makeEnviron({ [key]: 80 }), new RegExp(`environ\\.${key} is number, not a string`), key);
    }
    assertRefused(makeEnviron({ SERVER_PORT: null }), /environ\.SERVER_PORT is null, not a string/, 'null');
    assertRefused(makeEnviron({ HTTP_X_NUMBER: 5 }), /environ\.HTTP_X_NUMBER is number: CGI variables are strings/, 'HTTP_X_NUMBER');
    assertRefused(makeEnviron({ REMOTE_PORT: 5000 }), /environ\.REMOTE_PORT is number: CGI variables are strings/, 'REMOTE_PORT');
    assertRefused(makeEnviron({ HTTP_X_LIST: ['a', 'b'] }), /environ\.HTTP_X_LIST is an array: CGI variables are strings/, 'an array');
  });

  test('a value with a character over U+00FF (values are bytes read as latin-1)', () => {
    for (const [key, value] of [
      ['HTTP_X_EURO', 'price: 5\u20ac'],
      ['PATH_INFO', '/caf\u00e9\u0100'],
      ['QUERY_STRING', 'q=\u{1f600}'],
      ['SERVER_NAME', '\u4e2d'],
    ]) {
      assertRefused(makeEnviron({ [key]: value }), new RegExp(`environ\\.${key} holds a character over U\\+00FF`), key);
    }
    // 0x80-0xFF are latin-1 bytes: allowed.
    checkEnviron(makeEnviron({ HTTP_X_BYTES: '\x80\xff\xa0', PATH_INFO: '/\xff\x00~' }));
  });

  test('SCRIPT_NAME "/" or not starting with "/"; PATH_INFO not starting with "/"', () => {
    assertRefused(makeEnviron({ SCRIPT_NAME: '/' }), /SCRIPT_NAME is "\/": it must be "" for the root/, 'SCRIPT_NAME /');
    assertRefused(makeEnviron({ SCRIPT_NAME: 'app' }), /SCRIPT_NAME "app" does not start with \//, 'SCRIPT_NAME app');
    for (const path of ['x', 'caf\xe9', '?q', 'http://host/p']) {
      assertRefused(makeEnviron({ PATH_INFO: path }), /PATH_INFO ".*" does not start with \//, `PATH_INFO ${path}`);
    }
    checkEnviron(makeEnviron({ SCRIPT_NAME: '/mount', PATH_INFO: '' }));
  });

  test('wsgi.version not [1, 0]', () => {
    for (const v of [[1, 1], [2, 0], [1], [1, 0, 0], '1.0', '[1, 0]', undefined, null, { 0: 1, 1: 0, length: 2 }]) {
      assertRefused(makeEnviron({ 'wsgi.version': v }), /wsgi\.version is .*, not \[1, 0\]/, JSON.stringify(v));
    }
  });

  test('wsgi.multithread, wsgi.multiprocess, wsgi.run_once not booleans', () => {
    for (const key of ['wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once']) {
      for (const v of ['false', 0, 1, null, undefined]) {
        assertRefused(makeEnviron({ [key]: v }), new RegExp(`${key.replace('.', '\\.')} is .*, not a boolean`), `${key} ${JSON.stringify(v)}`);
      }
    }
  });

  test('wsgi.input without read(), readline(), readlines() or its iterators', () => {
    const full = makeEnviron()['wsgi.input'];
    for (const m of ['read', 'readline', 'readlines']) {
      const input = { ...full, [Symbol.iterator]: full[Symbol.iterator], [Symbol.asyncIterator]: full[Symbol.asyncIterator] };
      delete input[m];
      assertRefused(makeEnviron({ 'wsgi.input': input }), new RegExp(`wsgi\\.input has no ${m}\\(\\)`), m);
    }
    assertRefused(makeEnviron({ 'wsgi.input': { read: 'no' } }), /wsgi\.input has no read\(\)/, 'read not a function');
    assertRefused(makeEnviron({ 'wsgi.input': undefined }), /wsgi\.input is missing/, 'no wsgi.input');
    const noAsync = { read() {}, readline() {}, readlines() {}, *[Symbol.iterator]() {} };
    assertRefused(makeEnviron({ 'wsgi.input': noAsync }), /wsgi\.input is not iterable and async iterable/, 'no async iterator');
  });

  test('no tsgi.signal, or one that is not an AbortSignal', () => {
    assertRefused(makeEnviron({ 'tsgi.signal': undefined }), /tsgi\.signal is not an AbortSignal/, 'missing');
    assertRefused(makeEnviron({ 'tsgi.signal': { aborted: false, addEventListener() {} } }), /tsgi\.signal is not an AbortSignal/, 'a look-alike');
  });

  test('HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH present (they are CONTENT_TYPE and CONTENT_LENGTH)', () => {
    assertRefused(makeEnviron({ HTTP_CONTENT_TYPE: 'text/plain' }), /environ has HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH/, 'HTTP_CONTENT_TYPE');
    assertRefused(makeEnviron({ HTTP_CONTENT_LENGTH: '5' }), /environ has HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH/, 'HTTP_CONTENT_LENGTH');
  });

  test('the other environ checks: wsgi.url_scheme, wsgi.errors, wsgi.file_wrapper, REQUEST_METHOD, CONTENT_LENGTH', () => {
    assertRefused(makeEnviron({ 'wsgi.url_scheme': 'ftp' }), /wsgi\.url_scheme is the string "ftp"/, 'url_scheme');
    assertRefused(makeEnviron({ 'wsgi.errors': { write() {} } }), /wsgi\.errors has no writelines\(\)/, 'errors');
    assertRefused(makeEnviron({ 'wsgi.file_wrapper': undefined }), /wsgi\.file_wrapper is not a function/, 'file_wrapper');
    assertRefused(makeEnviron({ REQUEST_METHOD: '' }), /REQUEST_METHOD is empty/, 'method');
    assertRefused(makeEnviron({ CONTENT_LENGTH: '-1' }), /CONTENT_LENGTH "-1" is not a number/, 'CONTENT_LENGTH');
    assertRefused(null, /environ is null, not an object/, 'null environ');
  });

  test("startResponse that is not a function, or that returns no write callable", () => {
    const app = responding('200 OK', []);
    assert.throws(() => validate(app)(makeEnviron(), undefined), serverError(/startResponse is not a function/));
    assert.throws(() => validate(app)(makeEnviron(), () => undefined), serverError(/startResponse did not return the write callable/));
  });

  test('the body iterated after close() (sync and async)', async () => {
    const { result } = call(responding('200 OK', [], (function* () {
      yield 'a';
      yield 'b';
    })()));
    const it = result[Symbol.iterator]();
    assert.equal(it.next().value, 'a');
    result.close();
    assert.throws(() => it.next(), serverError(/the body was iterated after close\(\)/));

    const asyncBody = call(responding('200 OK', [], (async function* () {
      yield 'a';
      yield 'b';
    })()));
    const ait = asyncBody.result[Symbol.asyncIterator]();
    assert.equal((await ait.next()).value, 'a');
    await asyncBody.result.close();
    await assert.rejects(ait.next(), serverError(/the body was iterated after close\(\)/));
  });

  test("the body iterated after close(): the application's body is not pulled on the server's behalf", () => {
    // A body whose iterator fails once closed (a file wrapper reading a closed file): the
    // server's fault must be reported as such, not as the body's EBADF.
    let pulls = 0;
    let closed = false;
    const body = {
      [Symbol.iterator]() {
        return {
          next() {
            if (closed) throw Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' });
            pulls++;
            return { done: false, value: 'block' };
          },
        };
      },
      close() {
        closed = true;
      },
    };
    const { result } = call(responding('200 OK', [], body));
    const it = result[Symbol.iterator]();
    it.next();
    result.close();
    assert.throws(() => it.next(), serverError(/the body was iterated after close\(\)/));
    assert.equal(pulls, 1, 'the body is not pulled after close()');
  });

  test('an async pull begun before close() may settle after it (the server closes when the client goes away mid-pull)', async () => {
    let release;
    const gate = new Promise((r) => (release = r));
    const { result } = call(responding('200 OK', [], (async function* () {
      await gate;
      yield 'late';
    })()));
    const it = result[Symbol.asyncIterator]();
    const pending = it.next(); // the server's pull, in flight
    const closing = result.close(); // the client went away: the server closes now
    release();
    await closing;
    // The server did nothing wrong: this pull began before close().
    await pending.then(
      () => {},
      (err) => assert.notEqual(err.code, SERVER, `a pull begun before close() is reported as ${err.code}: ${err.message}`),
    );
  });

  test('close() called twice (sync and async)', async () => {
    const counter = { close: 0 };
    const body = { *[Symbol.iterator]() {}, close: () => counter.close++ };
    const { result } = call(responding('200 OK', [], body));
    result.close();
    assert.throws(() => result.close(), serverError(/close\(\) was called twice on the body/));
    assert.equal(counter.close, 1, "the body's own close() ran once");

    const asyncBody = call(responding('200 OK', [], (async function* () {})()));
    await asyncBody.result.close();
    assert.throws(() => asyncBody.result.close(), serverError(/close\(\) was called twice/));
  });
});

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

// ---------------------------------------------------------------------------------
// With a real server

/** Every body of the cases below, as a function of startResponse. */
const CORRECT = {
  '/list': (sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), ['hello ', 'world']),
  '/big-list': (sr) => (sr('200 OK', []), [Buffer.alloc(40000, 0x61), Buffer.alloc(40000, 0x62), 'c'.repeat(40000)]),
  '/generator': (sr) =>
    (function* () {
      sr('200 OK', [['X-Gen', '1']]);
      yield 'one ';
      yield 'two';
    })(),
  '/async': (sr) =>
    (async function* () {
      sr('200 OK', []);
      yield 'a';
      await delay(2);
      yield 'b';
    })(),
  '/length': (sr) => (sr('200 OK', [['Content-Length', '5']]), ['hel', 'lo']),
  '/empty': (sr) => (sr('204 No Content', []), []),
};

const BROKEN = {
  'a status without a reason': (sr) => (sr('200', [['X-Secret', 'SECRET']]), ['x']),
  'a hop-by-hop header': (sr) => (sr('200 OK', [['Connection', 'SECRET']]), ['x']),
  'a header value with CRLF': (sr) => (sr('200 OK', [['X-A', 'SECRET\r\nX-B: 1']]), ['x']),
  'a bare string body': (sr) => (sr('200 OK', []), 'SECRET body'),
  'a number chunk': (sr) => (sr('200 OK', []), [42]),
  'a chunk before startResponse': () => ['SECRET early'],
  'startResponse twice': (sr) => (sr('200 OK', []), sr('201 Created', [['X-Secret', 'SECRET']]), ['x']),
};

const route = (table) => (environ, startResponse) => table[environ.PATH_INFO](startResponse);

function assertNoInternals(res, label) {
  const body = res.body.toString('latin1');
  assert.equal(body, 'Internal Server Error\n', label);
  for (const leak of [/TSGI_ERR/, /TsgiError/, /contract/i, /SECRET/, /\bat\s+\S+\s*\(/, /\/work\//, /node:/]) {
    assert.doesNotMatch(res.raw.toString('latin1'), leak, `${label}: the response leaks ${leak}`);
  }
}

for (const backend of BACKENDS) {
  describe(`validate() with a real server (${backend})`, () => {
    const servers = [];
    after(() => Promise.all(servers.map((s) => s.close())));
    const start = async (app) => {
      const s = await startServer(app, { backend });
      servers.push(s);
      return s;
    };
    const get = (port, path, method = 'GET') => request(port, req(method, path, [['Connection', 'close']]), { method });

    test('validate(app) of a correct application serves 200', async () => {
      const s = await start(validate(route(CORRECT)));
      const res = await get(s.port, '/list');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello world');
      const res2 = await get(s.port, '/async');
      assert.equal(res2.status, 200);
      assert.equal(res2.body.toString(), 'ab');
    });

    test('validate(app) of a correct application: the response app alone gets, framing included', async () => {
      const plain = await start(route(CORRECT));
      const checked = await start(validate(route(CORRECT)));
      for (const path of Object.keys(CORRECT)) {
        for (const method of ['GET', 'HEAD']) {
          const a = await get(plain.port, path, method);
          const b = await get(checked.port, path, method);
          assert.equal(b.status, a.status, `${method} ${path}: status`);
          assert.deepEqual(b.headers, a.headers, `${method} ${path}: the same headers (framing included)`);
          assert.ok(b.body.equals(a.body), `${method} ${path}: the same body`);
        }
      }
    });

    test('validate(app) of a broken application: a 500 without internals, and the server serves on', async () => {
      const s = await start(validate((environ, startResponse) => (environ.PATH_INFO === '/ok' ? CORRECT['/list'](startResponse) : BROKEN[decodeURIComponent(environ.QUERY_STRING)](startResponse))));
      for (const label of Object.keys(BROKEN)) {
        const res = await get(s.port, `/broken?${encodeURIComponent(label)}`);
        assert.equal(res.status, 500, `${label}: ${res.raw.toString('latin1')}`);
        assert.ok(res.complete, `${label}: a complete response`);
        assertNoInternals(res, label);
      }
      const ok = await get(s.port, '/ok');
      assert.equal(ok.body.toString(), 'hello world');
    });

    test("validate(app) of a broken application: the validator's message reaches the log", async (t) => {
      const file = join(tmpdir(), `tsgi-validate-test-${process.pid}-${backend}.mjs`);
      const lib = pathToFileURL(join(ROOT, 'dist', 'lib', 'index.js')).href;
      writeFileSync(
        file,
        `import { validate } from ${JSON.stringify(lib)};\n` +
          `export const application = validate((environ, startResponse) => {\n` +
          `  startResponse('200 OK', [['Connection', 'close']]);\n` +
          `  return ['x'];\n` +
          `});\n`,
      );
      t.after(() => unlinkSync(file));
      const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', file]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const res = await request(port, req('GET', '/hop?x=1', [['Connection', 'close']]));
      assert.equal(res.status, 500);
      assertNoInternals(res, 'hop-by-hop');
      const stderr = await cli.waitStderr(/hop-by-hop header Connection/);
      assert.match(stderr, /GET \/hop\?x=1/, 'the log names the request');
      assert.match(stderr, /TsgiError: The application broke the contract: the hop-by-hop header Connection is the server's to set/);
    });
  });
}
