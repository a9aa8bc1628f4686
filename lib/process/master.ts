// The master process (--master, --processes N): it runs no application code. It binds
// every socket, spawns the workers that inherit them, respawns the dead, and never
// closes a listening socket while it lives, so that reloads refuse no connection. It
// reads the workers' scoreboard for harakiri and reload-on-rss. Signals only queue;
// one dispatcher handles them (gunicorn's arbiter).
import { spawn, type ChildProcess } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadBinding, type NativeBinding, type ScoreboardSlot } from '../addon/binding.js';
import { resolveHost, formatAddress } from '../protocol/address.js';
import { listenFailure } from '../backend/sockets.js';
import { socketsOf } from '../config/derived.js';
import type { SocketProtocol } from '../backend/backend.js';
import { applySocketPermissions, parseOwner, parseSocketMode, prepareUnixSocket, removeSocketFile } from '../backend/unix-socket.js';
import { TsgiError } from '../base/errors.js';
import type { Config } from '../config/typed.js';
import type { ToMaster, ToWorker, WorkerSpec } from './worker.js';
import { VERSION } from '../base/package.js';
import { memory, startStatsServer, statsDocument } from './stats.js';
import { metricsText, type RespawnReason } from './metrics.js';
import { harakiriVerdict, rssOver } from './master-verdict.js';
import { dropPrivileges } from '../base/privileges.js';
import { ForwardedTrust } from '../protocol/forwarded.js';
import { ListenQueueWatch, effectiveBacklog } from './listen-queue.js';
import { statSync, watchFile, unwatchFile } from 'node:fs';
import { messageLine } from '../logging/log-format.js';
import { openLogs, watchLogReopen, type LogFiles } from '../logging/log-files.js';

const WORKER_ENTRY = join(fileURLToPath(import.meta.url), '..', 'worker-main.js');
const FIRST_INHERITED_FD = 4; // stdin, stdout, stderr, ipc, then the sockets
const FAILED_APP_CODE = 22; // a worker's exit code when it cannot load the application (lib/process/worker.ts)
const READY_TIMEOUT_MS = 30000; // how long a chain reload waits for a successor

interface Socket {
  fd: number;
  protocol: SocketProtocol;
  port: string;
  shown: string;
  path?: string;
}

interface Worker {
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
}

function log(line: string): void {
  process.stderr.write(messageLine(line));
}

