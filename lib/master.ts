// The master process (--master, --processes N): it runs no application code. It binds
// every socket, spawns the workers that inherit them, respawns the dead, and never
// closes a listening socket while it lives, so that reloads refuse no connection. It
// reads the workers' scoreboard for harakiri and reload-on-rss. Signals only queue;
// one dispatcher handles them (gunicorn's arbiter).
import { spawn, type ChildProcess } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadBinding, type NativeBinding } from './native-binding.js';
import { resolveHost, formatAddress } from './address.js';
import { listenFailure, socketsOf, type SocketProtocol } from './serve.js';
import { applySocketPermissions, parseOwner, parseSocketMode, prepareUnixSocket, removeSocketFile } from './unix-socket.js';
import { TsgiError } from './errors.js';
import type { OptionValues } from './options.js';
import type { ToMaster, ToWorker, WorkerSpec } from './worker.js';
import { VERSION } from './version.js';
import { startStatsServer, statsDocument } from './stats.js';
import { dropPrivileges } from './privileges.js';
import { statSync, watchFile, unwatchFile } from 'node:fs';

const WORKER_ENTRY = join(fileURLToPath(import.meta.url), '..', 'worker-main.js');
const FIRST_INHERITED_FD = 4; // stdin, stdout, stderr, ipc, then the sockets

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
  startedAt: number;
  killTimer?: NodeJS.Timeout;
}

