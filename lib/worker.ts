// A worker under the master (lib/master.ts): it loads the application itself, accepts
// on the sockets the master bound (inherited fds), writes its scoreboard slot from
// native code, and takes orders over the IPC channel.
import { Handler, type HandlerOptions } from './exchange.js';
import { describeLoadError, loadApplication } from './loader.js';
import { TsgiError } from './errors.js';
import { nativeBackend, type SocketProtocol } from './serve.js';
import type { OptionValues } from './options.js';
import { hostname } from 'node:os';
import { loadBinding } from './native-binding.js';

/** What the master hands a worker, in TSGI_WORKER (JSON). */
export interface WorkerSpec {
  id: number;
  slot: number;
  slots: number;
  scoreboardFd: number;
  sockets: Array<{ fd: number; protocol: SocketProtocol; port: string }>;
  values: OptionValues;
  processes: number;
}

/** Messages between master and worker over the IPC channel. */
export type ToWorker = { type: 'stop' } | { type: 'quit' };
export type ToMaster =
  | { type: 'ready'; millis: number; file: string; callable: string }
  | { type: 'load-error'; message: string }
  | { type: 'recycle'; reason: string };

function send(message: ToMaster): void {
  if (process.connected) process.send!(message);
}

export async function runWorker(spec: WorkerSpec): Promise<void> {
  const values = spec.values;
  const limitAs = (values.limitAs as number | undefined) ?? 0;
  if (limitAs > 0) loadBinding().setLimitAs(limitAs * 1024 * 1024);
  let loaded;
  try {
    loaded = await loadApplication({
      wsgiFile: values.wsgiFile as string | undefined,
      module: values.module as string | undefined,
      callable: values.callable as string | undefined,
    });
  } catch (err) {
    const message = err instanceof TsgiError ? describeLoadError(err) : ((err as Error).stack ?? String(err));
    send({ type: 'load-error', message });
    process.exitCode = 22; // uWSGI's "failed to load the app" exit code
    process.disconnect?.();
    return;
  }
  const maxRequests = (values.maxRequests as number | undefined) ?? 0;
  let done = 0;
  let stopping = false;
  let backend: ReturnType<typeof nativeBackend> | undefined;
  const stop = (reason?: string) => {
    if (stopping) return;
    stopping = true;
    if (reason !== undefined) send({ type: 'recycle', reason });
    void backend!.close().then(() => {
      process.disconnect?.();
      process.exit(0);
    });
  };
  const options: HandlerOptions = {
    backend: 'native',
    serverName: hostname(),
    multiprocess: spec.processes > 1,
    onException: () => backend?.noteException(),
    maxRequests,
    onRequestDone: () => {
      done++;
      // max-requests: recycled after the request that reached the count.
      if (maxRequests > 0 && done >= maxRequests) setImmediate(() => stop(`max-requests ${maxRequests} reached`));
    },
  };
  const handler = new Handler(loaded.app, options);
  backend = nativeBackend(handler, values, {
    scoreboardFd: spec.scoreboardFd,
    scoreboardSlot: spec.slot,
    scoreboardSlots: spec.slots,
  });
  for (const s of spec.sockets) backend.listenFd(s.fd, s.protocol, s.port);

  process.on('message', (m: ToWorker) => {
    if (m.type === 'stop') stop();
    else if (m.type === 'quit') process.exit(0);
  });
  // The master owns the signals: a worker ignores the terminal's ^C (the master
  // stops it), and a SIGTERM sent to it alone is a graceful stop.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', () => stop());
  // --no-orphans: the IPC channel closes when the master dies, even by SIGKILL.
  // Without it, a worker outlives its master and serves on, as uWSGI's do.
  process.on('disconnect', () => {
    if (!stopping && values.noOrphans) {
      process.stderr.write(`tsgi: worker ${spec.id} (pid: ${process.pid}): the master died, exiting (no-orphans)\n`);
      process.exit(1);
    }
  });
  send({ type: 'ready', millis: loaded.millis, file: loaded.file, callable: loaded.callable });
}
