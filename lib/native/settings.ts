// The settings the addon's Server is made with (native/server/server.cc Server::Server, native/server/settings.cc), from
// the configuration and this server's place in the process: the one function that
// writes that object, so that each setting the C++ obeys has one road to it and its
// value (or its default) comes from the option table alone.
import { Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { KEYS, METHODS } from '../addon/wire.js';
import type { Handler } from '../contract/handler.js';
import type { NativeServerOptions } from '../addon/binding.js';
import type { Config } from '../config/typed.js';
import { customRequestLine, logFilter } from '../logging/log-format.js';
import type { WorkerSlot } from '../backend/backend.js';

/** Where this server stands: its handler, its scoreboard slot under a master, its log's descriptor. */
export interface NativePlace {
  handler: Handler;
  slot: WorkerSlot | undefined;
  logFd: number;
  onClose: () => void;
}

/** Every key new Server() takes: the configuration's settings, then the place's. */
export function nativeSettings(config: Config, place: NativePlace): NativeServerOptions {
  const { handler, slot } = place;
  const line = customRequestLine(config, slot?.worker ?? 1, slot?.core ?? 0);
  const filter = logFilter(config);
  return {
    bufferSize: config.bufferSize,
    postBuffering: config.postBuffering,
    limitPost: config.limitPost,
    timeoutMs: config.httpTimeout * 1000,
    tmpDir: tmpdir(),
    logging: filter.all,
    logJson: config.logEncoder === 'json',
    log4xx: filter.status4xx,
    log5xx: filter.status5xx,
    logSlow: filter.slowMs,
    logBig: filter.bigBytes,
    manageScriptName: config.manageScriptName,
    proxyProtocol: config.enableProxyProtocol,
    onLog:
      line !== undefined
        ? (id, status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount, varsBytes) =>
            line((handler.environOf(id) ?? {}) as Record<string, unknown>, { status, bodyBytes, headerCount, headerBytes, micros, requests, varsCount, varsBytes })
        : null,
    logFd: place.logFd,
    core: slot?.core ?? 0,
    serverName: hostname(),
    keys: KEYS,
    methods: METHODS,
    onRequest: handler.onRequest.bind(handler) as (...args: unknown[]) => void,
    onDrain: (id) => handler.onDrain(id),
    onAbort: (id) => handler.onAbort(id),
    onUpgrade: (id, fd, head) => handler.onUpgrade(id, new Socket({ fd, readable: true, writable: true, allowHalfOpen: true }), head),
    onWsMessages: handler.onWsMessages.bind(handler) as (...idsAndMessages: Array<number | string | Buffer>) => void,
    onWsClose: (id, code, reason) => handler.onWsClose(id, code, reason),
    onClose: place.onClose,
    // No scoreboard: -1, slot 0 of 0.
    scoreboardFd: slot?.scoreboardFd ?? -1,
    scoreboardSlot: slot?.scoreboardSlot ?? 0,
    scoreboardSlots: slot?.scoreboardSlots ?? 0,
  };
}
