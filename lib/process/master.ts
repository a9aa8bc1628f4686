// The master process (--master, --processes N): it runs no application code. It binds
// every socket, spawns the workers that inherit them, respawns the dead, and never
// closes a listening socket while it lives, so that reloads refuse no connection. It
// reads the workers' scoreboard for harakiri and reload-on-rss. Signals only queue;
// one dispatcher handles them (gunicorn's arbiter).
import { spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadBinding, type NativeBinding } from '../addon/binding.js';
import { TsgiError } from '../base/errors.js';
import type { Config } from '../config/typed.js';
import type { ToMaster, WorkerSpec } from './worker.js';
import { VERSION } from '../base/package.js';
import { startStatsServer, statsDocument } from './stats.js';
import { metricsWorkers, readyzFailure, workerStatsLines } from './master-report.js';
import { metricsText, type RespawnReason } from './metrics.js';
import { judgeWorkers } from './master-verdict.js';
import { SignalQueue } from './signals.js';
import { Respawns } from './respawns.js';
import { MasterBoard } from './master-board.js';
import { exitOf, FAILED_APP_CODE, howExited, notReadyReason, stopWorker, waitReady, type Worker } from './worker-process.js';
import { MasterSockets } from './master-sockets.js';
import { workerCacheEnv } from './compile-cache.js';
import { dropPrivileges } from '../base/privileges.js';
import { ForwardedTrust } from '../protocol/forwarded.js';
import { logMessage as log } from '../logging/log-format.js';
import { openLogs, type LogFiles } from '../logging/log-files.js';
import { watchTouch } from '../base/touch.js';

const WORKER_ENTRY = join(fileURLToPath(import.meta.url), '..', 'worker-main.js');
const FIRST_INHERITED_FD = 4; // stdin, stdout, stderr, ipc, then the sockets
const READY_TIMEOUT_MS = 30000; // how long a chain reload waits for a successor

export class Master {
  private readonly binding: NativeBinding;
  private sockets!: MasterSockets;
  private readonly workers = new Map<number, Worker>(); // by pid
  private readonly threads: number;
  private board!: MasterBoard;
  private wanted: number;
  private nextId = 1;
  private stopping = false;
  private quietStop = false;
  private reloading = false;
  // SIGTERM with --shutdown-delay: /readyz says 503 while the workers serve on, until
  // the delay is out and the graceful stop begins.
  private draining = false;
  private drainTimer?: NodeJS.Timeout;
  // Every worker wanted at start has been ready once: /readyz may say 200.
  private startedAll = false;
  private readonly respawns = new Map<number, Map<RespawnReason, number>>(); // by worker id
  private watchdog?: NodeJS.Timeout;
  // Once a worker has loaded the application, a load failure is the code on disk gone
  // bad under a running service (a reload, a respawn), no longer a reason to stop.
  private appLoaded = false;
  private readonly respawner = new Respawns((id, respawns, reason) => this.respawn(id, respawns, reason));
  private stats?: { close(): void; shown: string };
  private readonly previousRequests = new Map<number, number>();
  private readonly unwatch: (() => void)[] = [];
  private readonly logs: LogFiles;
  private resolveExit!: (code: number) => void;
  readonly exited: Promise<number>;

