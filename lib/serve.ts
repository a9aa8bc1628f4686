// serve(app, options): the programmatic entry point, for both backends.
import { hostname, tmpdir } from 'node:os';
import { Handler } from './exchange.js';
import { KEYS, METHODS, PROTOCOL_HTTP, PROTOCOL_UWSGI } from './wire.js';
import { parseSocketAddress, resolveHost, formatAddress, type SocketAddress } from './address.js';
import { applySocketPermissions, parseOwner, parseSocketMode, prepareUnixSocket, removeSocketFile } from './unix-socket.js';
import { TsgiError } from './errors.js';
import { chooseBackend, loadBinding, type BackendName, type NativeServer } from './native-binding.js';
import { normalize, type OptionValues } from './options.js';
import type { Application } from './types.js';
import { staticMapped } from './static-map.js';
import { ErrorLog } from './wsgi-errors.js';
import { resolveInterface } from './interfaces/index.js';
import type { FetchApplication, FetchHandler } from './interfaces/fetch.js';
import type { Counters } from './metrics.js';
import { writeSync } from 'node:fs';
import { ForwardedTrust } from './forwarded.js';
import { ListenQueueWatch, effectiveBacklog } from './listen-queue.js';
import { customRequestLine, logFilter, messageLine, setMessageEncoder } from './log-format.js';

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

export type SocketProtocol = 'http' | 'uwsgi';

export interface BoundAddress {
  /** The IP address, or the unix socket's path. */
  address: string;
  /** 0 for a unix socket. */
  port: number;
  family: 'IPv4' | 'IPv6' | 'unix';
  protocol: SocketProtocol;
  /** As the option gave it. */
  spec: string;
}

export interface Server {
  /** The backend that serves ("auto" resolved). */
  readonly backend: BackendName;
  /** The first bound address. */
  readonly address: BoundAddress;
  readonly addresses: readonly BoundAddress[];
  /** Stops accepting, lets requests in progress finish, then resolves. */
  close(): Promise<void>;
  /** Closes every connection now; requests in progress are aborted. */
  destroy(): void;
}

/** What a backend implements; serve() wraps it. */
export interface Backend {
  listen(host: string, port: number, backlog: number, protocol: SocketProtocol): Promise<[string, number, 'IPv4' | 'IPv6']>;
  listenUnix(path: string, backlog: number, protocol: SocketProtocol): Promise<void>;
  /** last: the sockets close for good (no other process accepts on them after). */
  close(last?: boolean): Promise<void>;
  destroy(): void;
}

interface SocketSpec {
  address: SocketAddress;
  protocol: SocketProtocol;
}

/** Every socket the options ask for, in the order uWSGI binds them, with its protocol. */
export function socketsOf(values: OptionValues): SocketSpec[] {
  const list: SocketSpec[] = [];
  const add = (option: string, key: string, protocol: SocketProtocol) => {
    for (const spec of (values[key] as string[] | undefined) ?? []) list.push({ address: parseSocketAddress(spec, option), protocol });
  };
  add('socket', 'socket', values.protocol === 'http' ? 'http' : 'uwsgi');
  add('uwsgi-socket', 'uwsgiSocket', 'uwsgi');
  add('http-socket', 'httpSocket', 'http');
  add('http', 'http', 'http');
  return list;
}

/** What a worker under a master adds: its scoreboard slot. */
export interface WorkerSlot {
  scoreboardFd: number;
  scoreboardSlot: number;
  scoreboardSlots: number;
  /** The core (thread) of the worker: the log line's "on core N". */
  core: number;
  /** The worker's id: %(wid). */
  worker: number;
}

export interface NativeBackend extends Backend {
  /** The TCP listeners' descriptors with their names (for the listen queue's watch). */
  readonly tcpListeners: { name: string; fd: number }[];
  /** Accepts on a socket the master bound (an inherited fd). */
  listenFd(fd: number, protocol: SocketProtocol, port: string): void;
  /** The application failed on a request: counted in the scoreboard. */
  noteException(): void;
}

