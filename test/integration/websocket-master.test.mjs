// WebSockets under the master and at a graceful stop: harakiri does not take an open
// WebSocket for a stuck request; the stats JSON and /metrics count open WebSockets per
// worker; a chain reload (SIGHUP) lets the old worker's WebSockets go on within
// worker-reload-mercy, then closes them with 1001 and the worker exits before the
// master's kill, while new connections reach the new worker. In one process, SIGTERM does
// the same within reload-mercy for an application's own ws (node interface): tsgi writes
// the close frame behind its frames. One process counts them too, on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { killAll, readyMaster } from '../lib/master.mjs';
import { get, parseMetrics, statsPort } from '../lib/ops.mjs';
import { openWebSocket } from '../lib/websocket-clients.mjs';

const T = { timeout: 60000 };
const DIR = join(FIXTURES, 'websocket');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function echo(c, text) {
  c.send(text);
  assert.deepEqual(await c.next(), { data: text, binary: false });
}

test('master: harakiri spares an open WebSocket; stats and metrics count them; SIGHUP gives them worker-reload-mercy, then 1001', T, async (t) => {
  const m = await readyMaster(['--harakiri', '1', '--worker-reload-mercy', '4', '--stats', '127.0.0.1:0', '--stats-http'], { app: join(DIR, 'wsgi-app.mjs'), processes: 1 });
  t.after(() => killAll(m));
  const stats = await statsPort(m.cli);
  const a = await openWebSocket(`ws://127.0.0.1:${m.portNumber}/ws`);
  const b = await openWebSocket(`ws://127.0.0.1:${m.portNumber}/ws`);
  await a.next();
  await b.next();
  // Twice the harakiri limit, with the master looking every 500 ms.
  await sleep(2500);
  await echo(a, 'still here');
  assert.doesNotMatch(m.log(), /HARAKIRI/);
  const json = JSON.parse((await get(stats, '/')).body);
  assert.equal(json.workers[0].websockets, 2);
  const metrics = parseMetrics((await get(stats, '/metrics')).body);
  assert.equal(metrics.get('tsgi_open_websockets{worker="1"}'), 2);
  b.ws.close(1000);
  await b.closed;
  await sleep(100);
  assert.equal(parseMetrics((await get(stats, '/metrics')).body).get('tsgi_open_websockets{worker="1"}'), 1);

  const from = m.log().length;
  m.signal('SIGHUP');
  await m.waitLog(/worker 1 \(pid: \d+\) ready/, 10000, from);
  // The old worker is asked to stop once its successor is ready: its mercy starts here.
  const stopAt = Date.now();
  // The old worker's WebSocket goes on within the mercy.
  await echo(a, 'old worker, within the mercy');
  const closed = await a.closed;
  const after = Date.now() - stopAt;
  assert.equal(closed.code, 1001);
  assert.equal(closed.reason, 'server going away');
  assert.ok(after >= 2200, `closed ${after} ms after the successor was ready (worker-reload-mercy 4 s: at 2.5 s)`);
  await m.waitLog(/websocket closed with 1001/, 5000, from);
  await sleep(300);
  assert.doesNotMatch(m.log().slice(from), /still busy after 4 s of mercy: killing it/);
  // The new worker takes new WebSockets. (Opened only now: until the old worker has
  // taken its stop it may still accept one, which its mercy would then close.)
  const c = await openWebSocket(`ws://127.0.0.1:${m.portNumber}/ws`);
  await c.next();
  await echo(c, 'new worker');
  c.ws.close();
  await c.closed;
});

/**
 * A single process with --reload-mercy 2 told SIGTERM: the WebSocket c goes on echoing
 * during the mercy, then is closed at its end less 1.5 s; resolves with c's close.
 */
async function mercyThenGoingAway(cli, c) {
  await echo(c, 'before');
  const at = Date.now();
  cli.signal('SIGTERM');
  await sleep(200);
  await echo(c, 'during the mercy');
  const closed = await c.closed;
  const after = Date.now() - at;
  assert.ok(after >= 400 && after < 2000, `closed ${after} ms after SIGTERM (reload-mercy 2 s: at 0.5 s)`);
  return closed;
}

test('one process, a ws application: SIGTERM gives its WebSocket reload-mercy, then a 1001 close frame, and the process exits 0', T, async (t) => {
  const cli = await startCli(['--http', '127.0.0.1:0', '--reload-mercy', '2', '--wsgi-file', join(DIR, 'ws-app.mjs')]);
  t.after(() => cli.kill());
  const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/echo`);
  assert.equal((await mercyThenGoingAway(cli, c)).code, 1001);
  const { code } = await cli.waitExit(5000);
  assert.equal(code, 0);
});

for (const backend of BACKENDS) {
  test(`one process, ${backend} backend, tsgi.websocket: SIGTERM gives its WebSocket reload-mercy, then 1001 ("server going away"), and the process exits 0`, T, async (t) => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--reload-mercy', '2', '--wsgi-file', join(DIR, 'wsgi-app.mjs')]);
    t.after(() => cli.kill());
    const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`);
    assert.equal((await c.next()).data, 'hello -');
    assert.deepEqual(await mercyThenGoingAway(cli, c), { code: 1001, reason: 'server going away' });
    await cli.waitStderr(/websocket closed with 1001/);
    const { code } = await cli.waitExit(5000);
    assert.equal(code, 0);
  });

  test(`one process, ${backend} backend: /metrics counts an open WebSocket as such, not as an open connection`, T, async (t) => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--wsgi-file', join(DIR, 'wsgi-app.mjs')]);
    t.after(() => cli.kill());
    const stats = await statsPort(cli);
    const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`);
    await c.next();
    const open = parseMetrics((await get(stats, '/metrics')).body);
    assert.equal(open.get('tsgi_open_websockets{worker="1"}'), 1);
    assert.equal(open.get('tsgi_open_connections{worker="1"}'), 0);
    c.ws.close();
    await c.closed;
    await sleep(200);
    assert.equal(parseMetrics((await get(stats, '/metrics')).body).get('tsgi_open_websockets{worker="1"}'), 0);
  });
}
