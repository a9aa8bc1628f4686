// GET /metrics on the stats server (--stats-http): Prometheus's text format 0.0.4,
// counts that match exactly what a client sent (requests by status class, the duration
// histogram, refusals by status), respawns counted by the master by reason; the page
// passes `promtool check metrics`, and a real Prometheus scrapes it. Master mode, and
// the single process on both backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { waitUntil, withTimeout } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { assertKnownMix, get, KNOWN_MIX, parseMetrics, sendKnownMix, statsPort, stopCli } from '../lib/ops.mjs';

const APP = join(FIXTURES, 'ops-app.mjs');
const have = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
// CI installs Debian's prometheus package (.ci/run); elsewhere these tests say why they skip.
const PROMETHEUS = have('promtool') && have('prometheus');
const prometheusMissing = PROMETHEUS ? false : process.env.CI ? false : 'promtool and prometheus are not installed (apt-get install prometheus)';

/** `promtool check metrics` on text: its exit code and what it said. */
function promtoolCheck(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function scrape(port) {
  const r = await get(port, '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  const check = promtoolCheck(r.body);
  assert.equal(check.status, 0, `promtool check metrics:\n${check.output}\n${r.body}`);
  return { text: r.body, metrics: parseMetrics(r.body) };
}

/**
 * Prometheus itself, on loopback with its storage in a temporary directory, scraping
 * 127.0.0.1:target every second; stopped by its pid.
 */
async function startPrometheus(target) {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-prometheus-'));
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: tsgi\n    static_configs:\n      - targets: ['127.0.0.1:${target}']\n`);
  const child = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (log = (log + d).slice(-20000)));
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    async query(expr) {
      const r = await get(port, `/api/v1/query?query=${encodeURIComponent(expr)}`);
      return r.status === 200 ? JSON.parse(r.body).data.result : undefined;
    },
    log: () => log,
    async stop() {
      child.kill('SIGTERM');
      await withTimeout(exited, 10000, 'prometheus to exit').catch(() => child.kill('SIGKILL'));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('master mode: /metrics counts exactly what was sent, passes promtool, counts a respawn, and a real Prometheus scrapes it', { skip: prometheusMissing }, async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--wsgi-file', APP]);
  let prometheus;
  try {
    const port = await cli.port;
    const stats = await statsPort(cli);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    await sendKnownMix(port);
    const { text, metrics } = await scrape(stats);
    assertKnownMix(metrics, text);
    for (const reason of ['died', 'harakiri', 'max-requests', 'reload-on-rss', 'reload']) {
      assert.equal(metrics.get(`tsgi_worker_respawns_total{worker="1",reason="${reason}"}`), 0, reason);
    }
    assert.equal(metrics.get(`tsgi_listen_queue{socket="127.0.0.1:${port}"}`), 0);
    assert.equal(metrics.get(`tsgi_listen_queue_max{socket="127.0.0.1:${port}"}`), 1024);

    prometheus = await startPrometheus(stats);
    let result;
    await waitUntil(async () => {
      result = await prometheus.query('tsgi_requests_total').catch(() => undefined);
      return result !== undefined && result.length === 5;
    }, 20000, `Prometheus to scrape tsgi_requests_total (its log: ${prometheus.log()})`);
    const byCode = Object.fromEntries(result.map((s) => [s.metric.code, Number(s.value[1])]));
    assert.deepEqual(byCode, { '1xx': 0, '2xx': KNOWN_MIX.ok, '3xx': 0, '4xx': KNOWN_MIX.notFound, '5xx': 0 });
    for (const s of result) assert.equal(s.metric.worker, '1');
    const up = await prometheus.query('up{job="tsgi"}');
    assert.equal(up[0].value[1], '1');

    // A worker killed is respawned, and counted by its reason.
    const pid = Number(/worker 1 \(pid: (\d+)\) ready/.exec(cli.stderrText())[1]);
    process.kill(pid, 'SIGKILL');
    await cli.waitStderr(/respawned worker 1 \(new pid: \d+\)/, 10000);
    const after = await scrape(stats);
    assert.equal(after.metrics.get('tsgi_worker_respawns_total{worker="1",reason="died"}'), 1);
    // The new process's counts start from zero.
    assert.equal(after.metrics.get('tsgi_requests_total{worker="1",code="2xx"}'), 0);
  } finally {
    await prometheus?.stop();
    await stopCli(cli).catch(() => cli.kill());
  }
});

for (const backend of BACKENDS) {
  test(`single process (${backend} backend): /metrics from the process itself counts exactly what was sent and passes promtool`, { skip: prometheusMissing }, async () => {
    const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--wsgi-file', APP]);
    try {
      const port = await cli.port;
      const stats = await statsPort(cli);
      await cli.waitStderr(/tsgi is ready/);
      await sendKnownMix(port);
      const { text, metrics } = await scrape(stats);
      assertKnownMix(metrics, text);
      assert.ok(!text.includes('tsgi_worker_respawns_total'), 'no master, no respawns');
      // A request in progress shows, and is counted once it ends.
      const slow = get(port, '/sleep?800');
      await waitUntil(async () => (await scrape(stats)).metrics.get('tsgi_requests_in_progress{worker="1"}') === 1, 3000, 'the request in progress to show');
      assert.equal((await slow).status, 200);
      const after = await scrape(stats);
      assert.equal(after.metrics.get('tsgi_requests_in_progress{worker="1"}'), 0);
      assert.equal(after.metrics.get('tsgi_requests_total{worker="1",code="2xx"}'), KNOWN_MIX.ok + 1);
      assert.ok(after.metrics.get('tsgi_request_duration_seconds_bucket{worker="1",le="0.5"}') === KNOWN_MIX.ok + KNOWN_MIX.notFound, 'the 800 ms request is over 0.5 s');
      assert.equal(after.metrics.get('tsgi_request_duration_seconds_bucket{worker="1",le="1"}'), KNOWN_MIX.ok + KNOWN_MIX.notFound + 1);
    } finally {
      await stopCli(cli).catch(() => cli.kill());
    }
  });
}
