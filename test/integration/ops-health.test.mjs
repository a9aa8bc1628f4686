// GET /healthz and /readyz on the stats server (--stats-http), answered by tsgi itself:
// 503 on /readyz while the application loads, 200 once it is loaded and the sockets
// accept; /healthz 200 while the process (in master mode: the master and a worker)
// lives; in master mode the master answers while every worker is busy in synchronous
// application code. Other paths still give the stats JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { rawRequest } from '../lib/raw-client.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { get, statsPort, stopCli } from '../lib/ops.mjs';

const SLOW_LOAD = join(FIXTURES, 'ops-slow-load.mjs');

/** /readyz says 503 (with why) until the application is loaded, then 200; /healthz 200 throughout. */
async function readyOnceLoaded(cli, loadedLine) {
  const stats = await statsPort(cli);
  const starting = await get(stats, '/readyz');
  assert.equal(starting.status, 503, 'not ready while the application loads');
  assert.match(starting.body, /^starting/);
  assert.equal(starting.headers['content-type'], 'text/plain');
  assert.ok(!loadedLine.test(cli.stderrText()), 'the application was still loading');
  const health = await get(stats, '/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.body, 'ok\n');
  await cli.waitStderr(loadedLine, 10000);
  await waitUntil(async () => (await get(stats, '/readyz')).status === 200, 3000, '/readyz to say 200');
  const port = await cli.port;
  assert.equal((await get(port, '/')).status, 200, 'ready means the sockets accept');
  // Anything else is still the stats JSON; HEAD is answered without a body; other methods are not.
  const doc = JSON.parse((await get(stats, '/')).body);
  assert.equal(doc.workers[0].id, 1);
  const head = await rawRequest(stats, 'HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(head.text, /^HTTP\/1\.1 200 OK\r\n[^]*Content-Length: 3\r\n[^]*\r\n\r\n$/);
  const post = await rawRequest(stats, 'POST /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
  assert.match(post.text, /^HTTP\/1\.1 405 /);
  return { stats, port };
}

test('master mode: /readyz 503 while the worker loads, then 200; the master answers while the worker spins', async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--disable-logging', '--wsgi-file', SLOW_LOAD]);
  try {
    const starting = await statsPort(cli);
    assert.match((await get(starting, '/readyz')).body, /^starting: 0 of 1 workers ready/);
    const { stats, port } = await readyOnceLoaded(cli, /worker 1 \(pid: \d+\) ready/);
    // The worker busy for 3 s in synchronous code: the probes are answered at once.
    const spin = get(port, '/spin?3000', { timeoutMs: 10000 });
    await waitUntil(async () => JSON.parse((await get(stats, '/')).body).workers[0].status === 'busy', 2000, 'the worker to be busy');
    const started = Date.now();
    assert.equal((await get(stats, '/healthz', { timeoutMs: 1000 })).status, 200);
    assert.equal((await get(stats, '/readyz', { timeoutMs: 1000 })).status, 200);
    assert.ok(Date.now() - started < 1000, 'answered while the workers spin');
    assert.equal((await spin).status, 200);
  } finally {
    await stopCli(cli).catch(() => cli.kill());
  }
});

test('master mode: /readyz 503 while no worker is ready (the only worker died and the code on disk is broken), 200 once one is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-ops-health-'));
  const app = join(dir, 'app.mjs');
  copyFileSync(join(FIXTURES, 'ops-app.mjs'), app);
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--disable-logging', '--wsgi-file', app]);
  try {
    const stats = await statsPort(cli);
    await waitUntil(async () => (await get(stats, '/readyz')).status === 200, 10000, '/readyz to say 200');
    const pid = Number(/worker 1 \(pid: (\d+)\) ready/.exec(cli.stderrText())[1]);
    writeFileSync(app, 'export function application( {\n');
    process.kill(pid, 'SIGKILL');
    await cli.waitStderr(/OOPS ! worker 1 \(pid: \d+\) cannot load the application/, 10000);
    const r = await get(stats, '/readyz');
    assert.equal(r.status, 503);
    assert.equal(r.body, 'no worker ready\n');
    copyFileSync(join(FIXTURES, 'ops-app.mjs'), app);
    await waitUntil(async () => (await get(stats, '/readyz')).status === 200, 10000, '/readyz to say 200 again once a respawn loads the fixed code');
    assert.equal((await get(await cli.port, '/')).status, 200);
  } finally {
    await stopCli(cli).catch(() => cli.kill());
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const backend of BACKENDS) {
  test(`single process (${backend} backend): /readyz 503 while the application loads, then 200; /healthz 200`, async () => {
    const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--disable-logging', '--wsgi-file', SLOW_LOAD]);
    try {
      await readyOnceLoaded(cli, /\*\*\* tsgi is ready in single-process mode/);
    } finally {
      await stopCli(cli).catch(() => cli.kill());
    }
  });
}
