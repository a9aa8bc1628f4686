// What the head of a node:http request gives the pure-JS backend, read in one pass over
// its raw fields: onRequest's arguments (native/wire.h), made as the native server makes
// them, and the facts the native parser judges that llhttp lets through (Host missing or
// repeated, Transfer-Encoding), judged in the native parser's order.
import type { IncomingMessage } from 'node:http';
import { FIXED_ARGS } from '../addon/wire.js';
import { HTTP_REFUSALS } from '../protocol/http-refusals.js';
import type { RequestTarget } from '../protocol/request-target.js';

// What a field name is to the environ.
const ORDINARY = 0;
const DROPPED = 1; // a name with "_": dropped, as the native server drops it
const CONTENT_TYPE = 2;
const CONTENT_LENGTH = 3;
const TRANSFER_ENCODING = 4;
const HOST = 5;
const COOKIE = 6;

/** An environ key, and where the request read last put its value. */
class Key {
  /** The request (headArguments()'s count) that last met this key, and its index in that request's arguments. */
  seen = 0;
  at = 0;

  constructor(readonly name: string) {}
}

/** A field name's environ key and kind. */
class Field {
  constructor(
    readonly key: Key,
    readonly kind: number,
    /** Not kept in FIELDS (the map is full): a repeat is found by its key's name, whose seen may say nothing. */
    readonly transient: boolean,
  ) {}
}

// Field names repeat from request to request; the maps hold the first ones met, so that a
// client sending new names each time cannot grow them. Names that differ in case share
// their key (Accept, accept: HTTP_ACCEPT), so that a repeat is joined whatever its case.
const FIELDS = new Map<string, Field>();
const KEYS = new Map<string, Key>();
const FIELDS_HELD = 512;
const DASHES = /-/g;
const KINDS: Record<string, number> = {
  HTTP_CONTENT_TYPE: CONTENT_TYPE,
  HTTP_CONTENT_LENGTH: CONTENT_LENGTH,
  HTTP_TRANSFER_ENCODING: TRANSFER_ENCODING,
  HTTP_HOST: HOST,
  HTTP_COOKIE: COOKIE,
};

// The names of the last head read, by position, and their fields: a head like the one
// before it (the same client's next request) finds its fields by comparing names, not by
// hashing them for FIELDS (node:http's names are new strings each request, hashed anew).
const lastNames: string[] = [];
const lastFields: Field[] = [];
const POSITIONS_HELD = 64;

function fieldAt(j: number, name: string): Field {
  if (lastNames[j] === name) return lastFields[j]!;
  const f = fieldOf(name);
  if (j < POSITIONS_HELD && !f.transient) {
    lastNames[j] = name;
    lastFields[j] = f;
  }
  return f;
}

function fieldOf(name: string): Field {
  let f = FIELDS.get(name);
  if (f === undefined) {
    const dropped = name.includes('_');
    const env = dropped ? '' : 'HTTP_' + name.toUpperCase().replace(DASHES, '_');
    const held = FIELDS.size < FIELDS_HELD;
    let key = KEYS.get(env);
    if (key === undefined) {
      key = new Key(env);
      if (held) KEYS.set(env, key);
    }
    f = new Field(key, dropped ? DROPPED : (KINDS[env] ?? ORDINARY), !held);
    if (held) FIELDS.set(name, f);
  }
  return f;
}

// onRequest's arguments are made in one array, used again for every request: most are
// dispatched at once (Handler.request reads them before it returns), and the others take a copy.
const scratch: unknown[] = [];
let reads = 0;

const PERCENT = /%([0-9A-Fa-f]{2})/g;