/** The native server for handler; slot: under a master; logFd: where the request log goes. */
export function nativeBackend(handler: Handler, values: OptionValues, slot?: WorkerSlot, logFd = 2): NativeBackend {
  const binding = loadBinding();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const line = customRequestLine(values, slot?.worker ?? 1, slot?.core ?? 0);
  const filter = logFilter(values);
  const native: NativeServer = new binding.Server({
    bufferSize: values.bufferSize as number,
    postBuffering: values.postBuffering as number,
    limitPost: values.limitPost as number,
    timeoutMs: (values.httpTimeout as number) * 1000,
    tmpDir: tmpdir(),
    logging: filter.all,
    logJson: values.logEncoder === 'json',
    log4xx: filter.status4xx,
    log5xx: filter.status5xx,
    logSlow: filter.slowMs,
    logBig: filter.bigBytes,
    onLog:
      line !== undefined
        ? (id: number, status: number, bodyBytes: number, headerCount: number, headerBytes: number, micros: number, requests: number, varsCount: number, varsBytes: number) =>
            line((handler.environOf(id) ?? {}) as Record<string, unknown>, { status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount, varsBytes })
        : null,
    manageScriptName: values.manageScriptName as boolean,
    proxyProtocol: values.enableProxyProtocol as boolean,
    logFd,
    core: slot?.core ?? 0,
    serverName: hostname(),
    keys: KEYS,
    methods: METHODS,
    onRequest: handler.onRequest.bind(handler) as (...args: unknown[]) => void,
    onDrain: (id) => handler.onDrain(id),
    onAbort: (id) => handler.onAbort(id),
    onClose: () => resolveClosed(),
    scoreboardFd: slot?.scoreboardFd ?? -1,
    scoreboardSlot: slot?.scoreboardSlot ?? 0,
    scoreboardSlots: slot?.scoreboardSlots ?? 0,
  });
  handler.transport = native;
  let closing = false;
  const tcpListeners: { name: string; fd: number }[] = [];
  return {
    tcpListeners,
    async listen(host, port, backlog, protocol) {
      const [address, boundPort, family, fd] = native.listen(host, port, backlog, protocol === 'uwsgi' ? PROTOCOL_UWSGI : PROTOCOL_HTTP);
      handler.listenerPorts.push(String(boundPort));
      tcpListeners.push({ name: formatAddress(address, boundPort), fd });
      return [address, boundPort, family];
    },
    async listenUnix(path, backlog, protocol) {
      native.listenUnix(path, backlog, protocol === 'uwsgi' ? PROTOCOL_UWSGI : PROTOCOL_HTTP);
      handler.listenerPorts.push('');
    },
    listenFd(fd, protocol, port) {
      native.listenFd(fd, protocol === 'uwsgi' ? PROTOCOL_UWSGI : PROTOCOL_HTTP);
      handler.listenerPorts.push(port);
    },
    noteException() {
      native.noteException();
    },
    close(last = false) {
      if (!closing) {
        closing = true;
        native.close(last);
      }
      return closed;
    },
    destroy() {
      closing = true;
      native.destroy();
    },
  };
}

/** Why a socket could not be bound, in words, from the error's code. */
export function listenFailure(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return 'the address is already in use';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EADDRNOTAVAIL') return 'the address is not available on this machine';
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'EMFILE') return 'too many open files (raise the limit: ulimit -n)';
  if (code === 'ENFILE') return "the system's open file table is full (fs.file-max)";
  return (err as Error).message;
}

/**
 * Serves app, written to options.interface ("auto" by default: an object with a fetch
 * method is a fetch application, a function a WSGI one). slot: the CLI's one-slot
 * scoreboard in single-process mode (--stats), written by the native server as a worker
 * writes its own (the js backend counts into counters).
 */
