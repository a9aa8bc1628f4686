// What the operations tests share (test/integration/ops-*.test.mjs): the stats server's
// port from the log, a GET on it, a known mix of requests and refusals, and the
// metrics page read into numbers.
import assert from 'node:assert/strict';
import { httpGet } from './http-client.mjs';
import { rawRequest } from './raw-client.mjs';

const STATS = /stats server enabled on 127\.0\.0\.1:(\d+) \(http\)/;

/** The stats server's port, once the CLI said where it serves. */
export async function statsPort(cli) {
  return Number(STATS.exec(await cli.waitStderr(STATS, 10000))[1]);
}

/** GET path on 127.0.0.1:port on a connection of its own: { status, headers, body }. */
export const get = (port, path, { timeoutMs = 3000 } = {}) => httpGet(port, path, { timeoutMs, encoding: 'utf8' });

/** SIGTERM, and the exit that must follow: code 0 (the CLI is killed if it does not come). */
export async function stopCli(cli) {
  cli.signal('SIGTERM');
  const exit = await cli.waitExit(15000).catch(async (err) => {
    await cli.kill();
    throw err;
  });
  assert.deepEqual(exit, { code: 0, signal: null }, cli.stderrText());
}

/** What sendKnownMix() sends, as the metrics must count it. */
export const KNOWN_MIX = { ok: 7, notFound: 3, refused400: 2, refused431: 1 };

/**
 * 7 × 200 and 3 × 404 from the application, 2 requests refused with 400 (no Host) and
 * one with 431 (a head over the default buffer-size, 4096), each checked as it comes.
 */
export async function sendKnownMix(port) {
  for (let i = 0; i < KNOWN_MIX.ok; i++) assert.equal((await get(port, '/')).status, 200);
  for (let i = 0; i < KNOWN_MIX.notFound; i++) assert.equal((await get(port, '/status/404')).status, 404);
  for (let i = 0; i < KNOWN_MIX.refused400; i++) {
    const r = await rawRequest(port, 'GET / HTTP/1.1\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 400 /);
  }
  const r = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.match(r.text, /^HTTP\/1\.1 431 /);
}

/** The metrics page as a map: 'name{label="v",...}' (labels as written) -> value. */
export function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** Asserts the counts of KNOWN_MIX in a metrics page, on worker "1". */
export function assertKnownMix(metrics, text) {
  const m = (key) => {
    assert.ok(metrics.has(key), `the metrics have ${key}:\n${text}`);
    return metrics.get(key);
  };
  assert.equal(m('tsgi_requests_total{worker="1",code="2xx"}'), KNOWN_MIX.ok);
  assert.equal(m('tsgi_requests_total{worker="1",code="4xx"}'), KNOWN_MIX.notFound);
  for (const c of ['1xx', '3xx', '5xx']) assert.equal(m(`tsgi_requests_total{worker="1",code="${c}"}`), 0);
  assert.equal(m('tsgi_refusals_total{worker="1",code="400"}'), KNOWN_MIX.refused400);
  assert.equal(m('tsgi_refusals_total{worker="1",code="431"}'), KNOWN_MIX.refused431);
  for (const c of ['408', '413', '500', '501', '505', 'other', 'none']) assert.equal(m(`tsgi_refusals_total{worker="1",code="${c}"}`), 0);
  const answered = KNOWN_MIX.ok + KNOWN_MIX.notFound;
  assert.equal(m('tsgi_request_duration_seconds_count{worker="1"}'), answered);
  assert.equal(m('tsgi_request_duration_seconds_bucket{worker="1",le="+Inf"}'), answered);
  let previous = 0;
  for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']) {
    const v = m(`tsgi_request_duration_seconds_bucket{worker="1",le="${le}"}`);
    assert.ok(v >= previous, `bucket le=${le} is cumulative`);
    previous = v;
  }
  const sum = m('tsgi_request_duration_seconds_sum{worker="1"}');
  assert.ok(sum > 0 && sum < 10, `duration sum ${sum}`);
  assert.equal(m('tsgi_requests_in_progress{worker="1"}'), 0);
  assert.equal(m('tsgi_requests_aborted_total{worker="1"}'), 0);
  // Each answer's head and body: at least the status line and the body.
  assert.ok(m('tsgi_sent_bytes_total{worker="1"}') >= KNOWN_MIX.ok * ('HTTP/1.1 200 OK\r\n'.length + 'ok 1\n'.length));
  assert.ok(m('tsgi_worker_rss_bytes{worker="1"}') > 10 * 1024 * 1024);
  assert.equal(m('tsgi_accept_errors_total{worker="1"}'), 0);
}
