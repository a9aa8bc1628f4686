#!/usr/bin/env node
// npm run bench: tsgi (native, native with logging, js backend) against a plain
// node:http server, loaded by autocannon and wrk; and, when nginx is installed, both
// behind nginx (tsgi over uwsgi, node:http over proxy_pass). See bench/README.md.
//
// Environment:
//   BENCH_SECONDS      seconds of load per tool per server (default 10)
//   BENCH_CONNECTIONS  concurrent keep-alive connections (default 50)
//   BENCH_WARMUP       seconds of warm-up load per server, not measured (default 2)
//   BENCH_ONLY         comma list of servers: tsgi-native,tsgi-native-log,tsgi-js,node-http,
//                      nginx-tsgi,nginx-node-http,nginx-tsgi-http,nginx-uwsgi-floor,nginx-uwsgi
//                      (tsgi-native and node-http also select nginx-tsgi and nginx-node-http;
//                      nginx-tsgi brings nginx-tsgi-http, nginx-uwsgi-floor and nginx-uwsgi)
//   BENCH_TOOLS        comma list of load generators: autocannon,wrk (default both)
//   BENCH_SCENARIOS    comma list: hello, post, stream, frameworks, nginx, peers (default: hello, and
//                      nginx when nginx is installed)
//   BENCH_FRAMEWORKS_RUNS alternating rounds per pair in the frameworks scenario (default 3)
//   BENCH_FRAMEWORKS_PROFILE comma list of frameworks servers to profile (node --cpu-prof) afterwards
//   BENCH_PEERS_SECONDS seconds of wrk load per cell per server in the peers scenario (default 5)
//   BENCH_NGINX_SECONDS seconds of load per tool per server in the nginx scenario (default 8)
//   BENCH_NGINX_UPSTREAM unix (default) or tcp: how nginx reaches node:http
//   BENCH_NGINX        the nginx binary (default: PATH, then /usr/sbin/nginx ...; empty: none)
//   BENCH_PIN          0 to not pin to CPUs with taskset (default: pin when possible)
//   BENCH_RETRIES      how often a run that other processes disturbed is run again (default 1)
//   BENCH_RETRY_BUDGET seconds of load all those reruns may take together (default 40)
//   BENCH_KEEP_LOGS    1 to keep the servers' stderr files (their path is printed)
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { rawRequest } from './lib/http-check.mjs';
import { cpuSince, cpuSnapshot, machineBusy } from './lib/cpu.mjs';
import { errorLogSummary, findNginx, findUwsgiParams, killNginx, nginxVersion, startNginx, stopNginx } from './lib/nginx.mjs';
import { bunBin } from './lib/peers-install.mjs';
import { PEER_SERVERS, peerServersFor, reportPeers, runPeers } from './lib/peers-scenario.mjs';
import { FRAMEWORK_SERVER_NAMES, frameworkServersFor, reportFrameworks, runFrameworks } from './lib/frameworks-scenario.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');
const HOST = '127.0.0.1';
const AUTOCANNON_CEILING = 80000;
// Above this share of the server's CPU taken by others, a run is flagged as disturbed.
const CONTENTION_PCT = 5;

/** The share of the server's (or the load generator's) CPU others had during a run:
 * other processes + hypervisor steal. */
function stolenPct(cpu, side = 'Server') {
  if (!cpu || cpu[`otherOn${side}CpuPct`] === undefined) return undefined;
  return Math.round(10 * (cpu[`otherOn${side}CpuPct`] + (cpu[`stealOn${side}CpuPct`] ?? 0))) / 10;
}

/** How much of our two CPUs others took during a run (the worse side); Infinity for a failed run. */
function disturbance(r) {
  if (!r.ok) return Infinity;
  return Math.max(stolenPct(r.cpu, 'Server') ?? 0, stolenPct(r.cpu, 'Client') ?? 0);
}

// Seconds of load spent on running disturbed runs again, against settings.retryBudget.
let retrySpent = 0;

/** Waits (up to ms) until the machine is below 10% busy, sampling every half second. */
async function waitQuiet(ms) {
  if (ms <= 0) return;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const b = await machineBusy(500);
    if (!b || b.busyPct < 10) return;
  }
}

/** "0/12.3 !" for the table. */
function stolenCell(cpu) {
  const s = stolenPct(cpu);
  if (s === undefined) return '-';
  const c = stolenPct(cpu, 'Client');
  const worst = Math.max(s, c ?? 0);
  return `${s}/${c ?? '-'}${worst > CONTENTION_PCT ? ' !' : ''}`;
}

function describeCpu(c) {
  const parts = [];
  if (c.serverPct !== undefined && c.nginxPct !== undefined) {
    parts.push(`server ${c.serverPct}% of a core (app ${c.appPct}% + nginx ${c.nginxPct}%)`);
  } else if (c.serverPct !== undefined) parts.push(`server ${c.serverPct}% of a core`);
  if (c.otherOnServerCpuPct !== undefined) parts.push(`others on its CPU ${c.otherOnServerCpuPct}%`);
  if (c.irqOnServerCpuPct !== undefined) parts.push(`irq ${c.irqOnServerCpuPct}%`);
  if (c.stealOnServerCpuPct) parts.push(`steal ${c.stealOnServerCpuPct}%`);
  if (c.clientCpuBusyPct !== undefined) parts.push(`load generator's CPU ${c.clientCpuBusyPct}% busy`);
  if (c.otherOnClientCpuPct !== undefined) parts.push(`others there ${c.otherOnClientCpuPct}%`);
  if (c.stealOnClientCpuPct) parts.push(`steal there ${c.stealOnClientCpuPct}%`);
  if (c.busiestOthers?.length) parts.push(`busiest others: ${c.busiestOthers.map((b) => `${b.comm} (pid ${b.pid}) ${b.pct}%`).join(', ')}`);
  return parts.join(', ');
}

// ---------------------------------------------------------------- settings

function intEnv(name, def, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) usage(`${name} must be an integer >= ${min}, not ${JSON.stringify(raw)}`);
  return n;
}

function listEnv(name, def, allowed) {
  const raw = process.env[name];
  const list = (raw === undefined || raw.trim() === '' ? def : raw.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const item of list) {
    if (!allowed.includes(item)) usage(`${name}: unknown ${JSON.stringify(item)} (expected some of ${allowed.join(', ')})`);
  }
  return [...new Set(list)];
}

function usage(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const HELLO_BODY = Buffer.from('Hello, World!\n');
const POST_BYTES = 4096;
const STREAM_BODY = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, 0x61 + i)));

const SCENARIOS = {
  hello: {
    app: 'bench/apps/hello.ts',
    describe: 'GET /, "Hello, World!\\n" (14 bytes, text/plain)',
    method: 'GET',
    bodyBytes: 0,
    expect: { body: HELLO_BODY, contentType: 'text/plain', contentLength: '14' },
  },
  post: {
    app: 'bench/apps/post.ts',
    describe: `POST / with a ${POST_BYTES}-byte body, answered with its length ("${POST_BYTES}\\n")`,
    method: 'POST',
    bodyBytes: POST_BYTES,
    expect: { body: Buffer.from(`${POST_BYTES}\n`), contentType: 'text/plain' },
  },
  stream: {
    app: 'bench/apps/stream.ts',
    describe: 'GET /, 1 MiB streamed as 16 chunks of 64 KiB (chunked coding)',
    method: 'GET',
    bodyBytes: 0,
    expect: { body: STREAM_BODY, contentType: 'application/octet-stream', chunked: true },
  },
  // Hono, Express and Fastify on tsgi against their usual servers: bench/lib/frameworks-scenario.mjs.
  frameworks: {
    frameworks: true,
    describe: 'Hono, Express, Fastify hello worlds: tsgi --backend native --interface auto vs @hono/node-server, http.createServer, fastify.listen',
  },
  // The hello application behind nginx: the load generators talk HTTP/1.1 to nginx, which
  // passes each request on to tsgi (uwsgi) or to node:http (HTTP/1.1, kept-alive upstream).
  nginx: {
    app: 'bench/apps/hello.ts',
    peerScenario: 'hello',
    viaNginx: true,
    describe: 'GET / through nginx (1 worker), "Hello, World!\\n": tsgi over uwsgi vs node:http over proxy_pass',
    method: 'GET',
    bodyBytes: 0,
    expect: { body: HELLO_BODY, contentType: 'text/plain', contentLength: '14' },
  },
  // tsgi against other runtimes' fast servers, cell by cell: bench/lib/peers-scenario.mjs.
  peers: {
    peers: true,
    describe: 'tsgi vs node:http, uWebSockets.js, Bun, nginx: 8 cells (bench/lib/peers-scenario.mjs)',
  },
};

