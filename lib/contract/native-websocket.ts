// A tsgi.websocket connection the native server keeps (native/server/websocket.cc): its
// frames are parsed and written in C++, whole messages come in batches (onWsMessages),
// and the closing handshake and pings are the server's. This side holds the queue the
// application reads, sends through the transport, and waits for onDrain when the output
// is full.
import { EventEmitter } from 'node:events';
import { WS_SEND_MESSAGE, WS_SEND_PING } from '../addon/wire.js';
import type { RawWebSocket } from './types.js';
import type { WebSocketTransport } from './transport.js';
import { MessageQueue } from './websocket-queue.js';

/**
 * A message as the server frames it: a string, or the Uint8Array of a typed array's or a
 * DataView's bytes (ws sends those bytes; the server takes a string or bytes only).
 */
function framed(data: string | ArrayBufferView): string | Uint8Array {
  // Anything else goes as it is, for the server to refuse (a TypeError, as before).
  if (typeof data === 'string' || data instanceof Uint8Array || !ArrayBuffer.isView(data)) return data as string | Uint8Array;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

const SENT: Promise<void> = Promise.resolve();
const SEND_BACKPRESSURE = 1;

/** A close code an endpoint may send (RFC 6455 §7.4), as `ws` checks it. */
function sendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

export class NativeWebSocket extends MessageQueue {
  private open = true;
  private closing = false;
  private drainWaiters: Array<() => void> = [];
  private rawView: NativeRaw | undefined;

  constructor(
    readonly id: number,
    private readonly transport: WebSocketTransport,
    readonly protocol: string,
  ) {
    super();
  }

  /** Messages from onWsMessages (a string: text; a Buffer: binary). */
  message(data: string | Buffer): void {
    const raw = this.rawView;
    if (raw !== undefined && raw.listenerCount('message') > 0) {
      // The application listens on raw, as on ws's WebSocket: the messages are its.
      raw.emit('message', typeof data === 'string' ? Buffer.from(data) : data, typeof data !== 'string');
      return;
    }
    this.push(data);
  }

  /** onWsClose: the connection is gone. */
  closedWith(code: number, reason: string): void {
    this.open = false;
    this.drained();
    this.end(code, reason);
    this.rawView?.emit('close', code, Buffer.from(reason));
  }

  /** onDrain: the output is low again. */
  drained(): void {
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** Reading is paused while either asks: the queue (too many messages untaken) or raw.pause(). */
  private queuePaused = false;
  private rawPaused = false;

  protected pauseReading(paused: boolean): void {
    this.queuePaused = paused;
    this.updatePause();
  }

  /** raw.pause() and raw.resume(). */
  transportPause(paused: boolean): void {
    this.rawPaused = paused;
    this.updatePause();
  }

  private updatePause(): void {
    if (this.open) this.transport.wsPause(this.id, this.queuePaused || this.rawPaused);
  }

  /**
   * Frames the message into the server's output: resolves at once, or, when the output
   * is over its high-water mark (64 KiB), once it is down to 16 KiB (so that a sender
   * that awaits is held back); at once when the connection is closed. It never rejects.
   */
  send(data: string | ArrayBufferView): Promise<void> {
    if (!this.open || this.closing) return SENT;
    if (this.transport.wsSend(this.id, framed(data), WS_SEND_MESSAGE) !== SEND_BACKPRESSURE) return SENT;
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** A ping (125 bytes at most); the server reads the pong and drops it. */
  ping(data: string | ArrayBufferView = Buffer.alloc(0)): void {
    if (this.open && !this.closing) this.transport.wsSend(this.id, typeof data === 'string' ? Buffer.from(data) : framed(data), WS_SEND_PING);
  }

  /** Starts the closing handshake; throws, as ws does, for a code that may not be sent or a reason over 123 bytes. */
  close(code = 1000, reason = ''): void {
    if (!sendableCode(code)) throw new TypeError(`First argument must be a valid error code number, received ${code}`);
    if (Buffer.byteLength(reason) > 123) throw new RangeError('The message must not be greater than 123 bytes');
    if (!this.open || this.closing) return;
    this.closing = true;
    this.stopQueueing();
    this.transport.wsClose(this.id, code, reason);
  }

  /** A graceful stop's close (lib/contract/upgraded.ts). */
  goAway(): void {
    if (this.open && !this.closing) {
      this.closing = true;
      this.stopQueueing();
      this.transport.wsClose(this.id, 1001, 'server going away');
    }
  }

  /** The connection is cut now. */
  destroy(): void {
    if (this.open) this.transport.wsTerminate(this.id);
  }

  get readyState(): number {
    return this.open ? (this.closing ? 2 : 1) : 3;
  }

  /** ws's WebSocket's members, for code written against them. */
  get raw(): RawWebSocket {
    return (this.rawView ??= new NativeRaw(this));
  }
}

/**
 * raw on the native backend: the members of ws's WebSocket that tsgi's types name, over
 * the native connection. Its 'message' listeners, when it has any, take the messages
 * instead of the queue; 'close' is emitted with the code and reason.
 */
class NativeRaw extends EventEmitter implements RawWebSocket {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  constructor(private readonly ws: NativeWebSocket) {
    super();
  }
  get readyState(): number {
    return this.ws.readyState;
  }
  get protocol(): string {
    return this.ws.protocol;
  }
  /** What waits in the server's output is not counted here: send()'s promise says when it is low. */
  get bufferedAmount(): number {
    return 0;
  }
  send(data: string | Uint8Array | ArrayBuffer, options?: { binary?: boolean } | ((err?: Error) => void), cb?: (err?: Error) => void): void {
    const done = typeof options === 'function' ? options : cb;
    const binary = typeof options === 'object' ? options.binary : undefined;
    let message: string | Uint8Array = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (binary === true && typeof message === 'string') message = Buffer.from(message);
    else if (binary === false && typeof message !== 'string') message = Buffer.from(message).toString('utf8');
    void this.ws.send(message).then(() => done?.());
  }
  close(code?: number, reason?: string | Buffer): void {
    this.ws.close(code, reason === undefined ? '' : reason.toString());
  }
  ping(data?: string | Uint8Array): void {
    this.ws.ping(data);
  }
  terminate(): void {
    this.ws.destroy();
  }
  pause(): void {
    this.ws.transportPause(true);
  }
  resume(): void {
    this.ws.transportPause(false);
  }
}
