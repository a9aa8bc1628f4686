// Scaling out over hosts (docs/deploy-cluster.md): three tsgi "hosts", each a
// `tsgi --master` (2 workers, --no-orphans, --shutdown-delay 2, /healthz and /readyz on
// its stats port) in a network namespace of its own, behind one nginx in the root
// namespace with an upstream of the three (keepalive, proxy_next_upstream error timeout
// http_502 http_503, proxy_next_upstream_tries 3, max_fails/fail_timeout).
//
// The network: per host i (1..3) a namespace tsgi-cl-i and a veth pair, tsgicl<i>r in the
// root namespace (10.213.0.<4i+1>/30) and tsgicl<i>h in the host's (10.213.0.<4i+2>/30):
// addresses only on those veths, nothing outside this machine is addressed. Each host
// binds 0.0.0.0:8000 (HTTP) and 0.0.0.0:9000 (stats) in its namespace. Every namespace and
// link is removed by name in after(), and stale ones of a crashed run before the start.
// Without network namespaces (not root, no ip tool, or `ip netns add` refused) the hosts
// are loopback addresses instead, 127.0.0.2/.3/.4, each host bound to its own: still
// real processes (TSGI_CLUSTER_LOOPBACK=1 forces that).
//
// The orchestrator: nginx-light has no active health checks, so the test does what a
// load balancer's probe does: it polls every host's /readyz each 100 ms, and when the set
// of ready hosts changes it rewrites nginx's upstream file (included in the upstream
// block) and sends SIGHUP to nginx's master pid. The passive checks (max_fails=1
// fail_timeout=5s) cover the time until it notices.
//
// The load: 4 client loops through nginx, a fresh connection per request, each request
// counted as sent, answered (200 "ok PID") or failed (an error or another status).
//  (a) kill -9 of one host's master: its workers exit (--no-orphans); nginx goes on with
//      two; the failures are at most the requests in flight at the kill (none here:
//      nginx retries an idempotent GET on the next host), every request started after
//      the kill is answered, and the answers come from the two other hosts.
//  (b) a rolling restart of all three (per host: SIGTERM; the orchestrator sees /readyz
//      503 and takes it out; exit 0 after the delay; start again; /readyz 200; back in):
//      no request fails.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, FIXTURES } from '../lib/project.mjs';
import { delay, waitUntil, withTimeout } from '../lib/wait.mjs';
import { findNginx, quitNginx, startNginx, nginxConf } from '../lib/nginx-core.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { isGone, sigkill } from '../lib/proc.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';

const APP = join(FIXTURES, 'ops-app.mjs');
const LOOPS = 4;
const SHUTDOWN_DELAY = 2;
const HTTP_PORT = 8000;
const STATS_PORT = 9000;
const IDS = [1, 2, 3];

function ip(...args) {
  return spawnSync('ip', args, { encoding: 'utf8', timeout: 5000 });
}

/** True when this process may make network namespaces (root, an ip tool that can). */
function netnsUsable() {
  if (process.env.TSGI_CLUSTER_LOOPBACK === '1') return false;
  if (process.getuid?.() !== 0) return false;
  const add = ip('netns', 'add', 'tsgi-cl-probe');
  if (add.error !== undefined || add.status !== 0) return false;
  ip('netns', 'del', 'tsgi-cl-probe');
  return true;
}

const nginxBin = findNginx('NGINX');
const NETNS = nginxBin !== undefined && netnsUsable();

/** Host i: its namespace, veth names and addresses (netns mode), or its loopback address. */
function hostPlan(i) {
  if (!NETNS) return { i, ns: undefined, addr: `127.0.0.${i + 1}`, bind: `127.0.0.${i + 1}` };
  return { i, ns: `tsgi-cl-${i}`, rootIf: `tsgicl${i}r`, hostIf: `tsgicl${i}h`, rootAddr: `10.213.0.${4 * i + 1}`, addr: `10.213.0.${4 * i + 2}`, bind: '0.0.0.0' };
}
const PLANS = IDS.map(hostPlan);

