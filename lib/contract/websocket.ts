// tsgi.websocket: the WebSocket of a WSGI application, in uWSGI's spirit
// (uwsgi.websocket_handshake, websocket_recv, websocket_send): handshake() completes
// the opening handshake and takes the connection; the connection it gives receives,
// sends, closes, and iterates over the messages (websocket-queue.ts).
//
// On a backend that keeps WebSockets itself (the native one: WebSocketTransport),
// handshake() writes the 101 through it and the frames stay in C++
// (native-websocket.ts). Elsewhere, and for accept() (which gives ws's own WebSocket),
// the connection is taken (tsgi.upgrade()) and the frames are the `ws` library's.
// Either way --websocket-max-size is the largest message (a larger one closes the
// connection with 1009).
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { TsgiError } from '../base/errors.js';
import { lazyRequire, nodeCrypto } from '../base/lazy-require.js';
import type { Environ, WebSocketConnection, WebSocketOffer } from './types.js';
import type { UpgradedConnections } from './upgraded.js';
import { MessageQueue } from './websocket-queue.js';

/** RFC 6455 §4.1: a Sec-WebSocket-Key is 16 bytes in base64. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Why the request is no valid opening handshake (RFC 6455 §4.2.1), or undefined. */
export function handshakeRefusal(environ: Environ, protocol: string | undefined): string | undefined {
  if (environ.REQUEST_METHOD !== 'GET') return `a WebSocket handshake is a GET, not ${environ.REQUEST_METHOD}`;
  if (String(environ.HTTP_UPGRADE ?? '').toLowerCase() !== 'websocket') return 'no Upgrade: websocket';
  const key = environ.HTTP_SEC_WEBSOCKET_KEY as string | undefined;
  if (key === undefined || !KEY.test(key)) return 'missing or invalid Sec-WebSocket-Key';
  const version = environ.HTTP_SEC_WEBSOCKET_VERSION;
  if (version !== '13' && version !== '8') return 'missing or unsupported Sec-WebSocket-Version (13)';
  if (protocol !== undefined) {
    if (!offeredProtocols(environ).includes(protocol)) return `the subprotocol ${protocol} was not offered`;
  }
  return undefined;
}

/** The subprotocols the client offered, in its order. */
function offeredProtocols(environ: Environ): string[] {
  const header = environ.HTTP_SEC_WEBSOCKET_PROTOCOL;
  if (header === undefined) return [];
  return String(header)
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** RFC 6455 §4.2.2: the key's SHA-1 with the protocol's GUID, in base64. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The 101 of a valid handshake, as ws writes it; protocol '' for none. */
export function acceptHead(environ: Environ, protocol: string): string {
  const accept = nodeCrypto()
    .createHash('sha1')
    .update(String(environ.HTTP_SEC_WEBSOCKET_KEY) + GUID)
    .digest('base64');
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n`;
  if (protocol !== '') head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return head;
}

/**
 * The handshake on a backend that keeps WebSockets (Handler): sends head and switches
 * the connection; the connection, or why it could not.
 */
export type NativeSwitch = (head: string, maxMessage: number, protocol: string) => WebSocketConnection | string;

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

const SENT: Promise<void> = Promise.resolve();
/** Bytes queued in the socket past which send() waits for it to drain (net.Socket's own mark). */
const SEND_HIGH = 16384;

/** A WebSocket as tsgi.websocket gives it, held by `ws` on a net.Socket. */
class WsConnection extends MessageQueue {
  constructor(readonly raw: WebSocket) {
    super();
    raw.on('message', (data, isBinary) => this.push(isBinary ? bytes(data) : bytes(data).toString('utf8')));
    // A protocol error (a bad frame, invalid UTF-8, a message over the limit): ws closes
    // the connection with its code and stops reading, so its 'close' says 1006 (no close
    // frame read); the application is told the code the connection was closed with.
    let failed: { code: number; reason: string } | undefined;
    raw.on('error', (err: Error) => {
      const code = statusCodeOf(err);
      if (code !== undefined) failed = { code, reason: err.message };
    });
    raw.once('close', (code: number, reason: Buffer) => {
      this.end(failed?.code ?? code, failed?.reason ?? reason.toString());
    });
  }

  get protocol(): string {
    return this.raw.protocol;
  }

  protected pauseReading(paused: boolean): void {
    if (paused) this.raw.pause();
    else this.raw.resume();
  }

  /**
   * Hands the message to the socket: resolves at once, or, when more than SEND_HIGH bytes
   * already wait in the socket, once this message is written (so that a sender that
   * awaits is held back); at once when the connection is closed. It never rejects.
   */
  send(data: string | ArrayBufferView): Promise<void> {
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
    this.stopQueueing();
  }
}

/** tsgi.websocket for a request that offers a WebSocket. */
export function offerWebSocket(environ: Environ, maxPayload: number, upgraded: UpgradedConnections, native?: NativeSwitch): WebSocketOffer {
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
  const switchNatively = (options: { protocol?: string } = {}): Promise<WebSocketConnection> => {
    const why = handshakeRefusal(environ, options.protocol);
    if (why !== undefined) return Promise.reject(new TsgiError('TSGI_ERR_WEBSOCKET_HANDSHAKE', why));
    // The one asked for, else the client's first, as ws chooses by default.
    const protocol = options.protocol ?? offeredProtocols(environ)[0] ?? '';
    const ws = native!(acceptHead(environ, protocol), maxPayload, protocol);
    if (typeof ws === 'string') return Promise.reject(new TsgiError('TSGI_ERR_UPGRADE', `tsgi.upgrade() during ${environ.REQUEST_METHOD} ${environ.REQUEST_URI}: ${ws}`));
    return Promise.resolve(ws);
  };
  return {
    accept,
    handshake: native !== undefined ? switchNatively : (options) => accept(options).then((ws) => new WsConnection(ws)),
  };
}