function log(line: string): void {
  process.stderr.write(line + '\n');
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
  private reloading = false;
  private readonly queue: NodeJS.Signals[] = [];
  private queued = false;
  private watchdog?: NodeJS.Timeout;
  private failuresInARow = 0;
  private stats?: { close(): void; shown: string };
  private readonly previousRequests = new Map<number, number>();
  private readonly watched: string[] = [];
  private resolveExit!: (code: number) => void;
  readonly exited: Promise<number>;

  constructor(private readonly values: OptionValues) {
    this.binding = loadBinding();
    this.wanted = (values.processes as number) ?? 1;
    this.threads = (values.threads as number | undefined) ?? 1;
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Binds every socket (before any worker exists), then spawns the workers. */
  async start(): Promise<void> {
    const v = this.values;
    const mode = v.chmodSocket !== undefined ? parseSocketMode(v.chmodSocket as string) : undefined;
    const owner = v.chownSocket !== undefined ? parseOwner(v.chownSocket as string) : undefined;
    const backlog = v.listen as number;
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
    if (v.pidfile) writeFileSync(v.pidfile as string, `${process.pid}\n`);
    if (v.stats) {
      try {
        this.stats = await startStatsServer(v.stats as string, v.statsHttp === true, () => JSON.stringify(this.statsDocument()));
      } catch (err) {
        this.closeSockets();
        throw new TsgiError('TSGI_ERR_LISTEN', `cannot serve stats on ${v.stats as string}: ${(err as Error).message}`, { cause: err });
      }
      log(`tsgi: stats server enabled on ${this.stats.shown}${v.statsHttp ? ' (http)' : ''}`);
    }
    const dropped = dropPrivileges(v.uid as string | undefined, v.gid as string | undefined);
    if (dropped) log(`tsgi: privileges dropped to ${dropped}`);
    for (const file of (v.touchReload as string[] | undefined) ?? []) {
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

  /** Spawns a worker; a successor or a respawn keeps its predecessor's id, as in uWSGI. */
  private spawnWorker(id: number = this.nextId++, respawns = 0): Worker | undefined {
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
      values: this.values,
      processes: this.wanted,
    };
    for (let core = 0; core < this.threads; core++) {
      for (const field of ['requests', 'requestStart', 'tx', 'exceptions', 'avgRt', 'runningTime', 'rss', 'harakiriCount', 'acceptErrors'] as const) {
        this.binding.scoreboardSet(slot + core, field, 0);
      }
    }
    this.binding.scoreboardSet(slot, 'respawnCount', respawns);
    this.binding.scoreboardSet(slot, 'lastSpawn', Math.floor(Date.now() / 1000));
    const child = spawn(process.execPath, [...process.execArgv, WORKER_ENTRY], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...this.sockets.map((s) => s.fd), this.scoreboardFd],
      env: { ...process.env, TSGI_WORKER: JSON.stringify(spec) },
    });
    const w: Worker = { id, block, slot, child, pid: child.pid ?? -1, ready: false, stopping: false, replaced: false, startedAt: Date.now() };
    this.workers.set(w.pid, w);
    this.binding.scoreboardSet(slot, 'pid', w.pid);
    child.on('message', (m: ToMaster) => this.onMessage(w, m));
    child.on('exit', (code, signal) => this.onExit(w, code, signal));
    return w;
  }

  private onMessage(w: Worker, m: ToMaster): void {
    if (m.type === 'ready') {
      w.ready = true;
      this.failuresInARow = 0;
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) ready: application ${m.file} callable '${m.callable}' loaded in ${m.millis} msecs`);
    } else if (m.type === 'load-error') {
      // An application that cannot load at all stops the master with its error,
      // instead of a respawn loop.
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) cannot load the application: ${m.message}`);
      log('tsgi: no application could be loaded: stopping');
      void this.stop(true, 1);
    } else if (m.type === 'recycle') {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) recycling: ${m.reason}`);
      w.stopping = true;
      this.replace(w);
    }
  }

  /** Spawns w's successor now, so that the recycled worker's exit leaves no gap. */
  private replace(w: Worker): void {
    if (w.replaced || this.stopping) return;
    w.replaced = true;
    this.spawnWorker(w.id, this.respawnsOf(w) + 1);
  }

  private respawnsOf(w: Worker): number {
    return this.binding.scoreboardRead()[w.slot]?.respawnCount ?? 0;
  }

  private onExit(w: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const respawns = this.respawnsOf(w);
    this.workers.delete(w.pid);
    clearTimeout(w.killTimer);
    for (let core = 0; core < this.threads; core++) {
      this.binding.scoreboardSet(w.slot + core, 'pid', 0);
      this.binding.scoreboardSet(w.slot + core, 'requestStart', 0);
    }
    this.slotsFree.push(w.block);
    const how = signal ? `killed by signal ${signal}` : `exit code ${code}`;
    if (this.stopping) {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (this.workers.size === 0) this.finish();
      return;
    }
    if (w.stopping) {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) stopped (${how})`);
      if (!w.replaced && this.liveCount() < this.wanted) this.spawnWorker(w.id, respawns + 1);
      return;
    }
    log(`tsgi: DAMN ! worker ${w.id} (pid: ${w.pid}) died, ${how} :( trying respawn ...`);
    if (!w.ready) this.failuresInARow++;
    // A worker that dies while starting is respawned with back-off.
    const delay = this.failuresInARow === 0 ? 0 : Math.min(8000, 125 * 2 ** Math.min(6, this.failuresInARow - 1));
    setTimeout(() => {
      if (this.stopping || this.liveCount() >= this.wanted) return;
      const n = this.spawnWorker(w.id, respawns + 1);
      if (n) log(`tsgi: respawned worker ${n.id} (new pid: ${n.pid})`);
    }, delay);
  }

  /** Workers that are neither stopping nor already replaced. */
  private liveCount(): number {
    let n = 0;
    for (const w of this.workers.values()) if (!w.stopping) n++;
    return n;
  }

  /** Asks w to stop gracefully; kills it after the mercy. */
  private stopWorker(w: Worker, mercySeconds: number): void {
    if (w.stopping && w.killTimer) return;
    w.stopping = true;
    const message: ToWorker = { type: 'stop' };
    if (w.child.connected) w.child.send(message);
    else w.child.kill('SIGTERM');
    w.killTimer = setTimeout(() => {
      log(`tsgi: worker ${w.id} (pid: ${w.pid}) still busy after ${mercySeconds} s of mercy: killing it`);
      w.child.kill('SIGKILL');
    }, mercySeconds * 1000);
    w.killTimer.unref();
  }

  /** Harakiri and reload-on-rss, from the scoreboard. */
  private watch(): void {
    const harakiri = (this.values.harakiri as number | undefined) ?? 0;
    const rssLimit = ((this.values.reloadOnRss as number | undefined) ?? 0) * 1024 * 1024;
    if (harakiri === 0 && rssLimit === 0) return;
    const board = this.binding.scoreboardRead();
    const now = Date.now();
    for (const w of this.workers.values()) {
      const s = board[w.slot];
      if (s === undefined) continue;
      // The oldest request in progress on any of the worker's cores.
      let start = 0;
      for (let core = 0; core < this.threads; core++) {
        const t = board[w.slot + core]?.requestStart ?? 0;
        if (t > 0 && (start === 0 || t < start)) start = t;
      }
      if (harakiri > 0 && start > 0 && now - start >= harakiri * 1000) {
        const seconds = Math.round((now - start) / 100) / 10;
        let core = 0;
        for (let i = 0; i < this.threads; i++) if (board[w.slot + i]?.requestStart === start) core = i;
        const request = board[w.slot + core]?.request ?? '';
        log(`tsgi: *** HARAKIRI ON WORKER ${w.id} (pid: ${w.pid}) *** busy for ${seconds} s (harakiri ${harakiri})${request ? ` on ${request}` : ''}`);
        if (this.values.harakiriVerbose) {
          log(`tsgi: HARAKIRI: worker ${w.id} core ${core} request "${request}" started ${new Date(start).toISOString()}, ${seconds} s ago`);
        }
        this.binding.scoreboardSet(w.slot, 'harakiriCount', s.harakiriCount + 1);
        for (let core = 0; core < this.threads; core++) this.binding.scoreboardSet(w.slot + core, 'requestStart', 0);
        w.child.kill('SIGKILL');
      } else if (rssLimit > 0 && !w.stopping && s.rss > rssLimit) {
        log(`tsgi: worker ${w.id} (pid: ${w.pid}) rss ${Math.round(s.rss / 1048576)} MB over reload-on-rss ${this.values.reloadOnRss} MB: recycling`);
        this.replace(w);
        this.stopWorker(w, (this.values.workerReloadMercy as number) ?? 60);
      }
    }
  }

  private listenSignals(): void {
    const signals: NodeJS.Signals[] = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGTTIN', 'SIGTTOU'];
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
      else if (s === 'SIGTERM' || s === 'SIGINT') void this.stop(true, 0);
      else if (s === 'SIGQUIT') void this.stop(false, 0);
      else if (s === 'SIGUSR1') this.printStats();
      else if (s === 'SIGTTIN') this.addWorker();
      else if (s === 'SIGTTOU') this.removeWorker();
    }
  }

  /** SIGHUP: a chain reload, one worker after another; the sockets stay open. */
  async reload(): Promise<void> {
    if (this.reloading || this.stopping) return;
    this.reloading = true;
    log('tsgi: SIGHUP: graceful chain reload of the workers');
    const old = [...this.workers.values()].filter((w) => !w.stopping);
    for (const w of old) {
      if (this.stopping) break;
      w.replaced = true;
      const n = this.spawnWorker(w.id, this.respawnsOf(w) + 1);
      if (n === undefined) break;
      // The successor takes connections before its predecessor stops.
      const ok = await this.waitReady(n, 30000);
      if (!ok) {
        log(`tsgi: worker ${n.id} did not start: the reload stops here`);
        break;
      }
      this.stopWorker(w, (this.values.workerReloadMercy as number) ?? 60);
    }
    this.reloading = false;
    log('tsgi: chain reload done');
  }

  private waitReady(w: Worker, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const started = Date.now();
      const check = () => {
        if (w.ready) return resolve(true);
        if (!this.workers.has(w.pid) || Date.now() - started > timeoutMs) return resolve(false);
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
    if (w) this.stopWorker(w, (this.values.workerReloadMercy as number) ?? 60);
  }

  /** The stats server's document, from the scoreboard. */
  statsDocument(): Record<string, unknown> {
    const board = this.binding.scoreboardRead();
    return statsDocument({
      version: VERSION,
      sockets: this.sockets.map((s) => ({
        name: s.shown.replace(/^(TCP|UNIX) address /, ''),
        proto: s.protocol,
        queue: this.binding.listenQueue(s.fd),
        maxQueue: this.values.listen as number,
      })),
      workers: [...this.workers.values()].map((w) => ({ id: w.id, pid: w.pid, cores: board.slice(w.slot, w.slot + this.threads), stopping: w.stopping })),
      previous: this.previousRequests,
    });
  }

  private printStats(): void {
    const board = this.binding.scoreboardRead();
    log(`tsgi: stats: master pid ${process.pid}, ${this.workers.size} workers`);
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

  /** Graceful (SIGTERM, SIGINT) or at once (SIGQUIT, a fatal error). */
  async stop(graceful: boolean, code: number): Promise<void> {
    if (this.stopping) {
      if (!graceful) for (const w of this.workers.values()) w.child.kill('SIGKILL');
      return;
    }
    this.stopping = true;
    this.exitCode = code;
    log(graceful ? 'tsgi: stopping gracefully: requests in progress finish' : 'tsgi: stopping now');
    if (this.workers.size === 0) return this.finish();
    const mercy = (this.values.reloadMercy as number) ?? 60;
    for (const w of this.workers.values()) {
      if (graceful) this.stopWorker(w, mercy);
      else w.child.kill('SIGKILL');
    }
  }

  private exitCode = 0;

  private finish(): void {
    clearInterval(this.watchdog);
    for (const file of this.watched) unwatchFile(file);
    this.stats?.close();
    this.closeSockets();
    if (this.values.pidfile && this.values.vacuum) {
      try {
        unlinkSync(this.values.pidfile as string);
      } catch {
        // gone already
      }
    }
    log('tsgi: goodbye');
    this.resolveExit(this.exitCode);
  }

  private closeSockets(): void {
    for (const s of this.sockets) {
      this.binding.closeFd(s.fd);
      if (s.path && this.values.vacuum) removeSocketFile(s.path);
    }
    this.sockets.length = 0;
  }
}

export async function runMaster(values: OptionValues): Promise<number> {
  const master = new Master(values);
  await master.start();
  return master.exited;
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
