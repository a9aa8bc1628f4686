// The native backend: the addon's Server (native/server.cc) serving a Handler.
import { hostname, tmpdir } from 'node:os';
import { KEYS, METHODS } from '../contract/exchange.js';
import type { Handler } from '../contract/handler.js';
import { formatAddress } from '../protocol/address.js';
import { loadBinding, type NativeServer } from '../addon/binding.js';
import type { OptionValues } from '../config/options.js';
import { customRequestLine, logFilter } from '../logging/log-format.js';
import type { Backend, SocketProtocol, WorkerSlot } from '../backend/backend.js';

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
    ...(line !== undefined
      ? {
          onLog: (id: number, status: number, bodyBytes: number, headerCount: number, headerBytes: number, micros: number, requests: number, varsCount: number, varsBytes: number) =>
            line((handler.environOf(id) ?? {}) as Record<string, unknown>, { status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount, varsBytes }),
        }
      : {}),
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
    ...(slot ?? {}),
  });
  handler.transport = native;
  let closing = false;
  const tcpListeners: { name: string; fd: number }[] = [];
  return {
    tcpListeners,
    async listen(host, port, backlog, protocol) {
      const [address, boundPort, family, fd] = native.listen(host, port, backlog, protocol === 'uwsgi' ? 1 : 0);
      handler.listenerPorts.push(String(boundPort));
      tcpListeners.push({ name: formatAddress(address, boundPort), fd });
      return [address, boundPort, family];
    },
    async listenUnix(path, backlog, protocol) {
      native.listenUnix(path, backlog, protocol === 'uwsgi' ? 1 : 0);
      handler.listenerPorts.push('');
    },
    listenFd(fd, protocol, port) {
      native.listenFd(fd, protocol === 'uwsgi' ? 1 : 0);
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

