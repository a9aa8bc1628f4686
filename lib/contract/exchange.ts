// One request and its response: the environ, start_response, the body pump, and
// close() exactly once. Transport-agnostic: the native server and the pure-JS one
// both hand requests to a Handler and take responses back through send().
import { Buffer } from 'node:buffer'; // a module binding: the global is looked up on every use
import { TsgiError } from '../base/errors.js';
import type { Handler } from './handler.js';
import { headText } from './transport.js';
import { NAME_CONTENT_LENGTH, NAME_HOP_BY_HOP, STATUS, VALIDATED_HEADERS, checkHeader, contentLength, nameKind } from './response-rules.js';
import { NULL_BODY, PULL, type Pulled } from './body-kinds.js';
import { Input } from './input.js';
import type { Chunk, Environ, Headers, StartResponse, Upgraded, Write } from './types.js';
import { REQ_HTTP10, SEND_ABORT, SEND_ADD_LENGTH, SEND_BACKPRESSURE, SEND_CHUNKED, SEND_CLOSE, SEND_END } from '../addon/wire.js';

const FLUSH_AT = 65536;

// The last status start_response found good: an application answers with a few, mostly
// one (a symbol at first, which no application can pass); and whether it allows no body
// (1xx, 204, 304), so that the same status is not looked at again.
let goodStatus: unknown = Symbol('none');
let goodStatusNoBody = false;

function chunkBytes(c: Chunk): number {
  return typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
}

export class Exchange {
  finished = false;
  private status: string | undefined;
  private headers: string[] = []; // the application's, [name, value, ...]
  private appLength = -1; // the application's Content-Length, or -1
  private sent = 0; // body bytes accepted toward appLength
  private headersSent = false;
  private chunked = false;
  private noBody: boolean;
  // The chunks taken and not yet sent: the first alone (most bodies are one), a list from the second.
  private first: Chunk | undefined = undefined;
  private chunks: Chunk[] | undefined = undefined;
  private buffered = 0;
  private waiting = false; // for onDrain
  private resume: (() => void) | undefined;
  private bodyClosed = false;
  private aborted = false;
  private body: unknown;
  private iterator: Iterator<Chunk> | AsyncIterator<Chunk> | undefined;
  private wakePull: (() => void) | undefined;
  private controller: AbortController | undefined;
  private readonly startResponse: StartResponse;
  /** tsgi.upgrade() was called: no response is owed, the connection goes to the application. */
  upgrading = false;
  /**
   * In the handler's table of exchanges in progress (Handler.begin files one that did not
   * finish within the application's call). Most finish within it, and are never looked
   * up: taking them out would read the table's cell of a connection for nothing.
   */
  filed = false;
  /** The connection, once handed over (destroyed if the application fails). */
  private upgradedSocket: { destroy(): void } | undefined;
  private failed = false;
  private readonly writer: Write;

  constructor(
    private readonly handler: Handler,
    readonly id: number,
    private readonly flags: number,
    readonly environ: Environ,
    private readonly input: Input,
  ) {
    this.noBody = environ.REQUEST_METHOD === 'HEAD';
    // Both made here, where they share one context (made in start(), write would need its own).
    this.startResponse = (status, headers, excInfo) => this.start(status, headers, excInfo);
    this.writer = (chunk) => this.write(chunk);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }

  run(): void {
    let result: unknown;
    try {
      result = this.handler.app(this.environ, this.startResponse);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(
        (r) => this.consume(r),
        (err) => this.fail(err),
      );
      return;
    }
    this.consume(result);
  }

