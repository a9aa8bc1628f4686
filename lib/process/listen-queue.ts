// The listen queue, watched as uWSGI's master watches it: once a second each TCP
// listening socket's accept queue is read (TCP_INFO, native/process/master.cc listenQueue);
// a queue found full is counted and logged, one line a second per socket at most:
//   tsgi: *** listen queue of socket "127.0.0.1:9090" (fd: 3) full !!! (6/5) ***
// And the backlog asked for is clamped to what the kernel gives (net.core.somaxconn).
import { readFileSync } from 'node:fs';

export interface WatchedSocket {
  /** As the stats document names it: "127.0.0.1:9090". */
  name: string;
  fd: number;
}

export interface QueueReading {
  length: number;
  backlog: number;
}

export interface SocketQueue extends WatchedSocket {
  /** The connections waiting at the last look (0 for a socket that has no TCP_INFO). */
  queue: number;
  /** The backlog the kernel gave the socket (0 until read, or for a unix socket). */
  backlog: number;
  /** Looks that found the queue full: tsgi's counter, uWSGI's listen_queue_errors. */
  overflows: number;
  lastLog: number;
}

export const LISTEN_QUEUE_INTERVAL_MS = 1000;

/** Reads each socket's queue once a second; stop() before the sockets close. */
export class ListenQueueWatch {
  readonly sockets: SocketQueue[];
  private timer?: NodeJS.Timeout;

  constructor(
    sockets: readonly WatchedSocket[],
    private readonly read: (fd: number) => QueueReading | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.sockets = sockets.map((s) => ({ ...s, queue: 0, backlog: 0, overflows: 0, lastLog: -Infinity }));
  }

  start(): this {
    if (this.sockets.length > 0) {
      this.timer = setInterval(() => this.look(), LISTEN_QUEUE_INTERVAL_MS);
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at every socket (the timer's; the stats server's too, for a fresh queue). */
  look(now = Date.now()): void {
    for (const s of this.sockets) this.lookAt(s, now);
  }

  /** Updates queue and backlog; a full queue is counted and, once a second, logged. */
  private lookAt(s: SocketQueue, now: number): void {
    const r = this.read(s.fd);
    if (r === undefined) return;
    s.queue = r.length;
    s.backlog = r.backlog;
    // The kernel refuses (drops the SYN's completion) once the queue holds more than the
    // backlog; uWSGI calls it full from backlog on, and so does tsgi.
    if (r.backlog > 0 && r.length >= r.backlog) {
      s.overflows++;
      if (now - s.lastLog >= LISTEN_QUEUE_INTERVAL_MS) {
        s.lastLog = now;
        this.log(`tsgi: *** listen queue of socket "${s.name}" (fd: ${s.fd}) full !!! (${r.length}/${r.backlog}) ***`);
      }
    }
  }

  /** Looks that found a queue full, every socket's. */
  get overflows(): number {
    return this.sockets.reduce((n, s) => n + s.overflows, 0);
  }
}

/** The kernel's ceiling on a backlog (net.core.somaxconn), or undefined when unreadable. */
export function somaxconn(): number | undefined {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The backlog to give listen(): asked, or the kernel's ceiling when asked is above it,
 * with one warning line then (the kernel would clamp it without a word, and a server
 * sized for 4096 waiting connections would refuse past 128).
 */
export function effectiveBacklog(asked: number, warn: (line: string) => void, ceiling = somaxconn()): number {
  if (ceiling === undefined || asked <= ceiling) return asked;
  warn(`tsgi: listen ${asked} is more than the kernel allows (net.core.somaxconn = ${ceiling}): the listen queue is ${ceiling}; raise it with sysctl -w net.core.somaxconn=${asked}`);
  return ceiling;
}
