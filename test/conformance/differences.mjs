// Where the pure-JS backend (node:http) does not behave as the native server does: the
// one place that says so. Each entry is a conformance test name -> why. The test is
// skipped on the js backend with that reason, and run everywhere else. docs/spec.md
// ("Where the two backends differ") lists the same.
//
// Only what node:http decides for itself, or what the contract asks of the native
// backend alone, belongs here. What lib/js/ could do and does not is a bug:
// its test stays on, and fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverBreaches } from '../lib/contract.mjs';
import { serverLogMark, serverLogSince } from '../lib/server.mjs';

export const KNOWN_DIFFERENCES = new Map([
  [
    'refusal: a request line with two spaces -> 400',
    "node:http's parser (llhttp) accepts runs of spaces in the request line, and js-server never sees the raw line to refuse it",
  ],
  [
    'environ: chunk extensions with whitespace (BWS) are accepted and dropped',
    "node:http's parser (llhttp) refuses whitespace around a chunk extension's \";\" and \"=\" (400 malformed chunk size or malformed chunk extension), with or without insecureHTTPParser, before js-server sees the body",
  ],
]);

/**
 * test() for a conformance test on backend: skipped on js when it is a known difference.
 * It fails when validate() caught the server breaking the contract during it, even where
 * the server swallowed the error (see serverBreaches in ../lib/contract.mjs). What the server
 * logged during the test (serverLogSince() in ../lib/server.mjs) is printed only when it
 * fails: a passing run stays quiet about the errors its applications raise on purpose.
 */
export function testFor(backend) {
  return (name, options, fn) => {
    if (typeof options === 'function') {
      fn = options;
      options = {};
    }
    const reason = backend === 'js' ? KNOWN_DIFFERENCES.get(name) : undefined;
    const checked = async (t) => {
      const from = serverBreaches.length;
      const mark = serverLogMark();
      try {
        await fn(t);
        assert.deepEqual(serverBreaches.slice(from), [], 'validate() caught the server breaking the contract');
      } catch (err) {
        const log = serverLogSince(mark);
        if (log !== '') {
          t.diagnostic("the server's log during this test:");
          for (const line of log.trimEnd().split('\n')) t.diagnostic(line);
        }
        throw err;
      }
    };
    return test(name, { timeout: 30000, ...options, ...(reason ? { skip: `known difference: ${reason}` } : {}) }, checked);
  };
}
