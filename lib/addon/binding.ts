// Loads the native addon (node-gyp-build: built from source, or prebuilt in the package)
// and chooses the backend --backend asks for.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../base/package.js';
import { TsgiError } from '../base/errors.js';
import { WIRE_VERSION } from './wire.js';

/**
 * new Server(settings): every key is required (native/server/settings.cc throws a
 * TypeError, TSGI_ERR_NATIVE_SETTINGS, naming a missing or mistyped one).
 */
export interface NativeServerOptions {
  bufferSize: number;
  postBuffering: number;
  limitPost: number;
  timeoutMs: number;
  tmpDir: string;
  logging: boolean;
  /** uwsgi: SCRIPT_NAME off the front of PATH_INFO (--manage-script-name). */
  manageScriptName: boolean;
  /** --enable-proxy-protocol: HTTP connections start with a PROXY protocol header. */
  proxyProtocol: boolean;
  logFd: number;
  core: number;
  serverName: string;
  keys: readonly string[];
  methods: readonly string[];
  onRequest: (...args: unknown[]) => void;
  onDrain: (id: number) => void;
  onAbort: (id: number) => void;
  /** A connection handed over (upgrade(id)): its duplicated descriptor and the bytes read past the request. */
  onUpgrade: (id: number, fd: number, head: Buffer) => void;
  /** WebSockets' whole messages (websocket(id, ...)), each after its id: strings for text, Buffers for binary. */
  onWsMessages: (...idsAndMessages: Array<number | string | Buffer>) => void;
  /** A WebSocket closed: the peer's code and reason, the code the server closed with, or 1006. */
  onWsClose: (id: number, code: number, reason: string) => void;
  onClose: () => void;
  /** A custom request log: the line for a request (lib/logging/log-format.ts); null: the built-in line. */
  onLog: ((id: number, status: number, bodyBytes: number, headerCount: number, headerBytes: number, micros: number, requests: number, varsCount: number, varsBytes: number) => string) | null;
  logJson: boolean;
  log4xx: boolean;
  log5xx: boolean;
  logSlow: number;
  logBig: number;
  /** The master's scoreboard (a descriptor), or -1: none. */
  scoreboardFd: number;
  scoreboardSlot: number;
  scoreboardSlots: number;
}

export interface NativeServer {
  /** fd: the listener's own, valid until the server closes (to read its queue). */
  listen(host: string, port: number, backlog: number, protocol: number): [address: string, port: number, family: 'IPv4' | 'IPv6', fd: number];
  listenUnix(path: string, backlog: number, protocol: number): string;
  listenFd(fd: number, protocol: number): number;
  noteException(): void;
  send(id: number, head: string | undefined, body: unknown, flags: number): number;
  /** Hands request id's connection over (native/wire.h): onUpgrade follows. */
  upgrade(id: number): boolean;
  /** WebSockets kept by the server (native/wire.h, lib/contract/transport.ts WebSocketTransport). */
  websocket(id: number, head: string, maxMessage: number): boolean;
  wsSend(id: number, data: string | Uint8Array, kind: number): number;
  wsClose(id: number, code: number, reason: string): void;
  wsPause(id: number, paused: boolean): void;
  wsTerminate(id: number): void;
  /** The upgraded connections open now: the scoreboard's gauge (nothing without one). */
  setUpgraded(count: number): void;
  /** acceptWaiting: the sockets close for good: take the connections waiting first (Server::Close). */
  close(acceptWaiting?: boolean): void;
  destroy(): void;
  stats(): { requests: number; connections: number; refused: number; aborted: number; upgraded: number; acceptErrors: number; pooledRequests: number };
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
  /** Connections upgraded (WebSockets) the application holds now. */
  upgraded: number;
  /** Requests answered, by status class: [1xx, 2xx, 3xx, 4xx, 5xx]. */
  codes: number[];
  /** Requests answered, by duration: one count per bucket of lib/backend/counters.ts DURATION_BOUNDS, then one over the last; not cumulative. */
  durations: number[];
  /** Refusals, by status: lib/backend/counters.ts REFUSAL_CODES. */
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
  /** A TCP listening socket's accept queue (TCP_INFO); undefined for any other socket. */
  listenQueue(fd: number): { length: number; backlog: number } | undefined;
  logTo(path: string): void;
  openLog(path: string): number;
  reopenLog(path: string, fd: number): void;
  setLimitAs(bytes: number): void;
  /** ms from now, line to stderr and _exit(code), from a thread of its own (lib/process/end-process.ts); false: no thread. */
  exitWatchdog(ms: number, code: number, line: string): boolean;
  /** The wire contract's version the addon was built with (native/wire.h kWireVersion). */
  abiVersion: number;
}

