// An HTTP connection on the js backend and the requests it serves, as lib/js/dispatch.ts
// keeps them, and what their responses' heads need. An idle keep-alive connection holds
// little of tsgi's: a SocketState (its idle time, its peer's address and port); a
// Connection is on it only while a request of the connection is read, queued or with the
// application, and a request holds a slot (lib/js/slots.ts) only while it is with the
// application.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestEntry } from '../protocol/request-log.js';
import type { BodyBuffer } from './body.js';
import { IDLE, type Watched } from './idle.js';

/**
 * What tsgi keeps of an HTTP connection, on its socket (under kState) from its
 * 'connection' event on: one property, set before node:http's first request, so that
 * every socket node:http's code and tsgi's read has the same shape. Properties added
 * one by one later (the peer at the first request, the sweep's marks whenever it came
 * by) gave the sockets shapes in several orders, and node:http's property reads on
 * them (parserOnIncoming, assignSocket) and tsgi's went megamorphic: about 3,000
 * instructions of a hello world's 58,000 (callgrind).
 */
export class SocketState implements Watched {
  idle = IDLE;
  idleRead = 0;
  outLength = 0;
  outQueued = 0;
  outDone = 0;
  outAt = 0;
  readAt = 0;
  /** The peer's address and port as REMOTE_ADDR and REMOTE_PORT take them, read at the first request (node's remoteAddress getter asks the OS each time). */
  peerAddress: string | undefined = undefined;
  peerPort = '';
  /** The connection's state while it needs one (see Connection). */
  conn: Connection | undefined = undefined;

  constructor(readonly socket: Socket) {}

  /** node:http reads a body of it that is timed: not a pipelined one behind a request still with the application (the native server reads none then). */
  get readingBody(): boolean {
    return this.conn !== undefined && this.conn.bodies > 0 && !this.conn.busy;
  }
}

export const kState = Symbol('tsgi.socketState');
export type HeldSocket = Socket & { [kState]: SocketState };

/** A request on an HTTP connection, from its head to the end of its response. */
export class Pending {
  /** Its id, once dispatched (its slot's). */
  id = -1;
  /** The response is over: sent, or abandoned with the connection. */
  ended = false;
  /** The response ends the connection. */
  close = false;
  body: BodyBuffer | undefined = undefined;
  /** The log line's and the counters' figures, when there is a log or a --stats. */
  entry: RequestEntry | undefined = undefined;
  drainWatched = false;
  /** An upgrade offered: node:http's socket and the bytes it read past the head ('upgrade'). */
  upgrade: { socket: Socket; head: Buffer } | undefined = undefined;
  /** Until the application takes an upgrade's connection: the client's end destroys it. */
  onEnd: (() => void) | undefined = undefined;

  constructor(
    /** Its connection's state, when it needs one (see Connection). */
    public conn: Connection | undefined,
    /** Its socket's. */
    readonly state: SocketState,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** onRequest's arguments (lib/js/request-head.ts); the id's, the peer's and the body's go in at dispatch. */
    readonly args: unknown[],
  ) {}
}

/**
 * An HTTP connection while it has a request read, queued, or with the application past
 * onRequest's return (a request answered at once needs none): its requests go to the
 * application one at a time, as the native server has them: a pipelined request waits for
 * the response before it, and is dropped if that response closes the connection.
 */
export class Connection {
  /** From a dispatch until no request waits: what comes now queues. */
  busy = false;
  queue: Pending[] | undefined = undefined;
  /** Requests whose body node:http is reading. */
  bodies = 0;
  /** node:http is reading a chunked body (its errors are the body's). */
  inBody = false;

  constructor(readonly state: SocketState) {}

  /** Whether nothing of it is left to do: the socket keeps no Connection while it idles. */
  get idle(): boolean {
    return !this.busy && this.bodies === 0;
  }
}

/** Whether s holds a character past ASCII: a loop over a short string costs less than a RegExp test's call. */
function pastAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/** Whether header values hold a byte past ASCII (latin-1 is allowed). */
export function latin1Values(headers: readonly string[]): boolean {
  for (let i = 1; i < headers.length; i += 2) if (pastAscii(headers[i]!)) return true;
  return false;
}

/**
 * writeHead()'s code and reason for a status ("200 OK"), and whether the reason holds a
 * byte past ASCII: the last one is kept, since an application answers with a few
 * statuses, mostly one.
 */
export function statusParts(status: string): { code: number; reason: string; latin1: boolean } {
  if (status !== last.status) {
    last.status = status;
    last.code = Number(status.slice(0, 3));
    last.reason = status.slice(4);
    last.latin1 = pastAscii(status);
  }
  return last;
}
const last = { status: '', code: 0, reason: '', latin1: false };