function percentDecode(s: string): string {
  return s.indexOf('%') === -1 ? s : s.replace(PERCENT, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** What headArguments() found in the head besides the arguments, for the request it read last. */
export const headFacts = {
  hosts: 0,
  /** Content-Length as sent (the first one; llhttp refuses differing ones). */
  contentLength: undefined as string | undefined,
  /** Transfer-Encoding, repeated fields joined with ", " as the list they make together. */
  transferEncoding: undefined as string | undefined,
};

/**
 * The arguments of Handler.onRequest for a node:http request but for those its dispatch
 * sets (the id, the peer, the body and CONTENT_LENGTH: args[0], [9], [10], [2], [8]): the
 * same environ, whatever the backend. target is req.url split by splitTarget(); an
 * absolute-form's authority is HTTP_HOST. Sets headFacts. The array is the same for every
 * call: what is kept past the next one is a copy. (It holds the last head's values until
 * the next head overwrites them.)
 */
export function headArguments(flags: number, req: IncomingMessage, target: RequestTarget): unknown[] {
  const uri = req.url!;
  const { authority } = target;
  // Split here, where splitTarget did it already: onRequest splits only what comes without (the native server's).
  const path = percentDecode(target.path) || '/';
  const query = target.query;
  const raw = req.rawHeaders;
  const read = ++reads;
  const args = scratch;
  args[0] = -1;
  args[1] = flags;
  args[2] = undefined;
  args[3] = req.method!;
  args[4] = uri;
  args[5] = path;
  args[6] = query;
  args[7] = undefined;
  args[8] = undefined;
  args[9] = undefined;
  args[10] = undefined;
  let n = FIXED_ARGS;
  let hosts = 0;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const f = fieldAt(i >> 1, raw[i]!);
    const value = raw[i + 1]!;
    switch (f.kind) {
      case DROPPED:
        continue;
      case CONTENT_TYPE:
        if (args[7] === undefined) args[7] = value;
        continue;
      case CONTENT_LENGTH:
        contentLength ??= value;
        continue;
      case TRANSFER_ENCODING:
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        continue;
      case HOST:
        hosts++;
        // Host is never repeated (a second one is refused).
        if (hosts === 1) {
          args[n++] = f.key.name;
          args[n++] = authority !== '' ? authority : value;
        }
        continue;
    }
    const key = f.key;
    let at = -1;
    if (!f.transient) {
      if (key.seen === read) {
        at = key.at;
      } else {
        key.seen = read;
        key.at = n;
      }
    } else {
      for (let k = FIXED_ARGS; k < n; k += 2) if (args[k] === key.name) at = k;
      if (at === -1) {
        key.seen = read;
        key.at = n;
      }
    }
    if (at === -1) {
      args[n++] = key.name;
      args[n++] = value;
    } else {
      args[at + 1] = `${args[at + 1] as string}${f.kind === COOKIE ? '; ' : ', '}${value}`;
    }
  }
  if (authority !== '' && hosts === 0) {
    args[n++] = 'HTTP_HOST';
    args[n++] = authority;
  }
  // Cut to length only when it changes: requests alike have heads alike.
  if (args.length !== n) args.length = n;
  headFacts.hosts = hosts;
  headFacts.contentLength = contentLength;
  headFacts.transferEncoding = transferEncoding;
  return args;
}

/** 505 for a version node:http parses and the native server does not take (HTTP/2.0, HTTP/0.9). */
export function versionRefusal(req: IncomingMessage): readonly [number, string] | undefined {
  // The numbers, not httpVersion: node:http makes that string anew for every request, and comparing it costs a call.
  return req.httpVersionMajor === 1 && (req.httpVersionMinor === 1 || req.httpVersionMinor === 0) ? undefined : HTTP_REFUSALS.version;
}

/**
 * What the native parser refuses in a head and node:http lets through, from headFacts:
 * Host missing (HTTP/1.1) or repeated, and Transfer-Encoding in HTTP/1.0, not ending in
 * one chunked, or with another coding (501).
 */
export function headRefusal(http10: boolean): readonly [number, string] | undefined {
  const { hosts, transferEncoding: te } = headFacts;
  if (hosts > 1) return HTTP_REFUSALS.duplicateHost;
  if (hosts === 0 && !http10) return HTTP_REFUSALS.missingHost;
  if (te === undefined) return undefined;
  if (http10) return HTTP_REFUSALS.teHttp10;
  const codings = te.split(',').map((c) => c.trim().toLowerCase());
  if (codings[codings.length - 1] !== 'chunked') return HTTP_REFUSALS.teNotChunked;
  if (codings.indexOf('chunked') !== codings.length - 1) return HTTP_REFUSALS.teChunkedTwice;
  if (codings.length > 1) return HTTP_REFUSALS.teUnsupported;
  return undefined;
}
