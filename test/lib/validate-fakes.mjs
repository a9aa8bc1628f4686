// The fakes of the validate() tests that need no server (test/unit/validate-*.test.mjs):
// a complete, correct environ, a server-side startResponse that records its calls,
// validate(app) called as a server calls it, bodies pulled to their end, and the shapes
// of the two errors validate() throws (TSGI_ERR_APP_CONTRACT, TSGI_ERR_SERVER_CONTRACT).
import { validate } from '../../dist/lib/index.js';

export const APP = 'TSGI_ERR_APP_CONTRACT';
export const SERVER = 'TSGI_ERR_SERVER_CONTRACT';

/** For assert.throws / assert.rejects: a TsgiError with code, whose message matches re. */
export const appError = (re) => ({ name: 'TsgiError', code: APP, message: new RegExp(`^The application broke the contract: .*${re.source}`, re.flags) });
export const serverError = (re) => ({ name: 'TsgiError', code: SERVER, message: new RegExp(`^The server broke the contract: .*${re.source}`, re.flags) });

export const REQUIRED = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL'];
export const HOP_BY_HOP = ['Connection', 'Keep-Alive', 'Proxy-Authenticate', 'Proxy-Authorization', 'TE', 'Trailer', 'Transfer-Encoding', 'Upgrade'];

/** A complete, correct environ, as docs/spec.md describes it; overrides replace keys. */
export function makeEnviron(overrides = {}) {
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
export function fakeStartResponse() {
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
export function call(app, environ = makeEnviron()) {
  const sr = fakeStartResponse();
  const result = validate(app)(environ, sr.startResponse);
  return { result, ...sr };
}

/** Pulls a sync body to its end, as the server does, then closes it. */
export function drain(body) {
  const out = [];
  const it = body[Symbol.iterator]();
  for (let step = it.next(); !step.done; step = it.next()) out.push(step.value);
  body.close();
  return out;
}

/** Pulls an async body to its end, as the server does, then closes it. */
export async function drainAsync(body) {
  const out = [];
  const it = body[Symbol.asyncIterator]();
  for (let step = await it.next(); !step.done; step = await it.next()) out.push(step.value);
  await body.close();
  return out;
}

/** An application that calls startResponse(status, headers) and returns body ([] when not given). */
export const responding =
  (status, headers, ...body) =>
  (environ, startResponse) => {
    startResponse(status, headers);
    return body.length === 0 ? [] : body[0];
  };
