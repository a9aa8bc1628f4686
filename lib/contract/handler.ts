// The Handler: what a backend hands each request to. It builds the environ from the
// backend's one call (onRequest: the wire contract's arguments), starts an Exchange
// for it, and finds exchanges in progress by request id for the backend's later calls
// (onDrain, onAbort, the request log's environOf).
import type { ForwardedTrust } from '../protocol/forwarded.js';
import { ErrorLog } from './wsgi-errors.js';
import { fileWrapper } from './file-wrapper.js';
import { Input } from './input.js';
import { Exchange } from './exchange.js';
import { PendingTable } from './pending.js';
import { FIXED_ARGS, KEYS, METHODS, REQ_HTTP10, REQ_LISTENER_SHIFT, REQ_NEW_CONNECTION, REQ_UPGRADE, REQ_UWSGI, SLOT_BITS } from '../addon/wire.js';
import type { Application, Environ, Upgraded } from './types.js';
import type { Transport, WebSocketTransport } from './transport.js';
import { NativeWebSocket } from './native-websocket.js';
import { UpgradedConnections } from './upgraded.js';
import { offerWebSocket, type NativeSwitch } from './websocket.js';

export interface HandlerOptions {
  multithread?: boolean;
  multiprocess?: boolean;
  backend: 'native' | 'js';
  /** SERVER_NAME: the machine's host name. */
  serverName?: string;
  errors?: ErrorLog;
  /** Where application errors are reported; stderr by default. */
  logError?: (message: string) => void;
  /**
   * max-requests: onMaxRequests is called once, as the request that reaches this count
   * begins (before the application runs), so that the worker stops accepting at once
   * (its server's close(): that request and every one after say "Connection: close").
   */
  maxRequests?: number;
  onMaxRequests?: () => void;
  /** Called when the application failed on a request (the scoreboard's exceptions). */
  onException?: () => void;
  /** --forwarded-allow-ips: whose X-Forwarded-For/-Proto are believed (HTTP listeners). */
  forwarded?: ForwardedTrust;
  /** --websocket-max-size in bytes: the largest message tsgi.websocket takes; larger closes with 1009. */
  websocketMaxSize: number;
}

/** The environ's link to its exchange (for tsgi.signal). */
export const kExchange = Symbol('tsgi.exchange');

/**
 * The environ. Its own properties are the CGI variables and the wsgi.* keys, set in
 * one fixed order (one hidden class for every request); HTTP_* follow. tsgi.signal is
 * made on first use (an AbortController costs microseconds that most requests never
 * need), so it is an accessor on the prototype.
 */
export class EnvironObject {
  [key: string]: unknown;
  declare [kExchange]: Exchange;
  constructor(
    method: string,
    uri: string,
    path: string,
    query: string,
    contentType: string,
    contentLength: string,
    protocol: string,
    remoteAddr: string,
    remotePort: string,
    serverPort: string,
    serverName: string,
    input: Input,
    handler: Handler,
  ) {
    this.QUERY_STRING = query;
    this.REQUEST_METHOD = method;
    this.CONTENT_TYPE = contentType;
    this.CONTENT_LENGTH = contentLength;
    this.REQUEST_URI = uri;
    this.PATH_INFO = path;
    this.SCRIPT_NAME = '';
    this.SERVER_PROTOCOL = protocol;
    this.REQUEST_SCHEME = handler.scheme;
    this.REMOTE_ADDR = remoteAddr;
    this.REMOTE_PORT = remotePort;
    this.SERVER_PORT = serverPort;
    this.SERVER_NAME = serverName;
    this['wsgi.version'] = WSGI_VERSION;
    this['wsgi.url_scheme'] = handler.scheme;
    this['wsgi.input'] = input;
    this['wsgi.errors'] = handler.errors;
    this['wsgi.multithread'] = handler.multithread;
    this['wsgi.multiprocess'] = handler.multiprocess;
    this['wsgi.run_once'] = false;
    this['wsgi.file_wrapper'] = fileWrapper;
    this['wsgi.input_terminated'] = true;
    this['tsgi.backend'] = handler.options.backend;
    // Set here, before the HTTP_* keys, so that setting it later changes no hidden class.
    this[kExchange] = undefined as unknown as Exchange;
  }