const SERVERS = [
  {
    name: 'tsgi-native',
    describe: 'tsgi --backend native --disable-logging',
    kind: 'tsgi',
    args: ['--disable-logging'],
  },
  {
    name: 'tsgi-native-log',
    describe: 'tsgi --backend native, request logging on (stderr to a file)',
    kind: 'tsgi',
    args: [],
    logging: true,
  },
  {
    name: 'tsgi-js',
    describe: 'tsgi --backend js --disable-logging (node:http underneath)',
    kind: 'tsgi',
    args: ['--backend', 'js', '--disable-logging'],
    // The pure-JS backend is optional: if it does not start, say so and go on.
    optional: true,
  },
  {
    name: 'node-http',
    describe: 'plain node:http (bench/peers/node-http.mjs), res.sendDate = false',
    kind: 'peer',
    args: [],
  },
];

// The nginx scenario's servers: each is nginx (1 worker) in front of an application
// server on a unix socket. "base" is the directly measured server it corresponds to.
const NGINX_SERVERS = [
  {
    name: 'nginx-tsgi',
    base: 'tsgi-native',
    describe: 'nginx -> uwsgi_pass unix socket -> tsgi --socket --chmod-socket --disable-logging',
    kind: 'tsgi',
    nginx: 'uwsgi',
  },
  {
    name: 'nginx-node-http',
    base: 'node-http',
    describe: 'nginx -> proxy_pass (HTTP/1.1, upstream keepalive 64) -> node:http peer',
    kind: 'peer',
    nginx: 'http',
  },
  // tsgi's native HTTP on the unix socket behind the same proxy_pass as node:http: what
  // uwsgi costs (nginx opens a new upstream connection per uwsgi request, and none per
  // proxied one), and the fast way to put tsgi behind nginx (docs/deploy-nginx.md).
  {
    name: 'nginx-tsgi-http',
    companion: 'nginx-tsgi',
    describe: 'nginx -> proxy_pass (HTTP/1.1, upstream keepalive 64) -> tsgi --http unix socket --chmod-socket --disable-logging',
    kind: 'tsgi',
    nginx: 'http',
  },
  // Two more uwsgi upstreams behind the same nginx, run whenever nginx-tsgi runs, to tell
  // what the uwsgi path allows: the floor (a C program that does nothing but read the
  // packet, write a fixed answer and close: no uwsgi server can do less) and uWSGI itself
  // (when installed with its python3 plugin). Both are optional: skipped with a note.
  {
    name: 'nginx-uwsgi-floor',
    companion: 'nginx-tsgi',
    describe: 'nginx -> uwsgi_pass unix socket -> bench/peers/uwsgi-floor.c (C, epoll; reads the packet, writes a fixed answer, closes): the least a uwsgi server can do',
    kind: 'floor',
    nginx: 'uwsgi',
    optional: true,
  },
  {
    name: 'nginx-uwsgi',
    companion: 'nginx-tsgi',
    describe: 'nginx -> uwsgi_pass unix socket -> uWSGI (one process, python3 plugin, bench/peers/hello.py, --disable-logging)',
    kind: 'uwsgi',
    nginx: 'uwsgi',
    optional: true,
  },
];

const nginxBin = findNginx();
const nginxVer = nginxBin ? nginxVersion(nginxBin) : undefined;
const settings = {
  seconds: intEnv('BENCH_SECONDS', 10),
  nginxSeconds: intEnv('BENCH_NGINX_SECONDS', 8),
  nginxUpstream: listEnv('BENCH_NGINX_UPSTREAM', ['unix'], ['unix', 'tcp'])[0],
  connections: intEnv('BENCH_CONNECTIONS', 50),
  warmupSeconds: intEnv('BENCH_WARMUP', 2, 0),
  servers: listEnv('BENCH_ONLY', SERVERS.map((s) => s.name), [...new Set([...[...SERVERS, ...NGINX_SERVERS, ...PEER_SERVERS].map((s) => s.name), ...FRAMEWORK_SERVER_NAMES])]),
  frameworksRuns: intEnv('BENCH_FRAMEWORKS_RUNS', 3),
  frameworksProfile: (process.env.BENCH_FRAMEWORKS_PROFILE ?? '').split(',').filter(Boolean),
  peersSeconds: intEnv('BENCH_PEERS_SECONDS', 5),
  tools: listEnv('BENCH_TOOLS', ['autocannon', 'wrk'], ['autocannon', 'wrk']),
  scenarios: listEnv('BENCH_SCENARIOS', nginxBin ? ['hello', 'nginx'] : ['hello'], Object.keys(SCENARIOS)),
  pin: process.env.BENCH_PIN !== '0',
  retries: intEnv('BENCH_RETRIES', 1, 0),
  retryBudget: intEnv('BENCH_RETRY_BUDGET', 40, 0),
  keepLogs: process.env.BENCH_KEEP_LOGS === '1',
};

/** Seconds of load per tool per server in a scenario. */
const secondsFor = (scenarioName) =>
  SCENARIOS[scenarioName]?.viaNginx ? settings.nginxSeconds : SCENARIOS[scenarioName]?.peers ? settings.peersSeconds : settings.seconds;

/** The servers a scenario measures, as BENCH_ONLY selects them. */
function serversFor(scenario) {
  if (scenario.peers) return peerServersFor(settings.servers);
  if (scenario.frameworks) return frameworkServersFor(settings.servers).flatMap((p) => p.servers);
  if (scenario.viaNginx) {
    const picked = (s) => settings.servers.includes(s.name) || (s.base !== undefined && settings.servers.includes(s.base));
    return NGINX_SERVERS.filter((s) => picked(s) || (s.companion !== undefined && picked(NGINX_SERVERS.find((n) => n.name === s.companion))));
  }
  return SERVERS.filter((s) => settings.servers.includes(s.name));
}

// ---------------------------------------------------------------- helpers

const say = (line = '') => process.stdout.write(line + '\n');
const notes = [];
const failures = [];
const note = (line) => {
  notes.push(line);
  say(`note: ${line}`);
};
const fail = (line) => {
  failures.push(line);
  say('');
  say(`!!! FAILED: ${line}`);
  say('');
};

