// The workers the master keeps (lib/process/master.ts): each spawned with the sockets and
// its block of scoreboard slots, heard over IPC (ready, load-error, recycle), respawned
// when it dies (lib/process/respawns.ts: with back-off while none can load the
// application), replaced when the watchdog's verdicts say so (harakiri, reload-on-rss:
// lib/process/master-verdict.ts), and counted by id, a worker and its successor being one.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Config } from '../config/typed.js';
import type { ToMaster, WorkerSpec } from './worker.js';
import type { RespawnReason } from './metrics.js';
import { judgeWorkers } from './master-verdict.js';
import { Respawns } from './respawns.js';
import type { MasterBoard } from './master-board.js';
import { exitDue, FAILED_APP_CODE, howExited, killAfter, killAfterMercy, stopWorker, type Worker } from './worker-process.js';
import type { MasterSockets } from './master-sockets.js';
import { workerCacheEnv } from './compile-cache.js';
import { logMessage as log } from '../logging/log-format.js';

const WORKER_ENTRY = join(fileURLToPath(import.meta.url), '..', 'worker-main.js');
const FIRST_INHERITED_FD = 4; // stdin, stdout, stderr, ipc, then the sockets

/** What the workers tell their master of. */
export interface WorkersEvents {
  /** No worker could load the application at startup: the master stops. */
  noApplication(): void;
  /** The last worker of a stopping master has exited. */
  allStopped(): void;
}

export class MasterWorkers {
  private readonly workers = new Map<number, Worker>(); // by pid
  /** How many workers the master keeps: --processes, one more on SIGTTIN, one less on SIGTTOU. */
  wanted: number;
  /** The master is stopping: nothing is spawned from now on, and each exit is a stop. */
  stopping = false;
  /** The stop's reason was logged already and no worker serves yet: no line for each worker's end. */
  quietStop = false;
  /** Every worker wanted at start has been ready once: /readyz may say 200. */
  startedAll = false;
  /** The respawns of each worker id, by reason (/metrics). */
  readonly respawns = new Map<number, Map<RespawnReason, number>>();
  private nextId = 1;
  // Once a worker has loaded the application, a load failure is the code on disk gone
  // bad under a running service (a reload, a respawn), no longer a reason to stop.
  private appLoaded = false;
  private readonly respawner = new Respawns((id, respawns, reason) => this.respawn(id, respawns, reason));

  constructor(
    private readonly config: Config,
    private readonly sockets: MasterSockets,
    private readonly board: MasterBoard,
    private readonly events: WorkersEvents,
  ) {
    this.wanted = config.processes;
  }

  /** The workers alive, a stopping one too. */
  values(): IterableIterator<Worker> {
    return this.workers.values();
  }

  get size(): number {
    return this.workers.size;
  }

  /** Whether the worker of this pid is alive. */
  has(pid: number): boolean {
    return this.workers.has(pid);
  }

