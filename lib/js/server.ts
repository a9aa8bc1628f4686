// The pure-JS backend, on node:http: what wsgiref.simple_server is to Python. Same
// Handler, same environ, same options where node:http allows; docs/spec.md lists
// where it cannot behave as the native server does.
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Handler } from '../contract/handler.js';
import { REQ_BODY_FILE, REQ_HTTP10, REQ_KEEP_ALIVE, REQ_LISTENER_SHIFT, REQ_NEW_CONNECTION, REQ_UPGRADE, SEND_ABORT, SEND_ADD_LENGTH, SEND_CLOSE, SEND_END } from '../addon/wire.js';
import { formatRefusal, refusalResponse, RequestEntry } from '../protocol/request-log.js';
import { customRequestLine, entryLine, logFilter, logsAny } from '../logging/log-format.js';
import type { Backend } from '../backend/backend.js';
import type { Config } from '../config/typed.js';
import type { Chunk } from '../contract/types.js';
import { BodyBuffer } from './body.js';
import { UwsgiConnection, type UwsgiContext } from './uwsgi.js';
import { takeProxyHeaders } from './proxy-protocol.js';
import { clientErrorRefusal, HTTP_REFUSALS, type HttpRefusal } from '../protocol/http-refusals.js';
import { splitTarget, type RequestTarget } from '../protocol/request-target.js';
import { countRefusal, countResponse, type Counters } from '../backend/counters.js';

/** A request dispatched to the application: its log entry, and what its response needs. */
class Pending extends RequestEntry {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: BodyBuffer | undefined;
  /** An upgrade offered: node:http's socket and the bytes it read past the head ('upgrade'). */
  readonly upgrade: { socket: Socket; head: Buffer } | undefined;
  ended = false;
  close = false;
  /** Until the application takes an upgrade's connection: the client's end destroys it. */
  onEnd: (() => void) | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, body: BodyBuffer | undefined, varsCount: number, varsBytes: number, upgrade: { socket: Socket; head: Buffer } | undefined) {
    super(req.socket.remoteAddress ?? '', varsCount, varsBytes, req.method ?? 'GET', req.url ?? '/', `HTTP/${req.httpVersion}`, 0);
    this.req = req;
    this.res = res;
    this.body = body;
    this.upgrade = upgrade;
    // node:http gave up the connection: a refused upgrade's response is its last.
    if (upgrade !== undefined) this.close = true;
  }
}

const SKIP = new Set(['content-type', 'content-length', 'transfer-encoding']);
const PERCENT = /%([0-9A-Fa-f]{2})/g;

function percentDecode(s: string): string {
  return s.indexOf('%') === -1 ? s : s.replace(PERCENT, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/**
 * The arguments of Handler.onRequest for a node:http request, as the native server
 * makes them (native/wire.h): the same environ, whatever the backend. target is
 * req.url split by splitTarget(); an absolute-form's authority is HTTP_HOST.
 */
export function requestArguments(id: number, flags: number, body: Buffer | number | undefined, req: IncomingMessage, target: RequestTarget, contentLength: string | undefined): unknown[] {
  const uri = req.url ?? '/';
  let path: string | undefined;
  let query: string | undefined;
  const { authority } = target;
  if (authority !== '' || target.path.includes('%')) {
    path = percentDecode(target.path) || '/';
    query = target.query;
  }
  const raw = req.rawHeaders;
  let contentType: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 12 && raw[i]!.toLowerCase() === 'content-type') {
      contentType = raw[i + 1]!;
      break;
    }
  }
  const socket = req.socket;
  const args: unknown[] = [id, flags | REQ_NEW_CONNECTION, body, req.method ?? 'GET', uri, path, query, contentType, contentLength, socket.remoteAddress ?? '', String(socket.remotePort ?? '')];
  const index = new Map<string, number>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (SKIP.has(lower) || name.includes('_')) continue;
    const at = index.get(lower);
    if (at === undefined) {
      index.set(lower, args.length + 1);
      // Host is never repeated (accept() refuses a second one).
      args.push('HTTP_' + name.toUpperCase().replace(/-/g, '_'), authority !== '' && lower === 'host' ? authority : raw[i + 1]);
    } else {
      args[at] = `${args[at] as string}${lower === 'cookie' ? '; ' : ', '}${raw[i + 1]}`;
    }
  }
  if (authority !== '' && !index.has('host')) args.push('HTTP_HOST', authority);
  return args;
}