  get 'tsgi.signal'(): AbortSignal {
    return this[kExchange].signal;
  }
}

/** Whether the application took request environ's connection (tsgi.upgrade()): no response is owed. */
export function upgradeTaken(environ: Environ): boolean {
  return (environ as unknown as EnvironObject)[kExchange]?.upgrading === true;
}

const WSGI_VERSION: [1, 0] = Object.freeze([1, 0]) as unknown as [1, 0];
// A request id is serial * 2^SLOT_BITS + the connection's slot. Ids pass 2^31 early, so
// they are doubles: `id % 2^SLOT_BITS` would be a floating-point remainder (a call),
// `id & (2^SLOT_BITS - 1)` is the same number for an integer below 2^53 (ToInt32 keeps
// its low 32 bits), at an instruction.
const SLOT_MASK = 2 ** SLOT_BITS - 1;


/** Sets one variable of the request's environ from onRequest's pairs (a key: its index in KEYS, or its name). */
function setVar(environ: Environ, flags: number, k: number | string, value: unknown): void {
  const key = typeof k === 'number' ? KEYS[k]! : k;
  if (flags & REQ_UWSGI) setUwsgiVar(environ, key, value);
  else environ[key] = value;
}

/**
 * A uwsgi front end's variable, in its order: a repeated header (nginx sends one pair per
 * line) is joined as over HTTP; any other repeated key keeps its last value, so that a
 * uwsgi_param after include uwsgi_params overrides. One of the environ's own keys
 * (wsgi.input, tsgi.backend, ...) is not replaced: uWSGI sets its own after the packet's.
 * A wsgi.* or tsgi.* name the server does not set is passed on.
 */
function setUwsgiVar(environ: Environ, key: string, value: unknown): void {
  // `in`, not a read: tsgi.signal is a getter, and the request has no exchange yet.
  if ((key.startsWith('wsgi.') || key.startsWith('tsgi.')) && key in environ) return;
  const prev = environ[key];
  if (prev !== undefined && key.startsWith('HTTP_') && Object.prototype.hasOwnProperty.call(environ, key)) {
    environ[key] = `${prev as string}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value as string}`;
  } else {
    environ[key] = value;
  }
}

/** The scheme a uwsgi front end says: HTTPS=on (uwsgi_params) or REQUEST_SCHEME. */
function uwsgiScheme(environ: Environ): void {
  const https = environ.HTTPS as string | undefined;
  environ['wsgi.url_scheme'] = https === 'on' || https === '1' ? 'https' : (environ.REQUEST_SCHEME as string) || 'http';
}

export class Handler {
  readonly pending = new PendingTable<Exchange>();
  /** The connections upgraded (tsgi.upgrade()) and still open: counted, and closed at a graceful stop. */
  readonly upgraded = new UpgradedConnections();
  /** Exchanges whose tsgi.upgrade() waits for the backend's onUpgrade, by id. */
  private readonly upgradeWaits = new Map<number, { websocket: boolean; then: (u: Upgraded | undefined) => void }>();
  /** The WebSockets the backend keeps itself (WebSocketTransport), by the id of their handshake. */
  private readonly websockets = new Map<number, NativeWebSocket>();
  /** Requests begun, for max-requests. */
  started = 0;
  readonly errors: ErrorLog;
  readonly logError: (message: string) => void;
  readonly multithread: boolean;
  readonly multiprocess: boolean;
  readonly scheme: string = 'http';
  transport!: Transport;

  constructor(
    readonly app: Application,
    readonly options: HandlerOptions,
  ) {
    this.errors = options.errors ?? new ErrorLog(2);
    this.logError = options.logError ?? ((m) => this.errors.write(m.endsWith('\n') ? m : m + '\n'));
    this.multithread = options.multithread === true;
    this.multiprocess = options.multiprocess === true;
    this.serverName = options.serverName ?? '';
  }

  /** The ports of the listeners, by listener index (as strings, for SERVER_PORT). */
  readonly listenerPorts: string[] = [];
  readonly serverName: string = '';
  /** The peer of each connection, by slot: its address and its port (two arrays: no object per connection). */
  private readonly peerAddrs: Array<string | undefined> = [];
  private readonly peerPorts: Array<string | undefined> = [];