export async function serve(app: Application | FetchApplication | FetchHandler, options: ServeOptions = {}, slot?: WorkerSlot, counters?: Counters): Promise<Server> {
  const { errorLog, logFd = 2, ...input }: OptionValues = { ...options };
  if (errorLog !== undefined && typeof errorLog !== 'function') {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a function for errorLog but received ${typeof errorLog}`);
  }
  if (!Number.isInteger(logFd) || (logFd as number) < 0) {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a file descriptor (an integer from 0) for logFd but received ${String(logFd)}`);
  }
  for (const k of ['http', 'httpSocket', 'socket', 'uwsgiSocket']) {
    if (typeof input[k] === 'string') input[k] = [input[k]];
  }
  const values = normalize(input);
  if (values.logEncoder !== undefined) setMessageEncoder(values.logEncoder as string);
  const served = await resolveInterface(app, values.interface as string, 'the application given to serve()');
  const targets = socketsOf(values);
  if (targets.length === 0) targets.push({ address: parseSocketAddress('127.0.0.1:0', 'http'), protocol: 'http' });
  const mode = values.chmodSocket !== undefined ? parseSocketMode(values.chmodSocket as string) : undefined;
  const owner = values.chownSocket !== undefined ? parseOwner(values.chownSocket as string) : undefined;
  const backendName = chooseBackend(values.backend as string, (line) => process.emitWarning(line, { code: 'TSGI_ERR_NATIVE_MISSING' }));
  let backend: Backend;
  const onException = () => {
    if (counters) counters.exceptions++;
    else if (slot) (backend as NativeBackend).noteException();
  };
  const handler = new Handler(staticMapped(served.app, values), {
    backend: backendName,
    serverName: hostname(),
    onException,
    ...(values.forwardedAllowIps !== undefined ? { forwarded: ForwardedTrust.parse(values.forwardedAllowIps as string) } : {}),
    ...(errorLog !== undefined ? { errors: new ErrorLog(errorLog as (text: string | Uint8Array) => void) } : {}),
    ...(errorLog === undefined && values.logEncoder === 'json' ? { logError: (m: string) => process.stderr.write(messageLine(m.replace(/\n$/, ''))) } : {}),
  });
  let native: NativeBackend | undefined;
  if (backendName === 'js') {
    const { jsBackend } = await import('./js-server.js');
    backend = jsBackend(handler, values, logFd as number, counters);
  } else {
    backend = native = nativeBackend(handler, values, slot, logFd as number);
  }
  const logLine = (line: string) => writeSync(logFd as number, line + '\n');
  const backlog = effectiveBacklog(values.listen as number, logLine);
  const bound: BoundAddress[] = [];
  const created: string[] = []; // socket files this server made, for --vacuum
  const why = listenFailure;
  try {
    for (const { address: t, protocol } of targets) {
      if (t.kind === 'unix') {
        await prepareUnixSocket(t.path);
        try {
          await backend.listenUnix(t.path, backlog, protocol);
        } catch (err) {
          if (err instanceof TsgiError) throw err;
          throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${t.path}: ${why(err)}`, { cause: err });
        }
        if (!t.path.startsWith('@')) created.push(t.path);
        applySocketPermissions(t.path, mode, owner);
        bound.push({ address: t.path, port: 0, family: 'unix', protocol, spec: t.spec });
        continue;
      }
      const host = await resolveHost(t.host);
      try {
        const [address, port, family] = await backend.listen(host, t.port, backlog, protocol);
        bound.push({ address, port, family, protocol, spec: t.spec });
      } catch (err) {
        if (err instanceof TsgiError) throw err;
        throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${formatAddress(host, t.port)} (${t.spec}): ${why(err)}`, { cause: err });
      }
    }
  } catch (err) {
    backend.destroy();
    for (const path of created) removeSocketFile(path);
    throw err;
  }
  // In one process the process itself watches its queues, as a master does (the
  // master's workers do not: it holds the sockets).
  const queues = native ? new ListenQueueWatch(native.tcpListeners, (fd) => loadBinding().listenQueue(fd), logLine).start() : undefined;
  const vacuum = () => {
    if (values.vacuum) for (const path of created) removeSocketFile(path);
  };
  return {
    backend: backendName,
    address: bound[0]!,
    addresses: bound,
    close: () => {
      queues?.stop();
      return backend.close(true).then(vacuum);
    },
    destroy: () => {
      queues?.stop();
      backend.destroy();
      vacuum();
    },
  };
}
