// The master's handle on one worker process: what it knows of it, and the few things
// done to one worker alone: asking it to stop (then killing it after the mercy),
// waiting for it to be ready, and saying why a successor will not be.
import type { ChildProcess } from 'node:child_process';
import type { RespawnReason } from './metrics.js';
import type { ToWorker } from './worker.js';

/** A worker's exit code when it cannot load the application (lib/process/worker.ts). */
export const FAILED_APP_CODE = 22;

export interface Worker {
  id: number; // 1-based, as uWSGI numbers them
  block: number; // its block of scoreboard slots, one slot per core
  slot: number; // the block's first slot: core 0's
  child: ChildProcess;
  pid: number;
  ready: boolean;
  stopping: boolean; // asked to stop: its exit is no death
  replaced: boolean; // a successor was spawned already
  successor: boolean; // a chain reload's successor: reload() decides its fate until it is ready
  loadError?: string; // why it could not load the application (its load-error message)
  leaving?: RespawnReason; // why it is to be replaced, once the master knows: the respawn's reason
  startedAt: number;
  killTimer?: NodeJS.Timeout;
  exitTimer?: NodeJS.Timeout; // its stop is done, its exit is due (exitDue())
}

/** "exit code 1", "killed by signal SIGKILL". */
export function howExited(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `killed by signal ${signal}` : `exit code ${code}`;
}

/** Asks w to stop gracefully; kills it after the mercy. last: the master is stopping. */
export function stopWorker(w: Worker, mercySeconds: number, last: boolean, log: (line: string) => void): void {
  if (w.stopping && w.killTimer) return;
  w.stopping = true;
  const message: ToWorker = { type: 'stop', last, mercy: mercySeconds };
  // A worker on its way out (recycling, or a load that failed) may close its channel
  // between the check and the write: then SIGTERM says the same.
  if (w.child.connected) {
    w.child.send(message, (err) => {
      if (err) w.child.kill('SIGTERM');
    });
  } else {
    w.child.kill('SIGTERM');
  }
  killAfterMercy(w, mercySeconds, log);
}

/** Kills w, a stopping worker, should it still be busy mercySeconds from now. */
export function killAfterMercy(w: Worker, mercySeconds: number, log: (line: string) => void): void {
  clearTimeout(w.killTimer);
  w.killTimer = killAfter(w, mercySeconds * 1000, () => log(`tsgi: worker ${w.id} (pid: ${w.pid}) still busy after ${mercySeconds} s of mercy: killing it`));
}

/** A timer (unref'd) that kills w with SIGKILL ms from now, after say() says why. */
export function killAfter(w: Worker, ms: number, say?: () => void): NodeJS.Timeout {
  const timer = setTimeout(() => {
    say?.();
    w.child.kill('SIGKILL');
  }, ms);
  timer.unref();
  return timer;
}

/**
 * How long a stopping worker may take to exit once its stop is done, in ms. A worker
 * closes its IPC channel when its sockets, requests and threads are closed, and then
 * only calls process.exit() (lib/process/worker.ts), which takes a few ms, or longer
 * for an application's own 'exit' listeners.
 */
export const EXIT_GRACE_MS = 3000;

/**
 * w closed its channel: its stop is done (the master's, or its own on a SIGTERM sent to
 * it alone), and it must be gone within EXIT_GRACE_MS, or it is killed. A stopping
 * worker's exit is still the stop it was. (A worker that cannot load the application
 * closes its channel too, and has a second to go: MasterWorkers.onLoadError.) Node can
 * hang in process.exit() (nodejs/node#54918, seen on Node 26 with a recycled worker):
 * the worker would hold its memory until the mercy ran out, up to worker-reload-mercy's
 * 60 s on a reload or a recycle, reload-mercy's on the master's stop, and for good after
 * a stop the master had not asked for.
 */
export function exitDue(w: Worker, log: (line: string) => void): void {
  if (w.exitTimer !== undefined || w.loadError !== undefined) return;
  w.exitTimer = killAfter(w, EXIT_GRACE_MS, () => {
    const what = w.stopping ? 'stopped' : 'closed its channel';
    log(`tsgi: worker ${w.id} (pid: ${w.pid}) ${what} but has not exited ${EXIT_GRACE_MS / 1000} s later: killing it`);
  });
}

/** Resolves once w's process has exited (at once if it has). */
export function exitOf(w: Worker): Promise<void> {
  const c = w.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

export type ReadyOutcome = 'ready' | 'load-error' | 'died' | 'timeout' | 'stopping';

/**
 * Waits until w is ready, cannot load the application, died (gone(): the master saw
 * its end), the master stops (stopping()), or timeoutMs passed. A worker that cannot
 * load says why over IPC and then exits; should its exit be seen first, its message is
 * given a moment to arrive.
 */
export function waitReady(w: Worker, timeoutMs: number, gone: () => boolean, stopping: () => boolean): Promise<ReadyOutcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    let exitedAt = 0;
    const check = () => {
      if (w.ready) return resolve('ready');
      if (stopping()) return resolve('stopping');
      if (w.loadError !== undefined) return resolve('load-error');
      if (gone()) {
        if (w.child.exitCode !== FAILED_APP_CODE) return resolve('died');
        if (exitedAt === 0) exitedAt = Date.now();
        if (Date.now() - exitedAt > 1000) return resolve('load-error');
      } else if (Date.now() - started > timeoutMs) {
        return resolve('timeout');
      }
      setTimeout(check, 20);
    };
    check();
  });
}

/** Why a chain reload stops at successor n, whose wait ended with outcome. */
export function notReadyReason(n: Worker, outcome: Exclude<ReadyOutcome, 'ready' | 'stopping'>, timeoutMs: number): string {
  if (outcome === 'load-error') {
    return `the application failed to load; the old workers keep serving: ${n.loadError ?? `worker ${n.id} (pid: ${n.pid}) exited with code ${FAILED_APP_CODE}`}`;
  }
  if (outcome === 'died') {
    return `worker ${n.id} (pid: ${n.pid}) died before it was ready (${howExited(n.child.exitCode, n.child.signalCode)}); the old workers keep serving`;
  }
  return `worker ${n.id} (pid: ${n.pid}) was not ready within ${timeoutMs / 1000} s; the old workers keep serving`;
}
