// The js backend's listeners, as native/server/listener.cc and reading.cc accept and
// refuse for the native server: a node:http server for an HTTP listener (its settings,
// and its events: each connection watched for idleness and counted, 100-continue, the
// client errors refused, an upgrade's or a CONNECT's connection given up by node:http),
// and a node:net server for a uwsgi listener, one UwsgiConnection per front-end
// connection. What they accept goes to lib/js/dispatch.ts.
import { createServer, ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import type { Config } from '../config/typed.js';
import { clientErrorRefusal, HTTP_REFUSALS, type HttpRefusal } from '../protocol/http-refusals.js';
import { splitTarget } from '../protocol/request-target.js';
import type { Counters } from '../backend/counters.js';
import { takeProxyHeaders } from './proxy-protocol.js';
import { versionRefusal } from './request-head.js';
import type { IdleSweep } from './idle.js';
import { kState, SocketState, type HeldSocket } from './connection.js';
import { UwsgiConnection, type UwsgiContext } from './uwsgi.js';
import type { Refusals } from './refusals.js';
import type { Dispatch } from './dispatch.js';

/** What an HTTP listener takes from its backend (lib/js/server.ts jsBackend()). */
export interface HttpListenerParts {
  config: Config;
  timeoutMs: number;
  /** How often node:http looks at its timeouts (the idle sweep's period too). */
  checkEveryMs: number;
  /** An idle connection's grace at the close (lib/js/idle.ts closeIdle). */
  closeGraceMs: number;
  idle: IdleSweep;
  counters: Counters | undefined;
  /** Connections upgrade() gave the application: they left the count of open ones already. */
  handedOver: WeakSet<Socket>;
  refusals: Refusals;
  log(line: string): void;
  accept: Dispatch['accept'];
}

const judgeTarget = (method: string, target: string): HttpRefusal | undefined => {
  const t = splitTarget(method, target);
  return typeof t === 'string' ? t : undefined;
};

/** The node:http server of HTTP listener number listener. */
export function httpListener(listener: number, parts: HttpListenerParts): HttpServer {
  const { config, timeoutMs, idle, counters, handedOver, accept } = parts;
  const { refuse } = parts.refusals;
  const { limitPost } = config;
  const server = createServer(
    {
      maxHeaderSize: config.bufferSize,
      // A head must be in within http-timeout (then 408); a body's time is the idle
      // sweep's, between two reads (lib/js/idle.ts), not the whole request's.
      requestTimeout: 0,
      headersTimeout: timeoutMs,
      // Idle connections are closed by the sweep (lib/js/idle.ts), not by a timer per socket.
      keepAliveTimeout: 0,
      // node:http looks at its timeouts only this often (30 s by default).
      connectionsCheckingInterval: parts.checkEveryMs,
      // The Host rule is checked in accept(), so that it is refused and logged as
      // every other bad request is.
      requireHostHeader: false,
      noDelay: true,
    },
    (req, res) => accept(req, res, listener),
  );
  // node:http's own (which its server.close() calls) destroys a connection whose response
  // has ended but is still going out to a slow reader (4.0 of 8 MiB arrived): the idle
  // sweep closes them once their output is out, after the close's grace.
  server.closeIdleConnections = () => idle.closeIdle(parts.closeGraceMs);
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
  // connection (tsgi.upgrade(): lib/js/send.ts upgrade()); the answer then closes it.
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
  if (config.enableProxyProtocol) takeProxyHeaders(server, timeoutMs, parts.log);
  return server;
}

/**
 * The node:net server of uwsgi listener number listener: each connection is kept in
 * connections while it is open; one accepted once the backend is stopping() is closed
 * unless its packet has begun.
 */
export function uwsgiListener(listener: number, unix: boolean, ctx: UwsgiContext, connections: Set<UwsgiConnection>, stopping: () => boolean): NetServer {
  return createNetServer((socket) => {
    const conn = new UwsgiConnection(socket, listener, unix, ctx);
    connections.add(conn);
    socket.once('close', () => connections.delete(conn));
    if (stopping()) conn.closeIdle();
  });
}
