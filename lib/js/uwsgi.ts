// The uwsgi protocol on the pure-JS backend: one connection from a front end (nginx's
// uwsgi_pass), one packet, its body, one response written raw, then the close. What
// native/server/ does for a uwsgi listener (Process, DispatchUwsgi, Send, Refuse,
// RefusePacket), on node:net, so that the application sees the same environ and the
// front end the same bytes whichever backend runs.
import type { Socket } from 'node:net';
import type { Handler } from '../contract/handler.js';
import { REQ_BODY_FILE, REQ_HTTP10, REQ_LISTENER_SHIFT, REQ_NEW_CONNECTION, REQ_UWSGI, SEND_ABORT, SEND_ADD_LENGTH, SEND_CHUNKED, SEND_END } from '../addon/wire.js';
import { formatConnectionLine, formatRefusal, refusalResponse, RequestEntry } from '../protocol/request-log.js';
import { BodyBuffer } from './body.js';
import { outputMoved, type OutputMarks } from './idle.js';
import { parseUwsgiPacket, stripScriptName, type UwsgiPacket } from '../protocol/uwsgi-packet.js';
import type { Chunk } from '../contract/types.js';

/** What a uwsgi connection needs from the backend that accepted it. */
export interface UwsgiContext {
  handler: Handler;
  bufferSize: number;
  postBuffering: number;
  limitPost: number;
  timeoutMs: number;
  logging: boolean;
  /** The line for a request that ends now (lib/logging/log-format.ts entryLine), if it gets one. */
  requestLine(entry: RequestEntry, id: number): string | undefined;
  manageScriptName: boolean;
  log(line: string): void;
  /** A new request id, registered so that send() finds this connection. */
  register(conn: UwsgiConnection): number;
  unregister(id: number): void;
  /** Counts a request dispatched; the count the log line shows. */
  countRequest(): number;
}

// nginx passes these headers on too; they are CONTENT_TYPE and CONTENT_LENGTH already,
// and the body comes de-chunked: the same environ as over HTTP.
const SKIP_KEYS = new Set(['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING']);

type State = 'idle' | 'head' | 'body' | 'dispatched' | 'done';

export class UwsgiConnection {
  private state: State = 'idle';
  private head: Buffer[] = [];
  private headBytes = 0;
  /** How many bytes the packet needs before parsing it can tell more than "more". */
  private headNeeded = 4;
  private packet: UwsgiPacket | undefined;
  private remaining = 0n;
  private body: BodyBuffer | undefined;
  private id = -1;
  private chunked = false;
  private entry: RequestEntry | undefined;
  private readonly timer: NodeJS.Timeout;
  /** The response's output when last looked at (lib/js/idle.ts outputMoved): a front end that reads it is not cut. */
  private readonly marks: OutputMarks = { outLength: 0, outQueued: 0, outDone: 0 };