function removeNetwork() {
  for (const p of PLANS) {
    if (p.ns === undefined) continue;
    ip('link', 'del', p.rootIf); // its peer goes with it
    ip('netns', 'del', p.ns);
  }
}

function makeNetwork() {
  removeNetwork(); // what a crashed run left, by name
  const run = (...args) => {
    const r = ip(...args);
    assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
  };
  for (const p of PLANS) {
    run('netns', 'add', p.ns);
    run('link', 'add', p.rootIf, 'type', 'veth', 'peer', 'name', p.hostIf, 'netns', p.ns);
    run('addr', 'add', `${p.rootAddr}/30`, 'dev', p.rootIf);
    run('link', 'set', p.rootIf, 'up');
    run('-n', p.ns, 'addr', 'add', `${p.addr}/30`, 'dev', p.hostIf);
    run('-n', p.ns, 'link', 'set', p.hostIf, 'up');
    run('-n', p.ns, 'link', 'set', 'lo', 'up');
  }
}

// ---------------------------------------------------------------------------------
// Hosts: `[ip netns exec NS] node bin/tsgi.js --master ...` in a process group of its own.

const started = new Set(); // every host process, killed (group and workers) in after()

function startHost(plan) {
  const args = ['--master', '--processes', '2', '--no-orphans', '--http', `${plan.bind}:${HTTP_PORT}`, '--stats', `${plan.bind}:${STATS_PORT}`, '--stats-http', '--shutdown-delay', String(SHUTDOWN_DELAY), '--disable-logging', '--wsgi-file', APP];
  const command = plan.ns === undefined ? [process.execPath, CLI] : ['ip', 'netns', 'exec', plan.ns, process.execPath, CLI];
  const cli = spawnCli(args, { command, detached: true });
  const h = { plan, child: cli.child, pid: cli.child.pid, log: () => cli.stderrText(), exitInfo: undefined };
  h.workers = () => [...h.log().matchAll(/^tsgi: worker \d+ \(pid: (\d+)\) ready: /gm)].map((x) => Number(x[1]));
  h.exit = cli.processExited.then((info) => (h.exitInfo = info));
  started.add(h);
  return h;
}

function killHost(h) {
  sigkill([h.pid, ...h.workers(), -h.pid]);
}

/** GET http://addr:port/path on a fresh connection: { status, body }, or rejects. */
const get = (host, port, path, timeoutMs) => httpGet(port, path, { host, timeoutMs, requireComplete: true });

const readyz = (plan) => get(plan.addr, STATS_PORT, '/readyz', 1000).then((r) => r.status, (err) => err.code ?? err.message);

async function waitReady(h) {
  await waitUntil(
    async () => {
      if (h.exitInfo !== undefined) throw new Error(`host ${h.plan.i} exited (${JSON.stringify(h.exitInfo)}):\n${h.log()}`);
      return (await readyz(h.plan)) === 200;
    },
    15000,
    `host ${h.plan.i} /readyz 200`,
  );
}

// ---------------------------------------------------------------------------------
// nginx and the orchestrator

const upstreamLine = (p) => `server ${p.addr}:${HTTP_PORT} max_fails=1 fail_timeout=5s;`;

function clusterConf(dir, port) {
  return nginxConf({
    writer: 'test/integration/cluster.test.mjs',
    dir,
    errorLogLevel: 'warn',
    workerConnections: 512,
    http: `
    upstream tsgi_cluster {
        include ${dir}/upstream.conf;
        keepalive 16;
    }

    server {
        listen 127.0.0.1:${port};
        keepalive_timeout 0;
        location / {
            proxy_pass http://tsgi_cluster;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 10s;
        }
    }
`,
  });
}

let nginx;
let nginxPort;
let nginxDir;