  /**
   * Spawns a worker; a successor or a respawn keeps its predecessor's id, as in uWSGI,
   * and is counted by the reason it is spawned for.
   */
  spawnWorker(id: number = this.nextId++, respawns = 0, reason?: RespawnReason): Worker | undefined {
    const taken = this.board.take(respawns);
    if (taken === undefined) {
      log('tsgi: no free scoreboard slot for another worker');
      return undefined;
    }
    const { block, slot } = taken;
    const spec: WorkerSpec = {
      id,
      slot,
      slots: this.board.slots,
      scoreboardFd: FIRST_INHERITED_FD + this.sockets.count,
      sockets: this.sockets.inherited(FIRST_INHERITED_FD),
      config: this.config,
      processes: this.wanted,
    };
    const child = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...this.sockets.fds, this.board.fd],
      env: { ...process.env, ...workerCacheEnv(), TSGI_WORKER: JSON.stringify(spec) },
    });
    const w: Worker = {
      id,
      block,
      slot,
      child,
      pid: child.pid ?? -1,
      ready: false,
      stopping: false,
      replaced: false,
      successor: false,
      startedAt: Date.now(),
    };
    this.workers.set(w.pid, w);
    this.board.set(slot, 'pid', w.pid);
    if (reason !== undefined) {
      const counts = this.respawns.get(id) ?? new Map<RespawnReason, number>();
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
      this.respawns.set(id, counts);
    }
    child.on('message', (m: ToMaster) => this.onMessage(w, m));
    // 'close', not 'exit': it comes once the IPC channel is drained too, so the worker's
    // last messages ('ready', 'recycle', 'load-error') are handled before its end is. On
    // 'exit' they may still be in the pipe, and a worker that recycled would count as died.
    child.on('close', (code, signal) => this.onExit(w, code, signal));
    child.on('disconnect', () => exitDue(w, log));
    // Without a listener, an 'error' (a failed kill) would throw in the master.
    child.on('error', (err) => log(`tsgi: worker ${w.id} (pid: ${w.pid}): ${err.message}`));
    return w;
  }

  private onMessage(w: Worker, m: ToMaster): void {
    if (m.type === 'ready') {
      w.ready = true;
      this.appLoaded = true;
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) ready: application ${m.file} callable '${m.callable}' loaded in ${m.millis} msecs, interface ${m.interface}`);
      if (this.readyCount() >= this.wanted) this.startedAll = true;
      this.respawner.ready();
    } else if (m.type === 'load-error') {
      this.onLoadError(w, m.message);
    } else if (m.type === 'recycle') {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) recycling: ${m.reason}`);
      w.stopping = true;
      w.leaving = 'max-requests'; // the one reason a worker recycles itself
      // Its requests in progress get worker-reload-mercy, as on a reload.
      killAfterMercy(w, this.config.workerReloadMercy, log);
      this.replace(w);
    }
  }

  /**
   * At startup (no worker has loaded the application yet), an application that cannot
   * load stops the master with its error, as uWSGI's need-app does, instead of a
   * respawn loop. Later, the running service is worth more than the new code: a chain
   * reload's successor is given up (reload() says why) and the old workers serve on;
   * any other worker (a respawn, a recycled worker's successor) is tried again with
   * back-off by onExit(), which logs the error.
   */
  private onLoadError(w: Worker, message: string): void {
    w.loadError = message;
    if (this.workers.has(w.pid) && w.killTimer === undefined) {
      // It exits by itself once its loop is empty; a module that failed halfway may
      // have left a timer or a socket behind, and then it would never go.
      w.killTimer = killAfter(w, 1000);
    }
    if (!this.appLoaded) {
      // Every worker fails the same way at startup: the first one says why, once, and
      // the others are stopped without a line each.
      if (this.stopping) return;
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) cannot load the application: ${message}`);
      log('tsgi: no application could be loaded: stopping');
      this.events.noApplication();
    } else if (w.successor) {
      w.stopping = true; // its exit is no death
    } else if (!this.workers.has(w.pid)) {
      // Its exit came first: onExit() could not say why.
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) cannot load the application: ${message}`);
    }
  }

  /** Spawns w's successor now, so that the recycled worker's exit leaves no gap. */
  private replace(w: Worker): void {
    if (w.replaced || this.stopping) return;
    w.replaced = true;
    this.spawnWorker(w.id, this.respawnsOf(w) + 1, w.leaving ?? 'died');
  }

  /** How many times w's id was respawned so far (its scoreboard slot's count). */
  respawnsOf(w: Worker): number {
    return this.board.read()[w.slot]?.respawnCount ?? 0;
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const respawns = this.respawnsOf(w);
    this.workers.delete(w.pid);
    clearTimeout(w.killTimer);
    clearTimeout(w.exitTimer);
    this.board.release(w.block);
    const how = howExited(code, signal);
    if (this.stopping) {
      if (!this.quietStop) log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (this.workers.size === 0) this.events.allStopped();
      return;
    }
    if (w.successor && !w.ready) {
      // A chain reload's successor that never became ready: reload() gives up on it and
      // says why, and its predecessor serves on. Only if that one died meanwhile (its own
      // respawn counted on this successor) is there a worker to respawn.
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) exited before it was ready (${how})`);
      this.respawner.failed();
      if (this.liveCount() < this.wanted) this.respawner.later(w.id, respawns, this.respawner.backoff(), 'died');
      return;
    }
    if (w.stopping) {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (!w.replaced && this.liveCount() < this.wanted) this.spawnWorker(w.id, respawns + 1, w.leaving ?? 'died');
      return;
    }
    if (!w.ready) this.respawner.failed();
    // A worker that dies while starting is respawned with back-off: an application
    // that cannot load (a bad deploy under a running service) is tried again, as
    // uWSGI does without need-app, but neither in a busy loop nor at the cost of the
    // workers that still serve.
    const delay = this.respawner.backoff();
    if (w.loadError !== undefined || (code === FAILED_APP_CODE && !w.ready)) {
      const why = w.loadError !== undefined ? `: ${w.loadError}` : ` (${how})`;
      log(`tsgi: OOPS ! worker ${w.id} (pid: ${w.pid}) cannot load the application${why} :( trying again in ${delay} ms ...`);
    } else {
      log(`tsgi: DAMN ! worker ${w.id} (pid: ${w.pid}) died, ${how} :( trying respawn ...`);
    }
    this.respawner.later(w.id, respawns, delay, w.leaving ?? 'died');
  }

  private respawn(id: number, respawns: number, reason: RespawnReason): void {
    if (this.stopping || this.liveCount() >= this.wanted || this.isLive(id)) return;
    const n = this.spawnWorker(id, respawns + 1, reason);
    if (n) log(`tsgi: respawned worker ${n.id} (new pid: ${n.pid})`);
  }

  /**
   * The workers the master keeps, counted by id: a worker and its successor (a chain
   * reload's, a recycle's) are one, and a stopping worker is none.
   */
  private liveCount(): number {
    const ids = new Set<number>();
    for (const w of this.workers.values()) if (!w.stopping) ids.add(w.id);
    return ids.size;
  }

  private isLive(id: number): boolean {
    for (const w of this.workers.values()) if (w.id === id && !w.stopping) return true;
    return false;
  }

  /** The workers ready and not stopping. */
  readyCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.ready && !w.stopping) n++;
    return n;
  }

  /**
   * Harakiri and reload-on-rss, from the scoreboard (the verdicts: lib/process/master-verdict.ts).
   * Only the workers of the moment are judged: a successor spawned here takes a block
   * of slots whose readings in `board`, read before, are its predecessor's.
   */
  watch(): void {
    const limits = { harakiri: this.config.harakiri, rssBytes: this.config.reloadOnRss * 1024 * 1024, threads: this.config.threads };
    if (limits.harakiri === 0 && limits.rssBytes === 0) return;
    const board = this.board.read();
    for (const v of judgeWorkers([...this.workers.values()], board, Date.now(), limits)) {
      const w = v.worker;
      if (v.kind === 'harakiri') {
        const due = v.harakiri;
        const seconds = Math.round(due.ranMs / 100) / 10;
        log(`tsgi: *** HARAKIRI ON WORKER ${w.id} (pid: ${w.pid}) *** busy for ${seconds} s (harakiri ${limits.harakiri})${due.request ? ` on ${due.request}` : ''}`);
        if (this.config.harakiriVerbose) {
          log(`tsgi: HARAKIRI: worker ${w.id} core ${due.core} request "${due.request}" started ${new Date(due.start).toISOString()}, ${seconds} s ago`);
        }
        this.board.set(w.slot, 'harakiriCount', (board[w.slot]?.harakiriCount ?? 0) + 1);
        w.leaving = 'harakiri';
        this.board.clearRequests(w.slot);
        w.child.kill('SIGKILL');
      } else {
        log(`tsgi: worker ${w.id} (pid: ${w.pid}) rss ${Math.round(v.rss / 1048576)} MB over reload-on-rss ${this.config.reloadOnRss} MB: recycling`);
        w.leaving = 'reload-on-rss';
        this.replace(w);
        stopWorker(w, this.config.workerReloadMercy, false, log);
      }
    }
  }

  /** The master ends: nothing more is respawned. */
  clearRespawns(): void {
    this.respawner.clear();
  }
}
