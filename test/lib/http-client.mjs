// The tests' HTTP client for a plain GET, where the bytes on the wire do not matter
// (node:http reads the answer; raw-client.mjs is the one for bytes): on a connection of
// its own, bounded in time.
import http from 'node:http';

/**
 * GET path on host:port, on a fresh connection (agent false) unless agent is given.
 * Resolves with { status, headers, body (text, in encoding), complete, ms }; rejects on
 * a socket error, with an error whose code is 'TIMEOUT' when no answer came within
 * timeoutMs, and, with requireComplete, with code 'INCOMPLETE' when the response ended
 * before its body did.
 */
export function httpGet(port, path = '/', { host = '127.0.0.1', timeoutMs = 5000, agent = false, headers, encoding = 'latin1', requireComplete = false } = {}) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const r = http.get({ host, port, path, agent, headers, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding(encoding);
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        if (requireComplete && !res.complete) reject(Object.assign(new Error(`GET ${path}: incomplete response`), { code: 'INCOMPLETE' }));
        else resolve({ status: res.statusCode, headers: res.headers, body, complete: res.complete, ms: Date.now() - started });
      });
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(Object.assign(new Error(`GET ${path} on port ${port}: no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })));
    // reusedSocket: the request went on a kept-alive connection (an agent's), not a new one.
    r.on('error', (err) => reject(Object.assign(err, { reusedSocket: r.reusedSocket })));
  });
}