/** 505 for a version node:http parses and the native server does not take (HTTP/2.0, HTTP/0.9). */
function versionRefusal(req: IncomingMessage): readonly [number, string] | undefined {
  return req.httpVersion === '1.1' || req.httpVersion === '1.0' ? undefined : HTTP_REFUSALS.version;
}

/**
 * What the native parser refuses in a head and node:http lets through: Host missing
 * (HTTP/1.1) or repeated, and Transfer-Encoding in HTTP/1.0, not ending in one
 * chunked, or with another coding (501).
 */
function headRefusal(req: IncomingMessage): readonly [number, string] | undefined {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.length === 4 && req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return HTTP_REFUSALS.duplicateHost;
  if (hosts === 0 && req.httpVersion === '1.1') return HTTP_REFUSALS.missingHost;
  const te = req.headers['transfer-encoding'];
  if (te === undefined) return undefined;
  if (req.httpVersion === '1.0') return HTTP_REFUSALS.teHttp10;
  // node:http joins repeated fields with ", ", as the list they make together.
  const codings = te.split(',').map((c) => c.trim().toLowerCase());
  if (codings[codings.length - 1] !== 'chunked') return HTTP_REFUSALS.teNotChunked;
  if (codings.indexOf('chunked') !== codings.length - 1) return HTTP_REFUSALS.teChunkedTwice;
  if (codings.length > 1) return HTTP_REFUSALS.teUnsupported;
  return undefined;
}

/**
 * The node:http and node:net server for handler. logFd: where the request log goes;
 * counters: where the stats server's figures come from (--stats), when it runs.
 */
