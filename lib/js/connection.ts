// An HTTP connection on the js backend and the request it serves, as lib/js/server.ts keeps
// them (on the socket, under kConnection), and what its responses' heads need.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestEntry } from '../protocol/request-log.js';
import type { BodyBuffer } from './body.js';

/** A request on an HTTP connection, from its head to the end of its response. */
export class Pending {
  /** The response is over: sent, or abandoned with the connection. */
  ended = false;
  /** The response ends the connection. */
  close = false;
  body: BodyBuffer | undefined = undefined;
  /** The log line's and the counters' figures, when there is a log or a --stats. */
  entry: RequestEntry | undefined = undefined;
  drainWatched = false;

  constructor(
    readonly id: number,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** onRequest's arguments (lib/js/request-head.ts); the body's go in when it is in. */
    readonly args: unknown[],
  ) {}
}

/**
 * An HTTP connection, from its first request: its slot, and its requests one at a time
 * with the application, as the native server has them: a pipelined request waits for the
 * response before it, and is dropped if that response closes the connection.
 */
export class Connection {
  /** The request with the application. */
  current: Pending | undefined = undefined;
  /** From a dispatch until no request waits: what comes now queues. */
  busy = false;
  queue: Pending[] | undefined = undefined;
  /** node:http is reading a chunked body (its errors are the body's). */
  inBody = false;
  /** The next request is the connection's first: it carries the peer (REQ_NEW_CONNECTION). */
  fresh = true;

  slot = 0;

  constructor(readonly listener: number) {}
}

export const kConnection = Symbol('tsgi.connection');
export type HeldSocket = Socket & { [kConnection]?: Connection };
const NOT_ASCII = /[^\x00-\x7f]/;

/** Whether a head holds a byte past ASCII (a status or a header value may: latin-1). */
export function latin1Head(status: string, headers: readonly string[]): boolean {
  if (NOT_ASCII.test(status)) return true;
  for (let i = 1; i < headers.length; i += 2) if (NOT_ASCII.test(headers[i]!)) return true;
  return false;
}

/**
 * writeHead()'s code and reason for a status ("200 OK"): the last one is kept, since an
 * application answers with a few statuses, mostly one.
 */
export function statusParts(status: string): { code: number; reason: string } {
  if (status !== last.status) {
    last.status = status;
    last.code = Number(status.slice(0, 3));
    last.reason = status.slice(4);
  }
  return last;
}
const last = { status: '', code: 0, reason: '' };