function fmtInt(n) {
  return n === undefined || n === null || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US');
}
function fmtMs(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '-';
  return ms < 10 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(1);
}
function fmtRatio(r) {
  return r === undefined || !Number.isFinite(r) ? '-' : r.toFixed(2);
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  say('  ' + line(header));
  say('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) say('  ' + line(r));
}

/** Which command is on PATH, or undefined. */
function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The CPUs this process may run on, from taskset -p (e.g. "0,1" or "0-3"). */
function allowedCpus() {
  const r = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  const list = /:\s*([0-9,\-\s]+)$/.exec(r.stdout.trim())?.[1] ?? '';
  const cpus = [];
  for (const part of list.split(',')) {
    const [a, b] = part.trim().split('-').map(Number);
    if (Number.isNaN(a)) continue;
    for (let c = a; c <= (Number.isNaN(b) || b === undefined ? a : b); c++) cpus.push(c);
  }
  return cpus;
}

const KIND_LABEL = { tsgi: 'tsgi', peer: 'node-http', hono: '@hono/node-server', 'node-framework': 'frameworks-node', floor: 'uwsgi-floor', uwsgi: 'uWSGI', uws: 'uWebSockets.js', bun: 'Bun' };

/** uWSGI's binary, or undefined. */
function uwsgiBin() {
  return which('uwsgi') ?? which('uwsgi-core');
}

/** Compiles bench/peers/uwsgi-floor.c into dir (once); returns the binary's path. */
function uwsgiFloor(dir) {
  const bin = path.join(dir, 'uwsgi-floor');
  if (existsSync(bin)) return bin;
  const cc = which('cc') ?? which('gcc');
  if (!cc) throw new Error('no C compiler (cc) to build bench/peers/uwsgi-floor.c');
  const r = spawnSync(cc, ['-std=c11', '-O2', '-Wall', '-o', bin, path.join(BENCH_DIR, 'peers', 'uwsgi-floor.c')], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`cc failed building bench/peers/uwsgi-floor.c:\n${r.stderr}`);
  return bin;
}

function pinned(cpu, file, args) {
  return cpu === undefined ? [file, args] : ['taskset', ['-c', String(cpu), file, ...args]];
}

/** Runs a command to its end; resolves { code, signal, stdout, stderr }. */
function runToEnd(file, args, { env, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    current.loaders.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(bench: killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current.loaders.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// The servers' stderr files (the logging one's grows by hundreds of MiB): removed at the
// end, also when the bench fails or is interrupted, unless BENCH_KEEP_LOGS=1.
let tmpDir;
// The nginx scenario's per-server directories (config, sockets, nginx's logs and temp
// paths): each is removed when its server stops, and here if the bench is interrupted.
const nginxDirs = new Set();
function removeTmp() {
  if (tmpDir && !settings.keepLogs) rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = undefined;
  for (const d of nginxDirs) rmSync(d, { recursive: true, force: true });
  nginxDirs.clear();
}

// Children to clean up if the bench itself is interrupted.
const current = { servers: new Set(), loaders: new Set() };
function killChildren() {
  for (const c of current.loaders) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  for (const s of current.servers) {
    if (s.nginx) killNginx(s.nginx);
    if (s.appExited) continue;
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    say(`\nbench: ${signal}: stopping`);
    killChildren();
    removeTmp();
    process.exit(130);
  });
}
process.on('exit', killChildren);

// ---------------------------------------------------------------- servers

/**
 * Starts one server on 127.0.0.1:0; resolves its handle once it printed its port. In the
 * nginx scenario the server listens on a unix socket (or a TCP port) in a directory of
 * its own, and nginx is started in front of it: the handle's port is then nginx's.
 */
async function startServer(server, scenarioName, scenario, cpu, tmp) {
  const logPath = path.join(tmp, `${scenarioName}-${server.name}.stderr.log`);
  let nginxDir;
  let sock;
  if (scenario.viaNginx) {
    nginxDir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-nginx-'));
    nginxDirs.add(nginxDir);
    // nginx's worker runs as nobody when nginx starts as root: it must be able to reach
    // the socket, and a 0700 directory would stop it whatever the socket's mode.
    chmodSync(nginxDir, 0o755);
    sock = path.join(nginxDir, 'app.sock');
  }
  const appScenario = scenario.peerScenario ?? scenarioName;
  let args;
  let file = process.execPath;
  if (server.kind === 'floor') {
    file = uwsgiFloor(tmp);
    args = [sock];
  } else if (server.kind === 'uwsgi') {
    file = uwsgiBin();
    if (!file) throw new Error('uWSGI is not installed (apt-get install uwsgi-core uwsgi-plugin-python3)');
    args = ['--plugin', 'python3', '--socket', sock, '--chmod-socket=666', '--wsgi-file', 'bench/peers/hello.py', '--disable-logging', '--die-on-term'];
  } else if (server.kind === 'uws') {
    args = ['bench/peers/uws.mjs', '--http', `${HOST}:0`];
  } else if (server.kind === 'bun') {
    file = bunBin();
    args = ['bench/peers/bun.mjs', '--http', `${HOST}:0`];
  } else if (server.kind === 'hono') {
    args = ['bench/peers/hono-node-server.mjs', '--http', `${HOST}:0`, scenario.app];
  } else if (server.kind === 'node-framework') {
    args = ['bench/peers/frameworks-node.mjs', '--http', `${HOST}:0`, scenario.app];
  } else if (!scenario.viaNginx) {
    args =
      server.kind === 'tsgi'
        ? ['bin/tsgi.js', '--http', `${HOST}:0`, '--wsgi-file', scenario.app, ...server.args]
        : ['bench/peers/node-http.mjs', '--http', `${HOST}:0`, '--scenario', appScenario];
  } else if (server.kind === 'tsgi') {
    const listen = server.nginx === 'uwsgi' ? ['--socket', sock] : settings.nginxUpstream === 'unix' ? ['--http', sock] : ['--http', `${HOST}:0`];
    args = ['bin/tsgi.js', ...listen, '--chmod-socket', '--disable-logging', '--wsgi-file', scenario.app];
  } else {
    args = ['bench/peers/node-http.mjs', '--http', settings.nginxUpstream === 'unix' ? sock : `${HOST}:0`, '--scenario', appScenario];
  }
  const fd = openSync(logPath, 'w');
  // nodeArgs: node's own options before the script (the frameworks profile's --cpu-prof).
  if (file === process.execPath && server.nodeArgs) args = [...server.nodeArgs, ...args];
  const [exe, argv] = pinned(cpu, file, args);
  const command = [exe, ...argv].join(' ');
  // stdout and stderr both go to the file: no pipe for the bench to drain while loading.
  const child = spawn(exe, argv, { cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_ENV: 'production' } });
  closeSync(fd);
  const handle = { name: server.name, pid: child.pid, child, logPath, command, appExited: undefined, port: undefined, nginx: undefined, nginxDir };
  // Exited: the application server, or nginx in front of it.
  Object.defineProperty(handle, 'exited', { get: () => handle.appExited ?? handle.nginx?.exited });
  handle.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      handle.appExited = { code, signal };
      resolve(handle.appExited);
    });
    child.on('error', (err) => {
      handle.appExited = { code: null, signal: null, error: String(err) };
      resolve(handle.appExited);
    });
  });
  current.servers.add(handle);
  const started = Date.now();
  // tsgi's line (and the floor's): "socket 0 bound to UNIX address PATH (uwsgi ..."; uWSGI's:
  // "uwsgi socket 0 bound to UNIX address PATH fd 3", ready once it spawned its worker.
  const ready = /socket 0 bound to (?:TCP address (?:\[[^\]]+\]|[^\s:]+):(\d+)|UNIX address (\S+))(?: \((?:http|uwsgi)| fd \d)/;
  for (;;) {
    const text = readFileSync(logPath, 'utf8');
    const m = ready.exec(text);
    if (m && (server.kind !== 'uwsgi' || /spawned uWSGI worker/.test(text))) {
      handle.port = m[1] !== undefined ? Number(m[1]) : undefined;
      handle.appAddress = m[2] ?? `${HOST}:${m[1]}`;
      handle.startMillis = Date.now() - started;
      break;
    }
    if (handle.appExited) {
      throw new Error(`exited (${describeExit(handle.appExited)}) before it was ready:\n${tail(logPath)}`);
    }
    if (Date.now() - started > 30000) {
      await stopServer(handle);
      throw new Error(`not ready after 30 s:\n${tail(logPath)}`);
    }
    await sleep(50);
  }
  handle.cpuPids = [handle.pid];
  if (!scenario.viaNginx) return handle;

  if (isSocketPath(handle.appAddress)) {
    try {
      handle.socketMode = (statSync(handle.appAddress).mode & 0o777).toString(8).padStart(4, '0');
    } catch {
      // not a file (abstract socket)
    }
  }
  const upstream =
    server.nginx === 'uwsgi'
      ? { kind: 'uwsgi', socket: sock }
      : { kind: 'http', server: handle.port === undefined ? `unix:${handle.appAddress}` : `${HOST}:${handle.port}` };
  try {
    await startNginx({ bin: nginxBin, dir: nginxDir, upstream, cpu, onSpawn: (n) => (handle.nginx = n) });
  } catch (err) {
    await stopServer(handle);
    throw new Error(err.message);
  }
  handle.appPort = handle.port;
  handle.port = handle.nginx.port;
  handle.command = `${handle.nginx.command}  in front of  ${command}`;
  handle.cpuPids = [handle.pid, handle.nginx.pid, ...handle.nginx.workers];
  handle.startMillis = Date.now() - started;
  return handle;
}

