// Idle keep-alive connections on the js backend, closed after http-timeout by one sweep a
// period over the connections, as the native server's tick does, instead of node:http's
// keepAliveTimeout: that arms a timer on the socket after every response (a bound
// function and a Timeout made, a timer list insert) and clears it at the next request,
// about 0.6 us of a hello world's 25 on this machine, and holds the Timeout while the
// connection idles. A connection is idle from the end of a response (or its accept)
// until its next request's head is in; bytes arriving meanwhile (a head on its way, which
// node:http's headersTimeout watches and answers with a 408) start its idle time again.
import type { Socket } from 'node:net';

/** A watched connection (lib/js/connection.ts's SocketState): its socket and where its idle time stands. */
export interface Watched {
  readonly socket: Socket;
  /** BUSY while a request is in progress; IDLE idle, not yet seen by a sweep; else the sweep that first saw it idle. */
  idle: number;
  /** The socket's bytesRead when a sweep last saw it idle. */
  idleRead: number;
}

export const BUSY = 0;
export const IDLE = 1;

/** w is idle from now: its response ended (or it was accepted); what it reads from now on is a next head's. */
export function idleFromNow(w: Watched): void {
  w.idle = IDLE;
  w.idleRead = w.socket.bytesRead;
}

export class IdleSweep {
  private readonly watched = new Set<Watched>();
  private sweeps = IDLE;
  private timer: NodeJS.Timeout | undefined;
  /** How many sweeps an idle connection lives through: its idle time is between timeoutMs and timeoutMs + periodMs. */
  private readonly sweepsToClose: number;

  constructor(
    timeoutMs: number,
    private readonly periodMs: number,
  ) {
    this.sweepsToClose = Math.max(1, Math.ceil(timeoutMs / periodMs));
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
      const since = w.idle;
      if (since === BUSY) continue;
      const read = s.bytesRead;
      if (since === IDLE) {
        // Bytes since it became idle (a head sent at once after the connect or the last
        // response) are a head on its way too: its close waits as below.
        w.idle = read !== w.idleRead ? now + 2 : now;
        w.idleRead = read;
      } else if (read !== w.idleRead) {
        // Bytes came: a head on its way is node:http's to time out (a 408, within a check
        // period of http-timeout); two sweeps more here, so that its answer goes first.
        w.idle = now + 2;
        w.idleRead = read;
      } else if (now - since >= this.sweepsToClose) {
        // Nothing is said on an idle close: the client sees the connection end.
        this.watched.delete(w);
        s.destroy();
      }
    }
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
