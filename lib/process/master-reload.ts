// The chain reload (SIGHUP, --touch-reload, --py-autoreload: Master.reload() in
// lib/process/master.ts): the workers are replaced one after another, each old worker
// stopping only once its successor is ready, so that the sockets always have a worker
// accepting and a successor that cannot load the application costs nothing.
import { exitOf, notReadyReason, stopWorker, waitReady, type Worker } from './worker-process.js';
import type { MasterWorkers } from './master-workers.js';
import { logMessage as log } from '../logging/log-format.js';

const READY_TIMEOUT_MS = 30000; // how long a chain reload waits for a successor

export class ChainReload {
  private reloading = false;

  /** mercySeconds: what an old worker gets to finish its requests (worker-reload-mercy). */
  constructor(
    private readonly workers: MasterWorkers,
    private readonly mercySeconds: number,
  ) {}

  /**
   * Gives each worker of the moment a successor and, once it is ready, asks the old one
   * to stop; nothing while a reload runs or the master stops. A successor not ready (it
   * cannot load the application, it died, it took too long), or no scoreboard slot for
   * one, stops the reload with a line that says why; the old workers not yet replaced
   * serve on.
   */
  async run(): Promise<void> {
    const workers = this.workers;
    if (this.reloading || workers.stopping) return;
    this.reloading = true;
    log('tsgi: SIGHUP: graceful chain reload of the workers');
    const old = [...workers.values()].filter((w) => !w.stopping);
    const stopped: Worker[] = [];
    let completed = true;
    for (const w of old) {
      if (workers.stopping) break;
      if (!workers.has(w.pid)) continue; // died meanwhile: its respawn loads the new code
      // Stopping meanwhile (SIGTTOU, recycled by max-requests or reload-on-rss): it needs
      // no successor from here, it has one already or is not wanted.
      if (w.stopping || w.replaced) continue;
      w.replaced = true;
      const n = workers.spawnWorker(w.id, workers.respawnsOf(w) + 1, 'reload');
      if (n === undefined) {
        w.replaced = false;
        log('tsgi: reload aborted: no scoreboard slot is free for a new worker; the old workers keep serving');
        completed = false;
        break;
      }
      n.successor = true;
      // The successor takes connections before its predecessor stops.
      const outcome = await waitReady(n, READY_TIMEOUT_MS, () => !workers.has(n.pid), () => workers.stopping);
      if (outcome === 'stopping') break;
      if (outcome !== 'ready') {
        w.replaced = false; // it serves on, and is respawned or recycled as any worker
        if (outcome === 'timeout') {
          n.stopping = true;
          n.child.kill('SIGKILL'); // it accepts nothing before it is ready: no request is lost
        }
        log(`tsgi: reload aborted: ${notReadyReason(n, outcome, READY_TIMEOUT_MS)}`);
        completed = false;
        break;
      }
      if (workers.has(w.pid)) {
        stopWorker(w, this.mercySeconds, false, log);
        stopped.push(w);
      }
    }
    this.reloading = false;
    if (!completed) return;
    // Done when the old workers are gone, not when they were asked to go: they finish
    // their requests first (within worker-reload-mercy). A SIGHUP meanwhile starts a new
    // reload of the new workers.
    await Promise.all(stopped.map(exitOf));
    if (!workers.stopping) log('tsgi: chain reload done');
  }
}
