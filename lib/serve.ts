// serve(app, options): the programmatic entry point, for both backends.
import { hostname } from 'node:os';
import { Handler } from './contract/handler.js';
import { parseSocketAddress } from './config/address.js';
import { removeSocketFile } from './backend/unix-socket.js';
import { TsgiError } from './base/errors.js';
import { chooseBackend, loadBinding, type BackendName } from './addon/binding.js';
import type { Backend, BoundAddress, Server, WorkerSlot } from './backend/backend.js';
import { bindSockets } from './backend/sockets.js';
import { socketsOf } from './config/derived.js';
import { nativeBackend, type NativeBackend } from './native/backend.js';
import { configOf } from './config/make-config.js';
import type { Config } from './config/typed.js';
import type { Application } from './contract/types.js';
import { staticMapped } from './contract/static-map.js';
import { upgradedMercyMs } from './contract/upgraded.js';
import { ErrorLog } from './contract/wsgi-errors.js';
import { resolveInterface } from './interfaces/index.js';
import type { FetchApplication, FetchHandler } from './interfaces/fetch.js';
import type { Counters } from './backend/counters.js';
import { writeSync } from 'node:fs';
import { ForwardedTrust } from './protocol/forwarded.js';
import { ListenQueueWatch, effectiveBacklog } from './process/listen-queue.js';
import { messageLine, setMessageEncoder } from './logging/log-format.js';

export interface ServeOptions {
  /** Addresses to serve HTTP on; "127.0.0.1:0" (a free port on loopback) when none is given. */
  http?: string | string[];
  httpSocket?: string | string[];
  /** "auto" (the default): native when the addon loads, else js with a process warning. */
  backend?: 'auto' | 'native' | 'js';
  bufferSize?: number;
  postBuffering?: number;
  limitPost?: number;
  /** Seconds. */
  httpTimeout?: number;
  listen?: number;
  disableLogging?: boolean;
  /**
   * Where wsgi.errors writes and where the server reports an application's errors (the
   * stack of an exception), instead of stderr. The request log line is not sent here.
   */
  errorLog?: (text: string | Uint8Array) => void;
  /** The file descriptor the request log and refusal lines are written to: 2 (stderr) when not given. */
  logFd?: number;
  [option: string]: unknown;
}

/**
 * Serves app, written to options.interface ("auto" by default: an object with a fetch
 * method is a fetch application, a function a WSGI one).
 */
export async function serve(app: Application | FetchApplication | FetchHandler, options: ServeOptions = {}): Promise<Server> {
  const { errorLog, logFd = 2, ...input } = options;
  if (errorLog !== undefined && typeof errorLog !== 'function') {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a function for errorLog but received ${typeof errorLog}`);
  }
  if (!Number.isInteger(logFd) || logFd < 0) {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a file descriptor (an integer from 0) for logFd but received ${String(logFd)}`);
  }
  const config = configOf(input);
  if (config.logEncoder !== undefined) setMessageEncoder(config.logEncoder);
  const served = await resolveInterface(app, config.interface, 'the application given to serve()');
  return serveConfig(served.app, config, { logFd, errorLog });
}

/** Where serveConfig()'s server stands in its process; all but logFd optional. */
export interface ServePlace {
  /** The backend already chosen (the CLI chooses it, and says so); else config.backend's choice. */
  backend?: BackendName;
  logFd: number;
  errorLog?: (text: string | Uint8Array) => void;
  /**
   * The CLI's one-slot scoreboard in single-process mode (--stats), written by the
   * native server as a worker writes its own (the js backend counts into counters).
   */
  slot?: WorkerSlot;
  counters?: Counters;
}

/** Serves app (a WSGI application, its interface resolved) with a configuration already made. */
export async function serveConfig(app: Application, config: Config, place: ServePlace): Promise<Server> {
  const { errorLog, logFd, slot, counters } = place;
  const targets = socketsOf(config);
  if (targets.length === 0) targets.push({ address: parseSocketAddress('127.0.0.1:0', 'http'), protocol: 'http' });
  const backendName = place.backend ?? chooseBackend(config.backend, (line) => process.emitWarning(line, { code: 'TSGI_ERR_NATIVE_MISSING' }));
  let backend: Backend;
  const onException = () => {
    if (counters) counters.exceptions++;
    else if (slot) (backend as NativeBackend).noteException();
  };
  const handler = new Handler(staticMapped(app, config), {
    backend: backendName,
    serverName: hostname(),
    onException,
    websocketMaxSize: config.websocketMaxSize * 1024,
    ...(config.forwardedAllowIps !== undefined ? { forwarded: ForwardedTrust.parse(config.forwardedAllowIps) } : {}),
    ...(errorLog !== undefined ? { errors: new ErrorLog(errorLog) } : {}),
    ...(errorLog === undefined && config.logEncoder === 'json' ? { logError: (m: string) => process.stderr.write(messageLine(m.replace(/\n$/, ''))) } : {}),
  });
  let native: NativeBackend | undefined;
  if (backendName === 'js') {
    const { jsBackend } = await import('./js/server.js');
    backend = jsBackend(handler, config, logFd, counters);
  } else {
    backend = native = nativeBackend(handler, config, slot, logFd);
  }
  const logLine = (line: string) => writeSync(logFd, line + '\n');
  const backlog = effectiveBacklog(config.listen, logLine);
  const { bound, files } = await bindSockets<BoundAddress>(
    targets,
    config,
    {
      async tcp(host, port, protocol, spec) {
        const [address, boundPort, family] = await backend.listen(host, port, backlog, protocol);
        return { address, port: boundPort, family, protocol, spec };
      },
      async unix(path, protocol, spec) {
        await backend.listenUnix(path, backlog, protocol);
        return { address: path, port: 0, family: 'unix', protocol, spec };
      },
    },
    () => backend.destroy(),
  );
  // In one process the process itself watches its queues, as a master does (the
  // master's workers do not: it holds the sockets).
  const queues = native ? new ListenQueueWatch(native.tcpListeners, (fd) => loadBinding().listenQueue(fd), logLine).start() : undefined;
  const vacuum = () => {
    if (config.vacuum) for (const path of files) removeSocketFile(path);
  };
  return {
    backend: backendName,
    address: bound[0]!,
    addresses: bound,
    close: (upgradedMercy = upgradedMercyMs(config.reloadMercy)) => {
      queues?.stop();
      return backend.close(true, upgradedMercy).then(vacuum);
    },
    destroy: () => {
      queues?.stop();
      backend.destroy();
      vacuum();
    },
  };
}