export function jsBackend(handler: Handler, config: Config, logFd = 2, counters?: Counters): Backend {
  const { bufferSize, postBuffering, limitPost } = config;
  const timeoutMs = config.httpTimeout * 1000;
  const filter = logFilter(config);
  const logging = logsAny(filter);
  const custom = customRequestLine(config, 1, 0);
  // The environ is looked up only for a custom line (--logformat, json), the one reader of it.
  const requestLine = (e: RequestEntry, id: number) =>
    entryLine(e, filter, custom, custom === undefined ? undefined : (handler.environOf(id) as Record<string, unknown> | undefined));
  const serverName = hostname();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stopping = false;
  let requests = 0;
  const log = (line: string) => {
    try {
      writeSync(logFd, Buffer.from(line, 'latin1')); // the request's bytes, as the native server writes them
    } catch {
      // the log is gone; keep serving
    }
  };

  const refuse = (socket: Socket, status: number, why: string) => {
    if (counters) countRefusal(counters, status);
    log(formatRefusal(process.pid, `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`, status, why));
    if (socket.writable) {
      socket.end(refusalResponse(status));
    } else {
      socket.destroy();
    }
  };
  // A request refused once its head is in: node:http parses no more of the connection.
  const refuseRequest = (req: IncomingMessage, [status, why]: readonly [number, string]) => {
    req.socket.removeAllListeners('data');
    refuse(req.socket, status, why);
  };
  const judgeTarget = (method: string, target: string): HttpRefusal | undefined => {
    const t = splitTarget(method, target);
    return typeof t === 'string' ? t : undefined;
  };

  // busy: a request is with the application; inBody: node:http is reading a request's body.
  const connections = new WeakMap<Socket, { busy: boolean; inBody: boolean; queue: Array<() => void> }>();
  const connectionOf = (socket: Socket) => {
    let c = connections.get(socket);
    if (c === undefined) {
      c = { busy: false, inBody: false, queue: [] };
      connections.set(socket, c);
    }
    return c;
  };
  const servers: NetServer[] = [];
  /** Connections upgrade() gave the application: counted as upgraded, no longer as open. */
  const handedOver = new WeakSet<Socket>();
  const listenerIndex = (socket: Socket): number => {
    const port = socket.localPort;
    for (let i = 0; i < servers.length; i++) {
      const a = servers[i]!.address();
      if (a !== null && typeof a !== 'string' && a.port === port) return i;
    }
    return 0;
  };
  const makeServer = () => {
    const server = createServer(
      {
        maxHeaderSize: bufferSize,
        requestTimeout: timeoutMs,
        headersTimeout: timeoutMs,
        keepAliveTimeout: timeoutMs,
        // node:http looks at its timeouts only this often (30 s by default).
        connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4))),
        // The Host rule is checked in accept(), so that it is refused and logged as
        // every other bad request is.
        requireHostHeader: false,
        noDelay: true,
      },
      (req, res) => accept(req, res),
    );
    if (counters) {
      server.on('connection', (socket: Socket) => {
        counters.connections++;
        // A connection handed to the application (upgrade()) left the count already.
        socket.once('close', () => {
          if (!handedOver.has(socket)) counters.connections--;
        });
      });
    }
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (!(limitPost > 0 && declared > limitPost)) res.writeContinue();
      accept(req, res);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const code = err.code ?? '';
      if (code === 'HPE_CLOSED_CONNECTION') {
        // Bytes after a request on a connection that is to close (HTTP/1.0): they
        // are dropped; the response in progress still goes out.
        return;
      }
      if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'HPE_INVALID_EOF_STATE' || !socket.writable) {
        socket.destroy(); // the client went away: nothing to answer, nothing to log
        return;
      }
      if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        refuse(socket, 408, 'request not complete within http-timeout');
        return;
      }
      const [status, why] = clientErrorRefusal(err, connections.get(socket)?.inBody === true, judgeTarget);
      refuse(socket, status, why);
    });
    // An offer to switch protocols (Upgrade, Connection: upgrade): node:http hands the
    // connection over here, detached from its parser. It is a request like any other,
    // answered on a ServerResponse of its own unless the application takes the
    // connection (tsgi.upgrade(): upgrade() below); the answer then closes it.
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket);
      accept(req, res, req.httpVersion === '1.1' ? { socket, head } : undefined);
    });
    // CONNECT: node:http hands it over here, detached from its parser. tsgi tunnels
    // nothing: refused as the native server refuses it.
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      const version = versionRefusal(req);
      const target = splitTarget(req.method ?? 'CONNECT', req.url ?? '');
      refuse(socket, ...(version ?? (typeof target === 'string' ? HTTP_REFUSALS[target] : HTTP_REFUSALS.connect)));
    });
    if (config.enableProxyProtocol) takeProxyHeaders(server, timeoutMs, log);
    servers.push(server);
    return server;
  };

  // uwsgi listeners: node:net, one UwsgiConnection per front-end connection.
  const uwsgiRequests = new Map<number, UwsgiConnection>();
  const uwsgiConnections = new Set<UwsgiConnection>();
  const uwsgiContext: UwsgiContext = {
    handler,
    bufferSize,
    postBuffering,
    limitPost,
    timeoutMs,
    logging,
    requestLine,
    manageScriptName: config.manageScriptName,
    log,
    register(conn) {
      const id = nextId++;
      uwsgiRequests.set(id, conn);
      return id;
    },
    unregister: (id) => uwsgiRequests.delete(id),
    countRequest: () => ++requests,
  };
  const makeUwsgiServer = (unix: boolean) => {
    const listener = servers.length;
    const server = createNetServer((socket) => {
      const conn = new UwsgiConnection(socket, listener, unix, uwsgiContext);
      uwsgiConnections.add(conn);
      socket.once('close', () => uwsgiConnections.delete(conn));
      if (stopping) conn.closeIdle();
    });
    servers.push(server);
    return server;
  };
  const makeListener = (protocol: string, unix: boolean): NetServer => (protocol === 'uwsgi' ? makeUwsgiServer(unix) : makeServer());

  function accept(req: IncomingMessage, res: ServerResponse, upgrade?: { socket: Socket; head: Buffer }): void {
    const id = nextId++;
    // What node:http leaves to its user, judged in the native parser's order.
    const target = splitTarget(req.method ?? 'GET', req.url ?? '');
    const refusal = versionRefusal(req) ?? (typeof target === 'string' ? HTTP_REFUSALS[target] : headRefusal(req));
    if (refusal !== undefined) {
      refuseRequest(req, refusal);
      return;
    }
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (limitPost > 0 && declared !== undefined && Number(declared) > limitPost) {
      refuseRequest(req, [413, 'body over limit-post']);
      return;
    }
    if (upgrade !== undefined) {
      // node:http reads no body of an upgrade: what follows the head is the new protocol's.
      dispatchUpgrade(req, res, id, target as RequestTarget, upgrade);
      return;
    }
    if (chunked) connectionOf(req.socket).inBody = true;
    // Made when the first byte of a body comes: a request without one needs none.
    let buffer: BodyBuffer | undefined;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      buffer ??= new BodyBuffer(postBuffering, limitPost);
      const status = buffer.add(chunk);
      if (status !== 0) {
        // Over limit-post, or no temporary directory, no space, an I/O error: this
        // request is refused with a line that says why; the others go on.
        failed = true;
        refuse(req.socket, status, buffer.why);
      }
    });
    req.on('close', () => {
      // The client went away before the body was complete: drop the spooled part.
      if (!ended) buffer?.close();
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      connectionOf(req.socket).inBody = false;
      if (failed) return;
      // One request at a time per connection, as the native server has it: a
      // pipelined request waits until the response before it is complete, and is
      // dropped if that response closes the connection.
      const conn = connectionOf(req.socket);
      if (conn.busy) conn.queue.push(dispatch);
      else dispatch();
    });
    const dispatch = () => {
      const hasBody = declared !== undefined || chunked;
      let flags = (req as unknown as { shouldKeepAlive?: boolean }).shouldKeepAlive !== false ? REQ_KEEP_ALIVE : 0;
      if (buffer !== undefined && buffer.fd >= 0) flags |= REQ_BODY_FILE;
      start(req, res, id, flags, buffer, target as RequestTarget, hasBody ? String(buffer?.size ?? 0) : undefined, undefined);
    };
  }

  function dispatchUpgrade(req: IncomingMessage, res: ServerResponse, id: number, target: RequestTarget, upgrade: { socket: Socket; head: Buffer }): void {
    start(req, res, id, REQ_UPGRADE, undefined, target, undefined, upgrade);
  }

  /** A request whose head and body are in: to the application (onRequest's arguments, as the native server makes them). */
  function start(req: IncomingMessage, res: ServerResponse, id: number, flags: number, buffer: BodyBuffer | undefined, target: RequestTarget, contentLength: string | undefined, upgrade: { socket: Socket; head: Buffer } | undefined): void {
    const conn = connectionOf(req.socket);
    conn.busy = true;
    flags |= listenerIndex(req.socket) << REQ_LISTENER_SHIFT;
    if (req.httpVersion === '1.0') flags |= REQ_HTTP10;
    const args = requestArguments(id, flags, buffer?.take(), req, target, contentLength);
    let varsCount = 13;
    let varsBytes = 0;
    for (let i = 11; i < args.length; i += 2) {
      varsCount++;
      varsBytes += 4 + (args[i] as string).length + (args[i + 1] as string).length;
    }
    for (let i = 3; i < 11; i++) varsBytes += typeof args[i] === 'string' ? (args[i] as string).length : 0;
    const p = new Pending(req, res, buffer, varsCount, varsBytes + 4 * 13 + 150 + serverName.length, upgrade);
    pending.set(id, p);
    requests++;
    if (counters) {
      counters.requests++;
      counters.inProgress++;
    }
    res.on('close', () => {
      if (!p.ended) {
        p.ended = true;
        if (counters) {
          counters.aborted++;
          counters.inProgress--;
        }
        pending.delete(id);
        handler.onAbort(id);
        p.body?.close();
      }
    });
    res.on('drain', () => handler.onDrain(id));
    if (upgrade !== undefined) {
      // node:http's sockets allow half-open connections, and a socket given up by its
      // parser has nothing left that closes it at the client's end: until the
      // application takes it, an end is the client gone.
      p.onEnd = () => upgrade.socket.destroy();
      upgrade.socket.once('end', p.onEnd);
    }
    Reflect.apply(handler.onRequest, handler, args);
  }

  /** tsgi.upgrade(): the connection node:http gave up goes to the application, logged as answered with 101. */
  function upgrade(id: number): boolean {
    const p = pending.get(id);
    if (p === undefined || p.upgrade === undefined || p.res.headersSent) return false;
    const { socket, head } = p.upgrade;
    if (p.onEnd !== undefined) socket.off('end', p.onEnd);
    p.status = 101;
    p.close = false;
    finish(id, p);
    p.res.detachSocket(socket);
    handedOver.add(socket);
    if (counters) counters.connections--;
    handler.onUpgrade(id, socket, head);
    return true;
  }

  function send(id: number, head: string | undefined, body: Chunk | Chunk[] | undefined, flags: number): number {
    const u = uwsgiRequests.get(id);
    if (u !== undefined) return u.send(head, body, flags);
    const p = pending.get(id);
    if (p === undefined) return -1;
    const { res } = p;
    if (head !== undefined) {
      const lines = head.split('\r\n');
      const statusLine = lines[0]!;
      const status = Number(statusLine.slice(0, 3));
      const headers: string[] = [];
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        if (line === '') continue;
        const colon = line.indexOf(': ');
        headers.push(line.slice(0, colon), line.slice(colon + 2));
      }
      if (flags & SEND_ADD_LENGTH) {
        let n = 0;
        const list = body === undefined ? [] : Array.isArray(body) ? body : [body];
        for (const c of list) n += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
        headers.push('Content-Length', String(n));
      }
      if (flags & SEND_CLOSE || stopping) {
        headers.push('Connection', 'close');
        res.shouldKeepAlive = false;
        p.close = true;
      }
      res.sendDate = false;
      res.writeHead(status, statusLine.slice(4), headers);
      p.status = status;
      p.headerCount = headers.length / 2;
      p.headerBytes = head.length + 9;
    }
    let ok = true;
    if (body !== undefined) {
      const list = Array.isArray(body) ? body : [body];
      for (const c of list) {
        // A string would be written together with the head, and node:http would encode
        // the head as UTF-8 with it: latin-1 header values must stay latin-1.
        const bytes = typeof c === 'string' ? Buffer.from(c) : c;
        p.bodyBytes += bytes.byteLength;
        ok = res.write(bytes) && ok;
      }
    }
    if (flags & SEND_ABORT) {
      p.close = true;
      finish(id, p);
      res.destroy();
      return -1;
    }
    if (flags & SEND_END) {
      if (flags & SEND_CLOSE) p.close = true;
      finish(id, p);
      if (p.close) {
        // The end of the body is the close (a short Content-Length, HTTP/1.0).
        res.shouldKeepAlive = false;
        const socket = res.socket; // node:http detaches it before our 'finish' listener runs
        res.once('finish', () => socket?.end());
      }
      res.end();
      return 0;
    }
    return ok ? 0 : 1;
  }

  function finish(id: number, p: Pending): void {
    p.ended = true;
    if (counters) countResponse(counters, p.status, Number((process.hrtime.bigint() - p.started) / 1000n), p.headerBytes + p.bodyBytes);
    pending.delete(id);
    const conn = connectionOf(p.req.socket);
    conn.busy = false;
    if (p.close) conn.queue.length = 0;
    const next = conn.queue.shift();
    if (next) p.res.once('finish', next);
    p.body?.close();
    if (logging) {
      // Over HTTP the line shows the count when the request ends.
      p.requests = requests;
      const line = requestLine(p, id);
      if (line !== undefined) log(line);
    }
  }

  handler.transport = { send, upgrade };
  if (counters) handler.upgraded.onCount = (n) => (counters.upgraded = n);
  let closed: Promise<void> | undefined;
  return {
    listen(host, port, backlog, protocol) {
      const server = makeListener(protocol, false);
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ host, port, backlog, ipv6Only: false }, () => {
          server.off('error', onError);
          const a = server.address();
          if (a === null || typeof a === 'string') {
            reject(new Error('no address'));
            return;
          }
          handler.listenerPorts.push(String(a.port));
          resolve([a.address, a.port, a.family === 'IPv6' ? 'IPv6' : 'IPv4']);
        });
      });
    },
    listenUnix(path, backlog, protocol) {
      const server = makeListener(protocol, true);
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ path: path.startsWith('@') ? '\0' + path.slice(1) : path, backlog }, () => {
          server.off('error', onError);
          handler.listenerPorts.push('');
          resolve();
        });
      });
    },
    close(_last, upgradedMercyMs = 0) {
      stopping = true;
      if (closed === undefined) {
        closed = Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                if (!server.listening) return resolve();
                server.close(() => resolve());
                if ('closeIdleConnections' in server) (server as ReturnType<typeof createServer>).closeIdleConnections();
              }),
          ),
        ).then(() => undefined);
        // A front end's connection that has not sent a packet yet is closed; one with a
        // request in progress ends with its response.
        for (const conn of uwsgiConnections) conn.closeIdle();
      }
      return Promise.all([closed, handler.upgraded.drain(upgradedMercyMs)]).then(() => undefined);
    },
    destroy() {
      handler.upgraded.destroy();
      for (const conn of uwsgiConnections) conn.destroy();
      for (const server of servers) {
        if ('closeAllConnections' in server) (server as ReturnType<typeof createServer>).closeAllConnections();
        if (server.listening) server.close();
      }
    },
  };
}
