// The websocket scenario: echo of small messages over 100 connections. Each server is
// started alone, pinned to one CPU, and loaded by bench/lib/websocket-client.mjs on the
// other (raw frames, one message in flight per connection); the client counts echoes and
// reads the server's CPU time over the same window. Servers, in the same run, in
// alternating rounds:
//   tsgi-native-ws     tsgi --backend native, a `ws` application through the node interface
//   tsgi-native-wsgi   tsgi --backend native, a WSGI echo through environ['tsgi.websocket']
//   tsgi-js-ws         tsgi --backend js, the `ws` application
//   ws-node-http       the same `ws` application listening on node:http itself
//   uws                uWebSockets.js's echo (when installed in bench/.peers)
// The figures: echoes per second, and the server's CPU per echo (what the target is
// judged by on a machine whose other work moves the rates).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { pinned } from './children.mjs';
import { uwsNode } from './peers-install.mjs';
import { HOST, ROOT } from './settings.mjs';

/** The target: tsgi at 1.5x `ws` on node:http. */
export const WEBSOCKET_TARGET = 1.5;
const CONNECTIONS = 100;
const MESSAGE_BYTES = 32;
const WARMUP_SECONDS = 1;

const SERVERS = [
  { name: 'tsgi-native-ws', args: ['bin/tsgi.js', '--http', `${HOST}:0`, '--disable-logging', '--wsgi-file', 'bench/apps/ws-echo.mjs'] },
  { name: 'tsgi-native-wsgi', args: ['bin/tsgi.js', '--http', `${HOST}:0`, '--disable-logging', '--wsgi-file', 'bench/apps/ws-echo-wsgi.mjs'] },
  { name: 'tsgi-js-ws', args: ['bin/tsgi.js', '--backend', 'js', '--http', `${HOST}:0`, '--disable-logging', '--wsgi-file', 'bench/apps/ws-echo.mjs'] },
  { name: 'ws-node-http', peer: true, args: ['bench/peers/ws-node-http.mjs', '--http', `${HOST}:0`] },
  { name: 'uws', node: () => uwsNode().node, args: ['bench/peers/uws.mjs', '--http', `${HOST}:0`], absent: () => uwsNode().absent },
];

/** Starts a server pinned to cpu; resolves { child, port } once it says its socket is bound. */
async function start(server, cpu) {
  const [exe, argv] = pinned(cpu, server.node?.() ?? process.execPath, server.args);
  const child = spawn(exe, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } });
  let err = '';
  child.stderr.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${server.name}: not bound within 20 s: ${err.slice(-300)}`)), 20000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /bound to TCP address [^\s:]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${server.name}: exited ${code}: ${err.slice(-300)}`)));
  });
  return { child, port };
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await once(child, 'exit');
  clearTimeout(timer);
}

/** One round of one server: { messages, seconds, serverCpuSeconds, rate, cpuUs }. */
async function round(server, seconds, cpus) {
  const { child, port } = await start(server, cpus[0]);
  try {
    // taskset execs the program: the pid spawned is the server's.
    const [exe, argv] = pinned(cpus[1], process.execPath, [path.join(ROOT, 'bench/lib/websocket-client.mjs'), String(port), '/ws', String(CONNECTIONS), String(seconds), String(WARMUP_SECONDS), String(MESSAGE_BYTES), String(child.pid)]);
    const client = spawn(exe, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    client.stdout.on('data', (d) => (out += d));
    client.stderr.on('data', (d) => (err += d));
    const [code] = await once(client, 'exit');
    if (code !== 0) throw new Error(`${server.name}: the client exited ${code}: ${err.slice(-300)}`);
    const r = JSON.parse(out);
    return { ...r, rate: r.messages / r.seconds, cpuUs: (r.serverCpuSeconds * 1e6) / r.messages };
  } finally {
    await stop(child);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs runs alternating rounds of seconds each; ctx: run.mjs's (say, fail, note). */
export async function runWebsocket(ctx, { cpus, seconds, runs }) {
  const servers = SERVERS.filter((s) => {
    const why = s.absent?.();
    if (why) ctx.note(`websocket: ${s.name} skipped: ${why}`);
    return why === undefined;
  });
  const pair = cpus.length >= 2 ? [cpus[0], cpus[1]] : [undefined, undefined];
  const results = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let i = 0; i < runs; i++) {
    for (const s of servers) {
      try {
        const r = await round(s, seconds, pair);
        results[s.name].push(r);
        ctx.say(`  round ${i + 1} ${s.name.padEnd(18)} ${Math.round(r.rate).toString().padStart(7)} echoes/s, server CPU ${r.cpuUs.toFixed(2)} µs/echo (${r.errors} errors)`);
      } catch (err) {
        ctx.fail(`websocket: ${err.message}`);
      }
    }
  }
  const summary = servers
    .filter((s) => results[s.name].length > 0)
    .map((s) => ({ name: s.name, peer: s.peer === true, rounds: results[s.name], rate: median(results[s.name].map((r) => r.rate)), cpuUs: median(results[s.name].map((r) => r.cpuUs)) }));
  return { connections: CONNECTIONS, messageBytes: MESSAGE_BYTES, seconds, runs, target: `tsgi >= ${WEBSOCKET_TARGET}x ws on node:http`, servers: summary };
}

/** The table: median echoes/s and CPU per echo, each against ws on node:http. */
export function reportWebsocket(ctx, sc) {
  ctx.say('');
  ctx.say(`websocket — echo of ${sc.messageBytes}-byte messages over ${sc.connections} connections, ${sc.runs} rounds of ${sc.seconds} s (medians)`);
  const peer = sc.servers.find((s) => s.peer);
  const rows = sc.servers.map((s) => [
    s.name,
    String(Math.round(s.rate)),
    s.cpuUs.toFixed(2),
    peer && !s.peer ? `${(s.rate / peer.rate).toFixed(2)}x` : '-',
    peer && !s.peer ? `${(peer.cpuUs / s.cpuUs).toFixed(2)}x` : '-',
    s.name.startsWith('tsgi') && peer ? (peer.cpuUs / s.cpuUs >= WEBSOCKET_TARGET ? 'met' : 'NOT met') : '-',
  ]);
  ctx.table(['server', 'echoes/s', 'server CPU µs/echo', 'rate vs ws', 'CPU vs ws', `>= ${WEBSOCKET_TARGET}x`], rows);
}
