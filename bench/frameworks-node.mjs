#!/usr/bin/env node
// Express and Fastify hello worlds on tsgi (native backend, the node interface) against
// the same applications on their usual servers (http.createServer, fastify.listen), in
// the same run: wrk -t1 -c50, the servers on CPU 0 and wrk on CPU 1 (taskset), a 1 s
// warm-up each, then RUNS rounds in which each server gets one run of SECONDS s, in
// turn; the best run of each is kept. Prints the rates and the
// ratios against the targets (Express 1.05, Fastify 1.2) and writes
// bench/results/frameworks-node.json.
//
//   node bench/frameworks-node.mjs                 # about 45 s
//   node bench/frameworks-node.mjs --profile       # also: tsgi+Express under node --cpu-prof,
//                                                  # where the time per request goes
//   node bench/frameworks-node.mjs --profile-only  # the profile alone (BENCH_PROFILE=fastify-tsgi: Fastify's)
// Environment: BENCH_SECONDS (4), BENCH_RUNS (2), BENCH_CONNECTIONS (50).
// Standalone: bench/run.mjs can call run() (exported) or spawn this file.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const TARGETS = { express: 1.05, fastify: 1.2 };
const BOUND = /bound to TCP address 127\.0\.0\.1:(\d+)/;

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const pinned = (cpu, file, args) => (hasTaskset ? ['taskset', ['-c', String(cpu), file, ...args]] : [file, args]);

/** Starts a server (argv after node), pinned to CPU 0; resolves with { port, stop }. */
function startServer(args, nodeArgs = []) {
  const [file, argv] = pinned(0, process.execPath, [...nodeArgs, ...args]);
  const child = spawn(file, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('latin1');
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no port within 15 s from ${args.join(' ')}:\n${stderr}`));
    }, 15000);
    child.stderr.on('data', (s) => {
      stderr += s;
      const m = BOUND.exec(stderr);
      if (m && timer) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), pid: child.pid, stop, stderr: () => stderr });
      }
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${stderr}`)));
  });
}

/** One GET / over a raw socket: the status line and the body, to check the answer. */
function check(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d) => {
      data += d;
      if (data.includes('\r\n\r\n') && data.endsWith('Hello, World!\n')) {
        s.destroy();
        resolve(data.split('\r\n')[0]);
      }
    });
    s.on('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error(`no answer: ${JSON.stringify(data)}`));
    });
    s.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
  });
}

const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The CPU time pid used so far (user + system, all threads), in microseconds. */
function cpuMicros(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / HZ;
  } catch {
    return NaN;
  }
}

/**
 * wrk against port for seconds: requests per second, errors, and the server's CPU time
 * per request (pid's, from /proc): on a machine shared with other work the rate says
 * how much CPU the server got, the CPU per request what each request cost it.
 */
function wrk(port, seconds, pid) {
  const cpu0 = pid === undefined ? NaN : cpuMicros(pid);
  const [file, args] = pinned(1, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', join(ROOT, 'bench', 'wrk', 'report.lua'), `http://127.0.0.1:${port}/`]);
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: (seconds + 20) * 1000 });
  const line = /BENCH_JSON (.*)/.exec(r.stdout ?? '');
  if (!line) throw new Error(`wrk gave no result: ${r.stdout}\n${r.stderr}`);
  const j = JSON.parse(line[1]);
  const errors = Object.values(j.errors).reduce((a, b) => a + b, 0);
  const cpuUsPerRequest = (cpuMicros(pid) - cpu0) / j.requests;
  return { rps: j.requests / (j.duration_us / 1e6), errors, p99us: j.latency_us.p99, cpuUsPerRequest };
}

const SERVERS = {
  'express-node-http': ['bench/peers/frameworks-node.mjs', 'express'],
  'express-tsgi': ['bin/tsgi.js', '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', 'bench/apps/express-hello.mjs'],
  'fastify-listen': ['bench/peers/frameworks-node.mjs', 'fastify'],
  'fastify-tsgi': ['bin/tsgi.js', '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', 'bench/apps/fastify-hello.mjs'],
};

/**
 * Every server started at once (an idle one costs nothing), then RUNS rounds of one run
 * each, in turn: on a machine shared with other work, each pair meets the same weather.
 */
