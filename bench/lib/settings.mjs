// The bench's settings: the BENCH_* environment variables read once (a bad value ends
// the run with exit status 2), the scenarios and the servers each measures, where
// things are, and which load generators and nginx this machine has.
import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findNginx, nginxVersion } from './nginx.mjs';
import { PEER_SERVERS, peerServersFor } from './peers-scenario.mjs';
import { PEER_CELLS } from './peers-cells.mjs';
import { FRAMEWORK_SERVER_NAMES, frameworkServersFor } from './frameworks-scenario.mjs';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = path.resolve(BENCH_DIR, '..');
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
export const HOST = '127.0.0.1';
export const AUTOCANNON_CEILING = 80000;
// Above this share of the server's CPU taken by others, a run is flagged as disturbed.
export const CONTENTION_PCT = 5;
// The target for the nginx scenario: tsgi behind nginx at least this many times
// node:http behind nginx, in the same run.
export const NGINX_TARGET = 1.3;

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

export function usage(message) {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const HELLO_BODY = Buffer.from('Hello, World!\n');
const POST_BYTES = 4096;
const STREAM_BODY = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, 0x61 + i)));

export const SCENARIOS = {
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
  // From a process's start to its first response: bench/lib/startup-scenario.mjs.
  startup: {
    startup: true,
    describe: 'first response after the process starts: tsgi with a .mjs and a .ts application, one process and master + 2 workers, vs node:http',
  },
  // tsgi-js against node:http in alternating rounds: bench/lib/js-scenario.mjs.
  js: {
    js: true,
    describe: 'tsgi-js / node-http on hello: both servers up, wrk on each in turn, BENCH_JS_RUNS rounds',
  },
  // What a server holds: idle connections, a large upload, a soak: bench/lib/memory-scenario.mjs.
  memory: {
    memory: true,
    describe: 'RSS growth: idle keep-alive connections (tsgi-native, tsgi-js, node:http, node:net), a large upload, a soak',
  },
  // WebSocket echo over 100 connections: bench/lib/websocket-scenario.mjs.
  websocket: {
    websocket: true,
    describe: 'WebSocket echo of 32-byte messages over 100 connections: tsgi (ws through the node interface, tsgi.websocket; native and js) vs ws on node:http and uWebSockets.js',
  },
  // tsgi against other runtimes' fast servers, cell by cell: bench/lib/peers-scenario.mjs.
  peers: {
    peers: true,
    describe: `tsgi vs node:http, uWebSockets.js, Bun, nginx: ${PEER_CELLS.length} cells, one of them paced (bench/lib/peers-scenario.mjs)`,
  },
};

export const SERVERS = [
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
export const NGINX_SERVERS = [
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

export const nginxBin = findNginx();
export const nginxVer = nginxBin ? nginxVersion(nginxBin) : undefined;
export const settings = {
  seconds: intEnv('BENCH_SECONDS', 10),
  nginxSeconds: intEnv('BENCH_NGINX_SECONDS', 8),
  nginxUpstream: listEnv('BENCH_NGINX_UPSTREAM', ['unix'], ['unix', 'tcp'])[0],
  connections: intEnv('BENCH_CONNECTIONS', 50),
  warmupSeconds: intEnv('BENCH_WARMUP', 2, 0),
  servers: listEnv('BENCH_ONLY', SERVERS.map((s) => s.name), [...new Set([...[...SERVERS, ...NGINX_SERVERS, ...PEER_SERVERS].map((s) => s.name), ...FRAMEWORK_SERVER_NAMES])]),
  frameworksRuns: intEnv('BENCH_FRAMEWORKS_RUNS', 3),
  startupRuns: intEnv('BENCH_STARTUP_RUNS', 7),
  memory: {
    idle: intEnv('BENCH_MEMORY_IDLE', 10000),
    warm: intEnv('BENCH_MEMORY_WARM', 20000, 0),
    uploadMiB: intEnv('BENCH_MEMORY_UPLOAD_MB', 1024),
    soak: intEnv('BENCH_MEMORY_SOAK', 1000000),
  },
  websocketRuns: intEnv('BENCH_WEBSOCKET_RUNS', 3),
  websocketSeconds: intEnv('BENCH_WEBSOCKET_SECONDS', 5),
  jsRuns: intEnv('BENCH_JS_RUNS', 5),
  frameworksProfile: (process.env.BENCH_FRAMEWORKS_PROFILE ?? '').split(',').filter(Boolean),
  peersSeconds: intEnv('BENCH_PEERS_SECONDS', 5),
  peersRuns: intEnv('BENCH_PEERS_RUNS', 1),
  peersPacedRps: intEnv('BENCH_PEERS_PACED_RPS', 20000),
  peersPairSlices: intEnv('BENCH_PEERS_PAIR_SLICES', 4, 0),
  peersPairSeconds: intEnv('BENCH_PEERS_PAIR_SECONDS', 2),
  tools: listEnv('BENCH_TOOLS', ['autocannon', 'wrk'], ['autocannon', 'wrk']),
  scenarios: listEnv('BENCH_SCENARIOS', nginxBin ? ['hello', 'nginx'] : ['hello'], Object.keys(SCENARIOS)),
  pin: process.env.BENCH_PIN !== '0',
  retries: intEnv('BENCH_RETRIES', 1, 0),
  retryBudget: intEnv('BENCH_RETRY_BUDGET', 40, 0),
  keepLogs: process.env.BENCH_KEEP_LOGS === '1',
};

/** Seconds of load per tool per server in a scenario. */
export const secondsFor = (scenarioName) =>
  SCENARIOS[scenarioName]?.viaNginx ? settings.nginxSeconds : SCENARIOS[scenarioName]?.peers ? settings.peersSeconds : settings.seconds;

/** The servers a scenario measures, as BENCH_ONLY selects them. */
export function serversFor(scenario) {
  if (scenario.peers) return peerServersFor(settings.servers);
  if (scenario.frameworks) return frameworkServersFor(settings.servers).flatMap((p) => p.servers);
  if (scenario.viaNginx) {
    const picked = (s) => settings.servers.includes(s.name) || (s.base !== undefined && settings.servers.includes(s.base));
    return NGINX_SERVERS.filter((s) => picked(s) || (s.companion !== undefined && picked(NGINX_SERVERS.find((n) => n.name === s.companion))));
  }
  return SERVERS.filter((s) => settings.servers.includes(s.name));
}

/** Which command is on PATH, or undefined. */
export function which(cmd) {
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

export const wrkPath = settings.tools.includes('wrk') ? which('wrk') : undefined;
// The tools that will run: wrk only when installed.
export const activeTools = settings.tools.filter((t) => t !== 'wrk' || wrkPath);
