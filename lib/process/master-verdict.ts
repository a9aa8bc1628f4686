// What the master's watchdog (MasterWorkers.watch() in lib/process/master-workers.ts)
// decides from a worker's scoreboard slots: harakiri and reload-on-rss, as pure functions
// of the readings and the time, so that they are tested without processes.
import type { ScoreboardSlot } from '../addon/binding.js';

/** A worker to kill: its oldest request in progress ran past harakiri. */
export interface HarakiriVerdict {
  /** The core (thread) serving that request. */
  core: number;
  /** When it began, ms since the epoch. */
  start: number;
  /** How long it has run, ms. */
  ranMs: number;
  /** Its method and URI, "GET /hang", as the slot holds it. */
  request: string;
}

/**
 * Judges a worker by the oldest request in progress on any of its cores (one slot per
 * core; each slot shows its core's oldest, see native/process/scoreboard.h InProgress): a
 * verdict when it has run harakiriSeconds or more, else undefined. harakiriSeconds 0
 * never kills.
 */
export function harakiriVerdict(
  cores: ReadonlyArray<Pick<ScoreboardSlot, 'requestStart' | 'request'>>,
  now: number,
  harakiriSeconds: number,
): HarakiriVerdict | undefined {
  if (harakiriSeconds <= 0) return undefined;
  let core = -1;
  for (let i = 0; i < cores.length; i++) {
    const t = cores[i]!.requestStart;
    if (t > 0 && (core < 0 || t < cores[core]!.requestStart)) core = i;
  }
  if (core < 0) return undefined;
  const start = cores[core]!.requestStart;
  const ranMs = now - start;
  if (ranMs < harakiriSeconds * 1000) return undefined;
  return { core, start, ranMs, request: cores[core]!.request };
}

/**
 * True when a worker's RSS reading is over limitBytes (0: no limit) and was taken by
 * the process pid itself: a slot keeps the reading of the process that held it before
 * until the new one writes its own.
 */
export function rssOver(reading: Pick<ScoreboardSlot, 'rss' | 'rssPid'>, pid: number, limitBytes: number): boolean {
  return limitBytes > 0 && reading.rssPid === pid && reading.rss > limitBytes;
}

/** What the watchdog knows of a worker besides its slots. */
export interface JudgedWorker {
  pid: number;
  /** Its first slot in the scoreboard: core 0's; the next threads - 1 are its other cores'. */
  slot: number;
  ready: boolean;
  stopping: boolean;
}

export interface Limits {
  /** Seconds; 0: none. */
  harakiri: number;
  /** Bytes; 0: none. */
  rssBytes: number;
  /** Slots per worker. */
  threads: number;
}

export type Verdict<W> = { worker: W; kind: 'harakiri'; harakiri: HarakiriVerdict } | { worker: W; kind: 'reload-on-rss'; rss: number };

/**
 * The watchdog's whole judgement: for each worker, harakiri when its oldest request ran
 * too long (a stopping worker too: its mercy does not excuse a stuck request), else
 * reload-on-rss when it is ready, not stopping, and over the limit. board: the
 * scoreboard as read once, now: the time of that reading.
 */
export function judgeWorkers<W extends JudgedWorker>(
  workers: Iterable<W>,
  board: ReadonlyArray<Pick<ScoreboardSlot, 'requestStart' | 'request' | 'rss' | 'rssPid'>>,
  now: number,
  limits: Limits,
): Verdict<W>[] {
  const verdicts: Verdict<W>[] = [];
  if (limits.harakiri <= 0 && limits.rssBytes <= 0) return verdicts;
  for (const worker of workers) {
    const cores = board.slice(worker.slot, worker.slot + limits.threads);
    const first = cores[0];
    if (first === undefined) continue;
    const harakiri = harakiriVerdict(cores, now, limits.harakiri);
    if (harakiri !== undefined) verdicts.push({ worker, kind: 'harakiri', harakiri });
    else if (worker.ready && !worker.stopping && rssOver(first, worker.pid, limits.rssBytes)) verdicts.push({ worker, kind: 'reload-on-rss', rss: first.rss });
  }
  return verdicts;
}
