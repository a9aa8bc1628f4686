// The clients of the master's tests under load (test/integration/master-*.test.mjs):
// bursts of GETs until a given worker answers, and bounded autocannon runs.
//
// The loads are bounded autocannon runs (node_modules/autocannon, loopback, 10
// connections, a few seconds). autocannon counts a connection error (a reset) but not a
// request lost to a connection the server closed (FIN) before answering: it reconnects
// and sends the next one. Each run here also counts, per connection, requests sent and
// responses received; with pipelining 1 every connection has exactly one request in
// flight when the run ends, so sent - received - 1 is what that connection never got an
// answer to, reset or not ("unanswered"; a reset that follows a FIN makes autocannon
// reconnect twice, which can add one). Without a reload or a death, it is 0.
import assert from 'node:assert/strict';
import autocannon from 'autocannon';
import { withTimeout } from './wait.mjs';
import { get } from './master.mjs';

/** The connections of a load(). */
export const CONNECTIONS = 10;

/**
 * Bursts of `width` concurrent GET / on fresh connections until one is answered by a pid
 * for which want(pid) holds, or until deadline (a Date.now() value). Resolves with
 * { pid, at } or undefined.
 */
export async function answeredBy(port, want, deadline, width = 6) {
  while (Date.now() < deadline) {
    const rs = await Promise.allSettled(Array.from({ length: width }, () => get(port, '/', Math.max(200, deadline - Date.now()))));
    const at = Date.now();
    for (const r of rs) if (r.status === 'fulfilled' && r.value.status === 200 && want(r.value.pid)) return { pid: r.value.pid, at };
  }
  return undefined;
}

/**
 * A bounded autocannon run on GET path: CONNECTIONS connections for seconds s, a 2 s
 * request timeout. Resolves with autocannon's result plus: answers (every response's
 * { pid, at }), sent/received, lost (requests sent but never answered, errors included:
 * see the top of the file), closes (responses with "Connection: close") and codes (the
 * connection errors by code).
 *
 * autocannon ignores "Connection: close": it sends its next request on a connection the
 * server announced it will close, and that request fails by the client's fault. Here its
 * clients behave as HTTP/1.1 asks (RFC 9112 9.6): after such a response the next request
 * goes on a new connection.
 */
export async function load(port, seconds, path = '/') {
  const answers = [];
  const counts = [];
  const codes = {};
  const run = autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    timeout: 2,
    pipelining: 1,
    setupClient(client) {
      const c = { sent: 0, received: 0, closes: 0 };
      counts.push(c);
      let closeNext = false;
      client.on('headers', (info) => {
        if (info.shouldKeepAlive === false) closeNext = true;
      });
      const doRequest = client._doRequest;
      client._doRequest = function (...args) {
        if (closeNext) {
          closeNext = false;
          c.closes++;
          return this._resetConnection(); // reconnects, then sends the request
        }
        return doRequest.apply(this, args);
      };
      client.on('request', () => c.sent++);
      client.on('response', () => c.received++);
      client.on('connError', (err) => (codes[err.code] = (codes[err.code] ?? 0) + 1));
    },
    verifyBody(body) {
      answers.push({ pid: Number.parseInt(body, 10), at: Date.now() });
      return true;
    },
  });
  const result = await withTimeout(run, (seconds + 10) * 1000, 'the autocannon run');
  result.answers = answers;
  result.codes = codes;
  result.sent = counts.reduce((a, c) => a + c.sent, 0);
  result.received = counts.reduce((a, c) => a + c.received, 0);
  result.closes = counts.reduce((a, c) => a + c.closes, 0);
  result.lost = counts.reduce((a, c) => a + Math.max(0, c.sent - c.received - 1), 0);
  result.summary =
    `${result.received} responses (${result.closes} with Connection: close), errors ${result.errors} ${JSON.stringify(codes)}, ` +
    `timeouts ${result.timeouts}, non2xx ${result.non2xx}, unanswered ${result.lost}, sent ${result.sent}`;
  return result;
}

/** The load saw no error, no timeout, no non-2xx, and every request was answered. */
export function assertClean(r) {
  assert.equal(r.errors, 0, `no error: ${r.summary}`);
  assert.equal(r.timeouts, 0, `no timeout: ${r.summary}`);
  assert.equal(r.non2xx, 0, `no non-2xx: ${r.summary}`);
  assert.equal(r.lost, 0, `every request answered: ${r.summary}`);
}

