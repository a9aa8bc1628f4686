// What serve() gives its caller (Server, BoundAddress) and what a backend implements
// for it (Backend): the native one (lib/native/backend.ts) and the js one (lib/js/).
import type { BackendName } from '../addon/binding.js';
import type { SocketProtocol } from '../config/derived.js';

export type { SocketProtocol };

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
  /**
   * Stops accepting, lets requests in progress finish, then resolves; the WebSockets and
   * other upgraded connections get upgradedMercyMs (default: reload-mercy less 1.5 s), then
   * a close with 1001.
   */
  close(upgradedMercyMs?: number): Promise<void>;
  /** Closes every connection now; requests in progress are aborted. */
  destroy(): void;
}

/** What a backend implements; serve() wraps it. */
export interface Backend {
  listen(host: string, port: number, backlog: number, protocol: SocketProtocol): Promise<[string, number, 'IPv4' | 'IPv6']>;
  listenUnix(path: string, backlog: number, protocol: SocketProtocol): Promise<void>;
  /**
   * last: the sockets close for good (no other process accepts on them after).
   * upgradedMercyMs: how long the connections the application took (WebSockets) are
   * given to end before they are told to go away (lib/contract/upgraded.ts).
   */
  close(last?: boolean, upgradedMercyMs?: number): Promise<void>;
  /** Closes every connection now, the upgraded ones too. */
  destroy(): void;
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