/**
 * The load balancer's probe and config push: every 100 ms each host's /readyz; when the
 * set of hosts saying 200 changes (and is not empty), upstream.conf is rewritten and
 * nginx's master gets SIGHUP. Returns { stop(), inUpstream(i), events }.
 */
function orchestrate(initial) {
  let current = new Set(initial);
  const events = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const statuses = await Promise.all(PLANS.map(readyz));
      const ready = new Set(PLANS.filter((_, k) => statuses[k] === 200).map((p) => p.i));
      const same = ready.size === current.size && [...ready].every((i) => current.has(i));
      if (!same && ready.size > 0 && !stopped) {
        writeFileSync(join(nginxDir, 'upstream.conf'), PLANS.filter((p) => ready.has(p.i)).map(upstreamLine).join('\n') + '\n');
        process.kill(nginx.pid, 'SIGHUP');
        events.push({ at: Date.now(), hosts: [...ready].sort(), statuses });
        current = ready;
      }
      await delay(100);
    }
  })();
  return {
    events,
    inUpstream: (i) => current.has(i),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** LOOPS client loops through nginx until stop(): every request with its times and outcome. */
function load() {
  const results = [];
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      const r = { start: Date.now(), end: 0, ok: false, pid: 0, what: '' };
      results.push(r);
      try {
        const res = await get('127.0.0.1', nginxPort, '/', 15000);
        r.ok = res.status === 200 && /^ok \d+\n$/.test(res.body);
        r.pid = Number.parseInt(res.body.slice(3), 10);
        r.what = `${res.status} ${res.body.trim()}`;
      } catch (err) {
        r.what = err.code ?? err.message;
      }
      r.end = Date.now();
    }
  };
  const loops = Array.from({ length: LOOPS }, loop);
  return {
    results,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      const failed = results.filter((r) => !r.ok);
      return { sent: results.length, answered: results.length - failed.length, failed: failed.length, failures: failed };
    },
  };
}

const hosts = new Map(); // i -> the host now

before(async () => {
  if (nginxBin === undefined) return;
  if (NETNS) makeNetwork();
  for (const p of PLANS) hosts.set(p.i, startHost(p));
  await Promise.all([...hosts.values()].map(waitReady));
  ({ nginx, port: nginxPort } = await startNginx({
    bin: nginxBin,
    directory: () => {
      nginxDir = makeTempDir('tsgi-cluster-');
      writeFileSync(join(nginxDir, 'upstream.conf'), PLANS.map(upstreamLine).join('\n') + '\n');
      mkdirSync(join(nginxDir, 'html'));
      return nginxDir;
    },
    config: clusterConf,
    graceMs: 3000,
    failed: (n) => rmSync(n.dir, { recursive: true, force: true }),
  }));
});

after(async () => {
  if (nginx !== undefined) await quitNginx(nginx, 3000);
  if (nginxDir !== undefined) rmSync(nginxDir, { recursive: true, force: true });
  for (const h of started) killHost(h);
  await Promise.all([...started].map((h) => withTimeout(h.exit, 5000, 'a host to be reaped').catch(() => {})));
  if (NETNS) removeNetwork();
  if (NETNS) {
    const left = ip('netns', 'list').stdout;
    assert.ok(!/tsgi-cl-/.test(left), `namespaces left: ${left}`);
  }
});

const skip = nginxBin === undefined ? 'nginx not found (install nginx-light, or set NGINX=/path/to/nginx)' : false;
const layout = NETNS ? 'three network namespaces' : 'loopback addresses 127.0.0.2-4 (no network namespaces here)';

