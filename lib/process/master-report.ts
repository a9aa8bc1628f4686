// What the master tells of its workers: SIGUSR1's lines in the log, the workers' part
// of /metrics (from the scoreboard), and why /readyz says no. Pure: the readings come
// in, text and numbers out.
import type { ScoreboardSlot } from '../addon/binding.js';
import type { MetricsWorker } from './metrics.js';
import { memory } from './stats.js';

/** A worker as these reports need it. */
export interface ReportedWorker {
  id: number;
  pid: number;
  /** Its first slot in the scoreboard; the next threads - 1 are its other cores'. */
  slot: number;
}

/** SIGUSR1: one line per worker, as uWSGI's master prints its workers' stats. */
export function workerStatsLines(workers: Iterable<ReportedWorker>, board: readonly ScoreboardSlot[], threads: number): string[] {
  const lines: string[] = [];
  for (const w of workers) {
    const cores = board.slice(w.slot, w.slot + threads);
    const s = cores[0];
    if (s === undefined) continue;
    const sum = (f: 'requests' | 'exceptions' | 'tx' | 'acceptErrors') => cores.reduce((n, c) => n + c[f], 0);
    const busy = cores.some((c) => c.requestStart > 0);
    lines.push(
      `tsgi: worker ${w.id} pid ${w.pid} requests ${sum('requests')} exceptions ${sum('exceptions')} tx ${sum('tx')} avg_rt ${s.avgRt} us rss ${Math.round(s.rss / 1048576)} MB ${busy ? 'busy' : 'idle'} respawns ${s.respawnCount} harakiri ${s.harakiriCount} accept_errors ${sum('acceptErrors')}`,
    );
  }
  return lines;
}

/**
 * The workers' series for /metrics. A worker and its successor (a reload's, a
 * recycle's) share an id: one series, their counts and memory added. rssOf: a process's
 * resident memory now, in bytes (0 when unknown: the slot's last reading is taken).
 */
export function metricsWorkers(workers: Iterable<ReportedWorker>, board: readonly ScoreboardSlot[], threads: number, rssOf = (pid: number) => memory(pid).rss): MetricsWorker[] {
  const byId = new Map<number, MetricsWorker>();
  for (const w of workers) {
    const cores = board.slice(w.slot, w.slot + threads);
    const m = byId.get(w.id) ?? { id: w.id, cores: [], rss: 0 };
    m.cores.push(...cores);
    m.rss += rssOf(w.pid) || (cores[0]?.rss ?? 0);
    byId.set(w.id, m);
  }
  return [...byId.values()];
}

/** Where the master stands, as /readyz judges it. */
export interface Readiness {
  /** SIGTERM with --shutdown-delay: serving on, but no longer ready. */
  draining: boolean;
  stopping: boolean;
  /** Every worker wanted at start has been ready once. */
  startedAll: boolean;
  wanted: number;
  /** Workers ready and not stopping. */
  ready: number;
}

/**
 * GET /readyz: undefined (200) when every worker has loaded the application once, one
 * is ready now, and no stop has begun; else why not (503). (GET /healthz asks only
 * that a worker lives.)
 */
export function readyzFailure(r: Readiness): string | undefined {
  if (r.draining) return 'draining (SIGTERM)';
  if (r.stopping) return 'stopping';
  if (!r.startedAll) return `starting: ${r.ready} of ${r.wanted} workers ready`;
  if (r.ready === 0) return 'no worker ready';
  return undefined;
}
