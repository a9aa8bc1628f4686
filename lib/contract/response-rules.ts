// start_response's rules for what an application may say: a status line's shape, a
// header's name (a token) and value (latin-1 without controls), the headers that are the
// server's alone (hop-by-hop), and the number a Content-Length says.
import { TsgiError } from '../base/errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A header value: visible latin-1, space and tab; no CR, LF, NUL or other controls.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]|[^\0-\xff]/;
export const STATUS = /^[1-9][0-9][0-9] [^\0-\x08\x0a-\x1f\x7f]*$/;
/** What start_response makes of a header name: an ordinary one, Content-Length, or one of HOP_BY_HOP. */
export const NAME_ORDINARY = 0;
export const NAME_CONTENT_LENGTH = 1;
export const NAME_HOP_BY_HOP = 2;
const NOT_TOKEN = -1;

// Header names are nearly always the application's literals: each is judged once. The
// map holds the first names met, so that names made per request cannot grow it.
const NAME_KINDS = new Map<string, number>();
const NAMES_HELD = 256;

/** The kind of a header name (NAME_*), or NOT_TOKEN. */
export function nameKind(name: string): number {
  let kind = NAME_KINDS.get(name);
  if (kind !== undefined) return kind;
  if (!TOKEN.test(name)) return NOT_TOKEN;
  const lower = name.toLowerCase();
  kind = lower === 'content-length' ? NAME_CONTENT_LENGTH : HOP_BY_HOP.has(lower) ? NAME_HOP_BY_HOP : NAME_ORDINARY;
  if (NAME_KINDS.size < NAMES_HELD) NAME_KINDS.set(name, kind);
  return kind;
}

// Values found good, the same way: most are literals too (a Content-Type).
const GOOD_VALUES = new Set<string>();
const VALUES_HELD = 256;

function goodValue(value: string): boolean {
  if (BAD_VALUE.test(value)) return false;
  if (GOOD_VALUES.size < VALUES_HELD && value.length <= 64) GOOD_VALUES.add(value);
  return true;
}

// The last pair found good at each position, and its name's kind: an application's
// headers are mostly the same literals in the same order, which compare as pointers, where
// the maps' lookups hash.
const lastNames: string[] = [];
const lastValues: string[] = [];
const lastKinds: number[] = [];
const POSITIONS_HELD = 16;

/** start_response's checks of one [name, value] pair from the application; returns its name's kind. */
export function checkHeader(h: unknown, i: number): number {
  if (!Array.isArray(h) || h.length !== 2) {
    throw new TsgiError('TSGI_ERR_HEADERS_TYPE', `Expected a [name, value] pair for header ${i} but received ${String(h)}`);
  }
  const name = h[0];
  const value = h[1];
  if (name === lastNames[i] && value === lastValues[i]) return lastKinds[i]!;
  const kind = typeof name === 'string' ? nameKind(name) : NOT_TOKEN;
  if (kind === NOT_TOKEN) {
    throw new TsgiError('TSGI_ERR_HEADER_INVALID', `Expected a token for a header name but received ${JSON.stringify(name)}`);
  }
  if (typeof value !== 'string' || (!GOOD_VALUES.has(value) && !goodValue(value))) {
    throw new TsgiError(
      'TSGI_ERR_HEADER_INVALID',
      `Expected a latin-1 string without control characters for header ${name} but received ${JSON.stringify(value)}`,
    );
  }
  if (i < POSITIONS_HELD) {
    lastNames[i] = name as string;
    lastValues[i] = value;
    lastKinds[i] = kind;
  }
  return kind;
}

/**
 * Marks a header list whose names and values were already checked to the same rules as
 * start_response's (a token name; a latin-1 value without CR, LF, NUL or other controls)
 * by the adapter that built it: the node interface, whose every header went through
 * node:http's validateHeaderName/validateHeaderValue (setHeader, or its own _storeHeader
 * for writeHead's), which refuse exactly what TOKEN and BAD_VALUE refuse. start_response
 * then skips those two tests and the shape checks (the adapter made the pairs); the
 * hop-by-hop refusal and the Content-Length number check still run. Not exported from
 * the package: an application cannot set it. The fetch interface does not use it: Headers
 * lets through control characters that BAD_VALUE refuses (only NUL, CR and LF are out).
 */
export const VALIDATED_HEADERS = Symbol('tsgi.validatedHeaders');

/** Headers an application may not set: the server frames the response and owns the connection. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** The number a Content-Length value says: 1 to 15 decimal digits, with white space around. */
export function contentLength(value: string): number {
  // Nearly always digits alone: read without a trim and a regular expression.
  const n = value.length;
  if (n > 0 && n <= 15) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    if (i === n) return v;
  }
  const v = value.trim();
  if (!/^[0-9]{1,15}$/.test(v)) {
    throw new TsgiError('TSGI_ERR_HEADER_INVALID', `Expected a decimal number for Content-Length but received ${JSON.stringify(value)}`);
  }
  return Number(v);
}