let binding: NativeBinding | undefined;
let missing: TsgiError | undefined;

/** The first line of a load error (dlopen's are one line; node-gyp-build's two). */
function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!.trim();
}

/**
 * Throws TSGI_ERR_NATIVE_VERSION unless version, the abiVersion of the addon in file, is
 * the wire contract's version this lib/ speaks (lib/addon/wire.ts WIRE_VERSION): an addon built
 * from other sources would misread requests, or refuse its settings.
 */
export function checkWireVersion(version: unknown, file: string): void {
  if (version === WIRE_VERSION) return;
  throw new TsgiError(
    'TSGI_ERR_NATIVE_VERSION',
    `the native addon ${file} speaks wire contract version ${String(version)}, and this tsgi speaks version ${WIRE_VERSION}: the addon is a stale build; rebuild it (npm run build in a checkout, npm rebuild tsgi in an installed package)`,
  );
}

const RELEASE_BUILD = join(packageRoot, 'build', 'Release', 'tsgi.node');

/**
 * The addon: the file TSGI_NATIVE_ADDON names when it is set (the tests load the ASan
 * build so), else the one node-gyp-build picks in the package: build/Release or
 * build/Debug (built from source by "npm install" or "npm run build"), then
 * prebuilds/<platform>-<arch>/ (shipped in the package, one Node-API binary for every
 * Node version). build/Release/tsgi.node, node-gyp-build's first choice, is taken without
 * loading node-gyp-build (some 3 ms of every process's start, master and workers alike);
 * PREBUILDS_ONLY=1 skips it, as node-gyp-build does. Throws TSGI_ERR_NATIVE_MISSING,
 * whose message is one line saying what was looked for, when none fits or the one found
 * cannot be loaded, and TSGI_ERR_NATIVE_VERSION when it was built for another wire
 * contract (checkWireVersion).
 */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  if (missing) throw missing;
  const require = createRequire(import.meta.url);
  const forced = process.env.TSGI_NATIVE_ADDON;
  let file: string;
  if (forced !== undefined && forced !== '') {
    if (!existsSync(forced)) {
      missing = new TsgiError('TSGI_ERR_NATIVE_MISSING', `no native addon at TSGI_NATIVE_ADDON=${forced}`);
      throw missing;
    }
    file = forced;
  } else if (!process.env.PREBUILDS_ONLY && existsSync(RELEASE_BUILD)) {
    file = RELEASE_BUILD;
  } else {
    const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    try {
      file = nodeGypBuild.resolve(packageRoot);
    } catch {
      const libc = process.platform === 'linux' ? (existsSync('/etc/alpine-release') ? ' musl' : ' glibc') : '';
      missing = new TsgiError(
        'TSGI_ERR_NATIVE_MISSING',
        `no native addon for ${process.platform}-${process.arch}${libc}: none prebuilt in ${join(packageRoot, 'prebuilds')}, none built in ${join(packageRoot, 'build')} (building one needs python3, make and a C++ compiler: npm rebuild tsgi)`,
      );
      throw missing;
    }
  }
  let loaded: NativeBinding;
  try {
    loaded = require(file) as NativeBinding;
  } catch (err) {
    missing = new TsgiError('TSGI_ERR_NATIVE_MISSING', `the native addon ${file} cannot be loaded: ${firstLine(err)}`, { cause: err });
    throw missing;
  }
  try {
    checkWireVersion(loaded.abiVersion, file);
  } catch (err) {
    missing = err as TsgiError;
    throw missing;
  }
  binding = loaded;
  return binding;
}

export type BackendName = 'native' | 'js';

/**
 * --backend: "native" and "js" are what they say; "auto" is native when the addon loads,
 * else js, after one warning line through warn. Throws TSGI_ERR_NATIVE_MISSING for
 * "native" without an addon.
 */
export function chooseBackend(requested: string, warn: (line: string) => void): BackendName {
  if (requested === 'js') return 'js';
  try {
    loadBinding();
    return 'native';
  } catch (err) {
    if (requested === 'native' || !(err instanceof TsgiError)) throw err;
    warn(`${err.message}: serving with the js backend (node:http, node:net)`);
    return 'js';
  }
}
