// Where the pure-JS backend (node:http) cannot behave as the native server does: the
// one place that says so. Each entry is a conformance test name -> why node:http
// cannot pass it. The test is skipped on the js backend with that reason, and run
// everywhere else. docs/spec.md ("Where the two backends differ") lists the same.
//
// Only what node:http decides for itself belongs here. What lib/js-server.ts could do
// and does not is a bug: its test stays on, and fails.
import { test } from 'node:test';

export const KNOWN_DIFFERENCES = new Map([
  [
    'refusal: Transfer-Encoding: gzip, chunked -> 501',
    "node:http's parser (llhttp) accepts a Transfer-Encoding whose last coding is chunked and hands the body on de-chunked; the other codings are the application's to undo",
  ],
  [
    'refusal: an HTTP/2.0 request line -> 505',
    "node:http's parser (llhttp) accepts any HTTP/x.y version on a request line and reports it in httpVersion",
  ],
]);

/** test() for a conformance test on backend: skipped on js when it is a known difference. */
export function testFor(backend) {
  return (name, options, fn) => {
    if (typeof options === 'function') {
      fn = options;
      options = {};
    }
    const reason = backend === 'js' ? KNOWN_DIFFERENCES.get(name) : undefined;
    return test(name, { timeout: 20000, ...options, ...(reason ? { skip: `known difference: ${reason}` } : {}) }, fn);
  };
}
