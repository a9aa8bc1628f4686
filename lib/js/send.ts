// The js backend's Transport (lib/contract/transport.ts), as native/server/send.cc and
// upgrade.cc are the native server's: sendParts() writes a response's head through
// node:http's writeHead(), send() and respond() its body and end, and upgrade() hands an
// upgrade's connection to the application; a uwsgi request's go to its connection
// (lib/js/uwsgi.ts). Each response ends with lib/js/dispatch.ts's finish(). This is the
// hot path: what it needs is in closure variables, set once by httpSend().
import { Buffer } from 'node:buffer'; // a module binding: the global is looked up on every use
import type { Socket } from 'node:net';
import { headText, type Transport } from '../contract/transport.js';
import { SEND_ABORT, SEND_ADD_LENGTH, SEND_CLOSE, SEND_END } from '../addon/wire.js';
import type { Chunk } from '../contract/types.js';
import type { UwsgiConnection } from './uwsgi.js';
import { latin1Values, statusParts, type Pending } from './connection.js';
import type { Dispatch, DispatchParts } from './dispatch.js';

/** What the responses' path takes from its backend (lib/js/server.ts jsBackend()). */
export interface SendParts extends Pick<DispatchParts, 'handler' | 'counters' | 'slots' | 'idle'> {
  /** The uwsgi requests with the application, by id: send() finds theirs here. */
  uwsgiRequests: ReadonlyMap<number, UwsgiConnection>;
  /** Connections upgrade() gave the application: counted as upgraded, no longer as open. */
  handedOver: WeakSet<Socket>;
  finish: Dispatch['finish'];
}

export interface Send {
  /** The Handler's transport, for HTTP and uwsgi requests alike. */
  readonly transport: Transport;
  /** Whether stop() was called. */
  readonly stopping: boolean;
  /** The backend stops: every response from now on closes its connection. */
  stop(): void;
}

export function httpSend(parts: SendParts): Send {
  const { handler, counters, slots, uwsgiRequests, idle, handedOver, finish } = parts;
  let stopping = false;

  // The last Content-Length made: a route answers with bodies of one length, often.
  let lastLength = 0;
  let lastLengthText = '0';

  /** Transport.sendParts: an HTTP request's head, through writeHead(); a uwsgi one's as text. */
  function sendParts(id: number, status: string, headers: string[], body: Chunk | Chunk[] | undefined, flags: number): number {
    const p = slots.holder(id);
    if (p == null || p.id !== id) return uwsgiRequests.get(id)?.send(headText(status, headers), body, flags) ?? -1;
    const { res, entry } = p;
    if (entry !== undefined) {
      let bytes = 9 + status.length + 2; // "HTTP/1.1 " and the status line; each header line:
      for (let i = 0; i < headers.length; i += 2) bytes += headers[i]!.length + headers[i + 1]!.length + 4;
      entry.headerBytes = bytes;
    }
    // A string written with the head goes out in one piece with it, encoded as UTF-8: not
    // when the head holds latin-1 bytes, which must stay one byte each.
    const { code, reason, latin1 } = statusParts(status);
    const withString = typeof body === 'string' || (Array.isArray(body) && typeof body[0] === 'string');
    const firstAsBytes = withString && (latin1 || latin1Values(headers));
    if (flags & SEND_ADD_LENGTH) {
      let n = 0;
      if (Array.isArray(body)) for (const c of body) n += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
      else if (body !== undefined) n = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      if (n !== lastLength) lastLengthText = String((lastLength = n));
      headers.push('Content-Length', lastLengthText);
    }
    if (flags & SEND_CLOSE || stopping) {
      headers.push('Connection', 'close');
      res.shouldKeepAlive = false;
      p.close = true;
    }
    res.sendDate = false;
    res.writeHead(code, reason, headers);
    if (entry !== undefined) {
      entry.status = code;
      entry.headerCount = headers.length / 2;
    }
    return respond(p, body, flags, firstAsBytes);
  }

  /** Transport.send: the body, or the end, of a response whose head went out (sendParts takes every head). */
  function send(id: number, head: string | undefined, body: Chunk | Chunk[] | undefined, flags: number): number {
    const p = slots.holder(id);
    if (p == null || p.id !== id) return uwsgiRequests.get(id)?.send(head, body, flags) ?? -1;
    return respond(p, body, flags, false);
  }

  /** The body and end of a response; firstAsBytes: its first chunk, a string, goes as bytes (see sendParts). */
  function respond(p: Pending, body: Chunk | Chunk[] | undefined, flags: number, firstAsBytes: boolean): number {
    const { res, entry } = p;
    const end = (flags & (SEND_END | SEND_ABORT)) === SEND_END;
    // The last chunk goes with end(): head and body in one write when they fit in one.
    let last: Chunk | undefined;
    let ok = true;
    if (body !== undefined) {
      const n = Array.isArray(body) ? body.length : 1;
      for (let i = 0; i < n; i++) {
        let c = Array.isArray(body) ? body[i]! : body;
        if (firstAsBytes && i === 0) c = Buffer.from(c as string);
        if (entry !== undefined) entry.bodyBytes += typeof c === 'string' ? Buffer.byteLength(c) : c.byteLength;
        if (end && i === n - 1) last = c;
        else ok = res.write(c) && ok;
      }
    }
    if (flags & SEND_ABORT) {
      p.close = true;
      finish(p);
      res.destroy();
      return -1;
    }
    if (end) {
      if (flags & SEND_CLOSE) p.close = true;
      finish(p);
      if (p.close) {
        // The end of the body is the close (a short Content-Length, HTTP/1.0).
        res.shouldKeepAlive = false;
        const socket = res.socket; // node:http detaches it before our 'finish' listener runs
        res.once('finish', () => socket?.end());
      }
      res.end(last);
      return 0;
    }
    if (!ok && !p.drainWatched) {
      p.drainWatched = true;
      res.on('drain', () => handler.onDrain(p.id));
    }
    return ok ? 0 : 1;
  }

  /** tsgi.upgrade(): the connection node:http gave up goes to the application, logged as answered with 101. */
  function upgrade(id: number): boolean {
    const p = slots.holder(id);
    if (p == null || p.id !== id || p.upgrade === undefined || p.res.headersSent) return false;
    const { socket, head } = p.upgrade;
    if (p.onEnd !== undefined) socket.off('end', p.onEnd);
    if (p.entry !== undefined) p.entry.status = 101;
    p.close = false;
    finish(p);
    idle.forget(p.state); // the application's now: no http-timeout
    p.res.detachSocket(socket);
    handedOver.add(socket);
    if (counters) counters.connections--;
    handler.onUpgrade(id, socket, head);
    return true;
  }

  return {
    transport: { send, sendParts, upgrade },
    get stopping() {
      return stopping;
    },
    stop() {
      stopping = true;
    },
  };
}