  constructor(
    private readonly socket: Socket,
    private readonly listener: number,
    private readonly unix: boolean,
    private readonly ctx: UwsgiContext,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onData(data));
    // A front end that half-closes or goes away while its request runs is gone (as on
    // the native server); before that there is nothing to answer.
    socket.on('end', () => this.gone());
    socket.on('close', () => this.gone());
    socket.on('error', () => this.gone());
    socket.on('drain', () => {
      if (this.state !== 'dispatched') return;
      this.timer.refresh(); // the front end reads: the write timeout starts again
      ctx.handler.onDrain(this.id);
    });
    this.timer = setTimeout(() => this.onTimeout(), ctx.timeoutMs);
  }

  /** Whether nothing has arrived yet: a graceful stop may close it. */
  get idle(): boolean {
    return this.state === 'idle';
  }

  /** Ends the connection at once (the backend's destroy()). */
  destroy(): void {
    this.socket.destroy();
  }

  /** Closes a connection that has not begun a request (the backend's close()). */
  closeIdle(): void {
    if (this.state === 'idle') this.finishConnection();
  }

  private onData(data: Buffer): void {
    if (this.state === 'idle') {
      // The packet has begun: it must be complete within http-timeout, however slowly.
      this.state = 'head';
      this.timer.refresh();
    }
    if (this.state === 'head') this.onHead(data);
    else if (this.state === 'body') this.onBody(data);
    // Bytes after the body, or after a refusal, are dropped: one request per connection.
  }

  private onHead(data: Buffer): void {
    this.head.push(data);
    this.headBytes += data.length;
    // Parsed once the header is in, then once the vars block it announces is: until then
    // the parser could only say "more", so a packet sent a byte at a time is not joined
    // and parsed again for every byte.
    if (this.headBytes < this.headNeeded) return;
    const buf = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head, this.headBytes);
    const r = parseUwsgiPacket(buf, this.ctx.bufferSize);
    if (r.kind === 'more') {
      // The header is good and its vars block not all in yet.
      this.head = [buf];
      this.headNeeded = 4 + (buf[1]! | (buf[2]! << 8));
      return;
    }
    this.head = [];
    if (r.kind === 'bad') {
      this.refusePacket(r.error);
      return;
    }
    this.beginBody(r.packet, buf.subarray(r.packet.consumed));
  }

  private beginBody(packet: UwsgiPacket, rest: Buffer): void {
    this.packet = packet;
    const length = packet.contentLength;
    if (length === 0n) {
      this.dispatch();
      return;
    }
    if (this.ctx.limitPost > 0 && length > BigInt(this.ctx.limitPost)) {
      this.refuse(413, 'body over limit-post'); // over uwsgi too: nginx passes it on
      return;
    }
    this.remaining = length;
    this.state = 'body';
    this.body = new BodyBuffer(this.ctx.postBuffering, this.ctx.limitPost);
    // A length known to be over post-buffering goes to a temporary file from the start.
    if (length > BigInt(this.ctx.postBuffering) && this.refused(this.body.spill())) return;
    if (rest.length > 0) this.onBody(rest);
  }

  private onBody(data: Buffer): void {
    this.timer.refresh(); // progress resets the body's timeout
    const n = BigInt(data.length) < this.remaining ? data.length : Number(this.remaining);
    const piece = n === data.length ? data : data.subarray(0, n);
    this.remaining -= BigInt(n);
    // The length was checked against limit-post and post-buffering in beginBody.
    if (this.refused(this.body!.add(piece))) return;
    if (this.remaining === 0n) this.dispatch();
  }

  /** Whether the body buffer refused the request (status not 0): then answered, as over HTTP. */
  private refused(status: number): boolean {
    if (status === 0) return false;
    this.refuse(status, this.body!.why);
    return true;
  }

  // ---- the request --------------------------------------------------------------------

  private dispatch(): void {
    const packet = this.packet!;
    const ctx = this.ctx;
    this.state = 'dispatched';
    this.timer.refresh();
    this.id = ctx.register(this);
    let flags = (this.listener << REQ_LISTENER_SHIFT) | REQ_HTTP10 | REQ_UWSGI | REQ_NEW_CONNECTION;
    if (this.body !== undefined && this.body.fd >= 0) flags |= REQ_BODY_FILE;
    const args = uwsgiArguments(this.id, flags, this.body?.take(), packet, ctx.manageScriptName, this.peer());
    this.entry = this.logState(packet, ctx.countRequest());
    ctx.handler.request(args);
  }

  /** The socket's peer: [address, port] ("" for a unix-socket client). */
  private peer(): [string, string] {
    return [this.socket.remoteAddress ?? '', String(this.socket.remotePort ?? '')];
  }

  private logState(packet: UwsgiPacket, requests: number): RequestEntry {
    const value = (i: number) => (i >= 0 ? packet.vars[i]![1] : '');
    let remote = '';
    let varsBytes = 0;
    for (const [k, v] of packet.vars) {
      if (k === 'REMOTE_ADDR') remote = v;
      varsBytes += 4 + k.length + v.length;
    }
    // uWSGI logs the client as the front end saw it, and its protocol.
    return new RequestEntry(remote || this.peer()[0], packet.vars.length, varsBytes, value(packet.requestMethod), value(packet.requestUri), value(packet.serverProtocol) || 'HTTP/1.1', requests);
  }

  /**
   * Handler's transport.send for this request (native Server::Send): head is "STATUS\r\n"
   * and the application's header lines, latin-1; the framing lines are added here. Over
   * uwsgi the close always ends the response: Connection: close, never keep-alive.
   */
  send(head: string | undefined, body: Chunk | Chunk[] | undefined, flags: number): number {
    if (this.state !== 'dispatched') return -1;
    const e = this.entry!;
    const bodies = body === undefined ? [] : (Array.isArray(body) ? body : [body]).map(toBuffer);
    let n = 0;
    for (const b of bodies) n += b.length;
    const out: Buffer[] = [];
    if (head !== undefined) out.push(this.responseHead(head, flags, n));
    if (this.chunked) {
      if (n > 0) out.push(Buffer.from(`${n.toString(16)}\r\n`), ...bodies, Buffer.from('\r\n'));
    } else {
      out.push(...bodies);
    }
    e.bodyBytes += n;
    if (flags & SEND_END && this.chunked) out.push(Buffer.from('0\r\n\r\n'));
    let ok = true;
    if (out.length > 0) {
      const waited = this.socket.writableLength !== 0;
      ok = this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      // As the native server: output that begins to wait starts the write timeout; the
      // front end's taking of it moves it on (onTimeout), the application's writes do not.
      if (!waited) {
        this.timer.refresh();
        outputMoved(this.marks, this.socket);
      }
    }
    if (flags & SEND_ABORT) {
      this.endRequest();
      this.socket.destroy();
      return -1;
    }
    if (flags & SEND_END) {
      this.endRequest();
      this.finishConnection();
      return 0;
    }
    return ok ? 0 : 1;
  }

  private responseHead(head: string, flags: number, bodyLength: number): Buffer {
    const e = this.entry!;
    let text = 'HTTP/1.1 ' + head;
    e.status = Number(head.slice(0, 3)) || 0;
    let lines = 0;
    for (let i = head.indexOf('\n'); i !== -1; i = head.indexOf('\n', i + 1)) lines++;
    e.headerCount = lines > 0 ? lines - 1 : 0;
    if (flags & SEND_ADD_LENGTH) {
      text += `Content-Length: ${bodyLength}\r\n`;
      e.headerCount++;
    }
    if (flags & SEND_CHUNKED) {
      text += 'Transfer-Encoding: chunked\r\n';
      e.headerCount++;
      this.chunked = true;
    }
    text += 'Connection: close\r\n\r\n';
    e.headerCount++;
    e.headerBytes = text.length;
    return Buffer.from(text, 'latin1');
  }

  /** The response is over (sent or abandoned): the log line, the body file, the id. */
  private endRequest(): void {
    this.state = 'done';
    this.ctx.unregister(this.id);
    this.body?.close();
    this.logRequest();
  }

  private logRequest(): void {
    if (!this.ctx.logging) return;
    const line = this.ctx.requestLine(this.entry!, this.id);
    if (line !== undefined) this.ctx.log(line);
  }

  // ---- the end of a connection ----------------------------------------------------------

  /** The front end went away, or the socket failed: a request it made is abandoned. */
  private gone(): void {
    if (this.state === 'done') {
      // Our side is ending already: the output goes out first (node ends a half-closed
      // socket itself); the timer goes with the socket.
      if (this.socket.destroyed) clearTimeout(this.timer);
      return;
    }
    const wasDispatched = this.state === 'dispatched';
    this.state = 'done';
    clearTimeout(this.timer);
    this.body?.close();
    if (wasDispatched) {
      this.ctx.unregister(this.id);
      // The native server logs an abandoned request too, with what it had sent, before
      // the application hears of the abort (while its environ is at hand).
      this.logRequest();
      this.ctx.handler.onAbort(this.id);
    }
    this.socket.destroy();
  }

  private onTimeout(): void {
    switch (this.state) {
      case 'idle':
        this.finishConnection(); // a connection that never sent a packet: closed, not logged
        break;
      case 'head':
      case 'body':
        this.refuse(408, 'request not complete within http-timeout');
        break;
      // A front end that took some of the response within the timeout has the timeout
      // again from this look (it stalls for http-timeout to twice that before its cut,
      // where the HTTP connections' sweep looks four times a timeout).
      case 'dispatched':
        // The application's time is not limited here; a front end that stopped
        // reading the response is (one that reads it slowly is not).
        if (this.socket.writableLength > 0 && !outputMoved(this.marks, this.socket)) this.gone();
        else this.timer.refresh();
        break;
      case 'done':
        // The response is still going out to a front end that reads it: it may finish.
        if (this.socket.writableLength > 0 && outputMoved(this.marks, this.socket)) this.timer.refresh();
        else this.socket.destroy(); // it stopped reading, or a refused request's sender did not stop
        break;
    }
  }

  /**
   * Ends our side once the output is out; what the front end still sends is read and
   * dropped until it closes (or the timeout), so that its unread bytes do not turn the
   * close into a reset that could destroy the response.
   */
  private finishConnection(): void {
    this.state = 'done';
    this.timer.refresh();
    this.socket.end();
  }

  /** A malformed packet comes from a front end, not a browser: no answer, one log line, the close. */
  private refusePacket(why: string): void {
    this.ctx.log(formatConnectionLine(process.pid, this.peerText(), `refused ${why}`));
    this.finishConnection();
  }

  /** An HTTP answer for the front end to pass on (413, 408, 500), and the refusal line. */
  private refuse(status: number, why: string): void {
    this.body?.close();
    this.ctx.log(formatRefusal(process.pid, this.peerText(), status, why));
    this.socket.write(refusalResponse(status));
    this.finishConnection();
  }

  private peerText(): string {
    const [addr, port] = this.peer();
    return this.unix ? 'unix' : `${addr}:${port}`;
  }
}

