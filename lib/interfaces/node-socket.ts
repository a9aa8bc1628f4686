// The node interface's stand-in for a connection's net.Socket: what req.socket and
// res.socket are. The connection itself belongs to tsgi's backend; this object carries
// what node:http applications read of it (the peer's address, the scheme, whether it is
// still open) and the events they listen for ('close' when the client went away or the
// exchange ended), and it turns destroy() into the end of the exchange.
import { EventEmitter } from 'node:events';
import type { Environ } from '../contract/types.js';

/** The one cork state every stand-in shares: OutgoingMessage.end() writes corked = 1 into it. */
const WRITABLE_STATE = { corked: 0 };

/** What the stand-in asks of the exchange it belongs to (node-response.ts). */
export interface SocketOwner {
  /** Bytes written by the application that tsgi has not taken yet. */
  readonly queued: number;
  readonly highWaterMark: number;
  /** The application (res.destroy(), req.destroy(), socket.destroy()) cut the exchange. */
  destroyedByApp(err: Error | undefined): void;
}

/**
 * An EventEmitter by its prototype (instanceof, on, once, emit ...), made without
 * EventEmitter's constructor: one stand-in per request, and most never get a listener,
 * so the listener table is made by the first on() (EventEmitter's methods all take a
 * missing one as empty), not by every construction.
 */
export interface NodeSocket extends EventEmitter {}
export class NodeSocket {
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  readable = true;
  writable = true;
  destroyed = false;
  /** Set when the front end says https (wsgi.url_scheme): what tls.TLSSocket has. */
  encrypted?: true;
  /** The ServerResponse on this socket (node:http's own link, read by OutgoingMessage.end()). */
  _httpMessage: unknown = null;
  owner: SocketOwner | undefined = undefined;

  constructor(environ: Environ) {
    this.remoteAddress = environ.REMOTE_ADDR || undefined;
    this.remotePort = environ.REMOTE_PORT === '' ? undefined : Number(environ.REMOTE_PORT);
    this.localAddress = (environ.SERVER_ADDR as string | undefined) || undefined;
    this.localPort = environ.SERVER_PORT === '' ? undefined : Number(environ.SERVER_PORT);
    if (environ['wsgi.url_scheme'] === 'https') this.encrypted = true;
  }

  get remoteFamily(): string | undefined {
    const a = this.remoteAddress;
    return a === undefined ? undefined : a.includes(':') ? 'IPv6' : 'IPv4';
  }

  get _writableState(): { corked: number } {
    return WRITABLE_STATE;
  }

  get writableLength(): number {
    return this.owner?.queued ?? 0;
  }

  get writableHighWaterMark(): number {
    return this.owner?.highWaterMark ?? 16384;
  }

  get readableHighWaterMark(): number {
    return 65536;
  }

  get writableCorked(): number {
    return 0;
  }

  get connecting(): boolean {
    return false;
  }

  get pending(): boolean {
    return false;
  }

  address(): { address: string | undefined; family: string | undefined; port: number | undefined } {
    const a = this.localAddress;
    return { address: a, family: a === undefined ? undefined : a.includes(':') ? 'IPv6' : 'IPv4', port: this.localPort };
  }

  // The connection's own settings are tsgi's (http-timeout, harakiri): these are no-ops,
  // as they are on a socket whose options the server fixed.
  cork(): void {}
  uncork(): void {}
  setTimeout(_ms?: number, _cb?: () => void): this {
    return this;
  }
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }
  setKeepAlive(_enable?: boolean, _delay?: number): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  /** The application cuts the connection: tsgi ends the exchange as broken. */
  destroy(err?: Error): this {
    if (!this.destroyed) this.owner?.destroyedByApp(err);
    return this;
  }

  end(): this {
    return this.destroy();
  }

  destroySoon(): void {
    this.destroy();
  }

  /** The client went away (or the exchange was cut): node:http's socket 'close'. */
  lost(): void {
    this.destroyed = true;
    this.readable = false;
    this.writable = false;
    this.emit('close', false);
  }
}
Object.setPrototypeOf(NodeSocket.prototype, EventEmitter.prototype);
