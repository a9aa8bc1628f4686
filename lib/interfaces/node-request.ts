// The node interface's request: a real http.IncomingMessage made from the environ, as
// node:http's parser would have made it from the wire (method, url, httpVersion,
// rawHeaders and the lazy headers built from them), whose body streams from wsgi.input.
import { IncomingMessage } from 'node:http';
import type { Environ, InputStream } from '../contract/types.js';
import type { NodeSocket } from './node-socket.js';

/** How much of wsgi.input one push hands to the stream (what a socket read gives at most). */
const READ_SIZE = 65536;

/** HTTP_USER_AGENT -> user-agent, remembered for the names seen (bounded: names come from clients). */
const names = new Map<string, string>();
const NAMES_KEPT = 1024;

function headerName(key: string): string {
  let name = names.get(key);
  if (name === undefined) {
    name = key.slice(5).toLowerCase().replaceAll('_', '-');
    if (names.size < NAMES_KEPT) names.set(key, name);
  }
  return name;
}

/**
 * rawHeaders from the environ: one [name, value] per HTTP_* key, lower-cased with '-' as
 * node would have them after its own lower-casing (the environ keeps neither the client's
 * casing nor '-' against '_'; tsgi drops names with '_'), then Content-Type and
 * Content-Length when present. Repeated headers arrive joined, as tsgi joined them.
 */
export function rawHeadersOf(environ: Environ): string[] {
  const raw: string[] = [];
  for (const key in environ) {
    if (key.charCodeAt(0) === 72 /* H */ && key.startsWith('HTTP_')) raw.push(headerName(key), environ[key] as string);
  }
  if (environ.CONTENT_TYPE !== '') raw.push('content-type', environ.CONTENT_TYPE);
  if (environ.CONTENT_LENGTH !== '') raw.push('content-length', environ.CONTENT_LENGTH);
  return raw;
}

/** What the request's _read needs: the body and how much of it is left to stream. */
interface BodySource {
  input: InputStream;
  remaining: number;
}

const kBody = Symbol('tsgi.node.body');

type Request = IncomingMessage & {
  [kBody]: BodySource;
  _consuming: boolean;
  _dumped: boolean;
  _readableState: { readingMore: boolean; ended: boolean };
  _addHeaderLines(headers: string[], n: number): void;
  _dump(): void;
};

/**
 * IncomingMessage's _read, for a body that is already in tsgi's buffer: each call pushes
 * the next piece of wsgi.input (a view of the memory buffer, or a read of the temporary
 * file), then the end. A request dumped after its response (nobody read it) ends at once.
 */
function readBody(this: Request): void {
  if (!this._consuming) {
    this._readableState.readingMore = false;
    this._consuming = true;
  }
  const src = this[kBody];
  if (src.remaining <= 0 || this._dumped) {
    src.remaining = 0;
    this.push(null);
    return;
  }
  const chunk = src.input.read(src.remaining < READ_SIZE ? src.remaining : READ_SIZE);
  if (chunk.length === 0) {
    src.remaining = 0;
    this.push(null);
    return;
  }
  src.remaining -= chunk.length;
  this.push(chunk);
  if (src.remaining <= 0) this.push(null);
}

/**
 * IncomingMessage's _dump, as Node 24 has it for every version: a request nobody read
 * is ended after its response. One whose end is already in its buffer (no body) ends
 * at once through read(0); one whose body is still in wsgi.input is resumed, and
 * readBody ends it without reading (Node 24's own test, "complete and nothing
 * buffered", would read(0) a body never pushed, and it would never end).
 */
function dumpBody(this: Request): void {
  if (!this._dumped) {
    this._dumped = true;
    this.removeAllListeners('data');
    if (this._readableState.ended && this.readableLength === 0 && !this.destroyed) this.read(0);
    else this.resume();
  }
}

/**
 * The request for one environ. _read is an own property, not a subclass's method:
 * Express swaps the request's prototype for its own (which inherits from
 * IncomingMessage.prototype), and an own property survives that.
 */
export function makeRequest(socket: NodeSocket, environ: Environ): IncomingMessage {
  const req = new IncomingMessage(socket as never) as Request;
  req.method = environ.REQUEST_METHOD;
  req.url = environ.REQUEST_URI;
  const protocol = environ.SERVER_PROTOCOL;
  if (protocol === 'HTTP/1.1') {
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
  } else {
    const m = /^HTTP\/(\d)\.(\d)$/.exec(protocol);
    req.httpVersionMajor = m ? Number(m[1]) : 1;
    req.httpVersionMinor = m ? Number(m[2]) : 0;
    req.httpVersion = `${req.httpVersionMajor}.${req.httpVersionMinor}`;
  }
  const raw = rawHeadersOf(environ);
  req._addHeaderLines(raw, raw.length);
  // The body is whole in tsgi's buffer before the application runs: the message is complete.
  req.complete = true;
  const length = environ.CONTENT_LENGTH === '' ? 0 : Number(environ.CONTENT_LENGTH);
  if (length > 0) {
    req[kBody] = { input: environ['wsgi.input'], remaining: length };
    req._read = readBody;
  } else {
    req.push(null); // no body: ended now, as node's parser ends a bodiless message
  }
  req._dump = dumpBody;
  return req;
}
