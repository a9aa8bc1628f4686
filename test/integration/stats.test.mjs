// The stats server (--stats): uWSGI's JSON, the keys uwsgitop reads, counters from the
// scoreboard matching the requests sent; over a unix socket, and over TCP wrapped in
// HTTP (--stats-http).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { httpGet } from '../lib/http-client.mjs';

const APP = join(FIXTURES, 'app.mjs');

function readAll(options) {
  return new Promise((resolve, reject) => {
    const s = connect(options);
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
    s.setTimeout(3000, () => {
      s.destroy();
      reject(new Error('the stats server did not close the connection'));
    });
  });
}

const get = async (port, path = '/') => (await httpGet(port, path, { headers: { connection: 'close' } })).status;

const WORKER_KEYS = ['id', 'pid', 'accepting', 'requests', 'delta_requests', 'exceptions', 'harakiri_count', 'accept_errors', 'status', 'rss', 'vsz', 'running_time', 'last_spawn', 'respawn_count', 'tx', 'avg_rt'];

test('--stats on a unix socket: the keys uwsgitop reads, and counters that match the requests', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-stats-'));
  const statsPath = join(dir, 'stats.sock');
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '2', '--http', '127.0.0.1:0', '--stats', statsPath, '--disable-logging', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    await cli.waitStderr(/stats server enabled on/);
    await cli.waitStderr(/worker 2 \(pid: \d+\) ready/);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    const N = 25;
    for (let i = 0; i < N; i++) assert.equal(await get(port), 200);
    const doc = JSON.parse(await readAll({ path: statsPath }));
    for (const key of ['version', 'pid', 'uid', 'gid', 'cwd', 'listen_queue', 'sockets', 'workers']) assert.ok(key in doc, `stats has ${key}`);
    assert.equal(doc.pid, cli.child.pid);
    assert.equal(doc.workers.length, 2);
    assert.deepEqual(doc.workers.map((w) => w.id).sort(), [1, 2]);
    for (const w of doc.workers) {
      for (const key of WORKER_KEYS) assert.equal(typeof w[key] === 'number' || typeof w[key] === 'string', true, `worker has ${key}`);
      assert.equal(w.status, 'idle');
      assert.ok(w.rss > 0 && w.vsz >= w.rss);
      assert.ok(w.last_spawn > 1700000000);
    }
    const total = doc.workers.reduce((n, w) => n + w.requests, 0);
    assert.equal(total, N, 'requests summed over the workers');
    assert.equal(doc.workers.reduce((n, w) => n + w.delta_requests, 0), N, 'delta_requests since the last query');
    assert.ok(doc.workers.reduce((n, w) => n + w.tx, 0) > N * 20, 'tx counts the bytes written');
    assert.equal(doc.sockets[0].name, `127.0.0.1:${port}`);
    assert.equal(doc.sockets[0].proto, 'http');
    // A second query: no new requests, so no delta.
    for (let i = 0; i < 3; i++) assert.equal(await get(port), 200);
    const again = JSON.parse(await readAll({ path: statsPath }));
    assert.equal(again.workers.reduce((n, w) => n + w.requests, 0), N + 3);
    assert.equal(again.workers.reduce((n, w) => n + w.delta_requests, 0), 3);
  } finally {
    cli.signal('SIGTERM');
    await cli.waitExit(10000).catch(() => cli.kill());
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--stats-http on TCP: the same JSON in an HTTP response; a busy worker shows busy', async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--disable-logging', '--wsgi-file', join(FIXTURES, 'slow-app.mjs')]);
  try {
    const port = await cli.port;
    const stderr = await cli.waitStderr(/stats server enabled on 127\.0\.0\.1:\d+ \(http\)/);
    const statsPort = Number(/stats server enabled on 127\.0\.0\.1:(\d+)/.exec(stderr)[1]);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    const slow = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.text()).catch(() => '');
    let busy;
    await waitUntil(async () => {
      const r = await fetch(`http://127.0.0.1:${statsPort}/`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type'), /application\/json/);
      busy = await r.json();
      return busy.workers[0].status === 'busy';
    }, 3000, 'the worker to show busy');
    assert.equal(busy.workers[0].id, 1);
    await slow;
  } finally {
    cli.signal('SIGTERM');
    await cli.waitExit(10000).catch(() => cli.kill());
  }
});
