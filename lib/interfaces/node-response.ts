// The node interface's response: a real http.ServerResponse whose writes go to tsgi
// instead of a socket. node:http's own code still runs for everything an application
// calls (writeHead, setHeader, write, end, their checks and errors); four of its
// internal steps are replaced, as own properties of the instance (Express swaps the
// response's prototype for its own, and own properties survive that):
//
//   _storeHeader  builds no header text: it hands the status and the header list to
//                 startResponse, with node's Date and node's Content-Length decision,
//                 leaving out what tsgi frames itself (Connection, Keep-Alive,
//                 Transfer-Encoding, Trailer and the other hop-by-hop headers);
//   _send         queues a chunk for tsgi and says, as a socket write does, whether the
//                 queue is under the high-water mark;
//   _writeRaw     drops what node writes raw (100 Continue, 102, 103: tsgi answers
//                 Expect itself and has no interim responses);
//   _finish       notes that end() was called.
//
// The exchange's state, NodeExchange, is the body tsgi pulls (through PULL, without a
// promise per step): it hands over what the application wrote, coalescing the writes of
// one turn, and emits 'drain' once tsgi took what was over the mark. tsgi calls its
// close() exactly once, after the last chunk went out or when the client went away:
// that is where 'finish' and 'close' (or 'aborted' and 'close') come from.
// Module bindings: the globals are looked up on every use (process through a getter).
import { Buffer } from 'node:buffer';
import { nextTick } from 'node:process';
import { ServerResponse, validateHeaderName, validateHeaderValue, type IncomingMessage } from 'node:http';
import { TsgiError } from '../base/errors.js';
import { PULL, type Pulled } from '../contract/body-kinds.js';
import { VALIDATED_HEADERS } from '../contract/response-rules.js';
import type { Chunk, Headers, StartResponse } from '../contract/types.js';
import type { NodeSocket, SocketOwner } from './node-socket.js';

/** node's own symbols on an OutgoingMessage, found by their descriptions. */
function outgoingSymbol(description: string): symbol {
  const probe = new ServerResponse({ method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1 } as IncomingMessage);
  const found = Object.getOwnPropertySymbols(probe).find((s) => s.description === description);
  if (found === undefined) throw new Error(`tsgi's node interface: this Node.js (${process.version}) has no ServerResponse ${description}`);
  return found;
}
const kOutHeaders = outgoingSymbol('kOutHeaders');
const kNeedDrain = outgoingSymbol('kNeedDrain');
const kHighWaterMark = outgoingSymbol('kHighWaterMark');

const kExchange = Symbol('tsgi.node.exchange');

/** The node:http internals this file reads and replaces (lib/_http_outgoing.js). */
interface Internals {
  [key: symbol]: unknown;
  socket: unknown;
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _contentLength: number | null;
  _removedContLen: boolean;
  _closed: boolean;
  useChunkedEncodingByDefault: boolean;
  _storeHeader(firstLine: string, headers: unknown): void;
  _send(data: string | Uint8Array, encoding: BufferEncoding | null | undefined, callback: ((err?: Error) => void) | null, byteLength?: number): boolean;
  _writeRaw(data: unknown, encoding: unknown, callback?: unknown): boolean;
  _finish(): void;
}
export type Response = Omit<ServerResponse, 'socket'> & Internals;
/** What the listener is given: the response as node:http's type. */
export const asServerResponse = (res: Response) => res as unknown as ServerResponse;

const exchangeOf = (res: Response) => res[kExchange] as NodeExchange;
const needsDrain = (res: Response) => res[kNeedDrain] as boolean;
const highWaterMarkOf = (res: Response) => res[kHighWaterMark] as number;

type Request = IncomingMessage & { _consuming: boolean; _readableState: { resumeScheduled: boolean }; _dump(): void };

// ---------------------------------------------------------------------------------
// Dates: node's Date header, made once a second: as node:http does it (utcDate in
// lib/internal/http.js), a timer forgets the text at the next second, so that a response
// reads no clock (Date.now() is a call into the runtime).

let dateText: string | undefined;
function forgetDate(): void {
  dateText = undefined;
}
function utcDate(): string {
  if (dateText === undefined) {
    const d = new Date();
    dateText = d.toUTCString();
    setTimeout(forgetDate, 1000 - d.getMilliseconds()).unref();
  }
  return dateText;
}

// ---------------------------------------------------------------------------------
// Headers: node's processHeader/storeHeader/matchHeader (lib/_http_outgoing.js), making
// [name, value] pairs instead of text.

const H_DATE = 1;
const H_LENGTH = 2;
const H_TE = 4;
const H_TRAILER = 8;
const H_DROP = 16;

