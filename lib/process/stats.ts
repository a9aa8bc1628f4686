// The stats server (--stats ADDR): on each connection the master (or the single
// process) writes uWSGI's stats JSON (the keys uwsgitop reads) and closes; with
// --stats-http it answers one HTTP request: /healthz, /readyz, /metrics (lib/
// metrics.ts), or the JSON. Every counter comes from the scoreboard the workers write,
// never from a message per request.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { parseSocketAddress } from '../config/address.js';
import { prepareUnixSocket, removeSocketFile } from '../backend/unix-socket.js';
import type { ScoreboardSlot } from '../addon/binding.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';

export interface StatsWorker {
  id: number;
  pid: number;
  /** One slot per core (thread); the first holds what the master keeps. */
  cores: ScoreboardSlot[];
  stopping: boolean;
}

export interface StatsSocket {
  name: string;
  proto: string;
  queue: number;
  maxQueue: number;
  /** Looks (once a second) that found the queue full (lib/process/listen-queue.ts). */
  queueFull: number;
}

export interface StatsInput {
  version: string;
  sockets: StatsSocket[];
  workers: StatsWorker[];
  /** Requests each worker id had at the previous query, for delta_requests. */
  previous: Map<number, number>;
}

/** A process's memory from /proc (0 when it is gone). */
export function memory(pid: number): { rss: number; vsz: number } {
  try {
    const [size, resident] = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ').map(Number);
    return { vsz: size! * 4096, rss: resident! * 4096 };
  } catch {
    return { vsz: 0, rss: 0 };
  }
}

/** uWSGI's stats document. */
export function statsDocument(input: StatsInput): Record<string, unknown> {
  const workers = input.workers
    .slice()
    .sort((a, b) => a.id - b.id)
    .map((w) => {
      const s = w.cores[0]!;
      const sum = (f: 'requests' | 'exceptions' | 'tx' | 'runningTime' | 'acceptErrors' | 'upgraded') => w.cores.reduce((n, c) => n + c[f], 0);
      const requests = sum('requests');
      const mem = memory(w.pid);
      const delta = requests - (input.previous.get(w.id) ?? 0);
      input.previous.set(w.id, requests);
      const busy = w.cores.some((c) => c.requestStart > 0);
      const timed = w.cores.filter((c) => c.requests > 0);
      return {
        id: w.id,
        pid: w.pid,
        accepting: w.stopping ? 0 : 1,
        requests,
        delta_requests: Math.max(0, delta),
        exceptions: sum('exceptions'),
        harakiri_count: s.harakiriCount,
        // tsgi's own (uWSGI has none): connections refused, and accept() calls failed,
        // because the worker ran out of file descriptors or the like.
        accept_errors: sum('acceptErrors'),
        // tsgi's own too: the connections upgraded (WebSockets) the application holds.
        websockets: sum('upgraded'),
        signals: 0,
        signal_queue: 0,
        status: w.stopping ? 'cheap' : busy ? 'busy' : 'idle',
        rss: mem.rss || s.rss,
        vsz: mem.vsz,
        running_time: sum('runningTime'),
        last_spawn: s.lastSpawn,
        respawn_count: s.respawnCount,
        tx: sum('tx'),
        avg_rt: timed.length ? Math.round(timed.reduce((n, c) => n + c.avgRt, 0) / timed.length) : 0,
        apps: [{ id: 0, modifier1: 0, mountpoint: '', startup_time: 0, requests, exceptions: sum('exceptions'), chdir: '' }],
        cores: w.cores.map((c, id) => ({
          id,
          requests: c.requests,
          static_requests: 0,
          routed_requests: 0,
          offloaded_requests: 0,
          write_errors: 0,
          read_errors: 0,
          in_request: c.requestStart > 0 ? 1 : 0,
          vars: [],
          req_info: {},
        })),
      };
    });
  const listenQueue = input.sockets.reduce((n, s) => n + s.queue, 0);
  return {
    version: input.version,
    listen_queue: listenQueue,
    // uWSGI's name for the times its master found a listen queue full (once a second).
    listen_queue_errors: input.sockets.reduce((n, s) => n + s.queueFull, 0),
    signal_queue: 0,
    load: listenQueue,
    pid: process.pid,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    cwd: process.cwd(),
    locks: [],
    sockets: input.sockets.map((s) => ({ name: s.name, proto: s.proto, queue: s.queue, max_queue: s.maxQueue, queue_full: s.queueFull, shared: 0, can_offload: 0 })),
    workers,
  };
}