  /**
   * A request (native/wire.h documents the arguments):
   * onRequest(id, flags, body, method, uri, path, query, contentType, contentLength,
   *           remoteAddr, remotePort, key1, value1, ...)
   * The pairs are read from `arguments` here, by index and length only: V8 then makes
   * no arguments object (passed to another function, it would make one per request).
   */
  onRequest(
    id: number,
    flags: number,
    body: Buffer | number | undefined,
    method: number | string,
    uri: string,
    path: string | undefined,
    query: string | undefined,
    contentType: string | undefined,
    contentLength: string | undefined,
    remoteAddr: string | undefined,
    remotePort: string | undefined,
  ): void {
    const environ = this.environ(id, flags, body, method, uri, path, query, contentType, contentLength, remoteAddr, remotePort);
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    const input = environ['wsgi.input'] as Input; // before the pairs: a uwsgi variable may be named so
    for (let i = FIXED_ARGS; i < args.length; i += 2) setVar(environ, flags, args[i] as number | string, args[i + 1]);
    this.begin(id, flags, environ, input);
  }

  /**
   * onRequest with its arguments in an array, read before it returns (the js backend's:
   * a call spread from an array, and the arguments object it makes, cost more than the rest of the call).
   */
  request(args: readonly unknown[]): void {
    const id = args[0] as number;
    const flags = args[1] as number;
    const environ = this.environ(
      id,
      flags,
      args[2] as Buffer | number | undefined,
      args[3] as number | string,
      args[4] as string,
      args[5] as string | undefined,
      args[6] as string | undefined,
      args[7] as string | undefined,
      args[8] as string | undefined,
      args[9] as string | undefined,
      args[10] as string | undefined,
    );
    const input = environ['wsgi.input'] as Input; // before the pairs: a uwsgi variable may be named so
    for (let i = FIXED_ARGS; i < args.length; i += 2) setVar(environ, flags, args[i] as number | string, args[i + 1]);
    this.begin(id, flags, environ, input);
  }

  /** The environ of a request from its fixed arguments: the CGI variables and the wsgi.* keys. */
  private environ(
    id: number,
    flags: number,
    body: Buffer | number | undefined,
    method: number | string,
    uri: string,
    path: string | undefined,
    query: string | undefined,
    contentType: string | undefined,
    contentLength: string | undefined,
    remoteAddr: string | undefined,
    remotePort: string | undefined,
  ): Environ {
    const slot = id & SLOT_MASK;
    let addr = this.peerAddrs[slot];
    let port: string;
    if (flags & REQ_NEW_CONNECTION || addr === undefined) {
      addr = this.peerAddrs[slot] = remoteAddr ?? '';
      port = this.peerPorts[slot] = remotePort ?? '';
    } else {
      port = this.peerPorts[slot]!;
    }
    if (path === undefined) {
      const q = uri.indexOf('?');
      path = q === -1 ? uri : uri.slice(0, q);
      query = q === -1 ? '' : uri.slice(q + 1);
    }
    return new EnvironObject(
      typeof method === 'number' ? METHODS[method]! : method,
      uri,
      path,
      query!,
      contentType ?? '',
      contentLength ?? '',
      flags & REQ_HTTP10 ? 'HTTP/1.0' : 'HTTP/1.1',
      addr,
      port,
      this.listenerPorts[flags >>> REQ_LISTENER_SHIFT] ?? '',
      this.serverName,
      new Input(body, typeof body === 'number' ? Number(contentLength) : 0),
      this,
    ) as unknown as Environ;
  }

  /** Starts the application on a request whose environ has every variable. */
  private begin(id: number, flags: number, environ: Environ, input: Input): void {
    if (flags & REQ_UWSGI) uwsgiScheme(environ);
    else if (this.options.forwarded !== undefined) this.options.forwarded.apply(environ);
    this.started++;
    if (this.started === this.options.maxRequests) this.options.onMaxRequests?.();
    const ex = new Exchange(this, id, flags, environ, input);
    (environ as unknown as EnvironObject)[kExchange] = ex;
    if (flags & REQ_UPGRADE) this.offerUpgrade(environ, ex);
    this.running = ex;
    try {
      ex.run();
    } finally {
      this.running = undefined;
    }
    if (!ex.finished) {
      ex.filed = true;
      this.pending.add(ex);
    }
  }

