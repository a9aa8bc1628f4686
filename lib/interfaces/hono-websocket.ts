// Hono's upgradeWebSocket for applications served by tsgi (`import { upgradeWebSocket }
// from 'tsgi/hono'`, where on Node one imports it from '@hono/node-server', on Bun from
// 'hono/bun'): the same helper, made with Hono's defineWebSocketHelper, over the
// request's tsgi.websocket (lib/contract/websocket.ts). The application's events get
// what Hono's other adapters give: onOpen, onMessage (a string, or an ArrayBuffer for a
// binary message), onClose (a CloseEvent with the code and reason), onError, and a
// WSContext to send and close with. Served through the fetch interface, over HTTP (not
// uwsgi: nginx's uwsgi_pass carries no upgrade).
import { defineWebSocketHelper, WSContext, type WSReadyState } from 'hono/ws';
import type { WebSocket } from 'ws';
import { TsgiError } from '../base/errors.js';
import type { Environ, RawWebSocket } from '../contract/types.js';
import { handshakeRefusal } from '../contract/websocket.js';

/** The close event (Node has a global CloseEvent from 23 on): code, reason, wasClean. */
class WsCloseEvent extends Event {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
  constructor(code: number, reason: string) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = code !== 1006;
  }
}

/** The error event (Node has no global ErrorEvent): error, message. */
class WsErrorEvent extends Event {
  readonly error: unknown;
  readonly message: string;
  constructor(error: Error) {
    super('error');
    this.error = error;
    this.message = error.message;
  }
}

function arrayBufferOf(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export const upgradeWebSocket = defineWebSocketHelper<RawWebSocket>(async (c, events, options?: { onError?: (err: unknown) => void; protocol?: string }) => {
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return undefined; // not a handshake: the next handler
  const offer = (c.env as Environ | undefined)?.['tsgi.websocket'];
  if (offer === undefined) {
    return new Response('WebSocket upgrades need tsgi over HTTP (uwsgi_pass cannot carry one)\n', { status: 501 });
  }
  // Judged before the connection is taken: a refusal is an ordinary 400.
  const refused = handshakeRefusal(c.env as Environ, options?.protocol);
  if (refused !== undefined) return new Response(`Bad Request: ${refused}\n`, { status: 400 });
  const report = options?.onError ?? ((err: unknown) => console.error(err));
  const url = c.req.url;
  offer.accept({ protocol: options?.protocol }).then(
    (raw) => {
      const ws = raw as unknown as WebSocket;
      const ctx = new WSContext<RawWebSocket>({
        send: (data, opts) => ws.send(data, { compress: opts?.compress }),
        close: (code, reason) => ws.close(code, reason),
        raw,
        get readyState() {
          return ws.readyState as WSReadyState;
        },
        url,
        protocol: ws.protocol,
      });
      const safely = (f: () => void) => {
        try {
          f();
        } catch (err) {
          report(err);
        }
      };
      ws.on('message', (data, isBinary) => {
        const b = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
        safely(() => events.onMessage?.(new MessageEvent('message', { data: isBinary ? arrayBufferOf(b) : b.toString('utf8') }), ctx));
      });
      ws.on('close', (code, reason) => safely(() => events.onClose?.(new WsCloseEvent(code, reason.toString()) as unknown as Parameters<NonNullable<typeof events.onClose>>[0], ctx)));
      ws.on('error', (error) => safely(() => events.onError?.(new WsErrorEvent(error), ctx)));
      safely(() => events.onOpen?.(new Event('open'), ctx));
    },
    (err: unknown) => {
      if (!(err instanceof TsgiError && err.code === 'TSGI_ERR_UPGRADE')) report(err); // a client gone is no error
    },
  );
  // What Hono's Node adapter returns too: the answer is the 101 the handshake wrote.
  return new Response(null);
});