function toBuffer(c: Chunk): Buffer {
  if (typeof c === 'string') return Buffer.from(c);
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/**
 * The arguments of Handler.onRequest for a uwsgi packet, as native/server/dispatch.cc
 * DispatchUwsgi makes them: the variables onRequest takes by position go by position;
 * every other one follows as a pair, so that what nginx says (SERVER_NAME, SERVER_PORT,
 * SERVER_PROTOCOL, HTTPS...) is what the application sees.
 */
export function uwsgiArguments(id: number, flags: number, body: Buffer | number | undefined, packet: UwsgiPacket, manageScriptName: boolean, peer: [string, string]): unknown[] {
  const { vars } = packet;
  const value = (i: number) => (i >= 0 ? vars[i]![1] : '');
  let contentType = -1;
  let remoteAddr = -1;
  let remotePort = -1;
  vars.forEach(([k], i) => {
    if (k === 'CONTENT_TYPE') contentType = i;
    else if (k === 'REMOTE_ADDR') remoteAddr = i;
    else if (k === 'REMOTE_PORT') remotePort = i;
  });
  let path = value(packet.pathInfo);
  // With nginx's "uwsgi_modifier1 30" or --manage-script-name, the SCRIPT_NAME the front
  // end sends is taken off the front of PATH_INFO, as uWSGI does.
  if ((packet.modifier1 === 30 || manageScriptName) && packet.pathInfo >= 0 && packet.scriptName >= 0) {
    path = stripScriptName(path, value(packet.scriptName));
  }
  const contentLength = packet.contentLength > 0n ? String(packet.contentLength) : packet.contentLengthVar >= 0 ? value(packet.contentLengthVar) : undefined;
  const args: unknown[] = [
    id,
    flags,
    body,
    value(packet.requestMethod),
    value(packet.requestUri),
    path,
    value(packet.queryString),
    contentType >= 0 ? value(contentType) : undefined,
    contentLength,
    remoteAddr >= 0 ? value(remoteAddr) : peer[0],
    remotePort >= 0 ? value(remotePort) : peer[1],
  ];
  const positional = new Set([packet.requestMethod, packet.requestUri, packet.pathInfo, packet.queryString, packet.contentLengthVar, contentType, remoteAddr, remotePort]);
  vars.forEach(([k, v], i) => {
    if (!positional.has(i) && !SKIP_KEYS.has(k)) args.push(k, v);
  });
  return args;
}
