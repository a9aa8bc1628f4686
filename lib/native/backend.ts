// The native backend: the addon's Server (native/server/) serving a Handler.
import type { Handler } from '../contract/handler.js';
import { formatAddress } from '../protocol/address.js';
import { loadBinding, type NativeServer } from '../addon/binding.js';
import { PROTOCOL_HTTP, PROTOCOL_UWSGI } from '../addon/wire.js';
import type { Config } from '../config/typed.js';
import { nativeSettings } from './settings.js';
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
export function nativeBackend(handler: Handler, config: Config, slot?: WorkerSlot, logFd = 2): NativeBackend {
  const binding = loadBinding();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const native: NativeServer = new binding.Server(nativeSettings(config, { handler, slot, logFd, onClose: () => resolveClosed() }));
  handler.transport = native;
  handler.upgraded.onCount = (n) => native.setUpgraded(n);
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
    close(last = false, upgradedMercyMs = 0) {
      if (!closing) {
        closing = true;
        native.close(last);
      }
      return Promise.all([closed, handler.upgraded.drain(upgradedMercyMs)]).then(() => undefined);
    },
    destroy() {
      closing = true;
      native.destroy();
      handler.upgraded.destroy();
    },
  };
}