  /** tsgi.upgrade(): the connection, once the server has handed it over. */
  upgrade(): Promise<Upgraded> {
    const refuse = (why: string) => Promise.reject(new TsgiError('TSGI_ERR_UPGRADE', `tsgi.upgrade() during ${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}: ${why}`));
    if (this.upgrading) return refuse('it was called twice');
    if (this.status !== undefined) return refuse('start_response was called: the response has begun');
    if (this.finished || this.aborted) return refuse('the client went away');
    this.upgrading = true;
    return new Promise((resolve, reject) => {
      this.handler.awaitUpgrade(this.id, this.environ['tsgi.websocket'] !== undefined, (u) => {
        if (u === undefined) {
          reject(new TsgiError('TSGI_ERR_UPGRADE', `tsgi.upgrade() during ${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}: the client went away`));
        } else if (this.failed) {
          u.socket.destroy();
        } else {
          this.upgradedSocket = u.socket;
          resolve(u);
        }
      });
      if (!this.handler.transport.upgrade(this.id)) this.handler.onUpgrade(this.id, undefined, undefined);
    });
  }

  /**
   * tsgi.websocket's handshake on a backend that keeps WebSockets: take makes the switch
   * (false: the request is gone). Returns why it cannot be made, or undefined.
   */
  switchToWebSocket(take: () => boolean): string | undefined {
    if (this.upgrading) return 'it was called twice';
    if (this.status !== undefined) return 'start_response was called: the response has begun';
    if (this.finished || this.aborted || !take()) return 'the client went away';
    this.upgrading = true;
    return undefined;
  }

  /** What the connection became (destroyed if the application fails). */
  upgradedTo(conn: { destroy(): void }): void {
    this.upgradedSocket = conn;
  }

  private start(status: string, headers: Headers, excInfo?: unknown): Write {
    if (this.upgrading) {
      throw new TsgiError('TSGI_ERR_UPGRADE', 'start_response was called after tsgi.upgrade(): the connection is the application\'s');
    }
    if (this.status !== undefined && excInfo === undefined) {
      throw new TsgiError('TSGI_ERR_START_RESPONSE_TWICE', 'start_response was called a second time without excInfo');
    }
    if (excInfo !== undefined && excInfo !== null && this.headersSent) throw excInfo;
    if (status !== goodStatus) {
      if (typeof status !== 'string' || !STATUS.test(status)) {
        throw new TsgiError(
          'TSGI_ERR_STATUS_INVALID',
          `Expected a status line like "200 OK" for start_response but received ${JSON.stringify(status)}`,
        );
      }
      goodStatus = status;
      goodStatusNoBody = status.charCodeAt(0) === 49 /* 1xx */ || status.startsWith('204') || status.startsWith('304');
    }
    if (!Array.isArray(headers)) {
      throw new TsgiError('TSGI_ERR_HEADERS_TYPE', 'Expected a list of [name, value] pairs for the headers');
    }
    // Sized at once: grown from empty by push, it would be given room for 17 and more.
    const pairs = new Array<string>(headers.length * 2);
    let appLength = -1;
    const validated = (headers as { [VALIDATED_HEADERS]?: boolean })[VALIDATED_HEADERS] === true;
    for (let i = 0; i < headers.length; i++) {
      const h = headers[i]!;
      const kind = validated ? nameKind(h[0]) : checkHeader(h, i);
      const name = h[0];
      const value = h[1];
      if (kind === NAME_HOP_BY_HOP) {
        throw new TsgiError('TSGI_ERR_HEADER_HOP_BY_HOP', `The application may not set the hop-by-hop header ${name}`);
      }
      if (kind === NAME_CONTENT_LENGTH) appLength = contentLength(value);
      pairs[2 * i] = name;
      pairs[2 * i + 1] = value;
    }
    this.status = status;
    this.headers = pairs;
    this.appLength = appLength;
    if (goodStatusNoBody) this.noBody = true;
    return this.writer;
  }

  private write(chunk: Chunk): void {
    if (this.finished) {
      throw new TsgiError('TSGI_ERR_WRITE_AFTER_END', 'The write callable was used after the response ended');
    }
    this.push(chunk);
    if (this.buffered > 0) this.flush(false);
  }

