// start_response's rules for what an application may say: a status line's shape, a
// header's name (a token) and value (latin-1 without controls), and the headers that
// are the server's alone (hop-by-hop).
import { TsgiError } from '../base/errors.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// A header value: visible latin-1, space and tab; no CR, LF, NUL or other controls.
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]|[^\0-\xff]/;
export const STATUS = /^[1-9][0-9][0-9] [^\0-\x08\x0a-\x1f\x7f]*$/;
/** start_response's checks of one [name, value] pair from the application. */
export function checkHeader(h: unknown, i: number): void {
  if (!Array.isArray(h) || h.length !== 2) {
    throw new TsgiError('TSGI_ERR_HEADERS_TYPE', `Expected a [name, value] pair for header ${i} but received ${String(h)}`);
  }
  const name = h[0];
  const value = h[1];
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TsgiError('TSGI_ERR_HEADER_INVALID', `Expected a token for a header name but received ${JSON.stringify(name)}`);
  }
  if (typeof value !== 'string' || BAD_VALUE.test(value)) {
    throw new TsgiError(
      'TSGI_ERR_HEADER_INVALID',
      `Expected a latin-1 string without control characters for header ${name} but received ${JSON.stringify(value)}`,
    );
  }
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