/** What the stats server answers; each is asked for when a request comes. */
export interface StatsEndpoints {
  /** uWSGI's stats document, as JSON. */
  json(): string;
  /** undefined while the server lives (GET /healthz 200), else why not (503). */
  unhealthy(): string | undefined;
  /** undefined while it is ready for traffic (GET /readyz 200), else why not (503). */
  notReady(): string | undefined;
  /** The Prometheus metrics page (GET /metrics). */
  metrics(): string;
}

const MAX_HEAD = 8192;
const HEAD_TIMEOUT_MS = 5000;

function httpResponse(status: number, contentType: string, body: string, head: boolean): string {
  const text = status === 200 ? 'OK' : status === 503 ? 'Service Unavailable' : status === 405 ? 'Method Not Allowed' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return `HTTP/1.1 ${status} ${text}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${head ? '' : body}`;
}

/**
 * The answer to one HTTP request on the stats server: /healthz, /readyz, /metrics, and
 * the stats JSON on any other path (what uwsgitop and scripts fetch).
 */
export function statsHttpAnswer(requestLine: string, endpoints: StatsEndpoints): string {
  const [method, target] = requestLine.split(' ');
  if (method === undefined || target === undefined) return httpResponse(400, 'text/plain', 'bad request\n', false);
  if (method !== 'GET' && method !== 'HEAD') return httpResponse(405, 'text/plain', 'GET or HEAD\n', false);
  const head = method === 'HEAD';
  const path = target.split('?')[0];
  if (path === '/healthz' || path === '/readyz') {
    const why = path === '/healthz' ? endpoints.unhealthy() : endpoints.notReady();
    return why === undefined ? httpResponse(200, 'text/plain', 'ok\n', head) : httpResponse(503, 'text/plain', `${why}\n`, head);
  }
  if (path === '/metrics') return httpResponse(200, METRICS_CONTENT_TYPE, endpoints.metrics(), head);
  return httpResponse(200, 'application/json', endpoints.json(), head);
}

/**
 * Serves on spec (":9191", "127.0.0.1:9191", a unix path, "@name"): the stats JSON,
 * written on connect; with http, one request a connection read and answered by
 * statsHttpAnswer(). It runs on this process's loop: in master mode the master's,
 * where no application code runs, so a busy application cannot delay it.
 */
export async function startStatsServer(spec: string, http: boolean, endpoints: StatsEndpoints): Promise<{ close(): void; shown: string }> {
  const address = parseSocketAddress(spec, 'stats');
  const server: Server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    if (!http) {
      socket.end(endpoints.json());
      return;
    }
    let head = '';
    socket.setEncoding('latin1');
    socket.setTimeout(HEAD_TIMEOUT_MS, () => socket.destroy());
    const onData = (d: string) => {
      head += d;
      const end = head.indexOf('\n');
      if (end < 0 && head.length <= MAX_HEAD) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      // The request line is all it needs; the rest of the head is read and dropped, so
      // that the close does not reset the answer away.
      socket.on('data', () => {});
      socket.end(end < 0 ? httpResponse(431, 'text/plain', 'request line too long\n', false) : statsHttpAnswer(head.slice(0, end).replace(/\r$/, ''), endpoints));
    };
    socket.on('data', onData);
  });
  if (address.kind === 'unix') await prepareUnixSocket(address.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path.startsWith('@') ? '\0' + address.path.slice(1) : address.path, done);
    else server.listen(address.port, address.host, done);
  });
  server.unref();
  const a = server.address();
  const shown = typeof a === 'string' || a === null ? spec : `${a.address}:${a.port}`;
  return {
    shown,
    close() {
      server.close();
      if (address.kind === 'unix') removeSocketFile(address.path);
    },
  };
}