/** What a header name means to the framing, by its lower-cased name. */
const SPECIAL = new Map<string, number>([
  ['date', H_DATE],
  ['content-length', H_LENGTH],
  ['transfer-encoding', H_TE | H_DROP],
  ['trailer', H_TRAILER | H_DROP],
  // The rest of tsgi's hop-by-hop headers: tsgi frames and keeps the connection itself.
  ['connection', H_DROP],
  ['keep-alive', H_DROP],
  ['te', H_DROP],
  ['trailers', H_DROP],
  ['upgrade', H_DROP],
  ['proxy-authenticate', H_DROP],
  ['proxy-authorization', H_DROP],
]);

// Names node's validateHeaderName found good, with what they mean to the framing
// (SPECIAL's bits, 0 for the rest): the names a response carries are nearly always the
// application's literals, so each is judged once, not a regular expression and a
// lower-casing per header per response. The first names met are held (names made per
// request cannot grow the map).
const NAME_FLAGS = new Map<string, number>();
const NAMES_HELD = 256;
/** node's checkIsHttpToken (lib/_http_common.js), for a name node did not check itself. */
const TOKEN = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;

/**
 * SPECIAL's bits for a header name; with validate, node's validateHeaderName first (its
 * error for a bad name). A name from setHeader (validate false) was checked by it already,
 * but is held only once it passes the same test: the map holds good names only.
 */
function nameFlags(key: string, validate: boolean): number {
  const known = NAME_FLAGS.get(key);
  if (known !== undefined) return known;
  if (validate) validateHeaderName(key);
  const flags = key.length >= 2 && key.length <= 19 ? (SPECIAL.get(key.toLowerCase()) ?? 0) : 0;
  if (NAME_FLAGS.size < NAMES_HELD && (validate || TOKEN.test(key))) NAME_FLAGS.set(key, flags);
  return flags;
}

/**
 * Whether node's checkInvalidHeaderChar passes a string value (/[^\t\x20-\x7e\x80-\xff]/
 * finds nothing), without a regular expression: header values are short.
 */
function goodValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 ? c !== 9 : c === 127 || c > 255) return false;
  }
  return true;
}

function storeOne(list: Headers, key: string, flags: number, value: unknown, validate: boolean): void {
  // node's validateHeaderValue for what the fast test does not pass: its own errors.
  if (validate && (typeof value !== 'string' || !goodValue(value))) validateHeaderValue(key, value as string);
  if (!(flags & H_DROP)) list.push([key, typeof value === 'string' ? value : String(value)]);
}

function processHeader(list: Headers, key: string, value: unknown, validate: boolean): number {
  // key: a string, as node's writeHead and setHeader have checked (or validate checks).
  const flags = nameFlags(key, validate);
  if (Array.isArray(value)) {
    // Several values are several lines (Set-Cookie), as node writes them; only a
    // request's Cookie would be joined, and a response has none.
    if (value.length < 2 || key.toLowerCase() !== 'cookie') {
      for (let i = 0; i < value.length; i++) storeOne(list, key, flags, value[i], validate);
      // node's matchHeader notes a name once it stored a line of it.
      return value.length > 0 ? flags : 0;
    }
    value = value.join('; ');
  }
  storeOne(list, key, flags, value, validate);
  return flags;
}

/** The response's headers as node would send them, but for what tsgi frames itself. */
function headerList(res: Response, headers: unknown, list: Headers): number {
  let seen = 0;
  if (headers === null || headers === undefined) return seen;
  if (headers === res[kOutHeaders]) {
    const h = headers as Record<string, [string, unknown]>;
    for (const key in h) {
      const entry = h[key]!;
      seen |= processHeader(list, entry[0], entry[1], false);
    }
  } else if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (let i = 0; i < headers.length; i++) seen |= processHeader(list, headers[i][0], headers[i][1], true);
    } else {
      // writeHead() already refused an odd length.
      for (let i = 0; i < headers.length; i += 2) seen |= processHeader(list, headers[i], headers[i + 1], true);
    }
  } else {
    const h = headers as Record<string, unknown>;
    for (const key in h) {
      if (Object.hasOwn(h, key)) seen |= processHeader(list, key, h[key], true);
    }
  }
  return seen;
}

// ---------------------------------------------------------------------------------
// The replaced steps of ServerResponse.

// The last status made: an application answers with a few, mostly one. The same string
// again lets startResponse know it at once (it compares with the last status it found good).
let lastCode = 0;
let lastMessage = '';
let lastStatus = '';

function statusOf(code: number, message: string): string {
  if (code !== lastCode || message !== lastMessage) {
    lastStatus = code + ' ' + message;
    lastCode = code;
    lastMessage = message;
  }
  return lastStatus;
}

