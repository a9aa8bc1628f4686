// A worker under the master (lib/process/master.ts): it loads the application itself, accepts
// on the sockets the master bound (inherited fds), writes its scoreboard slots from
// native code, and takes orders over the IPC channel. With --threads N it runs N
// cores: the main thread and N-1 worker_threads, each with its own loop, native server
// and application instance, all accepting on the same sockets.
import { ForwardedTrust } from '../protocol/forwarded.js';
import type { Worker as Thread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { Handler, type HandlerOptions } from '../contract/handler.js';
import { describeLoadError, loadApplication, type LoadedApplication } from '../load/loader.js';
import { resolveInterface } from '../interfaces/index.js';
import type { Application } from '../contract/types.js';
import { TsgiError } from '../base/errors.js';
import { nativeBackend, type NativeBackend } from '../native/backend.js';
import type { SocketProtocol } from '../backend/backend.js';
import { loadBinding } from '../addon/binding.js';
import type { Config } from '../config/typed.js';
import { staticMapped } from '../contract/static-map.js';
import { upgradedMercyMs } from '../contract/upgraded.js';
import { openLogs } from '../logging/log-files.js';
import { messageLine, setMessageEncoder } from '../logging/log-format.js';

/** What the master hands a worker, in TSGI_WORKER (JSON). */
export interface WorkerSpec {
  id: number;
  /** The first of this worker's slots; core i writes slot + i. */
  slot: number;
  slots: number;
  scoreboardFd: number;
  sockets: Array<{ fd: number; protocol: SocketProtocol; port: string }>;
  /** The master's configuration, as made (lib/config/make-config.ts): frozen again on arrival, never made again. */
  config: Config;
  processes: number;
  /** The --req-logger file's descriptor in the worker (it opens the file itself); 2 without one. */
  requestLogFd?: number;
}

/** Messages between master and worker over the IPC channel. */
/**
 * stop's last: the master is stopping, and the sockets close for good; mercy: the
 * seconds the master gives the worker before it kills it (reload-mercy or
 * worker-reload-mercy), in which its WebSockets end.
 */
export type ToWorker = { type: 'stop'; last?: boolean; mercy?: number };
export type ToMaster =
  | { type: 'ready'; millis: number; file: string; callable: string; interface: string }
  | { type: 'load-error'; message: string }
  | { type: 'recycle'; reason: string };

/** Messages between a worker's main thread and its other cores. */
export type ToCore = { type: 'stop'; last?: boolean; upgradedMercyMs: number };
export type FromCore = { type: 'ready' } | { type: 'load-error'; message: string } | { type: 'max-requests' };

const THREAD_ENTRY = join(fileURLToPath(import.meta.url), '..', 'thread-main.js');

/** The application loaded and put through its interface (--interface). */
export interface ServedApplication extends Omit<LoadedApplication, 'app'> {
  app: Application;
  /** "fetch (auto: an object with a fetch method)". */
  interface: string;
}

export async function load(config: Config): Promise<ServedApplication | string> {
  try {
    const loaded = await loadApplication({ wsgiFile: config.wsgiFile, module: config.module, callable: config.callable });
    const served = await resolveInterface(loaded.app, config.interface, loaded.file);
    return { ...loaded, app: served.app, interface: served.description };
  } catch (err) {
    return err instanceof TsgiError ? describeLoadError(err) : ((err as Error).stack ?? String(err));
  }
}

/**
 * One core: a native server on this thread's loop, its scoreboard slot, the
 * application. When the request that reaches max-requests begins, the core stops
 * accepting at once (its server closes: that response and any other still owed say
 * "Connection: close", and an idle keep-alive connection serves at most the request
 * already on its way), and onMaxRequests is called once, on the next turn, to stop the
 * worker. Waiting for the request to end instead would let the server accept, and
 * serve, every connection that comes meanwhile.
 */
export function startCore(spec: WorkerSpec, core: number, loaded: ServedApplication, onMaxRequests: () => void): NativeBackend {
  const config = spec.config;
  let backend: NativeBackend | undefined;
  const options: HandlerOptions = {
    backend: 'native',
    serverName: hostname(),
    multiprocess: spec.processes > 1,
    multithread: config.threads > 1,
    onException: () => backend?.noteException(),
    ...(config.logEncoder === 'json' ? { logError: (m: string) => process.stderr.write(messageLine(m.replace(/\n$/, ''))) } : {}),
    maxRequests: config.maxRequests,
    websocketMaxSize: config.websocketMaxSize * 1024,
    ...(config.forwardedAllowIps !== undefined ? { forwarded: ForwardedTrust.parse(config.forwardedAllowIps) } : {}),
    onMaxRequests: () => {
      void backend!.close();
      setImmediate(onMaxRequests);
    },
  };
  const handler = new Handler(staticMapped(loaded.app, config), options);
  backend = nativeBackend(handler, config, {
    scoreboardFd: spec.scoreboardFd,
    scoreboardSlot: spec.slot + core,
    scoreboardSlots: spec.slots,
    core,
    worker: spec.id,
  }, spec.requestLogFd ?? 2);
  for (const s of spec.sockets) backend.listenFd(s.fd, s.protocol, s.port);
  return backend;
}

function send(message: ToMaster): void {
  if (process.connected) process.send!(message);
}

export async function runWorker(given: WorkerSpec): Promise<void> {
  const config = given.config;
  // The worker opens its own --req-logger file and reopens its logs on SIGUSR2, which
  // the master forwards (lib/logging/log-files.ts).
  setMessageEncoder(config.logEncoder);
  const logs = openLogs(config, loadBinding, { all: false, requests: true });
  const spec: WorkerSpec = { ...given, requestLogFd: logs.requestFd };
  process.on('SIGUSR2', () => logs.reopen(`worker ${spec.id} (pid: ${process.pid})`, (line) => process.stderr.write(messageLine(line))));
  if (config.limitAs > 0) loadBinding().setLimitAs(config.limitAs * 1024 * 1024);
  let stopping = false;
  // --no-orphans: the IPC channel closes when the master dies, even by SIGKILL. Watched
  // before the application loads: a master that dies meanwhile (an OOM kill during a
  // respawn) leaves no worker to serve on, and one dead before this line left the
  // channel closed already. Without it, a worker outlives its master and serves on, as
  // uWSGI's do. The listener is there either way, as it always was: without it, on Node
  // 26, a worker recycled by reload-on-rss hung in process.exit() in 4 runs of 4, in
  // Node's own exit-time deadlock (nodejs/node#54918: the main thread joins the
  // platform's threads while one of them waits for a collection only the main thread
  // can run); with the listener, 0 of 6. The master kills such a worker 3 s after its
  // stop is done (below).
  const orphaned = () => {
    if (stopping || !config.noOrphans) return;
    process.stderr.write(messageLine(`tsgi: worker ${spec.id} (pid: ${process.pid}): the master died, exiting (no-orphans)`));
    process.exit(1);
  };
  process.on('disconnect', orphaned);
  if (!process.connected) orphaned();
  // The application did not load (here, or on another core): the master is told, and
  // the channel closed by this worker, not by a dead master.
  const loadFailed = (message: string) => {
    send({ type: 'load-error', message });
    process.exitCode = 22; // uWSGI's "failed to load the app" exit code
    stopping = true;
    process.disconnect?.();
  };
  const loaded = await load(config);
  if (typeof loaded === 'string') {
    loadFailed(loaded);
    return;
  }
  const others: Thread[] = [];
  let backend: NativeBackend | undefined;
  const stop = (reason?: string, last = false, mercy = config.workerReloadMercy) => {
    if (stopping) return;
    stopping = true;
    if (reason !== undefined) send({ type: 'recycle', reason });
    // The master is stopping and has closed its descriptors: the sockets as inherited
    // close first, then each core's copy after a last accept, so that the socket's last
    // descriptor is one that was accepted from (native/server/closing.cc Server::Close). Not so
    // on a reload or a recycle: the other workers accept what waits.
    if (last) for (const s of spec.sockets) loadBinding().closeFd(s.fd);
    const message: ToCore = { type: 'stop', last, upgradedMercyMs: upgradedMercyMs(mercy) };
    for (const t of others) t.postMessage(message);
    const exited = others.map((t) => new Promise<void>((resolve) => t.once('exit', () => resolve())));
    // Done: the channel closes, and then the worker exits. The channel closes on the
    // next tick, so process.exit() waits for it: the master sees the stop done even
    // when process.exit() then hangs, and kills the worker (exitDue() of
    // lib/process/worker-process.ts).
    void Promise.all([backend!.close(last, message.upgradedMercyMs), ...exited]).then(() => {
      if (!process.connected) process.exit(0);
      process.once('disconnect', () => process.exit(0));
      setTimeout(() => process.exit(0), 1000); // should the channel not say it closed
      process.disconnect!();
    });
  };
  const maxRequests = () => stop(`max-requests ${config.maxRequests} reached`);

  // The other cores first: they load the application in parallel with this one.
  // node:worker_threads is loaded only for them (a worker of one thread starts sooner).
  const ready: Array<Promise<void>> = [];
  const Thread = config.threads > 1 ? (await import('node:worker_threads')).Worker : undefined;
  for (let core = 1; core < config.threads; core++) {
    const t = new Thread!(THREAD_ENTRY, { workerData: { spec, core } });
    others.push(t);
    ready.push(
      new Promise<void>((resolve, reject) => {
        t.on('message', (m: FromCore) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'load-error') reject(new Error(m.message));
          else if (m.type === 'max-requests') maxRequests();
        });
        t.once('error', (err) => reject(err));
        t.once('exit', (code) => {
          if (!stopping) {
            // A core that dies takes its worker with it: the master respawns the worker.
            process.stderr.write(messageLine(`tsgi: worker ${spec.id} core ${core} exited (code ${code}): the worker stops`));
            process.exit(1);
          }
        });
      }),
    );
  }
  backend = startCore(spec, 0, loaded, maxRequests);
  try {
    await Promise.all(ready);
  } catch (err) {
    loadFailed((err as Error).message);
    for (const t of others) void t.terminate();
    backend.destroy();
    return;
  }

  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop(undefined, m.last === true, m.mercy);
  });
  // The master owns the signals: a worker ignores the terminal's ^C (the master
  // stops it), and a SIGTERM sent to it alone is a graceful stop.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => stop());
  send({ type: 'ready', millis: loaded.millis, file: loaded.file, callable: loaded.callable, interface: loaded.interface });
}
