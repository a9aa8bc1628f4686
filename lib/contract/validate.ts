// validate(app): what wsgiref.validate is to WSGI. It wraps an application and throws a
// clear error the moment either side breaks the contract of docs/spec.md: the
// application (TSGI_ERR_APP_CONTRACT) or the server (TSGI_ERR_SERVER_CONTRACT).
import { TsgiError } from '../base/errors.js';
import type { Application, Chunk, Environ, Headers, StartResponse, Write } from './types.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]|[^\0-\xff]/;
const STATUS = /^[1-9][0-9][0-9] [^\0-\x08\x0a-\x1f\x7f]*$/;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade']);
const REQUIRED_STRINGS = ['REQUEST_METHOD', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'CONTENT_TYPE', 'CONTENT_LENGTH', 'SERVER_NAME', 'SERVER_PORT', 'SERVER_PROTOCOL'];

function appError(message: string): TsgiError {
  return new TsgiError('TSGI_ERR_APP_CONTRACT', `The application broke the contract: ${message}`);
}

function serverError(message: string): TsgiError {
  return new TsgiError('TSGI_ERR_SERVER_CONTRACT', `The server broke the contract: ${message}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a Uint8Array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)}` : typeof v;
}

/** Checks an environ as the server built it. */
export function checkEnviron(environ: Environ): void {
  if (environ === null || typeof environ !== 'object') throw serverError(`environ is ${describe(environ)}, not an object`);
  for (const key of REQUIRED_STRINGS) {
    if (!(key in environ)) throw serverError(`environ has no ${key}`);
    if (typeof environ[key] !== 'string') throw serverError(`environ.${key} is ${describe(environ[key])}, not a string`);
  }
  for (const [key, value] of Object.entries(environ)) {
    if (/^[A-Z][A-Z0-9_]*$/.test(key) && typeof value !== 'string') {
      throw serverError(`environ.${key} is ${describe(value)}: CGI variables are strings`);
    }
    if (typeof value === 'string' && /[^\0-\xff]/.test(value)) {
      throw serverError(`environ.${key} holds a character over U+00FF: values are bytes read as latin-1`);
    }
  }
  if (environ.REQUEST_METHOD === '') throw serverError('REQUEST_METHOD is empty');
  if (environ.SCRIPT_NAME !== '' && !environ.SCRIPT_NAME.startsWith('/')) throw serverError(`SCRIPT_NAME ${JSON.stringify(environ.SCRIPT_NAME)} does not start with /`);
  if (environ.SCRIPT_NAME === '/') throw serverError('SCRIPT_NAME is "/": it must be "" for the root');
  if (environ.PATH_INFO !== '' && !environ.PATH_INFO.startsWith('/') && environ.PATH_INFO !== '*') {
    throw serverError(`PATH_INFO ${JSON.stringify(environ.PATH_INFO)} does not start with /`);
  }
  if (environ.CONTENT_LENGTH !== '' && !/^[0-9]+$/.test(environ.CONTENT_LENGTH)) throw serverError(`CONTENT_LENGTH ${JSON.stringify(environ.CONTENT_LENGTH)} is not a number`);
  if ('HTTP_CONTENT_TYPE' in environ || 'HTTP_CONTENT_LENGTH' in environ) throw serverError('environ has HTTP_CONTENT_TYPE or HTTP_CONTENT_LENGTH: they are CONTENT_TYPE and CONTENT_LENGTH');
  const version = environ['wsgi.version'];
  if (!Array.isArray(version) || version.length !== 2 || version[0] !== 1 || version[1] !== 0) throw serverError(`wsgi.version is ${describe(version)}, not [1, 0]`);
  if (environ['wsgi.url_scheme'] !== 'http' && environ['wsgi.url_scheme'] !== 'https') throw serverError(`wsgi.url_scheme is ${describe(environ['wsgi.url_scheme'])}`);
  for (const key of ['wsgi.multithread', 'wsgi.multiprocess', 'wsgi.run_once'] as const) {
    if (typeof environ[key] !== 'boolean') throw serverError(`${key} is ${describe(environ[key])}, not a boolean`);
  }
  const input = environ['wsgi.input'] as unknown as Record<string | symbol, unknown>;
  if (input === null || typeof input !== 'object') throw serverError('wsgi.input is missing');
  for (const m of ['read', 'readline', 'readlines']) {
    if (typeof input[m] !== 'function') throw serverError(`wsgi.input has no ${m}()`);
  }
  if (typeof input[Symbol.iterator] !== 'function' || typeof input[Symbol.asyncIterator] !== 'function') {
    throw serverError('wsgi.input is not iterable and async iterable');
  }
  const errors = environ['wsgi.errors'] as unknown as Record<string, unknown>;
  if (errors === null || typeof errors !== 'object') throw serverError('wsgi.errors is missing');
  for (const m of ['write', 'writelines', 'flush']) {
    if (typeof errors[m] !== 'function') throw serverError(`wsgi.errors has no ${m}()`);
  }
  if (typeof environ['wsgi.file_wrapper'] !== 'function') throw serverError('wsgi.file_wrapper is not a function');
  if (!(environ['tsgi.signal'] instanceof AbortSignal)) throw serverError('tsgi.signal is not an AbortSignal');
}

function checkHeaders(headers: Headers): void {
  if (!Array.isArray(headers)) throw appError(`headers are ${describe(headers)}, not an array of [name, value] pairs`);
  for (const h of headers) {
    if (!Array.isArray(h) || h.length !== 2) throw appError(`a header is ${describe(h)}, not a [name, value] pair`);
    const [name, value] = h;
    if (typeof name !== 'string' || !TOKEN.test(name)) throw appError(`the header name ${describe(name)} is not a token`);
    if (typeof value !== 'string' || BAD_VALUE.test(value)) throw appError(`the value of header ${name} (${describe(value)}) holds control characters or characters over U+00FF`);
    if (HOP_BY_HOP.has(name.toLowerCase())) throw appError(`the hop-by-hop header ${name} is the server's to set`);
    if (name.toLowerCase() === 'content-length' && !/^[0-9]+$/.test(value.trim())) {
      throw appError(`Content-Length ${JSON.stringify(value)} is not a decimal number`);
    }
  }
}

function checkChunk(chunk: unknown): asserts chunk is Chunk {
  if (typeof chunk !== 'string' && !(chunk instanceof Uint8Array)) throw appError(`a body chunk is ${describe(chunk)}, not a string or a Uint8Array`);
}

/**
 * Wraps app so that every call checks both sides. The errors it throws reach the
 * server as the application's errors (a 500, and the message in the log).
 */
export function validate(app: Application): Application {
  if (typeof app !== 'function') throw appError(`the application is ${describe(app)}, not a function`);
  return function validated(environ: Environ, startResponse: StartResponse) {
    checkEnviron(environ);
    if (typeof startResponse !== 'function') throw serverError('startResponse is not a function');
    let started = false;
    let ended = false;
    const checkedStart: StartResponse = (status, headers, excInfo) => {
      const shown = typeof status === 'string' ? JSON.stringify(status) : describe(status);
      if (typeof status !== 'string' || !STATUS.test(status)) throw appError(`the status ${shown} is not like "200 OK"`);
      checkHeaders(headers);
      if (started && excInfo === undefined) throw appError('startResponse was called a second time without excInfo');
      const write = startResponse(status, headers, excInfo);
      started = true; // only once the server took it: a call it refused may be retried
      if (typeof write !== 'function') throw serverError('startResponse did not return the write callable');
      const checkedWrite: Write = (chunk) => {
        checkChunk(chunk);
        if (ended) throw appError('write() was called after the body ended');
        write(chunk);
      };
      return checkedWrite;
    };
    const wrapBody = (body: unknown): unknown => {
      if (body === null || body === undefined) throw appError(`the application returned ${describe(body)}, not an iterable of chunks`);
      if (typeof body === 'string' || body instanceof Uint8Array) throw appError(`the application returned ${describe(body)}: return a list of chunks, not a bare chunk`);
      const b = body as Partial<Iterable<unknown> & AsyncIterable<unknown>> & { close?: () => unknown };
      const isSync = typeof b[Symbol.iterator] === 'function';
      const isAsync = typeof b[Symbol.asyncIterator] === 'function';
      if (!isSync && !isAsync) throw appError(`the application returned ${describe(body)}, which is not iterable`);
      let closed = false;
      let inner: Iterator<unknown> | AsyncIterator<unknown> | undefined;
      const checkChunkStep = (value: unknown): void => {
        checkChunk(value);
        const n = typeof value === 'string' ? value.length : value.byteLength;
        if (!started && n > 0) throw appError('the body produced a chunk before startResponse was called');
      };
      const onStep = (step: IteratorResult<unknown>): IteratorResult<unknown> => {
        if (step.done) {
          ended = true;
          if (!started) throw appError('the body ended without startResponse having been called');
          return step;
        }
        checkChunkStep(step.value);
        return step;
      };
      // A pull that begins after close() is the server's fault; one that began
      // before it (a client that left while the body was awaiting) is not.
      const beginPull = (): void => {
        if (closed) throw serverError('the body was iterated after close()');
      };
      // close() on the body, or return() on its iterator, as the server would do it.
      const close = (): unknown => {
        if (closed) throw serverError('close() was called twice on the body');
        closed = true;
        ended = true;
        if (typeof b.close === 'function') return b.close();
        if (inner !== undefined && typeof inner.return === 'function') return inner.return();
        return undefined;
      };
      if (Array.isArray(body)) {
        // A list stays a list, so that the server frames it as it would the
        // application's own (Content-Length): checked now, close() attached.
        for (const chunk of body) checkChunkStep(chunk);
        if (!started) throw appError('the application returned its body without calling startResponse');
        ended = true; // the list is the rest of the body: write() after this is late
        const copy = body.slice();
        Object.defineProperty(copy, 'close', { value: close, enumerable: false });
        return copy;
      }
      if (isSync) {
        return {
          [Symbol.iterator]() {
            inner = (b as Iterable<unknown>)[Symbol.iterator]();
            const it = inner as Iterator<unknown>;
            return {
              next: () => {
                beginPull();
                return onStep(it.next());
              },
            };
          },
          close,
        };
      }
      return {
        [Symbol.asyncIterator]() {
          inner = (b as AsyncIterable<unknown>)[Symbol.asyncIterator]();
          const it = inner as AsyncIterator<unknown>;
          return {
            next: async () => {
              beginPull();
              return onStep(await it.next());
            },
          };
        },
        close,
      };
    };
    const result = app(environ, checkedStart);
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).then(wrapBody) as Promise<Iterable<Chunk>>;
    }
    return wrapBody(result) as Iterable<Chunk>;
  };
}