/** A unix socket path (not host:port)? */
function isSocketPath(address) {
  return typeof address === 'string' && address.startsWith('/');
}

function describeExit(e) {
  if (!e) return 'running';
  const who = e.who ? `${e.who}: ` : '';
  if (e.error) return who + e.error;
  return who + (e.signal ? `signal ${e.signal}` : `exit code ${e.code}`);
}

function tail(file, lines = 15) {
  try {
    // Only the end of the file: the logging server's can be hundreds of MiB.
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    closeSync(fd);
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no output)';
  }
}

/**
 * SIGTERM by pid, SIGKILL after 5 s; waits until the child is reaped. In front of it,
 * nginx is stopped first (SIGQUIT, SIGKILL after 5 s), its error log read and its
 * directory removed.
 */
async function stopServer(handle) {
  let front;
  if (handle.nginx) front = await stopNginx(handle.nginx);
  const app = await stopApp(handle);
  if (handle.nginxDir) {
    handle.nginxLog = errorLogSummary(handle.nginxDir);
    if (settings.keepLogs && tmpDir) {
      for (const f of ['error.log', 'nginx.conf']) {
        try {
          copyFileSync(path.join(handle.nginxDir, f), path.join(tmpDir, `nginx-${handle.name}.${f}`));
        } catch {
          // not written
        }
      }
    }
    rmSync(handle.nginxDir, { recursive: true, force: true });
    nginxDirs.delete(handle.nginxDir);
  }
  current.servers.delete(handle);
  if (!front) return app;
  return {
    how: `nginx ${front.how}${front.exit ? ` -> ${describeExit(front.exit)}` : ''}${front.millis !== undefined ? ` in ${front.millis} ms` : ''}; app ${app.how}`,
    exit: app.exit,
    millis: app.millis,
    nginx: front,
  };
}

