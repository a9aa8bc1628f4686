// The startup scenario: how long from the process's start to its first response. A
// process is started, tsgi or a plain node:http server with the same hello answer; as
// soon as it says its socket is bound, one GET is sent, and the time is taken when the
// whole response is in. Cases: a .js (ESM) application and the same in TypeScript (.ts,
// through tsx), in one process and under a master with 2 workers (the master binds
// before its workers load, so the request waits in the listen queue for the first
// worker ready: what a load balancer's first request sees). Their peers: node:http alone,
// and in node:cluster's primary and 2 workers (bench/peers/hello-cluster.mjs), the floor
// of any master that starts Node workers: two Node starts, one after the other. Every case runs `runs`
// times, one after another, on an idle machine; the median and the fastest are shown.
//
// Every case starts without NODE_EXTRA_CA_CERTS: Node 20 reads and parses that
// file before any JavaScript runs (this workplace sets it to the whole CA bundle: some
// 60 ms a start, twice over in master mode), a cost of the environment, not of the
// server. What it costs here is measured and printed beside the table.
//
// The bench pins itself to one CPU (bench/run.mjs), and a child inherits that: a master's
// workers would then boot one after the other on a single CPU, each taking the other's
// time. Every case is started on all the CPUs the bench was given (taskset), as a user's
// machine starts it; the runner only waits meanwhile.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './settings.mjs';
import { HELLO_PEER } from './hello-peer.mjs';
import { median } from './rounds.mjs';
import { pinned } from './children.mjs';

/** The target for a .js application, single process and master alike. */
export const STARTUP_TARGET_MS = 150;

// peer: the plain Node server a tsgi case is compared with (its 'over' column).
const CASES = [
  { name: 'node:http, .mjs', peer: true, args: ['-e', HELLO_PEER] },
  { name: 'node:cluster, primary + 2 workers', peer: true, args: ['bench/peers/hello-cluster.mjs'] },
  { name: 'tsgi, .mjs, one process', args: ['--wsgi-file', 'bench/apps/hello.mjs'] },
  { name: 'tsgi, .ts, one process', args: ['--wsgi-file', 'bench/apps/hello.ts'] },
  { name: 'tsgi, .mjs, master + 2 workers', args: ['--master', '--processes', '2', '--no-orphans', '--wsgi-file', 'bench/apps/hello.mjs'] },
  { name: 'tsgi, .ts, master + 2 workers', args: ['--master', '--processes', '2', '--no-orphans', '--wsgi-file', 'bench/apps/hello.ts'] },
];

/** The children's environment: the bench's, without NODE_EXTRA_CA_CERTS. */
function childEnv() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** One GET / over a new connection; resolves with the status line. */
function getOnce(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.setEncoding('latin1');
    sock.on('connect', () => sock.write('GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d) => (got += d));
    sock.on('end', () => resolve(got.split('\r\n')[0]));
    sock.on('error', reject);
  });
}

/** Starts the case once on cpus (a list, or undefined: as inherited): milliseconds from spawn to the first whole response. */
function once(c, cpus, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const args = c.peer ? c.args : [path.join(ROOT, 'bin/tsgi.js'), '--http', '127.0.0.1:0', '--disable-logging', ...c.args];
    const [file, argv] = pinned(cpus?.join(','), process.execPath, args); // taskset execs node: the pid is the server's
    const child = spawn(file, argv, { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let done = false;
    const finish = (fn) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGINT');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(killer);
        fn();
      });
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${c.name}: no response within ${timeoutMs} ms; stderr: ${err.slice(-400)}`))), timeoutMs);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      const before = err;
      err += d;
      const m = /bound to TCP address [^\s:]+:(\d+)/.exec(err);
      if (!m || /bound to TCP address [^\s:]+:(\d+)/.test(before)) return;
      getOnce(Number(m[1])).then(
        (status) => {
          const ms = performance.now() - t0;
          finish(() => (status.startsWith('HTTP/1.1 200') ? resolve(ms) : reject(new Error(`${c.name}: answered ${status}`))));
        },
        (e) => finish(() => reject(e)),
      );
    });
    child.on('exit', (code) => finish(() => reject(new Error(`${c.name}: exited ${code} before answering; stderr: ${err.slice(-400)}`))));
  });
}

/** Milliseconds of `node -e 0` with env, the median of runs. */
function bareStart(env, runs) {
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** Runs every case runs times on cpus (every CPU the bench may use); ctx: run.mjs's (say, fail). */
export async function runStartup(ctx, { runs, cpus }) {
  const cases = [];
  const caCerts = process.env.NODE_EXTRA_CA_CERTS;
  const extraCa = caCerts === undefined ? undefined : { file: caCerts, with: bareStart(process.env, runs), without: bareStart(childEnv(), runs) };
  for (const c of CASES) {
    const ms = [];
    try {
      for (let i = 0; i < runs; i++) ms.push(await once(c, cpus));
    } catch (err) {
      ctx.fail(`startup: ${err.message}`);
      continue;
    }
    ctx.say(`  ${c.name.padEnd(34)} ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
    cases.push({ name: c.name, peer: c.peer === true, ms, median: median(ms), min: Math.min(...ms) });
  }
  return { runs, target: `first response <= ${STARTUP_TARGET_MS} ms after the process starts (.js; .ts reported)`, cases, extraCa };
}

const signed = (ms) => `${ms >= 0 ? '+' : ''}${ms.toFixed(1)}`;

/** The table: median and fastest per case, against the target and against node:http. */
export function reportStartup(ctx, sc) {
  ctx.say('');
  ctx.say(`startup — first response after the process starts, ${sc.runs} runs a case, one after another`);
  // One process against node:http, master mode against node:cluster's primary and workers.
  const peerOf = (c) => sc.cases.find((p) => p.peer && p.name.startsWith(c.name.includes('master') ? 'node:cluster' : 'node:http'));
  const rows = sc.cases.map((c) => [
    c.name,
    c.median.toFixed(1),
    c.min.toFixed(1),
    !c.peer && peerOf(c) ? signed(c.median - peerOf(c).median) : '-',
    c.peer || c.name.includes('.ts') ? '-' : c.median <= STARTUP_TARGET_MS ? 'met' : 'NOT met',
  ]);
  ctx.table(['case', 'median ms', 'min ms', 'over its peer (node:http; master: node:cluster)', `<= ${STARTUP_TARGET_MS} ms`], rows);
  const ca = sc.extraCa;
  if (ca !== undefined) {
    ctx.say(`  every case ran without NODE_EXTRA_CA_CERTS (${ca.file} here): node -e 0 takes ${ca.with.toFixed(1)} ms with it, ${ca.without.toFixed(1)} ms without (Node ${process.versions.node}, medians of ${sc.runs})`);
  }
}
