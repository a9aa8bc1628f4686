// What a single process (no --master) does for operations: the stats server on its
// own loop (/healthz, /readyz, /metrics, the JSON) and the drain on SIGTERM
// (--shutdown-delay). The native backend writes a one-slot scoreboard as a worker
// writes its own; the js backend counts into an object of the same shape. The stats
// server shares the loop with the application: a request whose application code runs
// synchronously delays its answers (a probe may time out), which a master, running no
// application code, never does (docs/deploy-kubernetes.md).
import { loadBinding, type BackendName, type ScoreboardSlot } from '../addon/binding.js';
import { memory, startStatsServer, statsDocument } from './stats.js';
import { metricsText } from './metrics.js';
import { newCounters, type Counters } from '../backend/counters.js';
import type { Config } from '../config/typed.js';
import type { Server, WorkerSlot } from '../backend/backend.js';
import { logMessage as log } from '../logging/log-format.js';
import { VERSION } from '../base/package.js';


export class ProcessOps {
  private state: 'starting' | 'ready' | 'draining' | 'stopping' = 'starting';
  private stats?: { close(): void; shown: string };
  private readonly previous = new Map<number, number>();
  private readonly startedAt = Math.floor(Date.now() / 1000);
  /** The native server's slot (native backend). */
  readonly slot?: WorkerSlot;
  /** The js backend's counters. */
  readonly counters?: Counters;

  private constructor(backend: BackendName) {
    if (backend === 'js') {
      this.counters = newCounters();
    } else {
      this.slot = { scoreboardFd: loadBinding().scoreboardCreate(1), scoreboardSlot: 0, scoreboardSlots: 1, core: 0, worker: 1 };
    }
  }

  /** With --stats, before the application loads (so that /readyz says 503 meanwhile); else undefined. */
  static async start(config: Config, backend: BackendName): Promise<ProcessOps | undefined> {
    if (config.stats === undefined) return undefined;
    const ops = new ProcessOps(backend);
    ops.stats = await startStatsServer(config.stats, config.statsHttp, {
      json: () => JSON.stringify(ops.document()),
      unhealthy: () => undefined, // it answers: it lives
      notReady: () => (ops.state === 'ready' ? undefined : ops.state === 'draining' ? 'draining (SIGTERM)' : ops.state),
      metrics: () => metricsText({ workers: [{ id: 1, cores: [ops.read()], rss: memory(process.pid).rss }], sockets: [] }),
    });
    log(`tsgi: stats server enabled on ${ops.stats.shown}${config.statsHttp ? ' (http)' : ''}`);
    return ops;
  }

  /** The application is loaded and the sockets accept. */
  ready(): void {
    if (this.state === 'starting') this.state = 'ready';
  }

  close(): void {
    this.stats?.close();
  }

  private read(): Counters {
    return this.counters ?? loadBinding().scoreboardRead()[0]!;
  }

  private document(): Record<string, unknown> {
    let slot: ScoreboardSlot;
    if (this.counters === undefined) {
      slot = loadBinding().scoreboardRead()[0]!;
    } else {
      const c = this.counters;
      const avgRt = c.requests > 0 ? Math.round(c.runningTime / c.requests) : 0;
      slot = { ...c, pid: process.pid, status: 0, requestStart: c.inProgress > 0 ? 1 : 0, avgRt, lastSpawn: this.startedAt, respawnCount: 0, harakiriCount: 0, rss: 0, vsz: 0, deltaRequests: 0, rssPid: 0, request: '' };
    }
    return statsDocument({
      version: VERSION,
      sockets: [],
      workers: [{ id: 1, pid: process.pid, cores: [slot], stopping: this.state === 'draining' || this.state === 'stopping' }],
      previous: this.previous,
    });
  }

  /** What /readyz says from now on (drainThenStop()). */
  setState(state: 'draining' | 'stopping'): void {
    this.state = state;
  }
}

const drains = new WeakMap<Server, () => void>();

/**
 * SIGTERM (or SIGINT) in single-process mode. With --shutdown-delay (SIGTERM only),
 * /readyz turns 503 and the process serves on for the delay; then (at once without
 * one) the server closes: its sockets, keep-alive connections ("Connection: close" on
 * their next response, idle ones closed), and the requests in progress get
 * reload-mercy before they are cut. onStop: the graceful stop begins. Returns a
 * promise of the server closed; a second call (a second signal) ends the delay and
 * returns undefined.
 */
export function drainThenStop(server: Server, config: Config, signal: NodeJS.Signals, ops: ProcessOps | undefined, onStop: () => void): Promise<void> | undefined {
  const pending = drains.get(server);
  if (pending !== undefined) {
    pending();
    return undefined;
  }
  const delay = signal === 'SIGTERM' ? config.shutdownDelay : 0;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stopNow = () => {
      clearTimeout(timer);
      drains.set(server, () => {});
      onStop();
      ops?.setState('stopping');
      const mercy = config.reloadMercy;
      log(`tsgi: ${signal}: stopping gracefully: the sockets close, requests in progress finish (reload-mercy ${mercy} s)`);
      const cut = setTimeout(() => {
        log(`tsgi: requests still in progress after ${mercy} s of mercy: cutting them`);
        server.destroy();
        resolve();
      }, mercy * 1000);
      void server.close().then(() => {
        clearTimeout(cut);
        resolve();
      });
    };
    drains.set(server, stopNow);
    if (delay > 0) {
      ops?.setState('draining');
      log(`tsgi: ${signal} received: draining for ${delay} s (readyz 503)`);
      timer = setTimeout(stopNow, delay * 1000);
    } else {
      stopNow();
    }
  });
}
