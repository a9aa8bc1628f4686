// The pure-JS backend, on node:http: what wsgiref.simple_server is to Python. Same
// Handler, same environ, same options where node:http allows; docs/spec.md lists
// where it cannot behave as the native server does. jsBackend() makes what its parts
// share (the log, the request slots, the idle sweep) and puts them together: the
// listeners (lib/js/listeners.ts), the refusals (lib/js/refusals.ts), the requests' path
// (lib/js/dispatch.ts) and the responses' (lib/js/send.ts); here too are listen(),
// close() and destroy().
import { Buffer } from 'node:buffer';
import type { Server as HttpServer } from 'node:http';
import { writeSync } from 'node:fs';
import type { Server as NetServer, Socket } from 'node:net';
import type { Handler } from '../contract/handler.js';
import type { RequestEntry } from '../protocol/request-log.js';
import { customRequestLine, entryLine, logFilter, logsAny } from '../logging/log-format.js';
import type { Backend } from '../backend/backend.js';
import type { Config } from '../config/typed.js';
import type { Counters } from '../backend/counters.js';
import type { UwsgiConnection, UwsgiContext } from './uwsgi.js';
import { Slots } from './slots.js';
import { CLOSE_GRACE_MS, IdleSweep } from './idle.js';
import type { Pending } from './connection.js';
import { refusals } from './refusals.js';
import { httpDispatch } from './dispatch.js';
import { httpSend } from './send.js';
import { httpListener, uwsgiListener } from './listeners.js';

/**
 * The node:http and node:net server for handler. logFd: where the request log goes;
 * counters: where the stats server's figures come from (--stats), when it runs.
 */
export function jsBackend(handler: Handler, config: Config, logFd = 2, counters?: Counters): Backend {
  const { bufferSize, postBuffering, limitPost } = config;
  const timeoutMs = config.httpTimeout * 1000;
  const filter = logFilter(config);
  const logging = logsAny(filter);
  const custom = customRequestLine(config, 1, 0);
  // The environ is looked up only for a custom line (--logformat, json), the one reader of it.
  const requestLine = (e: RequestEntry, id: number) =>
    entryLine(e, filter, custom, custom === undefined ? undefined : (handler.environOf(id) as Record<string, unknown> | undefined));
  const checkEveryMs = Math.max(50, Math.min(1000, Math.floor(timeoutMs / 4)));

  // The slots of the requests with the application: an HTTP one's Pending, a uwsgi one's null.
  const slots = new Slots<Pending | null>();
  const log = (line: string) => {
    try {
      writeSync(logFd, Buffer.from(line, 'latin1')); // the request's bytes, as the native server writes them
    } catch {
      // the log is gone; keep serving
    }
  };
  const refusing = refusals(log, counters);
  const idle = new IdleSweep(timeoutMs, checkEveryMs, (w) => refusing.refuse(w.socket, 408, 'request not complete within http-timeout'));
  /** Connections upgrade() gave the application: counted as upgraded, no longer as open. */
  const handedOver = new WeakSet<Socket>();
  const uwsgiRequests = new Map<number, UwsgiConnection>();
  const { accept, finish, countRequest } = httpDispatch({ handler, config, counters, slots, logging, requestLine, log, refusals: refusing, idle });
  const sending = httpSend({ handler, counters, slots, uwsgiRequests, idle, handedOver, finish });
  handler.transport = sending.transport;
  if (counters) handler.upgraded.onCount = (n) => (counters.upgraded = n);

  const servers: NetServer[] = [];
  const closeGraceMs = Math.min(CLOSE_GRACE_MS, timeoutMs);
  const httpParts = { config, timeoutMs, checkEveryMs, closeGraceMs, idle, counters, handedOver, refusals: refusing, log, accept };
  // uwsgi listeners: node:net, one UwsgiConnection per front-end connection.
  const uwsgiConnections = new Set<UwsgiConnection>();
  const uwsgiContext: UwsgiContext = {
    handler,
    bufferSize,
    postBuffering,
    limitPost,
    timeoutMs,
    logging,
    requestLine,
    manageScriptName: config.manageScriptName,
    log,
    register(conn) {
      const id = slots.nextId(slots.take(null));
      uwsgiRequests.set(id, conn);
      return id;
    },
    unregister: (id) => {
      if (uwsgiRequests.delete(id)) slots.give(slots.slotOf(id));
    },
    countRequest,
  };
  const stopping = () => sending.stopping;
  const makeListener = (protocol: string, unix: boolean): NetServer => {
    const listener = servers.length;
    const server = protocol === 'uwsgi' ? uwsgiListener(listener, unix, uwsgiContext, uwsgiConnections, stopping) : httpListener(listener, httpParts);
    servers.push(server);
    return server;
  };

  let closed: Promise<void> | undefined;
  return {
    listen(host, port, backlog, protocol) {
      const server = makeListener(protocol, false);
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ host, port, backlog, ipv6Only: false }, () => {
          server.off('error', onError);
          const a = server.address();
          if (a === null || typeof a === 'string') {
            reject(new Error('no address'));
            return;
          }
          handler.listenerPorts.push(String(a.port));
          resolve([a.address, a.port, a.family === 'IPv6' ? 'IPv6' : 'IPv4']);
        });
      });
    },
    listenUnix(path, backlog, protocol) {
      const server = makeListener(protocol, true);
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen({ path: path.startsWith('@') ? '\0' + path.slice(1) : path, backlog }, () => {
          server.off('error', onError);
          handler.listenerPorts.push('');
          resolve();
        });
      });
    },
    close(_last, upgradedMercyMs = 0) {
      sending.stop();
      idle.closeIdle(closeGraceMs);
      if (closed === undefined) {
        closed = Promise.all(
          servers.map(
            (server) =>
              new Promise<void>((resolve) => {
                if (!server.listening) return resolve();
                server.close(() => resolve());
              }),
          ),
        ).then(() => undefined);
        // A front end's connection that has not sent a packet yet is closed; one with a
        // request in progress ends with its response.
        for (const conn of uwsgiConnections) conn.closeIdle();
      }
      return Promise.all([closed, handler.upgraded.drain(upgradedMercyMs)]).then(() => undefined);
    },
    destroy() {
      idle.stop();
      handler.upgraded.destroy();
      for (const conn of uwsgiConnections) conn.destroy();
      for (const server of servers) {
        if ('closeAllConnections' in server) (server as HttpServer).closeAllConnections();
        if (server.listening) server.close();
      }
    },
  };
}
