// Loads the native addon built by node-gyp (build/Release/tsgi.node).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsgiError } from './errors.js';

export interface NativeServerOptions {
  bufferSize: number;
  postBuffering: number;
  limitPost: number;
  timeoutMs: number;
  tmpDir: string;
  logging: boolean;
  /** uwsgi: SCRIPT_NAME off the front of PATH_INFO (--manage-script-name). */
  manageScriptName: boolean;
  logFd: number;
  core: number;
  serverName: string;
  keys: readonly string[];
  methods: readonly string[];
  onRequest: (...args: unknown[]) => void;
  onDrain: (id: number) => void;
  onAbort: (id: number) => void;
  onClose: () => void;
  scoreboardFd?: number;
  scoreboardSlot?: number;
  scoreboardSlots?: number;
}

export interface NativeServer {
  listen(host: string, port: number, backlog: number, protocol: number): [address: string, port: number, family: 'IPv4' | 'IPv6'];
  listenUnix(path: string, backlog: number, protocol: number): string;
  listenFd(fd: number, protocol: number): number;
  noteException(): void;
  send(id: number, head: string | undefined, body: unknown, flags: number): number;
  /** acceptWaiting: the sockets close for good: take the connections waiting first (Server::Close). */
  close(acceptWaiting?: boolean): void;
  destroy(): void;
  stats(): { requests: number; connections: number; refused: number; aborted: number; acceptErrors: number; pooledRequests: number };
  setRequestCounter(total: number): void;
}

export interface ScoreboardSlot {
  pid: number;
  status: number;
  requests: number;
  requestStart: number;
  tx: number;
  exceptions: number;
  avgRt: number;
  lastSpawn: number;
  respawnCount: number;
  harakiriCount: number;
  /** Bytes; valid only when rssPid is the pid of the process that holds the slot. */
  rss: number;
  vsz: number;
  deltaRequests: number;
  runningTime: number;
  /** Connections refused, and accept() calls failed (out of file descriptors...). */
  acceptErrors: number;
  /** The pid of the process that wrote rss. */
  rssPid: number;
  /** Requests in progress on this core now. */
  inProgress: number;
  /** Connections open on this core now. */
  connections: number;
  /** Requests whose client went away before their response was complete. */
  aborted: number;
  /** Requests answered, by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  codes: number[];
  /** Requests answered, by duration: one count per bucket of lib/metrics.ts DURATION_BOUNDS, then one over the last; not cumulative. */
  durations: number[];
  /** Refusals, by status: lib/metrics.ts REFUSAL_CODES. */
  refusals: number[];
  /** The oldest request in progress's method and URI (the last one's when idle). */
  request: string;
}

export interface NativeBinding {
  Server: new (options: NativeServerOptions) => NativeServer;
  bindTcp(host: string, port: number, backlog: number): [fd: number, address: string, port: number, family: 'IPv4' | 'IPv6'];
  bindUnix(path: string, backlog: number): number;
  closeFd(fd: number): void;
  scoreboardCreate(slots: number): number;
  scoreboardRead(): ScoreboardSlot[];
  scoreboardSet(slot: number, field: keyof ScoreboardSlot, value: number): void;
  /** Zeroes what a worker writes (and the harakiri count), for the next process in the slot. */
  scoreboardReset(slot: number): void;
  listenQueue(fd: number): number;
  logTo(path: string): void;
  setLimitAs(bytes: number): void;
  abiVersion: number;
}

let binding: NativeBinding | undefined;

/** The package's root: two levels above dist/lib/. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function loadBinding(): NativeBinding {
  if (binding) return binding;
  const require = createRequire(import.meta.url);
  const candidates = [
    process.env.TSGI_NATIVE_ADDON,
    join(packageRoot, 'build', 'Release', 'tsgi.node'),
    join(packageRoot, 'build', 'Debug', 'tsgi.node'),
  ].filter((p): p is string => typeof p === 'string' && p !== '');
  for (const p of candidates) {
    if (existsSync(p)) {
      binding = require(p) as NativeBinding;
      return binding;
    }
  }
  throw new TsgiError(
    'TSGI_ERR_NATIVE_MISSING',
    `The native addon is not built (looked in ${candidates.join(', ')}): run "npm install" or "npm run build", or use --backend js`,
  );
}