async function measureAll(names) {
  const servers = {};
  const runs = {};
  try {
    for (const name of names) {
      servers[name] = await startServer(SERVERS[name]);
      servers[name].statusLine = await check(servers[name].port);
      wrk(servers[name].port, 1); // warm-up
      runs[name] = [];
    }
    for (let i = 0; i < RUNS; i++) for (const name of names) runs[name].push(wrk(servers[name].port, SECONDS, servers[name].pid));
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
  const results = {};
  for (const name of names) {
    const r = runs[name];
    const best = r.reduce((a, b) => (b.rps > a.rps ? b : a));
    const leastCpu = Math.min(...r.map((x) => x.cpuUsPerRequest));
    console.log(
      `  ${name.padEnd(18)} ${best.rps.toFixed(0).padStart(7)} req/s  ${leastCpu.toFixed(1).padStart(6)} us CPU/req  (runs: ${r.map((x) => `${x.rps.toFixed(0)} req/s ${x.cpuUsPerRequest.toFixed(1)} us`).join(', ')}; errors ${best.errors}; p99 ${(best.p99us / 1000).toFixed(2)} ms; ${servers[name].statusLine})`,
    );
    results[name] = { ...best, leastCpuUsPerRequest: leastCpu, runs: r };
  }
  return results;
}

/** A tsgi server (BENCH_PROFILE: express-tsgi, the default, or fastify-tsgi) under node --cpu-prof during one load; where the time per request goes. */
async function profile(name = process.env.BENCH_PROFILE ?? 'express-tsgi') {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-prof-'));
  const server = await startServer(SERVERS[name], ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100']);
  let requests;
  try {
    await check(server.port);
    requests = wrk(server.port, SECONDS, server.pid);
  } finally {
    await server.stop();
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  const total = requests.rps * SECONDS;
  const usPerSample = (prof.endTime - prof.startTime) / prof.samples.length;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (const id of prof.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const category = (n) => {
    const url = n.callFrame.url;
    if (url.includes('/lib/interfaces/node')) return 'tsgi node interface (lib/interfaces/node*)';
    if (url.includes('/dist/lib/')) return 'tsgi (exchange, environ, input)';
    if (url.includes('node_modules/express') || url.includes('node_modules/router')) return 'express + router';
    if (url.includes('node_modules/')) return 'other packages (send, etag, mime, qs ...)';
    if (url.startsWith('node:_http') || url.includes('internal/http')) return 'node:http (IncomingMessage, ServerResponse)';
    if (url.startsWith('node:internal/streams') || url.startsWith('node:stream') || url.startsWith('node:events')) return 'node streams and events';
    if (url.startsWith('node:')) return 'other node internals';
    if (n.callFrame.functionName === '(garbage collector)') return 'garbage collector';
    if (n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') return `${n.callFrame.functionName} (native server, libuv, idle)`;
    return 'other (native calls, V8 builtins)';
  };
  const cats = new Map();
  const fns = new Map();
  for (const [id, hits] of self) {
    const n = byId.get(id);
    const c = category(n);
    cats.set(c, (cats.get(c) ?? 0) + hits);
    const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? basename(n.callFrame.url) + ':' + (n.callFrame.lineNumber + 1) : ''}`;
    fns.set(f, (fns.get(f) ?? 0) + hits);
  }
  // Inclusive time of the node interface's steps.
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, hits] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at);
      if (!n.callFrame.url.includes('/lib/interfaces/node')) continue;
      const key = `${n.callFrame.functionName || '(anonymous)'} ${basename(n.callFrame.url)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
    }
  }
  const us = (hits) => (hits * usPerSample) / total;
  const table = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, hits]) => ({ name, usPerRequest: Number(us(hits).toFixed(3)) }));
  const out = { server: name, requests: Math.round(total), rps: requests.rps, usPerSample, categories: table(cats, 20), selfTop: table(fns, 25), nodeInterfaceInclusive: table(inclusive, 15) };
  console.log(`\nprofile: ${name}, ${out.requests} requests in ${SECONDS} s (${requests.rps.toFixed(0)} req/s under the profiler), CPU time per request in microseconds:`);
  for (const r of out.categories) console.log(`  ${r.usPerRequest.toFixed(2).padStart(7)}  ${r.name}`);
  console.log('  the node interface, inclusive (what each step costs with what it calls):');
  for (const r of out.nodeInterfaceInclusive) console.log(`  ${r.usPerRequest.toFixed(2).padStart(7)}  ${r.name}`);
  console.log('  hottest functions (self):');
  for (const r of out.selfTop) console.log(`  ${r.usPerRequest.toFixed(2).padStart(7)}  ${r.name}`);
  return out;
}

export async function run({ withProfile = false } = {}) {
  console.log(`frameworks-node: wrk -t1 -c${CONNECTIONS}, ${RUNS} x ${SECONDS} s, best kept; ${hasTaskset ? 'server on CPU 0, wrk on CPU 1' : 'not pinned (no taskset)'}`);
  const results = await measureAll(Object.keys(SERVERS));
  const ratios = {
    express: results['express-tsgi'].rps / results['express-node-http'].rps,
    fastify: results['fastify-tsgi'].rps / results['fastify-listen'].rps,
  };
  // The same ratio from the CPU each request cost (usual / tsgi): what the rates would
  // say if each server had its CPU to itself.
  const cpuRatios = {
    express: results['express-node-http'].leastCpuUsPerRequest / results['express-tsgi'].leastCpuUsPerRequest,
    fastify: results['fastify-listen'].leastCpuUsPerRequest / results['fastify-tsgi'].leastCpuUsPerRequest,
  };
  for (const [fw, r] of Object.entries(ratios)) {
    console.log(
      `  ${fw}: tsgi / usual server = ${r.toFixed(3)} by rate, ${cpuRatios[fw].toFixed(3)} by CPU per request (target ${TARGETS[fw]}: ${r >= TARGETS[fw] ? 'met' : 'NOT met'} by rate)`,
    );
  }
  const out = { date: new Date().toISOString(), node: process.version, seconds: SECONDS, runs: RUNS, connections: CONNECTIONS, pinned: hasTaskset, loadAverage: readFileSync('/proc/loadavg', 'latin1').trim(), results, ratios, cpuRatios, targets: TARGETS };
  if (withProfile) out.profile = await profile();
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'frameworks-node.json'), JSON.stringify(out, null, 2) + '\n');
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--profile-only')) await profile();
  else await run({ withProfile: process.argv.includes('--profile') });
}
