// What the head of a node:http request gives the pure-JS backend, read in one pass over
// its raw fields: onRequest's arguments (native/wire.h), made as the native server makes
// them, and the facts the native parser judges that llhttp lets through (Host missing or
// repeated, Transfer-Encoding), judged in the native parser's order.
import type { IncomingMessage } from 'node:http';
import { FIXED_ARGS } from '../addon/wire.js';
import { HTTP_REFUSALS } from '../protocol/http-refusals.js';
import type { RequestTarget } from '../protocol/request-target.js';

/** The environ key of a field name ('' for a name with "_", which is dropped as the native server drops it). */
const KEYS = new Map<string, string>();
// Field names repeat from request to request; the map holds the first ones met, so that a
// client sending new names each time cannot grow it.
const KEYS_HELD = 512;
const DASHES = /-/g;

function keyOf(name: string): string {
  let key = KEYS.get(name);
  if (key === undefined) {
    key = name.includes('_') ? '' : 'HTTP_' + name.toUpperCase().replace(DASHES, '_');
    if (KEYS.size < KEYS_HELD) KEYS.set(name, key);
  }
  return key;
}

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
 * absolute-form's authority is HTTP_HOST. Sets headFacts.
 */
export function headArguments(flags: number, req: IncomingMessage, target: RequestTarget): unknown[] {
  const uri = req.url!;
  let path: string | undefined;
  let query: string | undefined;
  const { authority } = target;
  if (authority !== '' || target.path.includes('%')) {
    path = percentDecode(target.path) || '/';
    query = target.query;
  }
  const raw = req.rawHeaders;
  // Made at its largest (every field a pair) and cut to length: pushed to, it would be
  // copied into a larger one at the first pair.
  const args: unknown[] = new Array(FIXED_ARGS + raw.length + 2);
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
    const key = keyOf(raw[i]!);
    if (key === '') continue;
    const value = raw[i + 1]!;
    switch (key) {
      case 'HTTP_CONTENT_TYPE':
        if (args[7] === undefined) args[7] = value;
        continue;
      case 'HTTP_CONTENT_LENGTH':
        contentLength ??= value;
        continue;
      case 'HTTP_TRANSFER_ENCODING':
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        continue;
      case 'HTTP_HOST':
        hosts++;
        // Host is never repeated (a second one is refused).
        if (hosts === 1) {
          args[n++] = key;
          args[n++] = authority !== '' ? authority : value;
        }
        continue;
    }
    let at = FIXED_ARGS;
    while (at < n && args[at] !== key) at += 2;
    if (at === n) {
      args[n++] = key;
      args[n++] = value;
    } else {
      args[at + 1] = `${args[at + 1] as string}${key === 'HTTP_COOKIE' ? '; ' : ', '}${value}`;
    }
  }
  if (authority !== '' && hosts === 0) {
    args[n++] = 'HTTP_HOST';
    args[n++] = authority;
  }
  args.length = n;
  headFacts.hosts = hosts;
  headFacts.contentLength = contentLength;
  headFacts.transferEncoding = transferEncoding;
  return args;
}

/** 505 for a version node:http parses and the native server does not take (HTTP/2.0, HTTP/0.9). */
export function versionRefusal(req: IncomingMessage): readonly [number, string] | undefined {
  return req.httpVersion === '1.1' || req.httpVersion === '1.0' ? undefined : HTTP_REFUSALS.version;
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
