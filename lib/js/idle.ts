// Idle keep-alive connections on the js backend, closed after http-timeout by one sweep a
// period over the connections, as the native server's tick does, instead of node:http's
// keepAliveTimeout: that arms a timer on the socket after every response (a bound
// function and a Timeout made, a timer list insert) and clears it at the next request,
// about 0.6 us of a hello world's 25 on this machine, and holds the Timeout while the
// connection idles. A connection is idle from the end of a response (or its accept)
// until its next request's head is in; bytes arriving meanwhile (a head on its way, which
// node:http's headersTimeout watches and answers with a 408) start its idle time again. A
// request body that comes on by nothing for http-timeout gets its 408 here too.
//
// The same sweep watches output waiting for its reader (a response larger than the socket
// takes, ended by the application or not): the connection is busy while that output moves
// and is cut once it has stood still for http-timeout, as the native server does it
// (nginx's send_timeout): a reader that takes a large body slowly is served to the end, one
// that stopped reading is not kept. And at the backend's close (closeIdle) it closes the
// idle connections after the close's grace, those whose output is still going out once it
// is out: node:http's own closeIdleConnections() destroys them mid-response.
import type { Socket } from 'node:net';

/** A socket's output waiting for its reader when last looked at (outputMoved). */
export interface OutputMarks {
  /** writableLength: 0 when nothing waits. */
  outLength: number;
  /** What libuv had yet to write of the write in progress. */
  outQueued: number;
  /** The bytes whose writes had completed (bytesWritten - writableLength). */
  outDone: number;
}

/** A watched connection (lib/js/connection.ts's SocketState): its socket and where its idle time stands. */
export interface Watched extends OutputMarks {
  readonly socket: Socket;
  /** BUSY while a request is in progress; IDLE idle, not yet seen by a sweep; else the sweep that first saw it idle. */
  idle: number;
  /** The socket's bytesRead when a sweep last saw it idle, or reading a body. */
  idleRead: number;
  /** The sweep that last saw its output move. */
  outAt: number;
  /** The sweep that last saw its request's body come on. */
  readAt: number;
  /** Whether node:http is reading a request body of it. */
  readonly readingBody: boolean;
}

export const BUSY = 0;
export const IDLE = 1;

/** An idle connection's grace at the close, or http-timeout when shorter (native/server/server.h kCloseGraceMs). */
export const CLOSE_GRACE_MS = 1000;

/** w is idle from now: its response ended (or it was accepted); what it reads from now on is a next head's. */
export function idleFromNow(w: Watched): void {
  w.idle = IDLE;
  w.idleRead = w.socket.bytesRead;
}

/** What libuv has yet to write of the socket's current write (undocumented, as long-lived as Node's streams: net.js reads it). */
function queuedInLibuv(s: Socket): number {
  return (s as unknown as { _handle?: { writeQueueSize?: number } | null })._handle?.writeQueueSize ?? 0;
}

/**
 * Whether the client took some of s's output since w was last marked, and marks it: a
 * write completed (bytesWritten counts a write when it is made, writableLength until it
 * completes: their difference is what completed), or part of the write in progress was
 * taken by the kernel (libuv's write queue shrank). The application's own writes are not
 * the client's progress: they grow both counts alike. Output that begins to wait counts
 * as moved: its time starts then. length: s.writableLength.
 */
export function outputMoved(w: OutputMarks, s: Socket, length = s.writableLength): boolean {
  const queued = queuedInLibuv(s);
  const done = length === 0 ? 0 : s.bytesWritten - length;
  const moved = w.outLength === 0 || length === 0 || done !== w.outDone || queued < w.outQueued;
  w.outLength = length;
  w.outQueued = queued;
  w.outDone = done;
  return moved;
}

/** How many sweeps of periodMs make ms at least. */
const sweepsIn = (ms: number, periodMs: number) => Math.max(1, Math.ceil(ms / periodMs));

export class IdleSweep {
  private readonly watched = new Set<Watched>();
  private sweeps = IDLE;
  private timer: NodeJS.Timeout | undefined;
  /** How many sweeps an idle connection lives through: its idle time is between timeoutMs and timeoutMs + periodMs (the close's grace once closing). */
  private idleSweeps: number;
  /** How many sweeps output waiting for its reader may stand still before the connection is cut: http-timeout's. */
  private stallSweeps: number;
  private closing = false;

