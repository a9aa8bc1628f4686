// The master process (--master, --processes N): it runs no application code. It binds
// every socket, spawns the workers that inherit them, respawns the dead, and never
// closes a listening socket while it lives, so that reloads refuse no connection. It
// reads the workers' scoreboard for harakiri and reload-on-rss. Signals only queue;
// one dispatcher handles them (gunicorn's arbiter). The workers themselves, their
// spawns, exits and respawns, are lib/process/master-workers.ts's; the chain reload's
// order is lib/process/master-reload.ts's.
import { unlinkSync, writeFileSync } from 'node:fs';
import { loadBinding, type NativeBinding } from '../addon/binding.js';
import { TsgiError } from '../base/errors.js';
import type { Config } from '../config/typed.js';
import { VERSION } from '../base/package.js';
import { startStatsServer, statsDocument } from './stats.js';
import { metricsWorkers, readyzFailure, workerStatsLines } from './master-report.js';
import { metricsText } from './metrics.js';
import { SignalQueue } from './signals.js';
import { MasterBoard } from './master-board.js';
import { stopWorker } from './worker-process.js';
import { MasterSockets } from './master-sockets.js';
import { MasterWorkers } from './master-workers.js';
import { ChainReload } from './master-reload.js';
import { dropPrivileges } from '../base/privileges.js';
import { ForwardedTrust } from '../protocol/forwarded.js';
import { logMessage as log } from '../logging/log-format.js';
import { openLogs, type LogFiles } from '../logging/log-files.js';
import { watchTouch } from '../base/touch.js';

export class Master {
  private readonly binding: NativeBinding;
  private sockets!: MasterSockets;
  private workers!: MasterWorkers;
  private chainReload!: ChainReload;
  private readonly threads: number;
  private board!: MasterBoard;
  // SIGTERM with --shutdown-delay: /readyz says 503 while the workers serve on, until
  // the delay is out and the graceful stop begins.
  private draining = false;
  private drainTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private stats?: { close(): void; shown: string };
  private readonly previousRequests = new Map<number, number>();
  private readonly unwatch: (() => void)[] = [];
  private readonly logs: LogFiles;
  private resolveExit!: (code: number) => void;
  readonly exited: Promise<number>;

  constructor(private readonly config: Config) {
    this.binding = loadBinding();
    this.logs = openLogs(config, () => this.binding, { all: false, requests: false }); // cli.ts opened --logto
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
      this.board = new MasterBoard(this.binding, v.processes, this.threads);
    } catch (err) {
      this.sockets.close(this.config.vacuum);
      throw err;
    }
    this.workers = new MasterWorkers(v, this.sockets, this.board, {
      noApplication: () => void this.stop(true, 1, true),
      allStopped: () => this.finish(),
    });
    this.chainReload = new ChainReload(this.workers, v.workerReloadMercy);
    this.sockets.announce();
    if (v.pidfile !== undefined) writeFileSync(v.pidfile, `${process.pid}\n`);
    if (v.stats !== undefined) {
      try {
        this.stats = await startStatsServer(v.stats, v.statsHttp, {
          json: () => JSON.stringify(this.statsDocument()),
          unhealthy: () => (this.workers.size > 0 ? undefined : 'no worker alive'),
          notReady: () => readyzFailure({ draining: this.draining, stopping: this.workers.stopping, startedAll: this.workers.startedAll, wanted: this.workers.wanted, ready: this.workers.readyCount() }),
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
    log(`tsgi: master process (pid: ${process.pid}) spawning ${this.workers.wanted} worker${this.workers.wanted === 1 ? '' : 's'} (tsgi ${VERSION})`);
    new SignalQueue((signal) => this.dispatch(signal)).listen(['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU', 'SIGUSR2']);
    for (let i = 0; i < this.workers.wanted; i++) this.workers.spawnWorker();
    this.watchdog = setInterval(() => this.workers.watch(), 500);
    this.watchdog.unref();
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
    if (!this.draining) await this.chainReload.run();
  }

  private addWorker(): void {
    this.workers.wanted++;
    log(`tsgi: SIGTTIN: one more worker (${this.workers.wanted})`);
    this.workers.spawnWorker();
  }

  private removeWorker(): void {
    if (this.workers.wanted <= 1) {
      log('tsgi: SIGTTOU: one worker is the least');
      return;
    }
    this.workers.wanted--;
    const w = [...this.workers.values()].filter((x) => !x.stopping).sort((a, b) => b.id - a.id)[0];
    log(`tsgi: SIGTTOU: one worker less (${this.workers.wanted})`);
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
    if (this.workers.stopping) {
      if (!graceful) for (const w of this.workers.values()) w.child.kill('SIGKILL');
      return;
    }
    this.workers.stopping = true;
    this.workers.quietStop = quiet;
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
    this.workers.clearRespawns();
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
    if (this.workers.stopping) return;
    if (delay === 0 || this.draining) {
      void this.stop(true, 0);
      return;
    }
    this.draining = true;
    log(`tsgi: SIGTERM received: draining for ${delay} s (readyz 503)`);
    this.drainTimer = setTimeout(() => void this.stop(true, 0), delay * 1000);
  }

  /** GET /metrics. */
  private metrics(): string {
    return metricsText({
      workers: metricsWorkers(this.workers.values(), this.board.read(), this.threads),
      sockets: this.sockets.stats(),
      respawns: this.workers.respawns,
    });
  }
}
