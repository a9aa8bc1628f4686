// validate(app) (lib/contract/validate.ts) and checkEnviron(), by hand: a server that
// breaks the contract gets TSGI_ERR_SERVER_CONTRACT (a wrong environ, a wrong
// startResponse, a body pulled after close() or closed twice), and the application is
// not called; made-up environs and startResponse functions (no server).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validate, checkEnviron } from '../../dist/lib/index.js';
import { SERVER, serverError, REQUIRED, makeEnviron, fakeStartResponse, call, responding } from '../lib/validate-fakes.mjs';

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
