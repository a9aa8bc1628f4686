// Prometheus metrics (GET /metrics on the stats server, lib/process/stats.ts): the text
// exposition format 0.0.4, made from the scoreboard the workers write (native/
// scoreboard.h) and from what the master counts itself (respawns). Nothing here is
// kept per request: every figure is read when the page is asked for.
import { DURATION_BOUNDS, REFUSAL_CODES, type Counters } from '../backend/counters.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Why the master started a worker in place of another. */
export const RESPAWN_REASONS = ['died', 'harakiri', 'max-requests', 'reload-on-rss', 'reload'] as const;
export type RespawnReason = (typeof RESPAWN_REASONS)[number];

export interface MetricsWorker {
  id: number;
  /** One slot per core (thread). */
  cores: Counters[];
  /** Resident memory, bytes. */
  rss: number;
}

export interface MetricsSocket {
  name: string;
  /** Connections waiting in the accept queue now. */
  queue: number;
  /** The backlog the kernel gave it (--listen, clamped to somaxconn). */
  maxQueue: number;
  /** The once-a-second looks that found its queue full (lib/process/listen-queue.ts). */
  queueFull: number;
}

export interface MetricsInput {
  workers: MetricsWorker[];
  sockets: MetricsSocket[];
  /** The master's count of respawns, by worker id and reason; absent without a master. */
  respawns?: ReadonlyMap<number, ReadonlyMap<RespawnReason, number>>;
}

/** A label value as the format wants it: backslash, double quote and line feed escaped. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

class Page {
  private readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const l = Object.entries(labels)
      .map(([k, v]) => `${k}="${label(v)}"`)
      .join(',');
    this.lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function sum(cores: Counters[], f: (c: Counters) => number): number {
  return cores.reduce((n, c) => n + f(c), 0);
}

/** The metrics page. */
export function metricsText(input: MetricsInput): string {
  const p = new Page();
  const workers = input.workers.slice().sort((a, b) => a.id - b.id);
  const perWorker = (name: string, type: 'counter' | 'gauge', help: string, f: (c: Counters) => number) => {
    p.family(name, type, help);
    for (const w of workers) p.sample(name, { worker: String(w.id) }, sum(w.cores, f));
  };

  p.family('tsgi_requests_total', 'counter', 'Requests the application answered, by worker and status class, counted when the response is complete (refusals: tsgi_refusals_total).');
  for (const w of workers) {
    for (let k = 0; k < 5; k++) p.sample('tsgi_requests_total', { worker: String(w.id), code: `${k + 1}xx` }, sum(w.cores, (c) => c.codes[k] ?? 0));
  }

  p.family('tsgi_request_duration_seconds', 'histogram', 'Time from the request handed to the application (head and body read) to its response complete.');
  for (const w of workers) {
    const worker = String(w.id);
    let cumulative = 0;
    for (let b = 0; b <= DURATION_BOUNDS.length; b++) {
      cumulative += sum(w.cores, (c) => c.durations[b] ?? 0);
      const le = b < DURATION_BOUNDS.length ? String(DURATION_BOUNDS[b]) : '+Inf';
      p.sample('tsgi_request_duration_seconds_bucket', { worker, le }, cumulative);
    }
    p.sample('tsgi_request_duration_seconds_sum', { worker }, sum(w.cores, (c) => c.runningTime) / 1e6);
    p.sample('tsgi_request_duration_seconds_count', { worker }, cumulative);
  }

  perWorker('tsgi_requests_in_progress', 'gauge', 'Requests the application has and has not answered yet.', (c) => c.inProgress);
  perWorker('tsgi_requests_aborted_total', 'counter', 'Requests whose client went away before the response was complete.', (c) => c.aborted);
  perWorker('tsgi_exceptions_total', 'counter', 'Requests on which the application failed (a 500 or a cut connection).', (c) => c.exceptions);
  perWorker('tsgi_sent_bytes_total', 'counter', 'Bytes of the responses to requests (head and body), counted when each is complete.', (c) => c.tx);

  p.family('tsgi_refusals_total', 'counter', 'Requests the server refused itself, by status ("none": a malformed uwsgi packet, closed unanswered); the application never saw them.');
  for (const w of workers) {
    for (const [k, code] of REFUSAL_CODES.entries()) p.sample('tsgi_refusals_total', { worker: String(w.id), code }, sum(w.cores, (c) => c.refusals[k] ?? 0));
  }

  perWorker('tsgi_open_connections', 'gauge', 'Client connections open.', (c) => c.connections);
  perWorker('tsgi_open_websockets', 'gauge', 'Connections upgraded (WebSockets) the application holds; not among the connections open.', (c) => c.upgraded);
  perWorker('tsgi_accept_errors_total', 'counter', 'Connections refused, and accept() calls failed, for want of file descriptors or the like.', (c) => c.acceptErrors);
  p.family('tsgi_worker_rss_bytes', 'gauge', 'Resident memory of the worker process.');
  for (const w of workers) p.sample('tsgi_worker_rss_bytes', { worker: String(w.id) }, w.rss);

  if (input.respawns !== undefined) {
    p.family('tsgi_worker_respawns_total', 'counter', 'Workers the master started in place of another, by worker and reason.');
    const ids = new Set([...workers.map((w) => w.id), ...input.respawns.keys()]);
    for (const id of [...ids].sort((a, b) => a - b)) {
      for (const reason of RESPAWN_REASONS) p.sample('tsgi_worker_respawns_total', { worker: String(id), reason }, input.respawns.get(id)?.get(reason) ?? 0);
    }
  }

  p.family('tsgi_listen_queue', 'gauge', 'Connections waiting in the accept queue of a listening socket (TCP; 0 for a unix socket).');
  for (const s of input.sockets) p.sample('tsgi_listen_queue', { socket: s.name }, s.queue);
  p.family('tsgi_listen_queue_max', 'gauge', 'The accept queue a listening socket was given (--listen, clamped to somaxconn).');
  for (const s of input.sockets) p.sample('tsgi_listen_queue_max', { socket: s.name }, s.maxQueue);
  p.family('tsgi_listen_queue_overflows_total', 'counter', 'Looks (once a second) that found a listening socket\'s accept queue full.');
  for (const s of input.sockets) p.sample('tsgi_listen_queue_overflows_total', { socket: s.name }, s.queueFull);
  return p.text();
}