export class Master {
  private readonly binding: NativeBinding;
  private readonly sockets: Socket[] = [];
  private readonly workers = new Map<number, Worker>(); // by pid
  private readonly slotsFree: number[] = []; // free blocks
  private readonly threads: number;
  private scoreboardFd = -1;
  private slots = 0;
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
  private readonly queue: NodeJS.Signals[] = [];
  private queued = false;
  private watchdog?: NodeJS.Timeout;
  private failuresInARow = 0;
  // Once a worker has loaded the application, a load failure is the code on disk gone
  // bad under a running service (a reload, a respawn), no longer a reason to stop.
  private appLoaded = false;
  private readonly pendingRespawns = new Map<number, { timer: NodeJS.Timeout; respawns: number; reason: RespawnReason }>(); // by worker id
  private stats?: { close(): void; shown: string };
  private queues?: ListenQueueWatch;
  private readonly previousRequests = new Map<number, number>();
  private readonly watched: string[] = [];
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
    const mode = v.chmodSocket !== undefined ? parseSocketMode(v.chmodSocket) : undefined;
    const owner = v.chownSocket !== undefined ? parseOwner(v.chownSocket) : undefined;
    // Judged here too, so that a bad list stops the master, not each worker it spawns.
    if (v.forwardedAllowIps !== undefined) ForwardedTrust.parse(v.forwardedAllowIps);
    const backlog = effectiveBacklog(v.listen, log);
    try {
      for (const { address: t, protocol } of socketsOf(v)) {
        if (t.kind === 'unix') {
          await prepareUnixSocket(t.path);
          const fd = this.bind(() => this.binding.bindUnix(t.path, backlog), t.path);
          applySocketPermissions(t.path, mode, owner);
          this.sockets.push({ fd, protocol, port: '', shown: `UNIX address ${t.path}`, path: t.path.startsWith('@') ? undefined : t.path });
        } else {
          const host = await resolveHost(t.host);
          const [fd, address, port] = this.bind(() => this.binding.bindTcp(host, t.port, backlog), formatAddress(host, t.port));
          this.sockets.push({ fd, protocol, port: String(port), shown: `TCP address ${formatAddress(address, port)}` });
        }
      }
      // Slots for every worker that may live at once: the workers, their successors
      // during a reload, and what SIGTTIN may add.
      const blocks = Math.max(8, this.wanted * 2 + 8);
      this.slots = blocks * this.threads;
      this.scoreboardFd = this.binding.scoreboardCreate(this.slots);
      for (let i = blocks - 1; i >= 0; i--) this.slotsFree.push(i);
    } catch (err) {
      this.closeSockets();
      throw err;
    }
    for (const [i, s] of this.sockets.entries()) log(`tsgi: socket ${i} bound to ${s.shown} (${s.protocol}) fd ${s.fd}`);
    this.queues = new ListenQueueWatch(
      this.sockets.map((s) => ({ name: socketName(s), fd: s.fd })),
      (fd) => this.binding.listenQueue(fd),
      log,
    ).start();
    if (v.pidfile !== undefined) writeFileSync(v.pidfile, `${process.pid}\n`);
    if (v.stats !== undefined) {
      try {
        this.stats = await startStatsServer(v.stats, v.statsHttp, {
          json: () => JSON.stringify(this.statsDocument()),
          unhealthy: () => this.unhealthy(),
          notReady: () => this.notReady(),
          metrics: () => this.metrics(),
        });
      } catch (err) {
        this.closeSockets();
        throw new TsgiError('TSGI_ERR_LISTEN', `cannot serve stats on ${v.stats}: ${(err as Error).message}`, { cause: err });
      }
      log(`tsgi: stats server enabled on ${this.stats.shown}${v.statsHttp ? ' (http)' : ''}`);
    }
    const dropped = dropPrivileges(v.uid, v.gid);
    if (dropped) log(`tsgi: privileges dropped to ${dropped}`);
    for (const file of v.touchReload) {
      let last = mtimeOf(file);
      watchFile(file, { interval: 250 }, () => {
        const now = mtimeOf(file);
        if (now !== last) {
          last = now;
          log(`tsgi: ${file} touched: graceful reload`);
          void this.reload();
        }
      });
      this.watched.push(file);
    }
    watchLogReopen(v.touchLogreopen, (file) => this.reopenLogs(`${file} touched`));
    log(`tsgi: master process (pid: ${process.pid}) spawning ${this.wanted} worker${this.wanted === 1 ? '' : 's'} (tsgi ${VERSION})`);
    this.listenSignals();
    for (let i = 0; i < this.wanted; i++) this.spawnWorker();
    this.watchdog = setInterval(() => this.watch(), 500);
    this.watchdog.unref();
  }

  private bind<T>(fn: () => T, shown: string): T {
    try {
      return fn();
    } catch (err) {
      throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${shown}: ${listenFailure(err)}`, { cause: err });
    }
  }

  /**
   * Spawns a worker; a successor or a respawn keeps its predecessor's id, as in uWSGI,
   * and is counted by the reason it is spawned for.
   */
  private spawnWorker(id: number = this.nextId++, respawns = 0, reason?: RespawnReason): Worker | undefined {
    const block = this.slotsFree.pop();
    if (block === undefined) {
      log('tsgi: no free scoreboard slot for another worker');
      return undefined;
    }
    const slot = block * this.threads;
    const spec: WorkerSpec = {
      id,
      slot,
      slots: this.slots,
      scoreboardFd: FIRST_INHERITED_FD + this.sockets.length,
      sockets: this.sockets.map((s, i) => ({ fd: FIRST_INHERITED_FD + i, protocol: s.protocol, port: s.port })),
      config: this.config,
      processes: this.wanted,
    };
    // What the slot's previous process left: nothing of it may be taken for this one's.
    for (let core = 0; core < this.threads; core++) this.binding.scoreboardReset(slot + core);
    this.binding.scoreboardSet(slot, 'respawnCount', respawns);
    this.binding.scoreboardSet(slot, 'lastSpawn', Math.floor(Date.now() / 1000));
    const child = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...this.sockets.map((s) => s.fd), this.scoreboardFd],
      env: { ...process.env, TSGI_WORKER: JSON.stringify(spec) },
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
    this.binding.scoreboardSet(slot, 'pid', w.pid);
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
      this.failuresInARow = 0;
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) ready: application ${m.file} callable '${m.callable}' loaded in ${m.millis} msecs, interface ${m.interface}`);
      if (this.readyCount() >= this.wanted) this.startedAll = true;
      this.respawnPendingNow();
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
    return this.binding.scoreboardRead()[w.slot]?.respawnCount ?? 0;
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const respawns = this.respawnsOf(w);
    this.workers.delete(w.pid);
    clearTimeout(w.killTimer);
    for (let core = 0; core < this.threads; core++) {
      for (const field of ['pid', 'requestStart', 'status', 'rss', 'rssPid'] as const) this.binding.scoreboardSet(w.slot + core, field, 0);
    }
    this.slotsFree.push(w.block);
    const how = signal ? `killed by signal ${signal}` : `exit code ${code}`;
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
      this.failuresInARow++;
      if (this.liveCount() < this.wanted) this.respawnLater(w.id, respawns, this.backoff(), 'died');
      return;
    }
    if (w.stopping) {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (!w.replaced && this.liveCount() < this.wanted) this.spawnWorker(w.id, respawns + 1, w.leaving ?? 'died');
      return;
    }
    if (!w.ready) this.failuresInARow++;
    // A worker that dies while starting is respawned with back-off: an application
    // that cannot load (a bad deploy under a running service) is tried again, as
    // uWSGI does without need-app, but neither in a busy loop nor at the cost of the
    // workers that still serve.
    const delay = this.backoff();
    if (w.loadError !== undefined || (code === FAILED_APP_CODE && !w.ready)) {
      const why = w.loadError !== undefined ? `: ${w.loadError}` : ` (${how})`;
      log(`tsgi: OOPS ! worker ${w.id} (pid: ${w.pid}) cannot load the application${why} :( trying again in ${delay} ms ...`);
    } else {
      log(`tsgi: DAMN ! worker ${w.id} (pid: ${w.pid}) died, ${how} :( trying respawn ...`);
    }
    this.respawnLater(w.id, respawns, delay, w.leaving ?? 'died');
  }

  /** The wait before the next respawn: none after a worker that was ready, then 125 ms doubling to 8 s. */
  private backoff(): number {
    return this.failuresInARow === 0 ? 0 : Math.min(8000, 125 * 2 ** Math.min(6, this.failuresInARow - 1));
  }

  private respawnLater(id: number, respawns: number, delay: number, reason: RespawnReason): void {
    if (this.pendingRespawns.has(id)) return;
    const timer = setTimeout(() => {
      this.pendingRespawns.delete(id);
      this.respawn(id, respawns, reason);
    }, delay);
    this.pendingRespawns.set(id, { timer, respawns, reason });
  }

  private respawn(id: number, respawns: number, reason: RespawnReason): void {
    if (this.stopping || this.liveCount() >= this.wanted || this.isLive(id)) return;
    const n = this.spawnWorker(id, respawns + 1, reason);
    if (n) log(`tsgi: respawned worker ${n.id} (new pid: ${n.pid})`);
  }

  /**
   * A worker loaded the application: the respawns waiting out a back-off (the
   * application could not load a moment ago) need not wait any longer, so that fixing
   * the code and reloading brings every worker back at once.
   */
  private respawnPendingNow(): void {
    for (const [id, p] of this.pendingRespawns) {
      clearTimeout(p.timer);
      this.pendingRespawns.delete(id);
      this.respawn(id, p.respawns, p.reason);
    }
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

  /** Asks w to stop gracefully; kills it after the mercy. last: the master is stopping. */
  private stopWorker(w: Worker, mercySeconds: number, last = false): void {
    if (w.stopping && w.killTimer) return;
    w.stopping = true;
    const message: ToWorker = { type: 'stop', last };
    // A worker on its way out (recycling, or a load that failed) may close its channel
    // between the check and the write: then SIGTERM says the same.
    if (w.child.connected) {
      w.child.send(message, (err) => {
        if (err) w.child.kill('SIGTERM');
      });
    } else {
      w.child.kill('SIGTERM');
    }
    clearTimeout(w.killTimer);
    w.killTimer = setTimeout(() => {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) still busy after ${mercySeconds} s of mercy: killing it`);
      w.child.kill('SIGKILL');
    }, mercySeconds * 1000);
    w.killTimer.unref();
  }

  /**
   * Harakiri and reload-on-rss, from the scoreboard (the verdicts: lib/process/master-verdict.ts).
   * Only the workers of the moment are judged: a successor spawned here takes a block
   * of slots whose readings in `board`, read before, are its predecessor's.
   */
  private watch(): void {
    const harakiri = this.config.harakiri;
    const rssLimit = this.config.reloadOnRss * 1024 * 1024;
    if (harakiri === 0 && rssLimit === 0) return;
    const board = this.binding.scoreboardRead();
    const now = Date.now();
    for (const w of [...this.workers.values()]) {
      const cores = board.slice(w.slot, w.slot + this.threads);
      const s = cores[0];
      if (s === undefined) continue;
      const due = harakiriVerdict(cores, now, harakiri);
      if (due !== undefined) {
        const seconds = Math.round(due.ranMs / 100) / 10;
        log(`tsgi: *** HARAKIRI ON WORKER ${w.id} (pid: ${w.pid}) *** busy for ${seconds} s (harakiri ${harakiri})${due.request ? ` on ${due.request}` : ''}`);
        if (this.config.harakiriVerbose) {
          log(`tsgi: HARAKIRI: worker ${w.id} core ${due.core} request "${due.request}" started ${new Date(due.start).toISOString()}, ${seconds} s ago`);
        }
        this.binding.scoreboardSet(w.slot, 'harakiriCount', s.harakiriCount + 1);
        w.leaving = 'harakiri';
        for (let core = 0; core < this.threads; core++) this.binding.scoreboardSet(w.slot + core, 'requestStart', 0);
        w.child.kill('SIGKILL');
      } else if (w.ready && !w.stopping && rssOver(s, w.pid, rssLimit)) {
        log(`tsgi: worker ${w.id} (pid: ${w.pid}) rss ${Math.round(s.rss / 1048576)} MB over reload-on-rss ${this.config.reloadOnRss} MB: recycling`);
        w.leaving = 'reload-on-rss';
        this.replace(w);
        this.stopWorker(w, this.config.workerReloadMercy);
      }
    }
  }

  private listenSignals(): void {
    const signals: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU', 'SIGUSR2'];
    for (const s of signals) {
      process.on(s, () => {
        this.queue.push(s);
        if (!this.queued) {
          this.queued = true;
          setImmediate(() => this.dispatch());
        }
      });
    }
  }

  private dispatch(): void {
    this.queued = false;
    while (this.queue.length > 0) {
      const s = this.queue.shift()!;
      if (s === 'SIGHUP') void this.reload();
      else if (s === 'SIGTERM') this.drain();
      else if (s === 'SIGINT') void this.stop(true, 0);
      else if (s === 'SIGQUIT') void this.stop(false, 0);
      else if (s === 'SIGUSR1') this.printStats();
      else if (s === 'SIGTTIN') this.addWorker();
      else if (s === 'SIGTTOU') this.removeWorker();
      else if (s === 'SIGUSR2') this.reopenLogs('SIGUSR2');
    }
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
      const outcome = await this.waitReady(n, READY_TIMEOUT_MS);
      if (outcome === 'stopping') break;
      if (outcome !== 'ready') {
        w.replaced = false; // it serves on, and is respawned or recycled as any worker
        this.giveUp(n, outcome);
        completed = false;
        break;
      }
      if (this.workers.has(w.pid)) this.stopWorker(w, this.config.workerReloadMercy);
    }
    this.reloading = false;
    if (completed) log('tsgi: chain reload done');
  }

  /** Ends a successor that will not become ready, and says why the reload stops. */
  private giveUp(n: Worker, outcome: 'load-error' | 'died' | 'timeout'): void {
    let why: string;
    if (outcome === 'load-error') {
      why = `the application failed to load; the old workers keep serving: ${n.loadError ?? `worker ${n.id} (pid: ${n.pid}) exited with code ${FAILED_APP_CODE}`}`;
    } else if (outcome === 'died') {
      const how = n.child.signalCode ? `killed by signal ${n.child.signalCode}` : `exit code ${n.child.exitCode}`;
      why = `worker ${n.id} (pid: ${n.pid}) died before it was ready (${how}); the old workers keep serving`;
    } else {
      why = `worker ${n.id} (pid: ${n.pid}) was not ready within ${READY_TIMEOUT_MS / 1000} s; the old workers keep serving`;
    }
    if (outcome === 'timeout') {
      n.stopping = true;
      n.child.kill('SIGKILL'); // it accepts nothing before it is ready: no request is lost
    }
    log(`tsgi: reload aborted: ${why}`);
  }

  /**
   * Waits until w is ready, cannot load the application, died, or timeoutMs passed.
   * A worker that cannot load says why over IPC and then exits; should its exit be
   * seen first, its message is given a moment to arrive.
   */
  private waitReady(w: Worker, timeoutMs: number): Promise<'ready' | 'load-error' | 'died' | 'timeout' | 'stopping'> {
    return new Promise((resolve) => {
      const started = Date.now();
      let exitedAt = 0;
      const check = () => {
        if (w.ready) return resolve('ready');
        if (this.stopping) return resolve('stopping');
        if (w.loadError !== undefined) return resolve('load-error');
        if (!this.workers.has(w.pid)) {
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
    if (w) this.stopWorker(w, this.config.workerReloadMercy);
  }

  /** The stats server's document, from the scoreboard. */
  statsDocument(): Record<string, unknown> {
    const board = this.binding.scoreboardRead();
    return statsDocument({
      version: VERSION,
      sockets: this.socketStats(),
      workers: [...this.workers.values()].map((w) => ({ id: w.id, pid: w.pid, cores: board.slice(w.slot, w.slot + this.threads), stopping: w.stopping })),
      previous: this.previousRequests,
    });
  }

  private printStats(): void {
    const board = this.binding.scoreboardRead();
    log(`tsgi: stats: master pid ${process.pid}, ${this.workers.size} workers, listen_queue_errors ${this.queues?.overflows ?? 0}`);
    for (const w of this.workers.values()) {
      const cores = board.slice(w.slot, w.slot + this.threads);
      const s = cores[0]!;
      const sum = (f: 'requests' | 'exceptions' | 'tx' | 'acceptErrors') => cores.reduce((n, c) => n + c[f], 0);
      const busy = cores.some((c) => c.requestStart > 0);
      log(
        `tsgi: worker ${w.id} pid ${w.pid} requests ${sum('requests')} exceptions ${sum('exceptions')} tx ${sum('tx')} avg_rt ${s.avgRt} us rss ${Math.round(s.rss / 1048576)} MB ${busy ? 'busy' : 'idle'} respawns ${s.respawnCount} harakiri ${s.harakiriCount} accept_errors ${sum('acceptErrors')}`,
      );
    }
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
    if (graceful) this.closeListeningSockets();
    if (this.workers.size === 0) return this.finish();
    for (const w of this.workers.values()) {
      if (graceful) this.stopWorker(w, mercy, true);
      else w.child.kill('SIGKILL');
    }
  }

  /**
   * SIGUSR2 and --touch-logreopen: the master reopens its log file, and each ready
   * worker is told to reopen its own (a worker still starting opens them after).
   */
  private reopenLogs(why: string): void {
    try {
      this.logs.reopen();
      log(`tsgi: ${why}: log files reopened`);
    } catch (err) {
      log(`tsgi: ${why}: ${(err as Error).message}`);
    }
    for (const w of this.workers.values()) {
      if (w.ready && !w.stopping) w.child.kill('SIGUSR2');
    }
  }

  private exitCode = 0;

  private finish(): void {
    clearInterval(this.watchdog);
    for (const p of this.pendingRespawns.values()) clearTimeout(p.timer);
    this.pendingRespawns.clear();
    for (const file of this.watched) unwatchFile(file);
    this.stats?.close();
    this.closeSockets();
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

  private closeSockets(): void {
    this.closeListeningSockets();
    for (const s of this.sockets) if (s.path && this.config.vacuum) removeSocketFile(s.path);
    this.sockets.length = 0;
  }

  /** Closes the master's descriptors of the sockets (the files stay until closeSockets()). */
  private closeListeningSockets(): void {
    this.queues?.stop();
    for (const s of this.sockets) {
      if (s.fd >= 0) this.binding.closeFd(s.fd);
      s.fd = -1;
    }
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

  /** GET /healthz: the master lives (it answers), and so does a worker. */
  private unhealthy(): string | undefined {
    return this.workers.size > 0 ? undefined : 'no worker alive';
  }

  /** GET /readyz: every worker has loaded the application once, one is ready now, and no stop has begun. */
  private notReady(): string | undefined {
    if (this.draining) return 'draining (SIGTERM)';
    if (this.stopping) return 'stopping';
    const ready = this.readyCount();
    if (!this.startedAll) return `starting: ${ready} of ${this.wanted} workers ready`;
    if (ready === 0) return 'no worker ready';
    return undefined;
  }

  /** GET /metrics. */
  private metrics(): string {
    const board = this.binding.scoreboardRead();
    // A worker and its successor (a reload's, a recycle's) share an id: one series.
    const byId = new Map<number, { id: number; cores: ScoreboardSlot[]; rss: number }>();
    for (const w of this.workers.values()) {
      const cores = board.slice(w.slot, w.slot + this.threads);
      const m = byId.get(w.id) ?? { id: w.id, cores: [], rss: 0 };
      m.cores.push(...cores);
      m.rss += memory(w.pid).rss || (cores[0]?.rss ?? 0);
      byId.set(w.id, m);
    }
    return metricsText({
      workers: [...byId.values()],
      sockets: this.socketStats(),
      respawns: this.respawns,
    });
  }

  /** Each socket's queue now, the backlog the kernel gave it, and how often it was found full. */
  private socketStats(): Array<{ name: string; proto: string; queue: number; maxQueue: number; queueFull: number }> {
    return this.sockets.map((s, i) => {
      const q = this.queues?.sockets[i];
      const now = s.fd >= 0 ? this.binding.listenQueue(s.fd) : undefined;
      return {
        name: socketName(s),
        proto: s.protocol,
        queue: now?.length ?? 0,
        maxQueue: now?.backlog ?? q?.backlog ?? 0,
        queueFull: q?.overflows ?? 0,
      };
    });
  }
}

export async function runMaster(config: Config): Promise<number> {
  const master = new Master(config);
  await master.start();
  return master.exited;
}

/** A socket as the stats document and the queue's log line name it: "127.0.0.1:9090". */
function socketName(s: Socket): string {
  return s.shown.replace(/^(TCP|UNIX) address /, '');
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
