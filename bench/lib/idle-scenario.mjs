// The idle scenario of npm run bench (BENCH_SCENARIOS=idle): what an idle keep-alive
// connection costs a server. Each server (tsgi native, tsgi js, node:http) is measured
// twice, started afresh each time: cold (one request answered, nothing more) and warm
// (loaded by wrk for BENCH_WARMUP seconds first: a server in service has met load, and
// V8's young generation has grown to its working size, which a cold server does during
// the burst of connections and counts in their cost). The server is left to settle and
// its resident set read; then N connections are opened (BENCH_IDLE_CONNECTIONS, 10,000
// unless the descriptor limits allow fewer), each sends one GET and reads the whole
// response, and all are held open, silent; once every answer is in and the server holds
// the connections (its descriptor count), the resident set is read again. Printed: the
// growth over N, per connection, against the targets (native <= 1 KB, js <= 4 KB);
// and whether a new request is still answered while they are held.
//
// bench/run.mjs calls runIdle() and reportIdle() with what it has for starting, checking
// and stopping servers and running wrk (the ctx argument).
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdCount, nofileLimit, residentBytes } from '../../test/lib/proc.mjs';
import { rawRequest } from './http-check.mjs';

/** The targets, bytes of resident set per idle keep-alive connection. */
export const IDLE_TARGETS = { 'tsgi-native': 1024, 'tsgi-js': 4096 };

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');
// Descriptors left to each side for everything else (listeners, logs, the runner's own).
const FD_MARGIN = 200;

/** Opens n connections, 500 at a time; each sends one GET and reads its whole answer. Resolves with the sockets. */
async function holdConnections(port, n, bodyBytes) {
  const sockets = [];
  const one = () =>
    new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      sockets.push(s);
      let got = Buffer.alloc(0);
      const timer = setTimeout(() => reject(new Error(`no whole answer within 10 s on connection ${sockets.length}`)), 10000);
      s.on('connect', () => s.write(REQUEST));
      s.on('data', (d) => {
        got = Buffer.concat([got, d]);
        const end = got.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = /\r\ncontent-length: *(\d+)/i.exec(got.subarray(0, end).toString('latin1'));
        if (!got.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 200')) reject(new Error(`answered ${JSON.stringify(got.subarray(0, 40).toString('latin1'))}`));
        else if (length === null || Number(length[1]) !== bodyBytes) reject(new Error('answered without the expected Content-Length'));
        else if (got.length >= end + 4 + bodyBytes) {
          clearTimeout(timer);
          s.removeAllListeners('data');
          resolve();
        }
      });
      s.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      s.on('close', () => reject(new Error('the server closed a keep-alive connection')));
    });
  try {
    for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, one));
  } catch (err) {
    for (const s of sockets) s.destroy();
    throw err;
  }
  return sockets;
}

/** One server: started, warmed up, its resident set before and after n idle connections. */
async function measureServer(ctx, server, { cpus, tmp, scenario, wanted, warm }) {
  const h = await ctx.startServer(server, 'idle', scenario, cpus?.server, tmp);
  try {
    const first = await rawRequest({ host: ctx.host, port: h.port, method: 'GET', path: '/', headers: {}, timeoutMs: 10000 });
    const problems = ctx.checkResponse(scenario, first);
    if (problems.length) throw new Error(`answered wrongly: ${problems.join('; ')}`);
    if (warm) {
      const w = await ctx.runWrk(`http://${ctx.host}:${h.port}/`, scenario, ctx.warmupSeconds, cpus?.client);
      if (!w.ok) throw new Error(`warm-up: ${w.error}`);
    }
    await sleep(1000);
    const fds = fdCount(h.pid);
    // The server and this runner each need a descriptor per connection.
    const room = Math.min(nofileLimit(h.pid) - fds, nofileLimit(process.pid) - fdCount()) - FD_MARGIN;
    const n = Math.min(wanted, room);
    if (n < 1000) throw new Error(`only ${n} descriptors to spare (ulimit -n): too few to measure`);
    const before = residentBytes(h.pid);
    const t0 = Date.now();
    const sockets = await holdConnections(h.port, n, scenario.expect.body.length);
    const openMs = Date.now() - t0;
    try {
      const deadline = Date.now() + 10000;
      while (fdCount(h.pid) < fds + n) {
        if (Date.now() > deadline) throw new Error(`holds ${fdCount(h.pid) - fds} of the ${n} connections`);
        await sleep(100);
      }
      await sleep(1000);
      const after = residentBytes(h.pid);
      const t1 = Date.now();
      const probe = await rawRequest({ host: ctx.host, port: h.port, method: 'GET', path: '/', headers: { Connection: 'close' }, timeoutMs: 10000 });
      const probeMs = Date.now() - t1;
      if (ctx.checkResponse(scenario, probe).length) throw new Error('a new request while the connections are held was answered wrongly');
      return { ok: true, connections: n, openMs, rssBeforeKiB: before / 1024, rssAfterKiB: after / 1024, bytesPerConnection: (after - before) / n, probeMs };
    } finally {
      for (const s of sockets) {
        s.removeAllListeners('close');
        s.destroy();
      }
    }
  } finally {
    await ctx.stopServer(h);
  }
}