  /**
   * tsgi.upgrade, and tsgi.websocket for a WebSocket handshake, on a request that offers an
   * upgrade. (Apart from begin, which V8 then inlines whole with the environ's making.)
   */
  private offerUpgrade(environ: Environ, ex: Exchange): void {
    environ['tsgi.upgrade'] = () => ex.upgrade();
    const protocol = environ.HTTP_UPGRADE as string | undefined;
    if (protocol !== undefined && protocol.toLowerCase() === 'websocket') {
      const native = (this.transport as Partial<WebSocketTransport>).websocket !== undefined ? this.nativeSwitch(ex) : undefined;
      environ['tsgi.websocket'] = offerWebSocket(environ, this.options.websocketMaxSize, this.upgraded, native);
    }
  }

  /** The exchange onRequest is running (its response may end before it returns). */
  private running: Exchange | undefined;

  /** The environ of request id while it is in progress: the request log reads it as it ends. */
  environOf(id: number): Environ | undefined {
    return this.running !== undefined && this.running.id === id ? this.running.environ : this.pending.get(id)?.environ;
  }

  onDrain(id: number): void {
    this.pending.get(id)?.drained();
    if (this.websockets.size > 0) this.websockets.get(id)?.drained();
  }

  /** How tsgi.websocket's handshake switches ex's connection on a backend that keeps WebSockets. */
  private nativeSwitch(ex: Exchange): NativeSwitch {
    return (head, maxMessage, protocol) => {
      const transport = this.transport as Transport & WebSocketTransport;
      const why = ex.switchToWebSocket(() => transport.websocket(ex.id, head, maxMessage));
      if (why !== undefined) return why;
      const ws = new NativeWebSocket(ex.id, transport, protocol);
      ex.upgradedTo(ws);
      this.websockets.set(ex.id, ws);
      this.upgraded.addNative(ws);
      return ws;
    };
  }

  /** onWsMessages(id1, m1, id2, m2, ...): whole messages of WebSockets the backend keeps, in order. */
  onWsMessages(): void {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments;
    // A listener that throws (raw's 'message') costs no other connection its messages:
    // the first error is thrown once all are delivered (Node's uncaught exception).
    let thrown: { error: unknown } | undefined;
    for (let i = 0; i < args.length; i += 2) {
      try {
        this.websockets.get(args[i] as number)?.message(args[i + 1] as string | Buffer);
      } catch (error) {
        thrown ??= { error };
      }
    }
    if (thrown !== undefined) throw thrown.error;
  }

  /** onWsClose(id, code, reason): it is gone. */
  onWsClose(id: number, code: number, reason: string): void {
    const ws = this.websockets.get(id);
    if (ws === undefined) return;
    this.websockets.delete(id);
    ws.closedWith(code, reason);
  }

  onAbort(id: number): void {
    this.pending.get(id)?.abort();
    if (this.upgradeWaits.size > 0) this.onUpgrade(id, undefined, undefined);
  }

  /**
   * Exchange.upgrade(): then is called with the connection, or undefined when it is gone.
   * websocket: the request offered a WebSocket (a graceful stop closes it with 1001).
   */
  awaitUpgrade(id: number, websocket: boolean, then: (u: Upgraded | undefined) => void): void {
    this.upgradeWaits.set(id, { websocket, then });
  }

  /**
   * The backend handed request id's connection over (socket undefined: it is gone). A
   * socket nobody waits for (the request ended meanwhile) is closed.
   */
  onUpgrade(id: number, socket: Upgraded['socket'] | undefined, head: Buffer | undefined): void {
    const wait = this.upgradeWaits.get(id);
    if (wait === undefined) {
      socket?.destroy();
      return;
    }
    this.upgradeWaits.delete(id);
    if (socket === undefined) {
      wait.then(undefined);
      return;
    }
    this.upgraded.add(socket, wait.websocket);
    wait.then({ socket, head: head ?? Buffer.alloc(0) });
  }
}

