// What a process counts of its requests, in the scoreboard's shape: the native backend
// writes these into its scoreboard slot (native/process/scoreboard.h), the js backend into an
// object of its own; /metrics and the stats document read either (lib/process/metrics.ts).
import type { ScoreboardSlot } from '../addon/binding.js';

/** The duration histogram's bucket bounds in seconds: native/process/scoreboard.h kDurationBoundsUs. */
export const DURATION_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/**
 * The refusals' labels, in the scoreboard's order (native/process/scoreboard.h
 * kRefusalStatuses, then any other status, then "none": a malformed uwsgi packet,
 * whose connection is closed unanswered).
 */
export const REFUSAL_CODES = ['400', '408', '413', '431', '500', '501', '505', 'other', 'none'] as const;

export type Counters = Pick<
  ScoreboardSlot,
  'requests' | 'tx' | 'exceptions' | 'runningTime' | 'acceptErrors' | 'inProgress' | 'connections' | 'aborted' | 'upgraded' | 'codes' | 'durations' | 'refusals'
>;

/** Counters of the js backend's own, in the scoreboard's shape (it has no scoreboard). */
export function newCounters(): Counters {
  return {
    requests: 0,
    tx: 0,
    exceptions: 0,
    runningTime: 0,
    acceptErrors: 0,
    inProgress: 0,
    connections: 0,
    aborted: 0,
    upgraded: 0,
    codes: [0, 0, 0, 0, 0],
    durations: new Array<number>(DURATION_BOUNDS.length + 1).fill(0),
    refusals: new Array<number>(REFUSAL_CODES.length).fill(0),
  };
}

/** A response is complete: what native/server/send.cc Server::EndRequest counts. */
export function countResponse(c: Counters, status: number, micros: number, bytes: number): void {
  c.inProgress--;
  c.tx += bytes;
  c.runningTime += micros;
  const k = Math.floor(status / 100) - 1;
  if (k >= 0 && k < 5) c.codes[k]!++;
  let b = 0;
  while (b < DURATION_BOUNDS.length && micros > DURATION_BOUNDS[b]! * 1e6) b++;
  c.durations[b]!++;
}

/** A refusal with this status (undefined: closed unanswered). */
export function countRefusal(c: Counters, status: number | undefined): void {
  const k = status === undefined ? REFUSAL_CODES.indexOf('none') : REFUSAL_CODES.indexOf(String(status) as (typeof REFUSAL_CODES)[number]);
  c.refusals[k >= 0 ? k : REFUSAL_CODES.indexOf('other')]!++;
}
