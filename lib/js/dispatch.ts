// The js backend's requests over HTTP, as native/server/dispatch.cc has the native
// server's: accept() judges the head node:http read and waits for the body, dispatch()
// hands a complete request to the application (one at a time per connection,
// lib/js/connection.ts), finish() ends it (its slot, its counters, its log line, its
// connection's next request), abandon() drops one whose connection went away. The
// response is lib/js/send.ts's. This is the hot path: what it needs is in closure
// variables, set once by httpDispatch().
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { Socket } from 'node:net';
import type { Handler } from '../contract/handler.js';
import { REQ_BODY_FILE, REQ_HTTP10, REQ_KEEP_ALIVE, REQ_LISTENER_SHIFT, REQ_NEW_CONNECTION, REQ_UPGRADE } from '../addon/wire.js';
import { RequestEntry } from '../protocol/request-log.js';
import type { Config } from '../config/typed.js';
import { BodyBuffer } from './body.js';
import { HTTP_REFUSALS } from '../protocol/http-refusals.js';
import { splitTarget } from '../protocol/request-target.js';
import { headArguments, headFacts, headRefusal, versionRefusal } from './request-head.js';
import type { Slots } from './slots.js';
import { BUSY, idleFromNow, type IdleSweep } from './idle.js';
import { Connection, kState, Pending, type HeldSocket } from './connection.js';
import { countResponse, type Counters } from '../backend/counters.js';
import type { Refusals } from './refusals.js';

/** What the requests' path takes from its backend (lib/js/server.ts jsBackend()). */
export interface DispatchParts {
  handler: Handler;
  config: Config;
  /** Where the stats server's figures come from (--stats), when it runs. */
  counters: Counters | undefined;
  /** The slots of the requests with the application: an HTTP one's Pending, a uwsgi one's null. */
  slots: Slots<Pending | null>;
  /** Whether any request gets a log line (lib/logging/log-format.ts logsAny). */
  logging: boolean;
  /** The line for a request that ends now, if it gets one. */
  requestLine(entry: RequestEntry, id: number): string | undefined;
  log(line: string): void;
  refusals: Refusals;
  /** The idle sweep, which times a request body between two reads. */
  idle: IdleSweep;
}

export interface Dispatch {
  /** A request whose head node:http read; upgrade: the connection it gave up on an offer to switch protocols. */
  accept(req: IncomingMessage, res: ServerResponse, listener: number, upgrade?: { socket: Socket; head: Buffer }): void;
  /** p's response is over (sent, or its connection upgraded): lib/js/send.ts calls it. */
  finish(p: Pending): void;
  /** Counts a uwsgi request dispatched; the count the log line shows. */
  countRequest(): number;
}

export function httpDispatch(parts: DispatchParts): Dispatch {
  const { handler, counters, slots, logging, requestLine, log, idle } = parts;
  const { postBuffering, limitPost } = parts.config;
  const { refuse, refuseRequest } = parts.refusals;
  const serverName = hostname();
  let requests = 0;

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
    idle.bodyBegins(state);
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

  return { accept, finish, countRequest: () => ++requests };
}