/** node builds the head text here; the node interface starts tsgi's response instead. */
function storeHeader(this: Response, firstLine: string, headers: unknown): void {
  const ex = exchangeOf(this);
  const list: Headers = [];
  const seen = headerList(this, headers, list);
  if (this.sendDate && !(seen & H_DATE)) list.push(['Date', utcDate()]);
  // node's framing decision: a Content-Length it adds when end() came with the whole
  // body; else chunked (tsgi chunks an unframed body itself), or the close for HTTP/1.0.
  let framed = (seen & H_LENGTH) !== 0 || !this._hasBody;
  if (
    !framed &&
    !(seen & H_TE) &&
    this.useChunkedEncodingByDefault &&
    !(seen & H_TRAILER) &&
    !this._removedContLen &&
    typeof this._contentLength === 'number'
  ) {
    list.push(['Content-Length', String(this._contentLength)]);
    framed = true;
  }
  // Every name and value went through node's validateHeaderName/validateHeaderValue
  // (setHeader, or processHeader above for writeHead's): startResponse skips its own
  // equal tests (VALIDATED_HEADERS, lib/contract/exchange.ts). It checks what node did not (a
  // Content-Length that is not a number): its TsgiError reaches the application from
  // writeHead(), where node's own checks throw.
  (list as { [VALIDATED_HEADERS]?: boolean })[VALIDATED_HEADERS] = true;
  // firstLine is writeHead's `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`, of the two
  // properties it has just set: the status is made of them, not cut out of it.
  ex.startResponse(statusOf(this.statusCode, this.statusMessage), list);
  ex.framed = framed;
  this._header = firstLine;
  this._headerSent = false;
}

const UTF8 = new Set(['utf8', 'utf-8', 'UTF8', 'UTF-8']);

/** node writes to the socket here; the node interface queues the chunk for tsgi. */
function send(
  this: Response,
  data: string | Uint8Array,
  encoding: BufferEncoding | null | undefined,
  callback: ((err?: Error) => void) | null,
  byteLength?: number,
): boolean {
  this._headerSent = true;
  const ex = exchangeOf(this);
  if (ex.over) return false; // as a write to a destroyed socket
  let chunk: Chunk = data;
  let n: number;
  if (typeof data !== 'string') {
    n = data.byteLength;
  } else if (data.length > 0 && encoding !== null && encoding !== undefined && !UTF8.has(encoding)) {
    // tsgi sends a string as UTF-8: any other encoding is made bytes here.
    chunk = Buffer.from(data, encoding);
    n = chunk.byteLength;
  } else {
    n = byteLength ?? data.length;
  }
  if (n > 0) {
    ex.chunks.push(chunk);
    ex.queued += n;
  }
  if (callback !== null && callback !== undefined) ex.callbacks.push(callback);
  ex.wake();
  return ex.queued < highWaterMarkOf(this);
}

/** Raw writes are node's interim responses (100, 102, 103): tsgi sends none of them. */
function writeRaw(this: Response, _data: unknown, encoding: unknown, callback?: unknown): boolean {
  const cb = typeof encoding === 'function' ? encoding : callback;
  if (typeof cb === 'function') nextTick(cb as () => void);
  return true;
}

const serverResponseFinish = (ServerResponse.prototype as unknown as Internals)._finish;

/** end() ran: nothing more will be written. */
function finish(this: Response): void {
  const ex = exchangeOf(this);
  ex.ended = true;
  ex.wake();
  serverResponseFinish.call(this);
}

// ---------------------------------------------------------------------------------
// The exchange: the body tsgi pulls.

const DONE: IteratorResult<Chunk> = Object.freeze({ value: undefined, done: true }) as IteratorResult<Chunk>;

function joinChunks(chunks: Chunk[]): Chunk {
  let strings = true;
  for (let i = 0; i < chunks.length; i++) if (typeof chunks[i] !== 'string') strings = false;
  if (strings) return chunks.join('');
  return Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
}

function resetError(): Error {
  const err = new Error('aborted') as Error & { code: string };
  err.code = 'ECONNRESET';
  return err;
}

const RESOLVED = Promise.resolve();

export class NodeExchange implements SocketOwner, Pulled {
  chunks: Chunk[] = [];
  queued = 0;
  callbacks: Array<(err?: Error) => void> = [];
  /** end() was called. */
  ended = false;
  /** The head carries a Content-Length, or the response has no body. */
  framed = false;
  /** tsgi was told the body ended. */
  handedAll = false;
  /** No more writes go anywhere: the exchange completed, was cut, or the client left. */
  over = false;
  error: Error | undefined = undefined;
  private waiter: (() => void) | undefined = undefined;
  res!: Response;

  constructor(
    readonly req: IncomingMessage,
    readonly socket: NodeSocket,
    readonly startResponse: StartResponse,
  ) {}

  get highWaterMark(): number {
    return highWaterMarkOf(this.res);
  }