test(`(b) a rolling restart of the three hosts (${layout}) behind nginx loses no request`, { skip }, async (t) => {
  const orchestrator = orchestrate(IDS);
  const traffic = load();
  let counts;
  try {
    await delay(500);
    for (const i of IDS) {
      const old = hosts.get(i);
      old.child.kill('SIGTERM');
      await waitUntil(() => !orchestrator.inUpstream(i), 1500, `the orchestrator to take host ${i} out (within the ${SHUTDOWN_DELAY} s delay)`);
      assert.deepEqual(await withTimeout(old.exit, 15000, `host ${i} to exit`), { code: 0, signal: null }, old.log());
      assert.match(old.log(), new RegExp(`SIGTERM received: draining for ${SHUTDOWN_DELAY} s`));
      started.delete(old);
      const fresh = startHost(old.plan);
      hosts.set(i, fresh);
      await waitReady(fresh);
      await waitUntil(() => orchestrator.inUpstream(i), 2000, `the orchestrator to put host ${i} back`);
      await delay(300);
    }
    await delay(500);
  } finally {
    counts = await traffic.stop();
    await orchestrator.stop();
  }
  t.diagnostic(`(b) rolling restart: sent ${counts.sent}, answered ${counts.answered}, failed ${counts.failed}; upstream changes: ${orchestrator.events.map((e) => `[${e.hosts}]`).join(' ')}`);
  assert.deepEqual(counts.failures, [], 'no request failed');
  assert.equal(counts.answered, counts.sent);
  assert.ok(counts.sent > 100, `a load (${counts.sent} requests)`);
  assert.equal(orchestrator.events.length, 6, 'each host went out of the upstream and back in');
  // The new hosts answered: each one's workers served some of the last requests.
  const pidsNow = new Set(traffic.results.map((r) => r.pid));
  for (const h of hosts.values()) assert.ok(h.workers().some((p) => pidsNow.has(p)), `host ${h.plan.i} (restarted) answered`);
});

test(`(a) kill -9 of one host's master (${layout}) loses at most the requests it held`, { skip }, async (t) => {
  const orchestrator = orchestrate(IDS);
  const traffic = load();
  let counts;
  const victim = hosts.get(2);
  const victimPids = new Set(victim.workers());
  let killAt;
  let inFlight;
  try {
    await delay(1000);
    inFlight = traffic.results.filter((r) => r.end === 0).length;
    killAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    assert.deepEqual(await withTimeout(victim.exit, 5000, 'the killed master to be reaped'), { code: null, signal: 'SIGKILL' });
    // --no-orphans: its workers notice the closed IPC channel and exit.
    await waitUntil(() => [...victimPids].every((p) => isGone(p, victim.pid)), 5000, 'the killed host\'s workers to exit');
    await waitUntil(() => !orchestrator.inUpstream(2), 2000, 'the orchestrator to take the dead host out');
    await delay(2000);
  } finally {
    counts = await traffic.stop();
    await orchestrator.stop();
  }
  const after = traffic.results.filter((r) => r.start >= killAt);
  const lateFailures = after.filter((r) => !r.ok);
  t.diagnostic(`(a) kill -9: sent ${counts.sent}, answered ${counts.answered}, failed ${counts.failed} (in flight at the kill: ${inFlight}); started after the kill: ${after.length}, failed of those ${lateFailures.length}`);
  assert.ok(counts.failed <= inFlight, `failures (${counts.failed}: ${counts.failures.map((r) => r.what)}) at most the ${inFlight} requests in flight at the kill`);
  assert.deepEqual(lateFailures, [], 'every request started after the kill is answered');
  assert.ok(after.length > 50, `a load after the kill (${after.length} requests)`);
  // nginx goes on with the two others: the last second's answers come from both, none from the dead host.
  const lastSecond = traffic.results.filter((r) => r.start >= Date.now() - 1500 && r.ok);
  assert.ok(lastSecond.every((r) => !victimPids.has(r.pid)), 'no answer from the dead host');
  for (const i of [1, 3]) {
    const pids = new Set(hosts.get(i).workers());
    assert.ok(lastSecond.some((r) => pids.has(r.pid)), `host ${i} answers`);
  }
});
