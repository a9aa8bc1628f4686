// makeServer(host, port, app): wsgiref.simple_server.make_server's shape, on either
// backend: serveForever() runs until close().
import { serve, type ServeOptions } from './serve.js';
import type { Server } from './backend/backend.js';
import type { Application } from './contract/types.js';

export interface WsgirefServer {
  /** Binds and serves; the Promise settles when the server is closed. */
  serveForever(): Promise<void>;
  /** Graceful: requests in progress finish. */
  close(): Promise<void>;
  /** The bound server, once serveForever() has bound it. */
  readonly server: Server | undefined;
  readonly ready: Promise<Server>;
}

export function makeServer(host: string, port: number, app: Application, options: Omit<ServeOptions, 'http'> = {}): WsgirefServer {
  let server: Server | undefined;
  let resolveReady!: (s: Server) => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<Server>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {});
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let closing = false;
  let binding: Promise<Server> | undefined;
  const address = host.includes(':') ? `[${host}]:${port}` : `${host === '' ? '0.0.0.0' : host}:${port}`;
  return {
    get server() {
      return server;
    },
    ready,
    async serveForever() {
      try {
        binding = serve(app, { ...options, http: address });
        server = await binding;
      } catch (err) {
        rejectReady(err);
        throw err;
      }
      resolveReady(server);
      if (closing) await server.close().then(resolveDone);
      return done;
    },
    async close() {
      closing = true;
      // A bind in progress finishes first, so that the port is free when this settles.
      if (binding !== undefined && server === undefined) await binding.catch(() => undefined);
      if (server) await server.close();
      resolveDone();
    },
  };
}