  /**
   * Resumes a pull that waits for the application, a microtask later: the pull takes
   * the writes of the whole turn together.
   */
  wake(): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      void RESOLVED.then(w);
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * What was written since the last pull, all at once, or the end; else undefined, and
   * wake() follows the next write (PULL, lib/contract/exchange.ts).
   */
  [PULL](wake: () => void): IteratorResult<Chunk> | undefined {
    if (this.error !== undefined) throw this.error;
    if (this.chunks.length > 0) return { value: this.take(), done: false };
    if (this.ended || this.over) {
      this.handedAll = true;
      return DONE;
    }
    // Resumed by _send, _finish or a destroy.
    this.waiter = wake;
    return undefined;
  }

  /** The same for any other reader of the body (a middleware's for await). */
  next(): IteratorResult<Chunk> | Promise<IteratorResult<Chunk>> {
    let settle: ((step: IteratorResult<Chunk> | Promise<IteratorResult<Chunk>>) => void) | undefined;
    let step: IteratorResult<Chunk> | undefined;
    try {
      step = this[PULL](() => settle!(this.next()));
    } catch (err) {
      return Promise.reject(err);
    }
    return step ?? new Promise<IteratorResult<Chunk>>((resolve) => (settle = resolve));
  }

  /** Takes the queue; the writes' callbacks run and 'drain' follows when one was refused. */
  private take(): Chunk {
    const chunks = this.chunks;
    const chunk = chunks.length === 1 ? chunks[0]! : joinChunks(chunks);
    this.chunks = [];
    this.queued = 0;
    this.runCallbacks();
    const res = this.res;
    if (needsDrain(res) && !this.ended) {
      res[kNeedDrain] = false;
      res.emit('drain');
    }
    return chunk;
  }

  runCallbacks(): void {
    if (this.callbacks.length === 0) return;
    const cbs = this.callbacks;
    this.callbacks = [];
    for (let i = 0; i < cbs.length; i++) cbs[i]!();
  }

  /**
   * tsgi is done with the body, exactly once: after the last chunk went out (a complete
   * response: 'finish', then 'close', as node:http emits them once the socket took the
   * end), or when the client went away or the exchange failed (the request is destroyed
   * with ECONNRESET: 'aborted' when its body was not read to the end, then 'close' on
   * both, and the socket's 'close').
   */
  close(): void {
    const wasOver = this.over;
    this.over = true;
    this.wake();
    if (this.ended && this.error === undefined && (this.handedAll || this.chunks.length === 0)) {
      nextTick(completeNT, this);
    } else if (!wasOver || this.error !== undefined) {
      nextTick(lostNT, this);
    }
  }

  /** res.destroy(), req.destroy() or req.socket.destroy() before the end: the exchange is broken. */
  destroyedByApp(err: Error | undefined): void {
    if (this.over || this.error !== undefined) return;
    if (this.ended && this.framed) return; // complete already: nothing is lost
    this.error =
      err ??
      new TsgiError(
        'TSGI_ERR_NODE_DESTROYED',
        `the application destroyed the response to ${this.req.method} ${this.req.url} before it was complete (res.destroy(), req.destroy() or req.socket.destroy())`,
      );
    this.socket.destroyed = true;
    this.wake();
  }
}

/** A complete response: the pending callbacks ('finish' among them), then what resOnFinish does. */
function completeNT(ex: NodeExchange): void {
  const res = ex.res;
  const req = ex.req as Request;
  if (!req._consuming && !req._readableState.resumeScheduled) req._dump();
  ex.socket._httpMessage = null;
  res.socket = null;
  ex.runCallbacks();
  nextTick(closeNT, res);
}

function closeNT(res: Response): void {
  res.destroyed = true;
  res._closed = true;
  res.emit('close');
}

/** The client went away, or the exchange was cut: what node:http does when the socket closes. */
function lostNT(ex: NodeExchange): void {
  const req = ex.req;
  const res = ex.res;
  ex.callbacks = [];
  ex.socket.lost();
  if (!req.destroyed) req.destroy(resetError());
  if (!res.destroyed || !res._closed) {
    res.destroyed = true;
    res._closed = true;
    res.emit('close');
  }
}

/**
 * The response for one request, its writes going to ex. The replaced steps are own
 * properties (see the top of the file).
 */
export function makeResponse(req: IncomingMessage, socket: NodeSocket, ex: NodeExchange): Response {
  const res = new ServerResponse(req) as unknown as Response;
  // node ignores a HEAD response's writes; here they reach tsgi, which sends none of
  // them but frames the head as the GET's would be (its Content-Length when at hand).
  res._hasBody = true;
  res.socket = socket as never;
  socket._httpMessage = res;
  socket.owner = ex;
  ex.res = res;
  res[kExchange] = ex;
  res._storeHeader = storeHeader;
  res._send = send;
  res._writeRaw = writeRaw;
  res._finish = finish;
  return res;
}
