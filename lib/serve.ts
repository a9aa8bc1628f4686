// serve(app, options): the programmatic entry point, for both backends.
import { hostname, tmpdir } from 'node:os';
import { Handler, KEYS, METHODS } from './exchange.js';
import { parseTcpAddress, resolveHost, formatAddress, type TcpAddress } from './address.js';
import { TsgiError } from './errors.js';
import { loadBinding, type NativeServer } from './native-binding.js';
import { normalize, type OptionValues } from './options.js';
import type { Application } from './types.js';

export interface ServeOptions {
  /** Addresses to serve HTTP on; "127.0.0.1:0" (a free port on loopback) when none is given. */
  http?: string | string[];
  httpSocket?: string | string[];
  backend?: 'native' | 'js';
  bufferSize?: number;
  postBuffering?: number;
  limitPost?: number;
  /** Seconds. */
  httpTimeout?: number;
  listen?: number;
  disableLogging?: boolean;
  [option: string]: unknown;
}

export interface BoundAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  protocol: 'http';
  /** As the option gave it. */
  spec: string;
}

export interface Server {
  readonly backend: 'native' | 'js';
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
  listen(host: string, port: number, backlog: number): Promise<[string, number, 'IPv4' | 'IPv6']>;
  close(): Promise<void>;
  destroy(): void;
}

function addressesOf(values: OptionValues): TcpAddress[] {
  const list: TcpAddress[] = [];
  for (const spec of (values.http as string[] | undefined) ?? []) list.push(parseTcpAddress(spec, 'http'));
  for (const spec of (values.httpSocket as string[] | undefined) ?? []) list.push(parseTcpAddress(spec, 'http-socket'));
  return list;
}

function nativeBackend(handler: Handler, values: OptionValues): Backend {
  const binding = loadBinding();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const native: NativeServer = new binding.Server({
    bufferSize: values.bufferSize as number,
    postBuffering: values.postBuffering as number,
    limitPost: values.limitPost as number,
    timeoutMs: (values.httpTimeout as number) * 1000,
    tmpDir: tmpdir(),
    logging: !(values.disableLogging as boolean),
    logFd: 2,
    core: 0,
    serverName: hostname(),
    keys: KEYS,
    methods: METHODS,
    onRequest: handler.onRequest.bind(handler) as (...args: unknown[]) => void,
    onDrain: (id) => handler.onDrain(id),
    onAbort: (id) => handler.onAbort(id),
    onClose: () => resolveClosed(),
  });
  handler.transport = native;
  let closing = false;
  return {
    async listen(host, port, backlog) {
      const bound = native.listen(host, port, backlog);
      handler.listenerPorts.push(String(bound[1]));
      return bound;
    },
    close() {
      if (!closing) {
        closing = true;
        native.close();
      }
      return closed;
    },
    destroy() {
      closing = true;
      native.destroy();
    },
  };
}

export async function serve(app: Application, options: ServeOptions = {}): Promise<Server> {
  if (typeof app !== 'function') {
    throw new TsgiError('TSGI_ERR_APP_NO_CALLABLE', `Expected an application function for serve() but received ${typeof app}`);
  }
  const input: OptionValues = { ...options };
  for (const k of ['http', 'httpSocket']) {
    if (typeof input[k] === 'string') input[k] = [input[k]];
  }
  const values = normalize(input);
  const targets = addressesOf(values);
  if (targets.length === 0) targets.push(parseTcpAddress('127.0.0.1:0'));
  const backendName = values.backend as 'native' | 'js';
  const handler = new Handler(app, { backend: backendName, serverName: hostname() });
  let backend: Backend;
  if (backendName === 'js') {
    const { jsBackend } = await import('./js-server.js');
    backend = jsBackend(handler, values);
  } else {
    backend = nativeBackend(handler, values);
  }
  const bound: BoundAddress[] = [];
  try {
    for (const t of targets) {
      const host = await resolveHost(t.host);
      try {
        const [address, port, family] = await backend.listen(host, t.port, values.listen as number);
        bound.push({ address, port, family, protocol: 'http', spec: t.spec });
      } catch (err) {
        const code = (err as { code?: string }).code;
        const why =
          code === 'EADDRINUSE'
            ? 'the address is already in use'
            : code === 'EACCES'
              ? 'permission denied'
              : code === 'EADDRNOTAVAIL'
                ? 'the address is not available on this machine'
                : (err as Error).message;
        throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${formatAddress(host, t.port)} (${t.spec}): ${why}`, { cause: err });
      }
    }
  } catch (err) {
    backend.destroy();
    throw err;
  }
  return {
    backend: backendName,
    address: bound[0]!,
    addresses: bound,
    close: () => backend.close(),
    destroy: () => backend.destroy(),
  };
}