async function stopApp(handle) {
  if (handle.appExited) return { how: 'already exited', exit: handle.appExited };
  const t0 = Date.now();
  try {
    process.kill(handle.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  let how = 'SIGTERM';
  const graceful = await Promise.race([handle.exitPromise, sleep(5000).then(() => undefined)]);
  if (!graceful) {
    how = 'SIGKILL (SIGTERM ignored for 5 s)';
    try {
      process.kill(handle.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await Promise.race([handle.exitPromise, sleep(5000)]);
  }
  return { how, exit: handle.appExited, millis: Date.now() - t0 };
}

/** The raw request a scenario makes. */
function requestFor(scenario, port) {
  return {
    host: HOST,
    port,
    method: scenario.method,
    path: '/',
    headers: scenario.bodyBytes ? { 'Content-Type': 'application/octet-stream' } : {},
    body: scenario.bodyBytes ? 'x'.repeat(scenario.bodyBytes) : undefined,
  };
}

/** Checks one answer; returns a list of problems (empty when it is right). */
function checkResponse(scenario, res) {
  const problems = [];
  const get = (n) => res.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (res.status !== 200) problems.push(`status ${res.status} ${res.reason} (expected 200)`);
  if (!res.body.equals(scenario.expect.body)) {
    const shown = res.body.length > 80 ? `${res.body.length} bytes starting ${JSON.stringify(res.body.subarray(0, 40).toString('latin1'))}` : JSON.stringify(res.body.toString('latin1'));
    problems.push(`body ${shown} (expected ${scenario.expect.body.length} bytes${scenario.expect.body.length <= 80 ? ` ${JSON.stringify(scenario.expect.body.toString())}` : ''})`);
  }
  const ct = get('content-type') ?? '';
  if (ct.split(';')[0].trim().toLowerCase() !== scenario.expect.contentType) problems.push(`Content-Type ${JSON.stringify(ct)} (expected ${scenario.expect.contentType})`);
  if (scenario.expect.contentLength !== undefined && get('content-length') !== scenario.expect.contentLength) {
    problems.push(`Content-Length ${JSON.stringify(get('content-length'))} (expected ${scenario.expect.contentLength})`);
  }
  return problems;
}

/** Waits until the server answers, then checks the answer. */
async function verify(handle, scenario, { retryMs }) {
  const deadline = Date.now() + retryMs;
  let lastErr;
  for (;;) {
    try {
      const res = await rawRequest({ ...requestFor(scenario, handle.port), timeoutMs: 10000 });
      const problems = checkResponse(scenario, res);
      return {
        ok: problems.length === 0,
        problems,
        statusLine: res.statusLine,
        headers: res.headers,
        headBytes: res.headBytes,
        bodyBytes: res.body.length,
        chunked: res.chunked,
        chunks: res.chunks,
      };
    } catch (err) {
      lastErr = err;
      if (handle.exited || Date.now() > deadline) {
        return { ok: false, problems: [`no answer: ${err.message}${handle.exited ? ` (server ${describeExit(handle.exited)})` : ''}`] };
      }
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------- load generators

async function runAutocannon(url, scenario, seconds, cpu) {
  const opts = { url, connections: settings.connections, duration: seconds, method: scenario.method, bodyBytes: scenario.bodyBytes };
  const [file, args] = pinned(cpu, process.execPath, ['bench/lib/autocannon-worker.mjs', JSON.stringify(opts)]);
  const r = await runToEnd(file, args, { timeoutMs: (seconds + 60) * 1000 });
  let out;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { ok: false, error: `autocannon gave no result (${describeExit(r)}): ${r.stderr.trim().slice(-500)}` };
  }
  const reqs = out.requests ?? {};
  return {
    ok: true,
    rps: reqs.average,
    rpsStdevPct: reqs.average ? (100 * (reqs.stddev ?? 0)) / reqs.average : undefined,
    rpsMin: reqs.min,
    rpsMax: reqs.max,
    requests: out['2xx'] + out.non2xx,
    durationS: out.duration,
    latencyMs: {
      p50: out.latency.p50,
      p90: out.latency.p90,
      p99: out.latency.p99,
      p99_9: out.latency.p99_9,
      mean: out.latency.mean,
      max: out.latency.max,
    },
    errors: out.errors,
    timeouts: out.timeouts,
    non2xx: out.non2xx,
    resets: out.resets,
    mismatches: out.mismatches,
    statusCodes: out.statusCodeStats,
    bytesPerSec: out.throughput?.average,
    stderr: r.stderr.trim() || undefined,
  };
}

/** wrk -t1; opts (the peers scenario): connections, script (default report.lua), env. */
async function runWrk(url, scenario, seconds, cpu, opts = {}) {
  const args = ['-t1', `-c${opts.connections ?? settings.connections}`, `-d${seconds}s`, '-s', opts.script ?? 'bench/wrk/report.lua', url];
  const [file, argv] = pinned(cpu, wrkPath, args);
  const env = { BENCH_WRK_BODY_BYTES: String(scenario.bodyBytes || 0), ...opts.env };
  const r = await runToEnd(file, argv, { env, timeoutMs: (seconds + 60) * 1000 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) return { ok: false, error: `wrk gave no result (${describeExit(r)}): ${(r.stderr + r.stdout).trim().slice(-500)}` };
  const w = JSON.parse(line.slice('BENCH_JSON '.length));
  const durationS = w.duration_us / 1e6;
  const e = w.errors;
  const ms = (us) => us / 1000;
  return {
    ok: true,
    rps: w.requests / durationS,
    rpsStdevPct: w.rate.mean ? (100 * w.rate.stdev) / w.rate.mean : undefined,
    rpsMin: w.rate.min,
    rpsMax: w.rate.max,
    requests: w.requests,
    durationS,
    latencyMs: {
      p50: ms(w.latency_us.p50),
      p90: ms(w.latency_us.p90),
      p99: ms(w.latency_us.p99),
      p99_9: ms(w.latency_us.p99_9),
      mean: ms(w.latency_us.mean),
      max: ms(w.latency_us.max),
    },
    // wrk's socket errors; its "status" errors are responses with a status >= 400.
    errors: e.connect + e.read + e.write + e.timeout,
    errorDetail: e,
    timeouts: e.timeout,
    non2xx: e.status,
    bytesPerSec: w.bytes / durationS,
    stderr: r.stderr.trim() || undefined,
  };
}

const TOOLS = {
  autocannon: runAutocannon,
  wrk: runWrk,
};

// ---------------------------------------------------------------- one server

/** Counts the lines of a (possibly large) file. */
function countLines(file) {
  return new Promise((resolve, reject) => {
    let n = 0;
    let lastNl = true;
    createReadStream(file)
      .on('data', (d) => {
        for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) n++;
        lastNl = d[d.length - 1] === 10;
      })
      .on('end', () => resolve(n + (lastNl ? 0 : 1)))
      .on('error', reject);
  });
}

async function benchServer(server, scenarioName, scenario, cpus, tmp) {
  const result = { name: server.name, describe: server.describe, ok: false, tools: {}, loadRuns: 0 };
  say('');
  say(`--- ${scenarioName} / ${server.name}: ${server.describe}`);
  let handle;
  try {
    handle = await startServer(server, scenarioName, scenario, cpus?.server, tmp);
  } catch (err) {
    result.error = `did not start: ${err.message}`;
    if (server.optional) {
      result.skipped = true;
      note(`${scenarioName}/${server.name} did not start, skipped (${err.message.split('\n')[0]}):\n${err.message.split('\n').slice(1).join('\n')}`);
    } else {
      fail(`${scenarioName}/${server.name} ${result.error}`);
    }
    return result;
  }
  result.command = handle.command;
  result.pid = handle.pid;
  result.startMillis = handle.startMillis;
  const seconds = secondsFor(scenarioName);
  if (handle.nginx) {
    const n = handle.nginx;
    result.nginx = { version: nginxVer, pid: n.pid, workers: n.workers, port: n.port, upstream: handle.appAddress, socketMode: handle.socketMode, conf: n.conf };
    say(`    started ${KIND_LABEL[server.kind]} pid ${handle.pid} on ${handle.appAddress}${handle.socketMode ? ` (mode ${handle.socketMode})` : ''}: ${handle.command.split('  in front of  ')[1]}`);
    say(`    started nginx ${nginxVer ?? ''} pid ${n.pid} (worker${n.workers.length === 1 ? '' : 's'} ${n.workers.join(', ') || '?'}) on ${HOST}:${n.port}: ${n.command}`);
    say(`    both up in ${handle.startMillis} ms; ${server.nginx === 'uwsgi' ? `uwsgi_pass unix:${handle.appAddress} (a new upstream connection per request)` : `proxy_pass http://app, upstream { server ${handle.appPort === undefined ? `unix:${handle.appAddress}` : `${HOST}:${handle.appPort}`}; keepalive 64; }`}`);
  } else {
    say(`    started pid ${handle.pid} on ${HOST}:${handle.port} in ${handle.startMillis} ms: ${handle.command}`);
  }
  const url = `http://${HOST}:${handle.port}/`;
  let served = 0; // requests this server answered, to compare with its log

  try {
    const v = await verify(handle, scenario, { retryMs: 10000 });
    served++;
    result.verify = v;
    if (!v.ok) {
      fail(`${scenarioName}/${server.name} answered wrongly before the load:\n    ${v.problems.join('\n    ')}\n${tail(handle.logPath)}${nginxTail(handle)}`);
      result.error = `wrong answer: ${v.problems.join('; ')}`;
      return result;
    }
    const hdrs = v.headers.map(([k, val]) => `${k}: ${val}`).join(' | ');
    say(`    check: ${v.statusLine}, ${v.bodyBytes}-byte body as expected${v.chunked ? ` (chunked, ${v.chunks} chunks)` : ''}; head ${v.headBytes} bytes: ${hdrs}`);

    const warmTool = activeTools.includes('wrk') ? 'wrk' : activeTools[0];
    if (settings.warmupSeconds > 0 && warmTool) {
      const w = await TOOLS[warmTool](url, scenario, settings.warmupSeconds, cpus?.client);
      served += w.requests ?? 0;
      result.loadRuns++;
      result.warmup = { tool: warmTool, seconds: settings.warmupSeconds, rps: w.rps, errors: w.errors, non2xx: w.non2xx };
      say(`    warm-up: ${settings.warmupSeconds} s of ${warmTool}, ${fmtInt(w.rps)} req/s`);
      if (handle.exited) throw new Error(`crashed during the warm-up (${describeExit(handle.exited)})`);
    }

    for (const tool of activeTools) {
      const attempts = [];
      let kept;
      for (let attempt = 1; ; attempt++) {
        await sleep(300);
        const snap = cpuSnapshot(handle.cpuPids);
        const r = await TOOLS[tool](url, scenario, seconds, cpus?.client);
        r.cpu = cpuSince(snap, handle.cpuPids, cpus?.server, cpus?.client);
        if (r.cpu?.perPidPct) {
          // Behind nginx: the server's CPU is the application's plus nginx's (master + worker).
          r.cpu.appPct = r.cpu.perPidPct[handle.pid];
          r.cpu.nginxPct = Math.round(10 * handle.cpuPids.slice(1).reduce((a, pid) => a + (r.cpu.perPidPct[pid] ?? 0), 0)) / 10;
        }
        attempts.push(r);
        result.loadRuns++;
        if (!r.ok) {
          note(`${scenarioName}/${server.name}: ${r.error}`);
        } else {
          served += r.requests;
          say(
            `    ${tool.padEnd(10)} ${fmtInt(r.rps).padStart(8)} req/s  p50 ${fmtMs(r.latencyMs.p50)} ms  p99 ${fmtMs(r.latencyMs.p99)} ms` +
              `  errors ${r.errors}  non-2xx ${r.non2xx}  (per-interval rate ±${r.rpsStdevPct?.toFixed(1)}%)`,
          );
          if (r.cpu) say(`               cpu: ${describeCpu(r.cpu)}`);
        }
        if (handle.exited) throw new Error(`crashed during the ${tool} load (${describeExit(handle.exited)})`);
        const after = await verify(handle, scenario, { retryMs: 0 });
        served++;
        if (!after.ok) throw new Error(`answered wrongly after the ${tool} load: ${after.problems.join('; ')}`);
        if (!kept || disturbance(r) < disturbance(kept)) kept = r;
        // A run others disturbed is run again (once by default, within a time budget);
        // the least disturbed one is kept.
        const d = disturbance(r);
        if (!r.ok || d <= CONTENTION_PCT || attempt > settings.retries || retrySpent + seconds + 1 > settings.retryBudget) break;
        say(`    ${tool}: others took ${d}% of a CPU of ours during that run: waiting for a quieter moment and running it again`);
        const waitStart = Date.now();
        await waitQuiet(Math.min(5000, (settings.retryBudget - retrySpent - seconds - 1) * 1000));
        retrySpent += seconds + 1 + (Date.now() - waitStart) / 1000;
      }
      kept.attempts = attempts.length;
      if (attempts.length > 1) {
        kept.otherAttempts = attempts.filter((a) => a !== kept).map((a) => ({ rps: a.rps, latencyMs: a.latencyMs, cpu: a.cpu }));
      }
      result.tools[tool] = kept;
      const r = kept;
      if (r.ok) {
        if (attempts.length > 1) say(`    ${tool}: kept the run at ${fmtInt(r.rps)} req/s (the least disturbed of ${attempts.length})`);
        for (const [side, what] of [['Server', "the server's CPU"], ['Client', "the load generator's CPU"]]) {
          const stolen = stolenPct(r.cpu, side);
          if (stolen !== undefined && stolen > CONTENTION_PCT) {
            note(`${scenarioName}/${server.name} ${tool}: other processes (or the hypervisor) took ${stolen}% of ${what} during the run: this figure is disturbed`);
          }
        }
        if (r.errors || r.non2xx) {
          note(`${scenarioName}/${server.name} ${tool}: ${r.errors} errors, ${r.non2xx} non-2xx` + (r.errorDetail ? ` (${JSON.stringify(r.errorDetail)})` : ''));
        }
        if (r.rpsStdevPct > 15) note(`${scenarioName}/${server.name} ${tool}: unstable rate, per-interval stdev ${r.rpsStdevPct.toFixed(1)}% of the mean`);
      }
    }
    result.ok = true;
  } catch (err) {
    result.error = err.message;
    fail(`${scenarioName}/${server.name} ${err.message}\n${tail(handle.logPath)}${nginxTail(handle)}`);
  } finally {
    const stop = await stopServer(handle);
    result.stop = { how: stop.how, exit: describeExit(stop.exit), millis: stop.millis };
    say(`    stopped: ${stop.how} -> ${describeExit(stop.exit)}${stop.millis !== undefined ? ` in ${stop.millis} ms` : ''}`);
    if (stop.how.includes('app SIGKILL') || stop.how.startsWith('SIGKILL')) note(`${scenarioName}/${server.name} ignored SIGTERM for 5 s and was killed`);
    if (stop.nginx?.how.startsWith('SIGKILL')) note(`${scenarioName}/${server.name}: nginx ignored SIGQUIT for 5 s and was killed`);
    await logReport(server, scenarioName, handle, served, result);
  }
  return result;
}

/** The end of nginx's error log, for a failure's message ('' without nginx). */
function nginxTail(handle) {
  if (!handle.nginxDir) return '';
  const log = path.join(handle.nginxDir, 'error.log');
  return existsSync(log) && statSync(log).size > 0 ? `\n    nginx's error log:\n${tail(log)}` : '';
}

/** The first bytes of a (possibly huge) file, as text. */
function readHead(file, bytes) {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** What the server wrote on stderr: request lines for the logging one, anything odd for all. */
async function logReport(server, scenarioName, handle, served, result) {
  const size = statSync(handle.logPath).size;
  const info = { bytes: size };
  if (server.logging) {
    const lines = await countLines(handle.logPath);
    // A few startup lines and one "stopping"/"goodbye" pair are not request lines.
    info.lines = lines;
    info.requestsServed = served;
    say(`    log: ${fmtInt(lines)} lines, ${(size / 1048576).toFixed(1)} MiB for ${fmtInt(served)} requests answered`);
    const head = readHead(handle.logPath, 4096);
    info.sampleLine = head.split('\n').find((l) => l.startsWith('[pid:'));
    // Load generators stop counting with up to one request per connection in flight,
    // which the server still answers (and logs); the startup and shutdown lines add a few.
    if (lines < served || lines > served + 10 + settings.connections * result.loadRuns) {
      note(`${scenarioName}/${server.name}: ${lines} log lines for ${served} requests answered`);
    }
  } else if (server.kind !== 'uwsgi') {
    // (uWSGI's banner is its own business.)
    const text = readHead(handle.logPath, 1 << 20);
    const routine = /^(\*\*\* |tsgi: (application|socket|SIG|goodbye)|node-http: socket|hono-node-server: socket|frameworks-node: socket|uwsgi-floor: socket)/;
    const odd = text.split('\n').filter((l) => l && !routine.test(l));
    if (odd.length > 0) {
      info.unexpected = odd.slice(0, 20);
      note(`${scenarioName}/${server.name} wrote ${odd.length} unexpected stderr lines, first: ${odd[0].slice(0, 200)}`);
    }
  }
  result.stderr = info;
  if (handle.nginxLog) {
    // nginx logs at "warn" and above: a quiet run leaves the error log empty.
    const n = handle.nginxLog;
    result.nginxErrorLog = n;
    const levels = Object.entries(n.byLevel).map(([k, v]) => `${v} [${k}]`).join(', ');
    say(`    nginx error log: ${n.lines ? `${n.lines} lines (${levels})` : 'empty'}${n.stdout ? `; its stdout/stderr: ${n.stdout.split('\n')[0].slice(0, 200)}` : ''}`);
    if (n.lines) {
      for (const l of n.first.slice(0, 3)) say(`      | ${l.slice(0, 300)}`);
      note(`${scenarioName}/${server.name}: nginx's error log has ${n.lines} lines (${levels}), first: ${n.first[0].slice(0, 300)}`);
    }
  }
}

// ---------------------------------------------------------------- main

const wrkPath = settings.tools.includes('wrk') ? which('wrk') : undefined;
// The tools that will run: wrk only when installed.
const activeTools = settings.tools.filter((t) => t !== 'wrk' || wrkPath);

function gitInfo() {
  const run = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = run('rev-parse', '--short', 'HEAD');
  const dirty = run('status', '--porcelain', '--', 'lib', 'native', 'bin', 'binding.gyp');
  return { commit: head.status === 0 ? head.stdout.trim() : undefined, dirtySources: dirty.status === 0 ? dirty.stdout.trim().split('\n').filter(Boolean).length : undefined };
}

function newestMtime(dir, exts) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  // native/ has folders (protocol/, server/, process/): every file below dir counts.
  for (const f of readdirSync(dir, { recursive: true })) {
    if (exts.some((e) => f.endsWith(e))) newest = Math.max(newest, statSync(path.join(dir, f)).mtimeMs);
  }
  return newest;
}

function checkBuild() {
  const addon = path.join(ROOT, 'build/Release/tsgi.node');
  const cli = path.join(ROOT, 'dist/lib/cli.js');
  if (!existsSync(addon) || !existsSync(cli)) {
    usage('tsgi is not built (no build/Release/tsgi.node or dist/lib/cli.js): run npm run build first');
  }
  const build = {
    addonBuiltAt: new Date(statSync(addon).mtimeMs).toISOString(),
    distBuiltAt: new Date(statSync(cli).mtimeMs).toISOString(),
    nativeSourcesNewer: newestMtime(path.join(ROOT, 'native'), ['.cc', '.h']) > statSync(addon).mtimeMs,
    libSourcesNewer: newestMtime(path.join(ROOT, 'lib'), ['.ts']) > statSync(cli).mtimeMs,
  };
  if (build.nativeSourcesNewer) {
    note('native/ has sources newer than build/Release/tsgi.node: the bench measures the last build (npm run build)');
  }
  if (build.libSourcesNewer) {
    note('lib/ has sources newer than dist/: the bench measures the last build (npm run build)');
  }
  return build;
}

/** CPU microseconds per request: "app+nginx" behind nginx, the server's alone otherwise. */
function usPerRequest(r) {
  if (!r.cpu || !(r.rps > 0)) return '-';
  const us = (pct) => (pct * 1e4) / r.rps; // pct of one core over the run / requests per second
  if (r.cpu.nginxPct !== undefined && r.cpu.appPct !== undefined) return `${us(r.cpu.appPct).toFixed(1)}+${us(r.cpu.nginxPct).toFixed(1)}`;
  return r.cpu.serverPct !== undefined ? us(r.cpu.serverPct).toFixed(1) : '-';
}

/**
 * What the uwsgi path allows, from CPU time: with nginx and the application server on one
 * core, a request costs nginx's time + the server's. Were tsgi's free, nginx-tsgi could do at
 * most (nginx + node:http per proxied request) / (nginx per uwsgi request) of nginx-node-http.
 */
function uwsgiCeiling(servers, tool) {
  const r = (name) => (servers[name]?.ok && servers[name].tools[tool]?.ok ? servers[name].tools[tool] : undefined);
  const t = r('nginx-tsgi');
  const n = r('nginx-node-http');
  if (t?.cpu?.nginxPct === undefined || n?.cpu?.nginxPct === undefined || n.cpu.appPct === undefined) return undefined;
  const nginxUs = (t.cpu.nginxPct * 1e4) / t.rps;
  const nodePathUs = ((n.cpu.nginxPct + n.cpu.appPct) * 1e4) / n.rps;
  return { nginxUs, nodePathUs, ratio: nodePathUs / nginxUs };
}

// The req/s ratios printed, [numerator, denominator], each when both ran.
const RATIO_PAIRS = [
  ['tsgi-native', 'node-http'],
  ['tsgi-native-log', 'node-http'],
  ['tsgi-js', 'node-http'],
  ['tsgi-native', 'tsgi-js'],
  ['tsgi-native-log', 'tsgi-native'],
  ['nginx-tsgi', 'nginx-node-http'],
  ['nginx-tsgi-http', 'nginx-node-http'],
  ['nginx-tsgi', 'nginx-tsgi-http'],
  ['nginx-uwsgi-floor', 'nginx-node-http'],
  ['nginx-tsgi', 'nginx-uwsgi-floor'],
  ['nginx-tsgi', 'nginx-uwsgi'],
];

function ratiosFor(servers, tool) {
  const rps = (name) => (servers[name]?.ok && servers[name].tools[tool]?.ok ? servers[name].tools[tool].rps : undefined);
  const out = {};
  for (const [a, b] of RATIO_PAIRS) {
    if (rps(a) !== undefined && rps(b) !== undefined) out[`${a} / ${b}`] = rps(a) / rps(b);
  }
  return out;
}

// The issue's target for the nginx scenario: tsgi behind nginx at least this many times
// node:http behind nginx, in the same run.
const NGINX_TARGET = 1.3;

/** Behind nginx against direct (hello, same run): the share of the direct rate left. */
function nginxCostRatios(nginxServers, helloServers, tool) {
  const rps = (servers, name) => (servers?.[name]?.ok && servers[name].tools[tool]?.ok ? servers[name].tools[tool].rps : undefined);
  const out = {};
  for (const s of NGINX_SERVERS.filter((n) => n.base)) {
    const behind = rps(nginxServers, s.name);
    const direct = rps(helloServers, s.base);
    if (behind !== undefined && direct !== undefined) out[`${s.name} / ${s.base} (direct, hello)`] = behind / direct;
  }
  return out;
}

/** What bench/lib/peers-scenario.mjs uses of this runner. */
function peersContext() {
  return {
    host: HOST,
    nginxBin,
    nginxDirs,
    wrkPath,
    selected: settings.servers,
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    contentionPct: CONTENTION_PCT,
    startServer,
    stopServer,
    checkResponse,
    runWrk,
    describeExit,
    tail,
    say,
    note,
    fail,
    table,
    fmtInt,
    fmtMs,
    fmtRatio,
    stolenCell,
  };
}

async function main() {
  const began = Date.now();
  const serverList = settings.scenarios
    .filter((n) => !SCENARIOS[n].viaNginx || nginxBin)
    .map((n) => `${n}: ${serversFor(SCENARIOS[n]).map((s) => s.name).join(',') || '(none)'}`)
    .join('; ');
  say(`tsgi bench: scenarios ${settings.scenarios.join(',')}; servers ${serverList}; tools ${settings.tools.join(',')}`);
  say(
    `  ${settings.connections} keep-alive connections, pipelining 1, ${settings.seconds} s per tool` +
      `${settings.scenarios.includes('nginx') && nginxBin ? ` (${settings.nginxSeconds} s in the nginx scenario)` : ''}, ${settings.warmupSeconds} s warm-up per server`,
  );
  const build = checkBuild();
  if (!nginxBin) {
    note(
      `nginx is not installed${process.env.BENCH_NGINX !== undefined ? ` (BENCH_NGINX=${JSON.stringify(process.env.BENCH_NGINX)})` : ' (not on PATH nor in /usr/sbin ...)'}: ` +
        'skipping the nginx scenario (tsgi and node:http behind nginx)',
    );
  } else if (settings.scenarios.includes('nginx')) {
    say(`  nginx: ${nginxBin} (${nginxVer ?? 'version unknown'}), uwsgi_params ${findUwsgiParams() ?? '(none found: the standard lines inline)'}; node:http behind it over ${settings.nginxUpstream === 'unix' ? 'a unix socket' : 'loopback TCP'}`);
  }

  // Pinning: the server on one CPU, the load generator on another.
  let cpus;
  const canTaskset = which('taskset') !== undefined;
  if (!settings.pin) {
    say('  pinning: off (BENCH_PIN=0)');
  } else if (!canTaskset) {
    say('  pinning: off (taskset not found)');
  } else {
    const allowed = allowedCpus();
    if (allowed.length >= 2) {
      cpus = { server: allowed[0], client: allowed[1] };
      // This process only waits while loads run; keep it off the server's CPU too.
      spawnSync('taskset', ['-a', '-pc', String(cpus.client), String(process.pid)], { stdio: 'ignore' });
      say(
        `  pinning: yes (taskset): servers on CPU ${cpus.server}, load generators (and this runner) on CPU ${cpus.client}` +
          (settings.scenarios.includes('nginx') && nginxBin ? `; behind nginx, nginx (master and worker) AND the app server share CPU ${cpus.server}` : ''),
      );
    } else {
      say(`  pinning: off (only ${allowed.length} CPU allowed)`);
    }
  }
  const idle = await machineBusy(1000);
  if (idle) {
    say(`  before the start, with nothing of ours running: ${idle.busyPct}% of ${idle.cpus} CPUs busy`);
    if (idle.busyPct > 10) {
      note(`the machine is busy before the start (${idle.busyPct}% of ${idle.cpus} CPUs): other processes will disturb the figures`);
    }
  }
  if (settings.tools.includes('wrk') && !wrkPath) {
    note('wrk is not installed: skipping wrk (only autocannon figures; see bench/README.md)');
  }
  if (activeTools.length === 0) usage('no load generator to run (BENCH_TOOLS=wrk, and wrk is not installed)');

  mkdirSync(RESULTS_DIR, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-'));
  tmpDir = tmp;
  const scenarios = {};

  for (const scenarioName of settings.scenarios) {
    const scenario = SCENARIOS[scenarioName];
    if (scenario.viaNginx && !nginxBin) continue; // noted above
    if (scenario.peers) {
      say('');
      say(`=== scenario peers: ${scenario.describe}; wrk only, ${settings.peersSeconds} s per cell, each cell its own connections (the settings above do not apply)`);
      const sc = await runPeers(peersContext(), { cpus, tmp, seconds: settings.peersSeconds });
      if (sc) scenarios.peers = sc;
      continue;
    }
    if (scenario.frameworks) {
      say('');
      say(`=== scenario frameworks: ${scenario.describe}; wrk only, ${settings.frameworksRuns} alternating rounds of ${settings.seconds} s per pair`);
      const sc = await runFrameworks(peersContext(), { cpus, tmp, seconds: settings.seconds, runs: settings.frameworksRuns, profile: settings.frameworksProfile });
      if (sc) scenarios.frameworks = sc;
      continue;
    }
    const list = serversFor(scenario);
    if (list.length === 0) {
      note(`scenario ${scenarioName}: BENCH_ONLY selects none of its servers (${(scenario.viaNginx ? NGINX_SERVERS : SERVERS).map((s) => s.name).join(', ')}): skipped`);
      continue;
    }
    say('');
    say(`=== scenario ${scenarioName}: ${scenario.describe}`);
    const servers = {};
    for (const server of list) {
      servers[server.name] = await benchServer(server, scenarioName, scenario, cpus, tmp);
      await sleep(500);
    }
    const ratios = {};
    for (const tool of activeTools) ratios[tool] = ratiosFor(servers, tool);
    scenarios[scenarioName] = { describe: scenario.describe, seconds: secondsFor(scenarioName), servers, ratios };
  }
  if (scenarios.nginx) {
    scenarios.nginx.target = `nginx-tsgi / nginx-node-http >= ${NGINX_TARGET}`;
    scenarios.nginx.nginx = { path: nginxBin, version: nginxVer, uwsgiParams: findUwsgiParams() ?? null, nodeUpstream: settings.nginxUpstream };
    scenarios.nginx.behindVsDirect = {};
    for (const tool of activeTools) scenarios.nginx.behindVsDirect[tool] = nginxCostRatios(scenarios.nginx.servers, scenarios.hello?.servers, tool);
    scenarios.nginx.uwsgiCeiling = {};
    for (const tool of activeTools) scenarios.nginx.uwsgiCeiling[tool] = uwsgiCeiling(scenarios.nginx.servers, tool) ?? null;
    const uw = uwsgiBin();
    if (uw) scenarios.nginx.uwsgiVersion = spawnSync(uw, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout?.trim() || null;
  }

  // ------------------------------------------------------------ report
  say('');
  say('==================================================================== results');
  for (const [scenarioName, sc] of Object.entries(scenarios)) {
    if (scenarioName === 'peers' || scenarioName === 'frameworks') {
      (scenarioName === 'peers' ? reportPeers : reportFrameworks)(peersContext(), sc);
      continue;
    }
    for (const tool of activeTools) {
      say('');
      const secs = secondsFor(scenarioName);
      const how = tool === 'wrk' ? `wrk -t1 -c${settings.connections} -d${secs}s` : `autocannon -c ${settings.connections} -p 1 -d ${secs}`;
      say(`${scenarioName} — ${how}${cpus ? ` (pinned to CPU ${cpus.client})` : ''}`);
      const rows = [];
      for (const [name, s] of Object.entries(sc.servers)) {
        const r = s.tools[tool];
        if (!r?.ok) {
          rows.push([name, s.skipped ? 'skipped' : 'failed', '-', '-', '-', '-', '-', '-', '-', '-']);
          continue;
        }
        rows.push([
          name,
          fmtInt(r.rps),
          fmtMs(r.latencyMs.p50),
          fmtMs(r.latencyMs.p99),
          fmtMs(r.latencyMs.max),
          String(r.errors),
          String(r.non2xx),
          r.cpu?.nginxPct !== undefined && r.cpu.appPct !== undefined
            ? `${Math.round(r.cpu.appPct)}+${Math.round(r.cpu.nginxPct)}%`
            : r.cpu?.serverPct !== undefined
              ? `${Math.round(r.cpu.serverPct)}%`
              : '-',
          usPerRequest(r),
          stolenCell(r.cpu),
        ]);
      }
      table(['server', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'srv cpu', 'us/req', 'stolen % srv/gen'], rows);
      if (rows.some((r) => String(r[9]).endsWith('!'))) {
        say(`  "!": others took more than ${CONTENTION_PCT}% of the server's or the load generator's CPU during that run; its figure is disturbed.`);
      }
      const ratios = Object.entries(sc.ratios[tool] ?? {});
      if (ratios.length) {
        say('  req/s ratios:');
        for (const [k, v] of ratios) say(`    ${k.padEnd(33)} ${fmtRatio(v)}`);
      }
      if (scenarioName === 'nginx') {
        if (rows.some((r) => String(r[7]).includes('+'))) {
          say(`  srv cpu: the application server's + nginx's (master and worker) CPU, both on CPU ${cpus?.server ?? '(unpinned)'}, % of one core;`);
          say('  us/req: the same as CPU microseconds per request (application server + nginx).');
        }
        const r = sc.ratios[tool]?.['nginx-tsgi / nginx-node-http'];
        if (r !== undefined) {
          say(`  target: nginx-tsgi / nginx-node-http >= ${NGINX_TARGET}: ${r >= NGINX_TARGET ? 'met' : 'NOT met'} (${fmtRatio(r)})`);
        }
        const bound = uwsgiCeiling(sc.servers, tool);
        if (bound) {
          say(
            `  ceiling: nginx alone spent ${bound.nginxUs.toFixed(1)} us per uwsgi request (nginx-tsgi), nginx + node:http together ${bound.nodePathUs.toFixed(1)} us` +
              ` per proxied one:\n           with an application server that cost nothing, nginx-tsgi / nginx-node-http would be at most ${fmtRatio(bound.ratio)}` +
              (bound.ratio < NGINX_TARGET ? ` (< ${NGINX_TARGET}: out of reach of any uwsgi server behind this nginx, which opens an upstream connection per request)` : ''),
          );
        }
        const cost = Object.entries(sc.behindVsDirect?.[tool] ?? {});
        if (cost.length) {
          say('  behind nginx / direct (the hello scenario of this run):');
          for (const [k, v] of cost) say(`    ${k.padEnd(44)} ${fmtRatio(v)}`);
        }
      }
      if (tool === 'autocannon') {
        say(`  note: autocannon itself saturates near ~${fmtInt(AUTOCANNON_CEILING)} req/s on this machine (one CPU, one node process),`);
        say('        so its ratios understate the gaps: wrk\'s ratio is the one that counts. Its latencies have 1 ms resolution.');
        const near = Object.entries(sc.servers).filter(
          ([, s]) => s.tools.autocannon?.rps > AUTOCANNON_CEILING * 0.85 || s.tools.autocannon?.cpu?.clientCpuBusyPct >= 95,
        );
        if (near.length) {
          say(`        Limited by autocannon here (its CPU >= 95% busy or near the ceiling): ${near.map(([n]) => n).join(', ')}.`);
        }
      } else {
        say('  note: wrk "non-2xx" counts responses with status >= 400; "errors" are connect/read/write errors and timeouts.');
      }
    }
    const peer = sc.servers['node-http']?.verify;
    const native = sc.servers['tsgi-native']?.verify;
    if (peer?.ok && native?.ok) {
      const extra = peer.headers.filter(([k]) => !native.headers.some(([n]) => n.toLowerCase() === k.toLowerCase()));
      if (extra.length) {
        say('');
        say(
          `  note: node:http's response head is ${peer.headBytes - native.headBytes} bytes longer than tsgi-native's: it adds ` +
            `${extra.map(([k, v]) => `"${k}: ${v}"`).join(', ')} (res.sendDate = false drops only Date).`,
        );
      }
    }
  }

  const out = {
    generatedAt: new Date().toISOString(),
    elapsedSeconds: Math.round((Date.now() - began) / 100) / 10,
    settings: { ...settings, tools: activeTools },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      pinning: cpus ? { server: cpus.server, client: cpus.client } : false,
      nginx: nginxBin ? { path: nginxBin, version: nginxVer ?? null } : null,
      wrk: wrkPath ? spawnSync(wrkPath, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim() : null,
      autocannon: JSON.parse(readFileSync(path.join(ROOT, 'node_modules/autocannon/package.json'), 'utf8')).version,
    },
    git: gitInfo(),
    build,
    machineBusyBeforeStart: idle,
    scenarios,
    notes,
    failures,
  };
  // The raw child process handles are not JSON.
  const file = path.join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, JSON.stringify(out, (k, v) => (k === 'child' ? undefined : v), 2) + '\n');
  say('');
  say(`wrote ${path.relative(ROOT, file)} (${out.elapsedSeconds} s in all)`);
  if (settings.keepLogs) say(`servers' stderr kept in ${tmp}`);
  removeTmp();
  if (failures.length) {
    say('');
    say(`FAILED: ${failures.length} problem(s):`);
    for (const f of failures) say(`  - ${f.split('\n')[0]}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench: ${err.stack ?? err}\n`);
    killChildren();
    removeTmp();
    process.exit(1);
  },
);