/** Runs the scenario; resolves what goes into latest.json under scenarios.idle. servers: the SERVERS entries BENCH_ONLY selects. */
export async function runIdle(ctx, { cpus, tmp, servers, scenario, connections }) {
  const results = {};
  const modes = ctx.warmupSeconds > 0 && ctx.wrkPath ? ['cold', 'warm'] : ['cold'];
  if (modes.length === 1) ctx.note(`idle: no warm measurement (${ctx.wrkPath ? 'BENCH_WARMUP=0' : 'wrk is not installed'})`);
  for (const server of servers) {
    ctx.say(`--- idle / ${server.name}: ${server.describe}`);
    const r = (results[server.name] = {});
    for (const mode of modes) {
      try {
        const m = await measureServer(ctx, server, { cpus, tmp, scenario, wanted: connections, warm: mode === 'warm' });
        ctx.say(`    ${mode}: ${m.connections} connections held (opened in ${m.openMs} ms): RSS ${ctx.fmtInt(m.rssBeforeKiB)} -> ${ctx.fmtInt(m.rssAfterKiB)} KiB, ${ctx.fmtInt(m.bytesPerConnection)} bytes each; a new request meanwhile: ${m.probeMs} ms`);
        r[mode] = m;
      } catch (err) {
        if (server.optional) ctx.note(`idle/${server.name} (${mode}) skipped: ${err.message}`);
        else ctx.fail(`idle/${server.name} (${mode}): ${err.message}`);
        r[mode] = { ok: false, error: err.message };
      }
    }
  }
  return { describe: 'RSS growth per idle keep-alive connection (one GET answered on each, then held), cold and after a warm-up', warmupSeconds: ctx.warmupSeconds, targets: IDLE_TARGETS, servers: results };
}

/** The table: bytes per idle connection, cold and warm, against the targets and against node:http. */
export function reportIdle(ctx, sc) {
  ctx.say('');
  ctx.say(`idle — resident set growth per idle keep-alive connection (each answered one GET, then held); cold: a fresh server; warm: after ${sc.warmupSeconds} s of wrk`);
  const peer = sc.servers['node-http'];
  const cell = (m) => (m === undefined ? '-' : m.ok ? ctx.fmtInt(m.bytesPerConnection) : 'failed');
  const vsPeer = (name, mode) => {
    const m = sc.servers[name][mode];
    const p = peer?.[mode];
    if (name === 'node-http' || !m?.ok || !p?.ok) return '-';
    const d = m.bytesPerConnection - p.bytesPerConnection;
    return `${d >= 0 ? '+' : ''}${ctx.fmtInt(d)}`;
  };
  const verdict = (name, m) => {
    const target = sc.targets[name];
    if (target === undefined || !m?.ok) return '-';
    return m.bytesPerConnection <= target ? 'met' : 'NOT met';
  };
  const rows = Object.entries(sc.servers).map(([name, r]) => [
    name,
    ctx.fmtInt((r.warm ?? r.cold)?.connections),
    cell(r.cold),
    cell(r.warm),
    `${vsPeer(name, 'cold')} / ${vsPeer(name, 'warm')}`,
    sc.targets[name] === undefined ? '-' : `<= ${ctx.fmtInt(sc.targets[name])}: ${verdict(name, r.cold)} / ${verdict(name, r.warm)}`,
  ]);
  ctx.table(['server', 'connections', 'cold B/conn', 'warm B/conn', 'vs node-http c/w', 'target cold / warm'], rows);
  if (peer !== undefined && sc.servers['tsgi-js'] !== undefined) {
    ctx.say("  tsgi-js serves on node:http: node-http's figure is the floor under it (node:http's socket, parser and");
    ctx.say("  bound listeners, and, cold, V8's young generation growing under the burst); 'vs node-http' is what tsgi adds.");
  }
}
