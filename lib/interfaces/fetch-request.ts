// The Request a fetch application receives, made from the environ lazily: its method
// and URL are strings taken from the environ, its Headers are built on first use, and a
// real undici Request (whose construction costs microseconds) only when the application
// asks for something only a real one has (formData(), clone(), cache ...). It passes
// `instanceof Request`, and every Request property works on it.
import type { Environ, InputStream } from '../contract/types.js';
import { delegateTheRest } from './delegate.js';

/** A request the fetch interface cannot describe as a URL: the client gets 400. */
export class BadTarget extends Error {}

// What needs no URL parsing: a host of name characters with an optional port, and an
// origin-form target of characters a URL keeps as they are, without dot segments.
const SIMPLE_HOST = /^[A-Za-z0-9._-]+(?::[0-9]{1,5})?$/;
const SIMPLE_TARGET = /^\/[!#$&-;=?-[\]_a-z~]*$/;
const DOT_SEGMENT = /\/\.\.?(?:[/?#]|$)/;
// Bytes a URL would encode as UTF-8 of the character; environ strings are latin-1.
const NOT_URL_CHARS = /[^\x21-\x7e]/g;

function byteEscape(c: string): string {
  return '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
}

/**
 * The request's URL, from the raw target (REQUEST_URI: PATH_INFO is percent-decoded and
 * cannot give the URL back) and the Host (HTTP_HOST, else SERVER_NAME and SERVER_PORT).
 * Throws BadTarget when they do not make a URL.
 */
export function requestUrl(environ: Environ): string {
  const scheme = environ['wsgi.url_scheme'];
  let host = environ.HTTP_HOST as string | undefined;
  if (host === undefined || host === '') {
    const port = environ.SERVER_PORT;
    const defaultPort = scheme === 'https' ? '443' : '80';
    host = (environ.SERVER_NAME || 'localhost') + (port && port !== defaultPort ? ':' + port : '');
  }
  let target = environ.REQUEST_URI;
  if (target === undefined || target === '') {
    const path = (environ.SCRIPT_NAME + environ.PATH_INFO).replace(/[%?#]/g, byteEscape);
    target = (path === '' ? '/' : path) + (environ.QUERY_STRING ? '?' + environ.QUERY_STRING : '');
  }
  if (SIMPLE_HOST.test(host) && SIMPLE_TARGET.test(target) && !DOT_SEGMENT.test(target)) {
    return scheme + '://' + host + target;
  }
  let url: URL;
  try {
    if (target.charCodeAt(0) === 47 /* / */) {
      url = new URL(scheme + '://' + host.replace(NOT_URL_CHARS, byteEscape) + target.replace(NOT_URL_CHARS, byteEscape));
    } else if (/^https?:\/\//i.test(target)) {
      url = new URL(target.replace(NOT_URL_CHARS, byteEscape)); // absolute-form
    } else if (target === '*') {
      url = new URL(scheme + '://' + host + '/');
    } else {
      throw new BadTarget(`the request target ${JSON.stringify(target)} is not a path`);
    }
  } catch (err) {
    if (err instanceof BadTarget) throw err;
    throw new BadTarget(`the Host ${JSON.stringify(host)} and target ${JSON.stringify(target)} do not make a URL`);
  }
  // A Host that URL parsing changes other than by case ("a@b", "a/b") is not a host.
  const bare = host.replace(/:[0-9]*$/, '').toLowerCase();
  if (url.hostname !== bare && target.charCodeAt(0) === 47) {
    throw new BadTarget(`the Host ${JSON.stringify(host)} is not a host name`);
  }
  return url.href;
}

/** The request headers, from the environ's HTTP_* keys and CONTENT_TYPE/CONTENT_LENGTH. */
export function requestHeaders(environ: Environ): Headers {
  const h = new Headers();
  for (const key in environ) {
    if (key.charCodeAt(0) === 72 /* H */ && key.startsWith('HTTP_')) {
      h.append(key.slice(5).toLowerCase().replace(/_/g, '-'), environ[key] as string);
    }
  }
  if (environ.CONTENT_TYPE) h.set('content-type', environ.CONTENT_TYPE);
  if (environ.CONTENT_LENGTH) h.set('content-length', environ.CONTENT_LENGTH);
  return h;
}

const BLOCK = 65536;

/** wsgi.input as a ReadableStream, pulled a block at a time. */
export function inputStream(input: InputStream): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const b = input.read(BLOCK);
        if (b.byteLength === 0) controller.close();
        else controller.enqueue(b);
      },
    },
    { highWaterMark: 0 },
  );
}

const decoder = new TextDecoder();

function unusable(): TypeError {
  return new TypeError('Body is unusable: Body has already been read');
}

/**
 * The lazy Request. Own getters for what routing reads (method, url), headers and
 * signal on first use, and the body methods read wsgi.input at once (it is buffered):
 * an application that reads only the path pays for none of the rest.
 */
export class LazyRequest {
  #environ: Environ;
  #url: string;
  #headers: Headers | undefined;
  #real: Request | undefined;
  #used = false;

  constructor(environ: Environ, url: string) {
    this.#environ = environ;
    this.#url = url;
  }

  get method(): string {
    return this.#environ.REQUEST_METHOD;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return (this.#headers ??= this.#real?.headers ?? requestHeaders(this.#environ));
  }

  get signal(): AbortSignal {
    return this.#environ['tsgi.signal'];
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.#realRequest().body;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  /** The rest of the body, at once; rejects when the body was read already. */
  #bytes(): Uint8Array | Error {
    if (this.#used) return unusable();
    this.#used = true;
    try {
      return this.#environ['wsgi.input'].read();
    } catch (err) {
      return err as Error; // read after the request ended
    }
  }

  text(): Promise<string> {
    if (this.#real !== undefined) return this.#real.text();
    const b = this.#bytes();
    return b instanceof Error ? Promise.reject(b) : Promise.resolve(decoder.decode(b));
  }

  json(): Promise<unknown> {
    return this.text().then(JSON.parse);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#real !== undefined) return this.#real.arrayBuffer();
    const b = this.#bytes();
    if (b instanceof Error) return Promise.reject(b);
    return Promise.resolve(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }

  bytes(): Promise<Uint8Array> {
    return this.arrayBuffer().then((b) => new Uint8Array(b));
  }

  blob(): Promise<Blob> {
    if (this.#real !== undefined) return this.#real.blob();
    const b = this.#bytes();
    if (b instanceof Error) return Promise.reject(b);
    return Promise.resolve(new Blob([b], { type: this.headers.get('content-type') ?? '' }));
  }

  formData(): Promise<FormData> {
    if (this.#used) return Promise.reject(unusable());
    return this.#realRequest().formData();
  }

  clone(): Request {
    if (this.#used) throw unusable();
    return this.#realRequest().clone();
  }

  /** The real Request, made once, its body a stream over wsgi.input. */
  #realRequest(): Request {
    if (this.#real !== undefined) return this.#real;
    const e = this.#environ;
    const method = e.REQUEST_METHOD;
    const init: RequestInit & { duplex?: 'half' } = { method, headers: this.headers, signal: this.signal };
    if (method !== 'GET' && method !== 'HEAD') {
      init.body = this.#used ? null : inputStream(e['wsgi.input']);
      init.duplex = 'half';
    }
    this.#real = new Request(this.#url, init);
    return this.#real;
  }

  static #prepared = false;

  /**
   * Gives LazyRequest every other Request property (cache, credentials, mode, redirect
   * ...) from the real Request, made on first use, and makes instanceof Request hold.
   * Done once, when a fetch application is served, not when this module loads: touching
   * globalThis.Request loads undici (see fetch-response.ts).
   */
  static prepare(): void {
    if (LazyRequest.#prepared) return;
    LazyRequest.#prepared = true;
    delegateTheRest(LazyRequest, Request, (self) => self.#realRequest());
  }
}
