// The fetch interface: an application that takes a standard Request and returns a
// Response (or a promise of one), as Hono's app.fetch, and `export default { fetch }`
// for Bun, Deno and Cloudflare, are written. fromFetch() turns it into a WSGI
// Application, so every backend, master mode, threads, harakiri, logging and stats
// serve it unchanged.
//
// Request: lib/interfaces/fetch-request.ts (made lazily from the environ). Response:
// its status with the reason phrase (statusText, else node:http's), its headers
// (several Set-Cookie kept apart; hop-by-hop ones dropped: the server frames the
// response), and its body: none for a null body, one send with Content-Length for a
// body that is complete at once, else streamed as it comes, pulled no faster than
// the socket drains, and cancelled when the client goes away.
import { STATUS_CODES } from 'node:http';
import { TsgiError } from '../base/errors.js';
import type { Application, Body, Environ, Headers as HeaderList, StartResponse } from '../contract/types.js';
import { NULL_BODY } from '../contract/body-kinds.js';
import { upgradeTaken } from '../contract/handler.js';
import { HOP_BY_HOP } from '../contract/response-rules.js';
import { BadTarget, LazyRequest, requestUrl } from './fetch-request.js';
import { installLightResponse, lightState, type LightState } from './fetch-response.js';

/** A fetch handler. The second argument is the request's environ (REMOTE_ADDR, tsgi.*). */
export type FetchHandler = (request: Request, environ: Environ) => Response | Promise<Response>;

/** An object with a fetch method: Hono's app, `export default { fetch }`. */
export interface FetchApplication {
  fetch: FetchHandler;
}

// The server frames the response and owns the connection: the hop-by-hop headers a
// Response may carry (a proxied upstream Response does) are dropped, since
// start_response refuses them.

const EMPTY: Body = NULL_BODY as Body;

type ReadableStreamReadResult = { done: true; value?: Uint8Array } | { done: false; value: Uint8Array };

/** The status line of a Response: "404 Not Found"; an unknown code gets "Unknown". */
export function statusLine(res: Response): string {
  const status = res.status;
  const reason = res.statusText || STATUS_CODES[status] || 'Unknown';
  return status + ' ' + reason;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = (value as object).constructor?.name;
  return name ? `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}` : 'an object';
}

/** A WSGI body (an array, an iterable): what a WSGI application served as fetch returns. */
function wsgiLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

/** One microtask turn and a bit: what a stream that is complete at once needs to say so. */
function soon(): Promise<undefined> {
  return Promise.resolve().then(() => Promise.resolve(undefined));
}

/**
 * A ReadableStream body as the async iterable the WSGI body pump takes, beginning with
 * chunks already read. return() (called by the pump at the end, on an error, or when
 * the client went away) cancels the stream.
 */
class StreamBody implements AsyncIterableIterator<Uint8Array> {
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly ahead: Uint8Array[],
    private pending: Promise<ReadableStreamReadResult> | undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.ahead.length > 0) return { value: this.ahead.shift()!, done: false };
    const p = this.pending ?? this.reader.read();
    this.pending = undefined;
    const r = await p;
    if (r.done) return { value: undefined, done: true };
    return { value: r.value, done: false };
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    this.reader.cancel().catch(() => {});
    return Promise.resolve({ value: undefined, done: true });
  }
}

/**
 * The body of a Response: [] for none, [bytes] when complete at once, else a StreamBody.
 * Until the exchange holds the body, a client that goes away cancels the stream here (a
 * stream that waits for an event before its first chunk would otherwise never learn it).
 */
async function readBody(stream: ReadableStream<Uint8Array>, signal: AbortSignal): Promise<Body> {
  const reader = stream.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  if (signal.aborted) cancel();
  else signal.addEventListener('abort', cancel, { once: true });
  let first: ReadableStreamReadResult;
  try {
    first = await reader.read();
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  if (first.done) return EMPTY;
  const pending = reader.read();
  const second = await Promise.race([pending, soon()]);
  if (second === undefined) return new StreamBody(reader, [first.value], pending);
  if (second.done) return [first.value];
  return new StreamBody(reader, [first.value, second.value], undefined);
}

/** The header list of a light Response: its init's headers, as Headers would give them. */
function lightHeaders(state: LightState): HeaderList {
  const h = state.headers;
  const out: HeaderList = [];
  if (h === undefined) return out;
  if (!(h instanceof Headers) && !Array.isArray(h)) {
    // One plain string field (Hono's { 'content-type': ... }): no Headers needed.
    let n = 0;
    let name = '';
    for (const k in h) {
      name = k;
      if (++n > 1) break;
    }
    const value = (h as Record<string, unknown>)[name];
    if (n === 1 && typeof value === 'string') {
      const lower = name.toLowerCase();
      if (!HOP_BY_HOP.has(lower)) out.push([lower, value.trim()]);
      return out;
    }
  }
  for (const [name, value] of h instanceof Headers ? h : new Headers(h)) {
    if (!HOP_BY_HOP.has(name)) out.push([name, value]);
  }
  return out;
}

/** Writes a Response through start_response and gives its body. */
export function respond(res: unknown, startResponse: StartResponse, environ: Environ): Body | Promise<Body> {
  // The application took the connection (a WebSocket, upgradeWebSocket): its Response
  // (a 101) is no answer to send.
  if (environ['tsgi.upgrade'] !== undefined && upgradeTaken(environ)) return EMPTY;
  const light = lightState(res);
  if (light !== undefined) {
    // Status, headers and body as the application gave them: no Response, no stream.
    startResponse(light.status + ' ' + (light.statusText || STATUS_CODES[light.status] || 'Unknown'), lightHeaders(light));
    return light.body === null ? EMPTY : [light.body];
  }
  if (!(res instanceof Response)) {
    throw new TsgiError(
      'TSGI_ERR_FETCH_RESPONSE',
      `Expected the fetch application to return a Response (or a promise of one) but it returned ${describe(res)}${wsgiLike(res) ? ': did you mean --interface wsgi?' : ''}`,
    );
  }
  const headers: HeaderList = [];
  // Iterating Headers gives each Set-Cookie apart (getSetCookie()), the others combined.
  for (const [name, value] of res.headers) {
    if (HOP_BY_HOP.has(name)) continue;
    headers.push([name, value]);
  }
  startResponse(statusLine(res), headers);
  const body = res.body;
  if (body === null) return EMPTY;
  return readBody(body, environ['tsgi.signal']);
}

/** Calls the application's fetch: a function is the handler, an object has the method. */
function caller(target: FetchHandler | FetchApplication): FetchHandler {
  if (typeof target === 'function') return target;
  return (request, environ) => target.fetch(request, environ);
}

/** A fetch application as a WSGI Application. */
export function fromFetch(target: FetchHandler | FetchApplication): Application {
  installLightResponse();
  LazyRequest.prepare();
  const call = caller(target);
  return (environ, startResponse) => {
    let url: string;
    try {
      url = requestUrl(environ);
    } catch (err) {
      if (!(err instanceof BadTarget)) throw err;
      environ['wsgi.errors'].write(`tsgi: ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: 400 Bad Request: ${err.message}\n`);
      startResponse('400 Bad Request', [['Content-Type', 'text/plain']]);
      return ['Bad Request\n'];
    }
    const res = call(new LazyRequest(environ, url) as unknown as Request, environ);
    if (res !== null && typeof res === 'object' && typeof (res as Promise<Response>).then === 'function') {
      return (res as Promise<Response>).then((r) => respond(r, startResponse, environ));
    }
    return respond(res, startResponse, environ);
  };
}