  constructor(private readonly config: Config) {
    this.binding = loadBinding();
    this.logs = openLogs(config, () => this.binding, { all: false, requests: false }); // cli.ts opened --logto
    this.wanted = config.processes;
    this.threads = config.threads;
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Binds every socket (before any worker exists), then spawns the workers. */
  async start(): Promise<void> {
    const v = this.config;
    // Judged here too, so that a bad list stops the master, not each worker it spawns.
    if (v.forwardedAllowIps !== undefined) ForwardedTrust.parse(v.forwardedAllowIps);
    this.sockets = await MasterSockets.bind(v, this.binding, log);
    try {
      this.board = new MasterBoard(this.binding, this.wanted, this.threads);
    } catch (err) {
      this.sockets.close(this.config.vacuum);
      throw err;
    }
    this.sockets.announce();
    if (v.pidfile !== undefined) writeFileSync(v.pidfile, `${process.pid}\n`);
    if (v.stats !== undefined) {
      try {
        this.stats = await startStatsServer(v.stats, v.statsHttp, {
          json: () => JSON.stringify(this.statsDocument()),
          unhealthy: () => (this.workers.size > 0 ? undefined : 'no worker alive'),
          notReady: () => readyzFailure({ draining: this.draining, stopping: this.stopping, startedAll: this.startedAll, wanted: this.wanted, ready: this.readyCount() }),
          metrics: () => this.metrics(),
        });
      } catch (err) {
        this.sockets.close(this.config.vacuum);
        throw new TsgiError('TSGI_ERR_LISTEN', `cannot serve stats on ${v.stats}: ${(err as Error).message}`, { cause: err });
      }
      log(`tsgi: stats server enabled on ${this.stats.shown}${v.statsHttp ? ' (http)' : ''}`);
    }
    const dropped = dropPrivileges(v.uid, v.gid);
    if (dropped) log(`tsgi: privileges dropped to ${dropped}`);
    this.unwatch.push(
      watchTouch(v.touchReload, (file) => {
        log(`tsgi: ${file} touched: graceful reload`);
        void this.reload();
      }),
    );
    this.unwatch.push(watchTouch(v.touchLogreopen, (file) => this.reopenLogs(`${file} touched`)));
    log(`tsgi: master process (pid: ${process.pid}) spawning ${this.wanted} worker${this.wanted === 1 ? '' : 's'} (tsgi ${VERSION})`);
    new SignalQueue((signal) => this.dispatch(signal)).listen(['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU', 'SIGUSR2']);
    for (let i = 0; i < this.wanted; i++) this.spawnWorker();
    this.watchdog = setInterval(() => this.watch(), 500);
    this.watchdog.unref();
  }

  /**
   * Spawns a worker; a successor or a respawn keeps its predecessor's id, as in uWSGI,
   * and is counted by the reason it is spawned for.
   */
  private spawnWorker(id: number = this.nextId++, respawns = 0, reason?: RespawnReason): Worker | undefined {
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
      w.killTimer = setTimeout(() => w.child.kill('SIGKILL'), 1000);
      w.killTimer.unref();
    }
    if (!this.appLoaded) {
      // Every worker fails the same way at startup: the first one says why, once, and
      // the others are stopped without a line each.
      if (this.stopping) return;
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) cannot load the application: ${message}`);
      log('tsgi: no application could be loaded: stopping');
      void this.stop(true, 1, true);
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

  private respawnsOf(w: Worker): number {
    return this.board.read()[w.slot]?.respawnCount ?? 0;
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const respawns = this.respawnsOf(w);
    this.workers.delete(w.pid);
    clearTimeout(w.killTimer);
    this.board.release(w.block);
    const how = howExited(code, signal);
    if (this.stopping) {
      if (!this.quietStop) log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (this.workers.size === 0) this.finish();
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

  /**
   * Harakiri and reload-on-rss, from the scoreboard (the verdicts: lib/process/master-verdict.ts).
   * Only the workers of the moment are judged: a successor spawned here takes a block
   * of slots whose readings in `board`, read before, are its predecessor's.
   */
  private watch(): void {
    const limits = { harakiri: this.config.harakiri, rssBytes: this.config.reloadOnRss * 1024 * 1024, threads: this.threads };
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

  /** One queued signal (lib/process/signals.ts), as uWSGI's master takes it. */
  private dispatch(s: NodeJS.Signals): void {
    if (s === 'SIGHUP') void this.reload();
    else if (s === 'SIGTERM') this.drain();
    else if (s === 'SIGINT') void this.stop(true, 0);
    else if (s === 'SIGQUIT') void this.stop(false, 0);
    else if (s === 'SIGUSR1') this.printStats();
    else if (s === 'SIGTTIN') this.addWorker();
    else if (s === 'SIGTTOU') this.removeWorker();
    else if (s === 'SIGUSR2') this.reopenLogs('SIGUSR2');
  }

  /**
   * SIGHUP (and --touch-reload, --py-autoreload): a chain reload, one worker after
   * another; the sockets stay open. Each old worker stops only once its successor is
   * ready, so a successor that cannot load the application costs nothing: the reload
   * stops there, the old workers serve on, and the next trigger tries again.
   */
  async reload(): Promise<void> {
    if (this.reloading || this.stopping || this.draining) return;
    this.reloading = true;
    log('tsgi: SIGHUP: graceful chain reload of the workers');
    const old = [...this.workers.values()].filter((w) => !w.stopping);
    const stopped: Worker[] = [];
    let completed = true;
    for (const w of old) {
      if (this.stopping) break;
      if (!this.workers.has(w.pid)) continue; // died meanwhile: its respawn loads the new code
      // Stopping meanwhile (SIGTTOU, recycled by max-requests or reload-on-rss): it needs
      // no successor from here, it has one already or is not wanted.
      if (w.stopping || w.replaced) continue;
      w.replaced = true;
      const n = this.spawnWorker(w.id, this.respawnsOf(w) + 1, 'reload');
      if (n === undefined) {
        w.replaced = false;
        log('tsgi: reload aborted: no scoreboard slot is free for a new worker; the old workers keep serving');
        completed = false;
        break;
      }
      n.successor = true;
      // The successor takes connections before its predecessor stops.
      const outcome = await waitReady(n, READY_TIMEOUT_MS, () => !this.workers.has(n.pid), () => this.stopping);
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
      if (this.workers.has(w.pid)) {
        stopWorker(w, this.config.workerReloadMercy, false, log);
        stopped.push(w);
      }
    }
    this.reloading = false;
    if (!completed) return;
    // Done when the old workers are gone, not when they were asked to go: they finish
    // their requests first (within worker-reload-mercy). A SIGHUP meanwhile starts a new
    // reload of the new workers.
    await Promise.all(stopped.map(exitOf));
    if (!this.stopping) log('tsgi: chain reload done');
  }

  private addWorker(): void {
    this.wanted++;
    log(`tsgi: SIGTTIN: one more worker (${this.wanted})`);
    this.spawnWorker();
  }

  private removeWorker(): void {
    if (this.wanted <= 1) {
      log('tsgi: SIGTTOU: one worker is the least');
      return;
    }
    this.wanted--;
    const w = [...this.workers.values()].filter((x) => !x.stopping).sort((a, b) => b.id - a.id)[0];
    log(`tsgi: SIGTTOU: one worker less (${this.wanted})`);
    if (w) stopWorker(w, this.config.workerReloadMercy, false, log);
  }

  /** The stats server's document, from the scoreboard. */
  statsDocument(): Record<string, unknown> {
    const board = this.board.read();
    return statsDocument({
      version: VERSION,
      sockets: this.sockets.stats(),
      workers: [...this.workers.values()].map((w) => ({ id: w.id, pid: w.pid, cores: board.slice(w.slot, w.slot + this.threads), stopping: w.stopping })),
      previous: this.previousRequests,
    });
  }

  private printStats(): void {
    log(`tsgi: stats: master pid ${process.pid}, ${this.workers.size} workers, listen_queue_errors ${this.sockets.overflows}`);
    for (const line of workerStatsLines(this.workers.values(), this.board.read(), this.threads)) log(line);
  }

  /**
   * Graceful (SIGTERM, SIGINT) or at once (SIGQUIT, a fatal error). quiet: the reason was
   * logged already and no worker serves yet, so neither the stop nor each worker's end is.
   */
  async stop(graceful: boolean, code: number, quiet = false): Promise<void> {
    if (this.stopping) {
      if (!graceful) for (const w of this.workers.values()) w.child.kill('SIGKILL');
      return;
    }
    this.stopping = true;
    this.quietStop = quiet;
    this.draining = false;
    clearTimeout(this.drainTimer);
    this.exitCode = code;
    const mercy = this.config.reloadMercy;
    if (!quiet) log(graceful ? `tsgi: stopping gracefully: the sockets close, requests in progress finish (reload-mercy ${mercy} s)` : 'tsgi: stopping now');
    // The sockets close now, here and in every worker (each accepts what is waiting
    // first): a load balancer's new connection is refused at once instead of waiting in
    // a backlog that nobody will accept from.
    if (graceful) this.sockets.closeListening();
    if (this.workers.size === 0) return this.finish();
    for (const w of this.workers.values()) {
      if (graceful) stopWorker(w, mercy, true, log);
      else w.child.kill('SIGKILL');
    }
  }

  /**
   * SIGUSR2 and --touch-logreopen: the master reopens its log file, and each ready
   * worker is told to reopen its own (a worker still starting opens them after).
   */
  private reopenLogs(why: string): void {
    this.logs.reopen(why, log);
    for (const w of this.workers.values()) {
      if (w.ready && !w.stopping) w.child.kill('SIGUSR2');
    }
  }

  private exitCode = 0;

  private finish(): void {
    clearInterval(this.watchdog);
    this.respawner.clear();
    for (const stop of this.unwatch) stop();
    this.stats?.close();
    this.sockets.close(this.config.vacuum);
    if (this.config.pidfile !== undefined && this.config.vacuum) {
      try {
        unlinkSync(this.config.pidfile);
      } catch {
        // gone already
      }
    }
    log('tsgi: goodbye');
    this.resolveExit(this.exitCode);
  }

  /**
   * SIGTERM: with --shutdown-delay, /readyz turns 503 at once and the workers serve on
   * for the delay (a load balancer takes the time to see it and send no more), then
   * the graceful stop. A second SIGTERM ends the delay.
   */
  private drain(): void {
    const delay = this.config.shutdownDelay;
    if (this.stopping) return;
    if (delay === 0 || this.draining) {
      void this.stop(true, 0);
      return;
    }
    this.draining = true;
    log(`tsgi: SIGTERM received: draining for ${delay} s (readyz 503)`);
    this.drainTimer = setTimeout(() => void this.stop(true, 0), delay * 1000);
  }

  private readyCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (w.ready && !w.stopping) n++;
    return n;
  }

  /** GET /metrics. */
  private metrics(): string {
    return metricsText({
      workers: metricsWorkers(this.workers.values(), this.board.read(), this.threads),
      sockets: this.sockets.stats(),
      respawns: this.respawns,
    });
  }
}
