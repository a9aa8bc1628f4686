// tsgi.websocket: the WebSocket of a WSGI application, in uWSGI's spirit
// (uwsgi.websocket_handshake, websocket_recv, websocket_send): handshake() completes
// the opening handshake and takes the connection (tsgi.upgrade()); the connection it
// gives receives, sends, closes, and iterates over the messages. The frames are the
// `ws` library's (masking, fragmentation, control frames, UTF-8, close codes, the
// closing handshake); --websocket-max-size is its maxPayload (a larger message closes
// the connection with 1009).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { TsgiError } from '../base/errors.js';
import { lazyRequire } from '../base/lazy-require.js';
import type { Environ, WebSocketConnection, WebSocketOffer } from './types.js';
import type { UpgradedConnections } from './upgraded.js';

/** RFC 6455 §4.1: a Sec-WebSocket-Key is 16 bytes in base64. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;
/** Messages received and not taken before reading pauses (the client's sends then wait). */
const QUEUE_HIGH = 64;

/** Why the request is no valid opening handshake (RFC 6455 §4.2.1), or undefined. */
export function handshakeRefusal(environ: Environ, protocol: string | undefined): string | undefined {
  if (environ.REQUEST_METHOD !== 'GET') return `a WebSocket handshake is a GET, not ${environ.REQUEST_METHOD}`;
  if (String(environ.HTTP_UPGRADE ?? '').toLowerCase() !== 'websocket') return 'no Upgrade: websocket';
  const key = environ.HTTP_SEC_WEBSOCKET_KEY as string | undefined;
  if (key === undefined || !KEY.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = environ.HTTP_SEC_WEBSOCKET_VERSION;
  if (version !== '13' && version !== '8') return 'missing or unsupported Sec-WebSocket-Version (13)';
  if (protocol !== undefined) {
    const offered = String(environ.HTTP_SEC_WEBSOCKET_PROTOCOL ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(protocol)) return `the subprotocol ${protocol} was not offered`;
  }
  return undefined;
}

/** One ws server (no listener of its own) per message size limit; it only does handshakes. */
const servers = new Map<number, WebSocketServer>();
const kProtocol = Symbol('tsgi.websocket.protocol');
type HandshakeRequest = IncomingMessage & { [kProtocol]?: string };

/** ws, required at the first handshake: a process that serves no WebSocket does not load it. */
const wsLib = lazyRequire<typeof import('ws')>('ws');

function serverFor(maxPayload: number): WebSocketServer {
  let server = servers.get(maxPayload);
  if (server === undefined) {
    server = new (wsLib().WebSocketServer)({
      noServer: true,
      clientTracking: false,
      maxPayload,
      // The one asked for, else the client's first, as ws chooses by default.
      handleProtocols: (offered, req) => (req as HandshakeRequest)[kProtocol] ?? offered.values().next().value ?? false,
    });
    servers.set(maxPayload, server);
  }
  return server;
}

/** What ws's handleUpgrade reads of a request, from the environ. */
function handshakeRequest(environ: Environ, socket: Socket, protocol: string | undefined): HandshakeRequest {
  const headers: Record<string, string> = { upgrade: String(environ.HTTP_UPGRADE), 'sec-websocket-key': String(environ.HTTP_SEC_WEBSOCKET_KEY), 'sec-websocket-version': String(environ.HTTP_SEC_WEBSOCKET_VERSION) };
  if (environ.HTTP_SEC_WEBSOCKET_PROTOCOL !== undefined) headers['sec-websocket-protocol'] = String(environ.HTTP_SEC_WEBSOCKET_PROTOCOL);
  if (environ.HTTP_ORIGIN !== undefined) headers.origin = String(environ.HTTP_ORIGIN);
  return { method: 'GET', url: environ.REQUEST_URI, headers, socket, [kProtocol]: protocol } as unknown as HandshakeRequest;
}

/** The close code ws gives a protocol error it closes for (its own symbol "status-code"). */
function statusCodeOf(err: Error): number | undefined {
  for (const s of Object.getOwnPropertySymbols(err)) {
    if (s.description === 'status-code') return (err as unknown as Record<symbol, number>)[s];
  }
  return undefined;
}

function bytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

const DONE: IteratorResult<string | Buffer> = Object.freeze({ value: undefined, done: true });
const SENT: Promise<void> = Promise.resolve();
/** Bytes queued in the socket past which send() waits for it to drain (net.Socket's own mark). */
const SEND_HIGH = 16384;

/**
 * A WebSocket as tsgi.websocket gives it. Messages are kept as iterator results, so that
 * iterating (the common way) costs one promise per message and receive() one more.
 */
class Connection implements WebSocketConnection {
  private readonly queue: Array<IteratorResult<string | Buffer>> = [];
  private readonly waiting: Array<(r: IteratorResult<string | Buffer>) => void> = [];
  private ended = false;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly raw: WebSocket) {
    raw.on('message', (data, isBinary) => {
      const result: IteratorResult<string | Buffer> = { value: isBinary ? bytes(data) : bytes(data).toString('utf8'), done: false };
      const take = this.waiting.shift();
      if (take !== undefined) {
        take(result);
        return;
      }
      this.queue.push(result);
      if (this.queue.length >= QUEUE_HIGH) raw.pause();
    });
    // A protocol error (a bad frame, invalid UTF-8, a message over the limit): ws closes
    // the connection with its code and stops reading, so its 'close' says 1006 (no close
    // frame read); the application is told the code the connection was closed with.
    let failed: { code: number; reason: string } | undefined;
    raw.on('error', (err: Error) => {
      const code = statusCodeOf(err);
      if (code !== undefined) failed = { code, reason: err.message };
    });
    this.closed = new Promise((resolve) => {
      raw.once('close', (code: number, reason: Buffer) => {
        this.ended = true;
        for (const take of this.waiting.splice(0)) take(DONE);
        resolve(failed ?? { code, reason: reason.toString() });
      });
    });
  }

  get protocol(): string {
    return this.raw.protocol;
  }

  /** The next message as an iterator result (DONE once closed). */
  private next(): Promise<IteratorResult<string | Buffer>> {
    if (this.queue.length > 0) {
      const result = this.queue.shift()!;
      if (this.raw.isPaused && this.queue.length < QUEUE_HIGH / 2) this.raw.resume();
      return Promise.resolve(result);
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  receive(): Promise<string | Buffer | undefined> {
    return this.next().then((r) => r.value);
  }

  /**
   * Hands the message to the socket: resolves at once, or, when more than SEND_HIGH bytes
   * already wait in the socket, once this message is written (so that a sender that
   * awaits is held back); at once when the connection is closed. It never rejects.
   */
  send(data: string | Uint8Array): Promise<void> {
    const raw = this.raw;
    if (raw.readyState !== raw.OPEN) return SENT;
    const binary = typeof data !== 'string';
    if (raw.bufferedAmount <= SEND_HIGH) {
      raw.send(data, { binary });
      return SENT;
    }
    return new Promise((resolve) => raw.send(data, { binary }, () => resolve()));
  }

  close(code = 1000, reason = ''): void {
    this.raw.close(code, reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<string | Buffer> {
    return { next: () => this.next(), return: () => Promise.resolve(DONE) };
  }
}

/** tsgi.websocket for a request that offers a WebSocket. */
export function offerWebSocket(environ: Environ, maxPayload: number, upgraded: UpgradedConnections): WebSocketOffer {
  const accept = (options: { protocol?: string } = {}): Promise<WebSocket> => {
    // Judged before the connection is taken, so that a refusal is an ordinary answer.
    const why = handshakeRefusal(environ, options.protocol);
    if (why !== undefined) return Promise.reject(new TsgiError('TSGI_ERR_WEBSOCKET_HANDSHAKE', why));
    return environ['tsgi.upgrade']!().then(
      ({ socket, head }) =>
        new Promise((resolve, reject) => {
          const gone = () => reject(new TsgiError('TSGI_ERR_UPGRADE', `${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: the client went away during the WebSocket handshake`));
          socket.once('close', gone);
          serverFor(maxPayload).handleUpgrade(handshakeRequest(environ, socket, options.protocol), socket, head, (ws) => {
            socket.off('close', gone);
            upgraded.closeWith(socket, () => ws.close(1001, 'server going away'));
            resolve(ws);
          });
        }),
    );
  };
  return {
    accept,
    handshake: (options) => accept(options).then((ws) => new Connection(ws)),
  };
}
