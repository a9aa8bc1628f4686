// The pure-JS backend, on node:http: what wsgiref.simple_server is to Python. Same
// Handler, same environ, same options where node:http allows; docs/spec.md lists
// where it cannot behave as the native server does.
import { Buffer } from 'node:buffer'; // a module binding: the global is looked up on every use
import { createServer, ServerResponse, type IncomingMessage } from 'node:http';
import { writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Handler } from '../contract/handler.js';
import { headText } from '../contract/transport.js';
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
import { splitTarget } from '../protocol/request-target.js';
import { headArguments, headFacts, headRefusal, versionRefusal } from './request-head.js';
import { Slots } from './slots.js';
import { BUSY, IdleSweep, idleFromNow } from './idle.js';
import { Connection, kState, latin1Values, Pending, SocketState, statusParts, type HeldSocket } from './connection.js';
import { countRefusal, countResponse, type Counters } from '../backend/counters.js';

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
  const checkEveryMs = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));
  const idle = new IdleSweep(timeoutMs, checkEveryMs);
  // The slots of the requests with the application: an HTTP one's Pending, a uwsgi one's null.
  const slots = new Slots<Pending | null>();
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

  // A request with the application whose connection went away (its response's 'close'
  // before it ended) is abandoned.
  function abandon(p: Pending): void {
    if (p.ended) return;
    p.ended = true;
    slots.give(slots.slotOf(p.id));
    if (p.conn !== undefined) p.conn.queue = undefined;
    if (counters) {
      counters.aborted++;
      counters.inProgress--;
    }
    handler.onAbort(p.id);
    p.body?.close();
  }

  const servers: NetServer[] = [];
  /** Connections upgrade() gave the application: counted as upgraded, no longer as open. */
  const handedOver = new WeakSet<Socket>();
  const makeServer = () => {
    const listener = servers.length;
    const server = createServer(
      {
        maxHeaderSize: bufferSize,
        requestTimeout: timeoutMs,
        headersTimeout: timeoutMs,
        // Idle connections are closed by the sweep (lib/js/idle.ts), not by a timer per socket.
        keepAliveTimeout: 0,
        // node:http looks at its timeouts only this often (30 s by default).
        connectionsCheckingInterval: checkEveryMs,
        // The Host rule is checked in accept(), so that it is refused and logged as
        // every other bad request is.
        requireHostHeader: false,
        noDelay: true,
      },
      (req, res) => accept(req, res, listener),
    );
    server.on('connection', (socket: HeldSocket) => {
      const state = (socket[kState] = new SocketState(socket));
      idle.add(state);
    });
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
      accept(req, res, listener);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: HeldSocket) => {
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
      const [status, why] = clientErrorRefusal(err, socket[kState]?.conn?.inBody === true, judgeTarget);
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
      accept(req, res, listener, req.httpVersion === '1.1' ? { socket, head } : undefined);
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
      const id = slots.nextId(slots.take(null));
      uwsgiRequests.set(id, conn);
      return id;
    },
    unregister: (id) => {
      if (uwsgiRequests.delete(id)) slots.give(slots.slotOf(id));
    },
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

  function accept(req: IncomingMessage, res: ServerResponse, listener: number, upgrade?: { socket: Socket; head: Buffer }): void {
    const state = (req.socket as HeldSocket)[kState];
    state.idle = BUSY;
    // What node:http leaves to its user, judged in the native parser's order.
    const version = versionRefusal(req);
    if (version !== undefined) return refuseRequest(req, version);
    const target = splitTarget(req.method!, req.url!);
    if (typeof target === 'string') return refuseRequest(req, HTTP_REFUSALS[target]);
    const http10 = req.httpVersionMinor === 0; // HTTP/1.x past versionRefusal
    // Every request carries its peer (REQ_NEW_CONNECTION): a slot is a request's, not its connection's.
    let flags = (listener << REQ_LISTENER_SHIFT) | REQ_NEW_CONNECTION | (http10 ? REQ_HTTP10 : 0);
    if (res.shouldKeepAlive) flags |= REQ_KEEP_ALIVE;
    const args = headArguments(flags, req, target);
    const refusal = headRefusal(http10);
    if (refusal !== undefined) return refuseRequest(req, refusal);
    const declared = headFacts.contentLength;
    if (limitPost > 0 && declared !== undefined && Number(declared) > limitPost) return refuseRequest(req, [413, 'body over limit-post']);
    if (upgrade !== undefined) {
      // node:http reads no body of an upgrade: what follows the head is the new protocol's.
      args[1] = (args[1] as number) | REQ_UPGRADE;
      const p = new Pending(undefined, state, req, res, args.slice());
      p.upgrade = upgrade;
      // node:http gave up the connection: a refused upgrade's response is its last.
      p.close = true;
      // node:http's sockets allow half-open connections, and a socket given up by its
      // parser has nothing left that closes it at the client's end: until the
      // application takes it, an end is the client gone.
      p.onEnd = () => upgrade.socket.destroy();
      upgrade.socket.once('end', p.onEnd);
      dispatch(p);
      return;
    }
    const bodyless = declared === undefined && headFacts.transferEncoding === undefined;
    let conn = state.conn;
    if (conn === undefined && bodyless) {
      // Nothing else of the connection in progress and nothing to wait for: the request
      // goes to the application at once, and needs a Connection only if it stays there.
      dispatch(new Pending(undefined, state, req, res, args));
      return;
    }
    conn ??= state.conn = new Connection(state);
    // Kept until the body is in, or the request before it is answered: a copy.
    const p = new Pending(conn, state, req, res, args.slice());
    if (bodyless) {
      ready(p);
      return;
    }
    conn.bodies++;
    if (headFacts.transferEncoding !== undefined) conn.inBody = true;
    let failed = false;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      // Made when the first byte of a body comes.
      p.body ??= new BodyBuffer(postBuffering, limitPost);
      const status = p.body.add(chunk);
      if (status !== 0) {
        // Over limit-post, or no temporary directory, no space, an I/O error: this
        // request is refused with a line that says why; the others go on.
        failed = true;
        refuse(req.socket, status, p.body.why);
      }
    });
    req.on('close', () => {
      // The client went away before the body was complete: drop the spooled part.
      if (!ended) p.body?.close();
    });
    req.on('end', () => {
      ended = true;
      conn.bodies--;
      conn.inBody = false;
      if (failed) return;
      p.args[8] = String(p.body?.size ?? 0);
      ready(p);
    });
  }

  const ready = (p: Pending) => {
    const conn = p.conn!;
    if (conn.busy) (conn.queue ??= []).push(p);
    else dispatch(p);
  };

  function dispatch(p: Pending): void {
    if (p.conn !== undefined) p.conn.busy = true;
    const { args } = p;
    const id = slots.nextId(slots.take(p));
    p.id = id;
    args[0] = id;
    const { state } = p;
    let addr = state.peerAddress;
    if (addr === undefined) {
      const { socket } = state;
      addr = state.peerAddress = socket.remoteAddress ?? '';
      state.peerPort = String(socket.remotePort ?? '');
    }
    args[9] = addr;
    args[10] = state.peerPort;
    if (p.body !== undefined) {
      if (p.body.fd >= 0) (args[1] as number) |= REQ_BODY_FILE;
      args[2] = p.body.take();
    }
    requests++;
    if (counters) {
      counters.requests++;
      counters.inProgress++;
    }
    if (logging || counters) p.entry = entryOf(p);
    handler.request(args);
    if (p.ended) return;
    // Still with the application: what the connection sends meanwhile waits, and it may go away.
    if (p.conn === undefined) {
      p.conn = p.state.conn = new Connection(p.state);
      p.conn.busy = true;
    }
    p.res.once('close', () => abandon(p));
  }

  /** The request's log entry: the variables counted as the native server counts them. */
  function entryOf(p: Pending): RequestEntry {
    const { req, args } = p;
    const addr = args[9] as string;
    let varsCount = 13;
    let varsBytes = 0;
    for (let i = 11; i < args.length; i += 2) {
      varsCount++;
      varsBytes += 4 + (args[i] as string).length + (args[i + 1] as string).length;
    }
    for (let i = 3; i < 11; i++) varsBytes += typeof args[i] === 'string' ? (args[i] as string).length : 0;
    return new RequestEntry(addr, varsCount, varsBytes + 4 * 13 + 150 + serverName.length, req.method!, req.url!, `HTTP/${req.httpVersion}`, 0);
  }

  // The last Content-Length made: a route answers with bodies of one length, often.
  let lastLength = 0;
  let lastLengthText = '0';

  /** Transport.sendParts: an HTTP request's head, through writeHead(); a uwsgi one's as text. */
  function sendParts(id: number, status: string, headers: string[], body: Chunk | Chunk[] | undefined, flags: number): number {
    const p = slots.holder(id);
    if (p == null || p.id !== id) return uwsgiRequests.get(id)?.send(headText(status, headers), body, flags) ?? -1;
    const { res, entry } = p;
    if (entry !== undefined) {
      let bytes = 9 + status.length + 2; // "HTTP/1.1 " and the status line; each header line:
      for (let i = 0; i < headers.length; i += 2) bytes += headers[i]!.length + headers[i + 1]!.length + 4;
      entry.headerBytes = bytes;
    }
    // A string written with the head goes out in one piece with it, encoded as UTF-8: not
    // when the head holds latin-1 bytes, which must stay one byte each.
    const { code, reason, latin1 } = statusParts(status);
    const withString = typeof body === 'string' || (Array.isArray(body) && typeof body[0] === 'string');
    const firstAsBytes = withString && (latin1 || latin1Values(headers));
    if (flags & SEND_ADD_LENGTH) {
      let n = 0;
      if (Array.isArray(body)) for (const c of body) n += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
      else if (body !== undefined) n = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      if (n !== lastLength) lastLengthText = String((lastLength = n));
      headers.push('Content-Length', lastLengthText);
    }
    if (flags & SEND_CLOSE || stopping) {
      headers.push('Connection', 'close');
      res.shouldKeepAlive = false;
      p.close = true;
    }
    res.sendDate = false;
    res.writeHead(code, reason, headers);
    if (entry !== undefined) {
      entry.status = code;
      entry.headerCount = headers.length / 2;
    }
    return respond(p, body, flags, firstAsBytes);
  }

  /** Transport.send: the body, or the end, of a response whose head went out (sendParts takes every head). */
  function send(id: number, head: string | undefined, body: Chunk | Chunk[] | undefined, flags: number): number {
    const p = slots.holder(id);
    if (p == null || p.id !== id) return uwsgiRequests.get(id)?.send(head, body, flags) ?? -1;
    return respond(p, body, flags, false);
  }

  /** The body and end of a response; firstAsBytes: its first chunk, a string, goes as bytes (see sendParts). */
  function respond(p: Pending, body: Chunk | Chunk[] | undefined, flags: number, firstAsBytes: boolean): number {
    const { res, entry } = p;
    const end = (flags & (SEND_END | SEND_ABORT)) === SEND_END;
    // The last chunk goes with end(): head and body in one write when they fit in one.
    let last: Chunk | undefined;
    let ok = true;
    if (body !== undefined) {
      const n = Array.isArray(body) ? body.length : 1;
      for (let i = 0; i < n; i++) {
        let c = Array.isArray(body) ? body[i]! : body;
        if (firstAsBytes && i === 0) c = Buffer.from(c as string);
        if (entry !== undefined) entry.bodyBytes += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
        if (end && i === n - 1) last = c;
        else ok = res.write(c) && ok;
      }
    }
    if (flags & SEND_ABORT) {
      p.close = true;
      finish(p);
      res.destroy();
      return -1;
    }
    if (end) {
      if (flags & SEND_CLOSE) p.close = true;
      finish(p);
      if (p.close) {
        // The end of the body is the close (a short Content-Length, HTTP/1.0).
        res.shouldKeepAlive = false;
        const socket = res.socket; // node:http detaches it before our 'finish' listener runs
        res.once('finish', () => socket?.end());
      }
      res.end(last);
      return 0;
    }
    if (!ok && !p.drainWatched) {
      p.drainWatched = true;
      res.on('drain', () => handler.onDrain(p.id));
    }
    return ok ? 0 : 1;
  }

  function finish(p: Pending): void {
    p.ended = true;
    slots.give(slots.slotOf(p.id));
    const { entry, conn } = p;
    if (counters) countResponse(counters, entry!.status, Number((process.hrtime.bigint() - entry!.started) / 1000n), entry!.headerBytes + entry!.bodyBytes);
    if (conn === undefined) {
      idleFromNow(p.state);
    } else {
      if (p.close) conn.queue = undefined;
      const next = conn.queue?.shift();
      if (next !== undefined) {
        // The next request goes to the application once this response is out.
        p.res.once('finish', () => dispatch(next));
      } else {
        conn.busy = false;
        if (conn.idle) {
          conn.state.conn = undefined;
          idleFromNow(conn.state);
        }
      }
    }
    p.body?.close();
    if (logging) {
      // Over HTTP the line shows the count when the request ends.
      entry!.requests = requests;
      const line = requestLine(entry!, p.id);
      if (line !== undefined) log(line);
    }
  }

  /** tsgi.upgrade(): the connection node:http gave up goes to the application, logged as answered with 101. */
  function upgrade(id: number): boolean {
    const p = slots.holder(id);
    if (p == null || p.id !== id || p.upgrade === undefined || p.res.headersSent) return false;
    const { socket, head } = p.upgrade;
    if (p.onEnd !== undefined) socket.off('end', p.onEnd);
    if (p.entry !== undefined) p.entry.status = 101;
    p.close = false;
    finish(p);
    idle.forget(p.state); // the application's now: no http-timeout
    p.res.detachSocket(socket);
    handedOver.add(socket);
    if (counters) counters.connections--;
    handler.onUpgrade(id, socket, head);
    return true;
  }

  handler.transport = { send, sendParts, upgrade };
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
      idle.stop();
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
      idle.stop();
      handler.upgraded.destroy();
      for (const conn of uwsgiConnections) conn.destroy();
      for (const server of servers) {
        if ('closeAllConnections' in server) (server as ReturnType<typeof createServer>).closeAllConnections();
        if (server.listening) server.close();
      }
    },
  };
}
