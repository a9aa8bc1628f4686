// The node interface: an application written for node:http, a request listener
// (req, res) => void (an Express app, koa.callback(), fastify.routing, a plain
// function), served as a tsgi Application (docs/spec.md). Each request gets a real
// http.IncomingMessage and http.ServerResponse (node-request.ts, node-response.ts) on a
// stand-in socket (node-socket.ts), so the frameworks' own prototypes, body parsers,
// pipe(), events and backpressure work as on node:http; tsgi frames and sends the
// response, and every backend, master mode, harakiri, logging and stats work unchanged.
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { TsgiError } from '../base/errors.js';
import type { Application, Body, Chunk, Environ, StartResponse } from '../contract/types.js';
import { makeRequest } from './node-request.js';
import { asServerResponse, makeResponse, NodeExchange } from './node-response.js';
import { NodeSocket } from './node-socket.js';

export type NodeListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * The tsgi Application that serves listener. A response that the listener ends before
 * it returns, with a Content-Length (its own, or the one node adds when end() gets the
 * whole body) or no body, is returned as a list: tsgi sends it in one piece. Any other
 * is an async iterable that tsgi pulls as the application writes.
 */
export function fromNodeListener(listener: NodeListener): Application {
  if (typeof listener !== 'function') {
    throw new TypeError(`Expected a request listener (req, res) for fromNodeListener() but received ${listener === null ? 'null' : typeof listener}`);
  }
  return (environ: Environ, startResponse: StartResponse): Body => {
    const socket = new NodeSocket(environ);
    const req = makeRequest(socket, environ);
    const ex = new NodeExchange(req, socket, startResponse);
    const res = makeResponse(req, socket, ex);
    try {
      listener(req, asServerResponse(res));
    } catch (err) {
      // node:http would crash the process; tsgi answers 500 (or cuts a response begun)
      // and logs the error, and the request and response see the exchange end.
      ex.close();
      throw err;
    }
    if (ex.ended && ex.framed && ex.error === undefined) {
      const whole = ex.chunks as Chunk[] & { close?: () => void };
      ex.chunks = [];
      ex.queued = 0;
      ex.handedAll = true;
      whole.close = () => ex.close();
      return whole;
    }
    return ex as unknown as Body;
  };
}

/**
 * The tsgi Application that serves an http.Server the application made and did not
 * listen on (`export default http.createServer(app)`, with `ws` or Socket.IO attached):
 * its 'request' listeners get every request, as listen() would have them; a request
 * offering an upgrade (a WebSocket handshake) goes to its 'upgrade' listeners, when it
 * has any, as node:http emits it: (req, socket, head), socket the connection's own
 * net.Socket, now the application's (tsgi.upgrade()), head the bytes read past the request.
 * Without an 'upgrade' listener an upgrade is an ordinary request, as on node:http.
 */
export function fromNodeServer(server: HttpServer): Application {
  const requests = fromNodeListener((req, res) => server.emit('request', req, res));
  return (environ: Environ, startResponse: StartResponse): Body | Promise<Body> => {
    const take = environ['tsgi.upgrade'];
    if (take === undefined || server.listenerCount('upgrade') === 0) return requests(environ, startResponse);
    take().then(
      ({ socket, head }) => {
        const req = makeRequest(socket as unknown as NodeSocket, environ);
        (req as IncomingMessage & { upgrade: boolean }).upgrade = true;
        server.emit('upgrade', req, socket, head);
      },
      () => {}, // the client went away before the hand-off: nobody to tell
    );
    return [];
  };
}

/**
 * The request listener of what a module exports for node:http, for --interface node:
 * a function is one already (an Express app, koa.callback(), a plain listener); a Koa
 * application gives its callback(); a Fastify instance its router, once ready() loaded
 * its plugins. Anything else is a TsgiError (TSGI_ERR_APP_NO_CALLABLE).
 */
export async function nodeListenerOf(exported: unknown): Promise<NodeListener> {
  if (typeof exported === 'function') return exported as NodeListener;
  if (exported !== null && typeof exported === 'object') {
    const app = exported as { callback?: unknown; routing?: unknown; ready?: unknown };
    if (typeof app.routing === 'function' && typeof app.ready === 'function') {
      await (app.ready as () => Promise<unknown>).call(app);
      return app.routing as NodeListener;
    }
    if (typeof app.callback === 'function') return (app.callback as () => NodeListener).call(app);
  }
  throw new TsgiError(
    'TSGI_ERR_APP_NO_CALLABLE',
    `Expected a node:http request listener (req, res), a Koa application or a Fastify instance for the node interface but received ${exported === null ? 'null' : typeof exported}`,
  );
}