  /** Takes one chunk of the body. Returns false when no more is wanted. */
  private push(chunk: Chunk): boolean {
    let n: number;
    if (typeof chunk === 'string') {
      n = chunk.length;
    } else if (chunk instanceof Uint8Array) {
      n = chunk.byteLength;
    } else {
      throw new TsgiError(
        'TSGI_ERR_BODY_TYPE',
        `Expected a string or a Uint8Array for a body chunk but received ${chunk === null ? 'null' : typeof chunk}`,
      );
    }
    if (n === 0) return true;
    if (this.status === undefined) {
      throw new TsgiError('TSGI_ERR_NO_START_RESPONSE', 'The application produced a body before calling start_response');
    }
    if (this.appLength >= 0) {
      const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : n;
      const room = this.appLength - this.sent;
      if (bytes > room) {
        // Never more bytes than the application's Content-Length says.
        if (room > 0) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          this.keep(b.subarray(0, room));
          this.buffered += room;
          this.sent += room;
        }
        return false;
      }
      this.sent += bytes;
    }
    this.keep(chunk);
    this.buffered += n;
    return true;
  }

  private keep(chunk: Chunk): void {
    if (this.first === undefined) this.first = chunk;
    else if (this.chunks === undefined) this.chunks = [this.first, chunk];
    else this.chunks.push(chunk);
  }

  private consume(result: unknown): void {
    if (this.upgrading && !this.aborted) {
      // The connection is the application's: its body (normally empty) is not sent.
      this.body = result;
      this.finished = true;
      this.done();
      return;
    }
    if (this.aborted) {
      this.body = result;
      this.closeBody();
      return;
    }
    this.body = result;
    if (Array.isArray(result)) {
      // A list is at hand whole: one send, with its Content-Length, however long.
      try {
        for (let i = 0; i < result.length; i++) {
          if (!this.push(result[i] as Chunk)) break;
        }
      } catch (err) {
        this.fail(err);
        return;
      }
      this.finish();
      return;
    }
    if (result === null || typeof result !== 'object' || result instanceof Uint8Array) {
      this.fail(
        new TsgiError(
          'TSGI_ERR_BODY_TYPE',
          `Expected the application to return an iterable of chunks but it returned ${result === null ? 'null' : result instanceof Uint8Array ? 'a Uint8Array (wrap it in a list)' : typeof result === 'string' ? 'a string (wrap it in a list)' : typeof result}`,
        ),
      );
      return;
    }
    const r = result as Partial<Iterable<Chunk> & AsyncIterable<Chunk>>;
    try {
      if (typeof r[Symbol.iterator] === 'function') {
        this.iterator = r[Symbol.iterator]!();
        this.pumpSync();
        return;
      }
      if (typeof r[Symbol.asyncIterator] === 'function') {
        const it = r[Symbol.asyncIterator]!();
        this.iterator = it;
        if (typeof (it as Partial<Pulled>)[PULL] === 'function') this.pumpPulled();
        else void this.pumpAsync();
        return;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.fail(
      new TsgiError(
        'TSGI_ERR_BODY_TYPE',
        result instanceof Response
          ? 'The application returned a Response: did you mean --interface fetch?'
          : 'Expected the application to return an iterable of chunks',
      ),
    );
  }

  private pumpSync(): void {
    const it = this.iterator as Iterator<Chunk>;
    try {
      for (;;) {
        const step = it.next();
        if (step.done) break;
        if (!this.push(step.value)) break;
        if (this.buffered >= FLUSH_AT) {
          this.flush(false);
          if (this.aborted || this.finished) return;
          if (this.waiting) {
            this.resume = () => this.pumpSync();
            return;
          }
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.finish();
  }

  private async pumpAsync(): Promise<void> {
    const it = this.iterator as AsyncIterator<Chunk>;
    try {
      for (;;) {
        const step = await it.next();
        if (this.aborted || this.finished) return;
        if (step.done) break;
        if (!this.push(step.value)) break;
        // An async body is sent as it comes: each chunk may be the last for a while.
        this.flush(false);
        if (this.aborted || this.finished) return;
        if (this.waiting) {
          await new Promise<void>((resolve) => (this.resume = resolve));
          if (this.aborted || this.finished) return;
        }
      }
    } catch (err) {
      if (!this.aborted) this.fail(err);
      return;
    }
    this.finish();
  }

  /** The pump of a body that offers PULL; wakePull() calls it again when there is more. */
  private pumpPulled(): void {
    if (this.aborted || this.finished || this.waiting) return; // waiting: drained() resumes it
    const it = this.iterator as unknown as Pulled;
    const wake = (this.wakePull ??= () => this.pumpPulled());
    try {
      for (;;) {
        const step = it[PULL](wake);
        if (step === undefined) {
          // Nothing more at hand: what is taken goes out, and wake() comes with the next writes.
          if (this.buffered > 0) this.flush(false);
          if (this.waiting) this.resume = wake;
          return;
        }
        if (step.done) break;
        if (!this.push(step.value)) break;
        // What is at hand goes in the same send as this chunk: the node interface's end()
        // right after its last write makes one send with the end, not two. Only for a body
        // its Content-Length frames: otherwise each turn's writes are sent as they come, so
        // that the body is framed chunked, as node:http would frame it (one send with the
        // end would add a length).
        if (this.appLength >= 0 && this.buffered < FLUSH_AT) continue;
        this.flush(false);
        if (this.aborted || this.finished) return;
        if (this.waiting) {
          this.resume = wake;
          return;
        }
      }
    } catch (err) {
      if (!this.aborted) this.fail(err);
      return;
    }
    this.finish();
  }

  /** The head's send flags, once; for HEAD, the Content-Length the GET would have had goes into the headers. */
  private takeHead(end: boolean): number {
    this.headersSent = true;
    let flags = 0;
    if (this.noBody) {
      if (end && this.appLength < 0 && this.body !== NULL_BODY && this.environ.REQUEST_METHOD === 'HEAD' && !this.status!.startsWith('204') && !this.status!.startsWith('304')) {
        // HEAD: the length the GET would have had, when it is at hand.
        let n = 0;
        if (this.chunks !== undefined) for (const c of this.chunks) n += chunkBytes(c);
        else if (this.first !== undefined) n = chunkBytes(this.first);
        this.headers.push('Content-Length', String(n));
      }
    } else if (this.appLength >= 0) {
      // The application's Content-Length frames the body.
    } else if (end) {
      flags |= SEND_ADD_LENGTH;
    } else if (this.flags & REQ_HTTP10) {
      flags |= SEND_CLOSE; // no chunked coding in HTTP/1.0: the close ends the body
    } else {
      flags |= SEND_CHUNKED;
      this.chunked = true;
    }
    return flags;
  }

  /** Sends a head, and what goes with it, as the transport takes a head: its parts, or its text. */
  private sendHead(status: string, headers: string[], body: Chunk | Chunk[] | undefined, flags: number): number {
    const t = this.handler.transport;
    if (t.sendParts !== undefined) return t.sendParts(this.id, status, headers, body, flags);
    return t.send(this.id, headText(status, headers), body, flags);
  }

  private flush(end: boolean): void {
    let head = false;
    let flags = 0;
    if (!this.headersSent) {
      if (!end && this.buffered === 0) return;
      head = true;
      flags = this.takeHead(end);
    } else if (this.chunked) {
      flags = SEND_CHUNKED;
    }
    let body: Chunk | Chunk[] | undefined;
    if (!this.noBody) body = this.chunks ?? this.first;
    this.first = undefined;
    this.chunks = undefined;
    this.buffered = 0;
    if (end) {
      flags |= SEND_END;
      if (this.appLength >= 0 && this.sent < this.appLength && !this.noBody) {
        // Fewer bytes than promised: the close tells the client the body is short.
        flags |= SEND_CLOSE;
        this.handler.logError(
          `tsgi: ${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}: the application sent ${this.sent} of the ${this.appLength} bytes its Content-Length promised; closing the connection`,
        );
      }
      this.finished = true;
    }
    const r = head ? this.sendHead(this.status!, this.headers, body, flags) : this.handler.transport.send(this.id, undefined, body, flags);
    if (r === SEND_BACKPRESSURE) {
      this.waiting = true;
    } else if (r < 0 && !end) {
      this.abort();
    }
    if (end) this.done();
  }

  private finish(): void {
    if (this.finished || this.aborted) return;
    if (this.status === undefined) {
      this.fail(new TsgiError('TSGI_ERR_NO_START_RESPONSE', 'The application returned without calling start_response'));
      return;
    }
    this.flush(true);
  }

  private done(): void {
    this.input.close();
    if (this.filed) this.handler.pending.delete(this.id);
    this.closeBody();
  }

  /** The application failed: a 500 when nothing went out yet, else the connection is cut. */
  private fail(err: unknown): void {
    if (this.finished || this.aborted) return;
    const e = this.environ;
    if (!this.headersSent && !this.upgrading && err instanceof TsgiError && err.code === 'TSGI_ERR_WEBSOCKET_HANDSHAKE') {
      // A refused handshake is an ordinary answer: 400, and the connection stays.
      this.handler.logError(`tsgi: ${e.REQUEST_METHOD} ${e.REQUEST_URI}: 400 Bad Request: ${err.message}`);
      this.finished = true;
      this.headersSent = true;
      this.sendHead('400 Bad Request', ['Content-Type', 'text/plain'], `Bad Request: ${err.message}\n`, SEND_ADD_LENGTH | SEND_END);
      this.done();
      return;
    }
    const detail = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    this.handler.logError(`tsgi: error in the application during ${e.REQUEST_METHOD} ${e.REQUEST_URI}:\n${detail}`);
    this.handler.options.onException?.();
    this.finished = true;
    this.first = undefined;
    this.chunks = undefined;
    if (this.upgrading) {
      // No response to fail: the connection the application took is closed.
      this.failed = true;
      this.upgradedSocket?.destroy();
      this.done();
      return;
    }
    if (!this.headersSent) {
      this.headersSent = true;
      this.sendHead('500 Internal Server Error', ['Content-Type', 'text/plain'], 'Internal Server Error\n', SEND_ADD_LENGTH | SEND_END);
    } else {
      this.handler.transport.send(this.id, undefined, undefined, SEND_ABORT);
    }
    this.done();
  }

  drained(): void {
    this.waiting = false;
    const resume = this.resume;
    this.resume = undefined;
    if (resume) resume();
  }

  /** The client went away. */
  abort(): void {
    if (this.aborted || this.finished) return;
    this.aborted = true;
    this.controller?.abort();
    this.input.close();
    if (this.filed) this.handler.pending.delete(this.id);
    const resume = this.resume;
    this.resume = undefined;
    if (resume) resume();
    this.closeBody();
  }

  /** close() on the body, or return() on its iterator: exactly once, however it ended. */
  private closeBody(): void {
    if (this.bodyClosed) return;
    const body = this.body as { close?: () => unknown } | undefined;
    if (body === undefined && this.iterator === undefined) return; // the body has not come yet
    this.bodyClosed = true;
    try {
      let r: unknown;
      if (body !== null && body !== undefined && typeof body.close === 'function') {
        r = body.close();
      } else if (this.iterator !== undefined && typeof this.iterator.return === 'function') {
        r = this.iterator.return();
      }
      if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).catch === 'function') {
        (r as Promise<unknown>).catch((err) => this.reportCloseError(err));
      }
    } catch (err) {
      this.reportCloseError(err);
    }
  }

  private reportCloseError(err: unknown): void {
    const detail = err instanceof Error ? (err.stack ?? String(err)) : String(err);
    this.handler.logError(`tsgi: error in the body's close() after ${this.environ.REQUEST_METHOD} ${this.environ.REQUEST_URI}:\n${detail}`);
  }
}