  constructor(
    private readonly timeoutMs: number,
    private periodMs: number,
    /** A request body that came on by nothing for http-timeout: the connection's 408. */
    private readonly onStalledBody: (w: Watched) => void,
  ) {
    this.idleSweeps = this.stallSweeps = sweepsIn(timeoutMs, periodMs);
  }

  /**
   * A request body of w's begins (node:http reads it): its time between two reads starts
   * now, counted from the next sweep, as a mark a sweep makes is (a mark of this one,
   * made up to a period after it, would cut a period early).
   */
  bodyBegins(w: Watched): void {
    w.idleRead = w.socket.bytesRead;
    w.readAt = this.sweeps + 1;
  }

  /** Watches a new connection (idle until its first request). */
  add(w: Watched): void {
    idleFromNow(w);
    this.watched.add(w);
    this.timer ??= setInterval(() => this.sweep(), this.periodMs).unref();
  }

  private sweep(): void {
    const now = ++this.sweeps;
    for (const w of this.watched) {
      const s = w.socket;
      if (s.destroyed) {
        this.watched.delete(w);
        continue;
      }
      const length = s.writableLength;
      if (length !== 0 || w.outLength !== 0) {
        if (outputMoved(w, s, length)) w.outAt = now;
        if (length !== 0) {
          if (now - w.outAt >= this.stallSweeps) {
            // The reader took nothing for http-timeout: it is cut (a request still with
            // the application is abandoned, as on the native server).
            this.watched.delete(w);
            s.destroy();
          }
          continue;
        }
        // The output is out: an idle connection's time starts now.
        if (w.idle !== BUSY) idleFromNow(w);
      }
      const since = w.idle;
      const read = s.bytesRead;
      if (since === BUSY) {
        // A body on its way: http-timeout bounds the time between two of its reads, as on
        // the native server (node:http's requestTimeout, off, would bound the whole
        // request: a large upload taking longer than http-timeout got a 408).
        if (w.readingBody && s.writable) {
          if (read !== w.idleRead) {
            w.idleRead = read;
            w.readAt = now;
          } else if (now - w.readAt >= this.stallSweeps) {
            // Its 408 ends the connection's part (a half-close); idle from here, it is
            // destroyed if the client does not close it.
            this.onStalledBody(w);
            idleFromNow(w);
          }
        }
        continue;
      }
      if (since === IDLE) {
        // Bytes since it became idle (a head sent at once after the connect or the last
        // response) are a head on its way too: its close waits as below.
        w.idle = read !== w.idleRead && !this.closing ? now + 2 : now;
        w.idleRead = read;
      } else if (read !== w.idleRead && !this.closing) {
        // Bytes came: a head on its way is node:http's to time out (a 408, within a check
        // period of http-timeout); two sweeps more here, so that its answer goes first.
        w.idle = now + 2;
        w.idleRead = read;
      } else if (now - since >= this.idleSweeps) {
        // Nothing is said on an idle close: the client sees the connection end.
        this.watched.delete(w);
        s.destroy();
      }
    }
  }

  /**
   * The backend closes (node:http's closeIdleConnections(), which its server.close()
   * calls, is replaced by this): an idle connection has graceMs more, in which a request
   * that crossed the close is still answered (saying "Connection: close"), then is closed;
   * one whose response is still going out gets the same grace once it is out. A head
   * begun must be in by then too (node:http no longer times heads out once closing). The
   * sweep runs every graceMs / 4 from now (100 ms at most).
   */
  closeIdle(graceMs: number): void {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    const before = this.periodMs;
    this.periodMs = Math.max(10, Math.min(100, Math.floor(graceMs / 4)));
    this.idleSweeps = sweepsIn(graceMs, this.periodMs);
    this.stallSweeps = sweepsIn(this.timeoutMs, this.periodMs);
    // A stall already under way keeps the time it has run, in the new period's sweeps.
    const now = this.sweeps;
    const rescale = (at: number) => now - Math.round(((now - at) * before) / this.periodMs);
    for (const w of this.watched) {
      if (w.idle !== BUSY) idleFromNow(w);
      w.outAt = rescale(w.outAt);
      w.readAt = rescale(w.readAt);
    }
    this.timer = setInterval(() => this.sweep(), this.periodMs).unref();
  }

  /** A connection that is no longer HTTP (an upgrade's): never closed by the sweep. */
  forget(w: Watched): void {
    this.watched.delete(w);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
