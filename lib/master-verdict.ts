// What the master's watchdog (Master.watch() in lib/master.ts) decides from a worker's
// scoreboard slots: harakiri and reload-on-rss, as pure functions of the readings and
// the time, so that they are tested without processes.
import type { ScoreboardSlot } from './native-binding.js';

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
