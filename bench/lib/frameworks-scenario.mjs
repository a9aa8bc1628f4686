// The "frameworks" scenario of npm run bench (BENCH_SCENARIOS=frameworks): Hono, Express
// and Fastify hello worlds, each on tsgi (native backend, through the CLI: --wsgi-file on
// the module's default export, --interface auto) against the same module on its usual
// server (@hono/node-server; http.createServer(app); fastify.listen), in the same run.
// For each framework both servers run at once and wrk loads them in turn, BENCH_FRAMEWORKS_RUNS
// rounds (default 3) of BENCH_SECONDS each: on a machine shared with other work each pair
// meets the same weather. Printed per server: the best req/s (of the undisturbed runs when
// there are some) and the least server CPU microseconds per request; per framework the
// ratio tsgi / usual server by req/s and by CPU per request, against the issue's target.
//
// BENCH_FRAMEWORKS_PROFILE=express-tsgi (a comma list of this scenario's servers) adds, after
// the measurements, one load on each under node --cpu-prof: where the server's time per
// request goes, by package and by function.
//
// bench/run.mjs calls runFrameworks() and reportFrameworks() with what it has for starting,
// checking and stopping servers, running wrk pinned, and formatting (the ctx argument).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSince, cpuSnapshot } from './cpu.mjs';
import { rawRequest } from './http-check.mjs';

const EXPECT = { body: Buffer.from('Hello, World!\n'), contentType: 'text/plain', contentLength: '14' };

/** The frameworks, their application and the issue's target (tsgi / usual server, req/s). */
export const FRAMEWORKS = [
  { name: 'hono', app: 'bench/apps/hono-hello.mjs', target: 1.5, usual: { name: 'hono-node-server', kind: 'hono', describe: '@hono/node-server, its defaults (bench/peers/hono-node-server.mjs)' } },
  { name: 'express', app: 'bench/apps/express-hello.mjs', target: 1.05, usual: { name: 'express-node-http', kind: 'node-framework', describe: 'http.createServer(app) (bench/peers/frameworks-node.mjs)' } },
  { name: 'fastify', app: 'bench/apps/fastify-hello.mjs', target: 1.2, usual: { name: 'fastify-listen', kind: 'node-framework', describe: 'fastify.listen (bench/peers/frameworks-node.mjs)' } },
];

const tsgiServer = (fw) => ({
  name: `${fw.name}-tsgi`,
  kind: 'tsgi',
  args: ['--interface', 'auto', '--disable-logging'],
  describe: `tsgi --backend native --wsgi-file ${fw.app} --interface auto --disable-logging`,
});

/** The pairs BENCH_ONLY selects: a server by its name, or all by tsgi-native / node-http. */
export function frameworkServersFor(selected) {
  const out = [];
  for (const fw of FRAMEWORKS) {
    const tsgi = tsgiServer(fw);
    const pick = (s, base) => selected.includes(s.name) || selected.includes(base);
    const servers = [pick(tsgi, 'tsgi-native') && tsgi, pick(fw.usual, 'node-http') && fw.usual].filter(Boolean);
    if (servers.length) out.push({ fw, servers });
  }
  return out;
}

/** Every server name of the scenario, for BENCH_ONLY's list of allowed names. */
export const FRAMEWORK_SERVER_NAMES = FRAMEWORKS.flatMap((fw) => [tsgiServer(fw).name, fw.usual.name]);

/** CPU microseconds per request of one run (the server's % of one core over its req/s). */
const cpuUs = (r) => (r.ok && r.cpu?.serverPct !== undefined && r.rps > 0 ? (r.cpu.serverPct * 1e4) / r.rps : undefined);

async function checked(ctx, port, when) {
  const res = await rawRequest({ host: ctx.host, port, method: 'GET', path: '/', headers: {}, timeoutMs: 10000 });
  const problems = ctx.checkResponse({ expect: EXPECT }, res);
  if (problems.length) throw new Error(`answered wrongly ${when}: ${problems.join('; ')}`);
  return res;
}

/** One framework: both servers up, a warm-up each, then `runs` rounds of one wrk run each. */
async function benchPair(ctx, { fw, servers }, { cpus, tmp, seconds, runs }) {
  const { say, fail } = ctx;
  const url = (h) => `http://${ctx.host}:${h.port}/`;
  const results = Object.fromEntries(servers.map((s) => [s.name, { name: s.name, describe: s.describe, ok: false, runs: [] }]));
  const handles = [];
  say('');
  say(`--- frameworks / ${fw.name}: ${servers.map((s) => s.name).join(' vs ')}`);
  try {
    for (const server of servers) {
      const h = await ctx.startServer(server, 'frameworks', { app: fw.app }, cpus?.server, tmp);
      handles.push(h);
      results[server.name].command = h.command;
      const res = await checked(ctx, h.port, 'before the load');
      say(`    ${server.name}: pid ${h.pid} on ${ctx.host}:${h.port}: ${h.command}`);
      say(`      check: ${res.statusLine}; head ${res.headBytes} bytes: ${res.headers.map(([k, v]) => `${k}: ${v}`).join(' | ')}`);
      if (ctx.warmupSeconds > 0) await ctx.runWrk(url(h), { bodyBytes: 0 }, ctx.warmupSeconds, cpus?.client);
    }
    for (let round = 1; round <= runs; round++) {
      for (const [i, server] of servers.entries()) {
        const h = handles[i];
        await sleep(300);
        const snap = cpuSnapshot(h.cpuPids);
        const r = await ctx.runWrk(url(h), { bodyBytes: 0 }, seconds, cpus?.client);
        r.cpu = cpuSince(snap, h.cpuPids, cpus?.server, cpus?.client);
        r.cpuUsPerRequest = cpuUs(r);
        r.disturbed = ctx.stolenCell(r.cpu).endsWith('!');
        results[server.name].runs.push(r);
        if (!r.ok) throw new Error(`${server.name}: ${r.error}`);
        say(
          `    round ${round} ${server.name.padEnd(18)} ${ctx.fmtInt(r.rps).padStart(8)} req/s  ${r.cpuUsPerRequest?.toFixed(1) ?? '-'} us CPU/req  p99 ${ctx.fmtMs(r.latencyMs.p99)} ms` +
            `  errors ${r.errors}  non-2xx ${r.non2xx}  stolen ${ctx.stolenCell(r.cpu)}`,
        );
        if (r.errors || r.non2xx) ctx.note(`frameworks/${server.name}: ${r.errors} errors, ${r.non2xx} non-2xx (${JSON.stringify(r.errorDetail)})`);
        if (h.exited) throw new Error(`${server.name} crashed during the load (${ctx.describeExit(h.exited)})`);
      }
    }
    for (const [i, server] of servers.entries()) {
      await checked(ctx, handles[i].port, 'after the loads');
      results[server.name].ok = true;
    }
  } catch (err) {
    fail(`frameworks/${fw.name} ${err.message}${handles.length ? `\n${ctx.tail(handles[handles.length - 1].logPath)}` : ''}`);
  } finally {
    for (const h of handles) {
      const stop = await ctx.stopServer(h);
      say(`    stopped ${h.name}: ${stop.how} -> ${ctx.describeExit(stop.exit)}`);
    }
  }
  for (const res of Object.values(results)) {
    const ok = res.runs.filter((r) => r.ok);
    if (!ok.length) continue;
    const calm = ok.filter((r) => !r.disturbed);
    const best = (calm.length ? calm : ok).reduce((a, b) => (b.rps > a.rps ? b : a));
    const us = ok.map((r) => r.cpuUsPerRequest).filter((u) => u !== undefined);
    res.best = { rps: best.rps, p99Ms: best.latencyMs.p99, disturbed: best.disturbed, cpuUsPerRequest: best.cpuUsPerRequest };
    res.leastCpuUsPerRequest = us.length ? Math.min(...us) : undefined;
  }
  return results;
}

/** CPU time per request by package and by function, from a node --cpu-prof profile. */
function readProfile(file, requests) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const usPerSample = (prof.endTime - prof.startTime) / prof.samples.length;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (const id of prof.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const category = ({ callFrame: { url, functionName } }) => {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return `package ${pkg[1]}`;
    if (url.includes('/lib/interfaces/')) return 'tsgi interface adapter (lib/interfaces)';
    if (url.includes('/dist/lib/')) return 'tsgi (exchange, environ, respond)';
    if (url.startsWith('node:_http') || url.includes('internal/http')) return 'node:http (IncomingMessage, ServerResponse)';
    if (/^node:(internal\/streams|stream|events)/.test(url)) return 'node streams and events';
    if (url.startsWith('node:')) return 'other node internals';
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(idle)' || functionName === '(program)') return `${functionName} (native server, libuv, idle)`;
    return 'other (native calls, V8 builtins)';
  };
  const cats = new Map();
  const fns = new Map();
  for (const [id, hits] of self) {
    const n = byId.get(id);
    const c = category(n);
    cats.set(c, (cats.get(c) ?? 0) + hits);
    const f = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : ''}`;
    fns.set(f, (fns.get(f) ?? 0) + hits);
  }
  // Inclusive time of tsgi's own functions (the adapter's steps with what they call).
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, hits] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const { url, functionName } = byId.get(at).callFrame;
      if (!url.includes('/dist/lib/')) continue;
      const key = `${functionName || '(anonymous)'} ${path.basename(url)}`;
      if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
      seen.add(key);
    }
  }
  const table = (m, k) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, hits]) => ({ name, usPerRequest: (hits * usPerSample) / requests, pct: (100 * hits) / prof.samples.length }));
  return { categories: table(cats, 16), selfTop: table(fns, 20), tsgiInclusive: table(inclusive, 16) };
}

async function profileServer(ctx, name, { cpus, tmp, seconds }) {
  const pair = frameworkServersFor([name])[0];
  const server = pair?.servers.find((s) => s.name === name);
  if (!server) return void ctx.note(`BENCH_FRAMEWORKS_PROFILE: ${name} is not a server of the frameworks scenario (${FRAMEWORK_SERVER_NAMES.join(', ')})`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-prof-'));
  try {
    const h = await ctx.startServer({ ...server, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100'] }, 'frameworks', { app: pair.fw.app }, cpus?.server, tmp);
    let r;
    try {
      await checked(ctx, h.port, 'before the profile');
      r = await ctx.runWrk(`http://${ctx.host}:${h.port}/`, { bodyBytes: 0 }, seconds, cpus?.client);
    } finally {
      await ctx.stopServer(h);
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!r?.ok || !file) return void ctx.note(`frameworks profile of ${name}: ${r?.error ?? 'no profile written'}`);
    return { server: name, rps: r.rps, requests: r.requests, ...readProfile(path.join(dir, file), r.requests) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the scenario; resolves what goes into latest.json under scenarios.frameworks. */
export async function runFrameworks(ctx, { cpus, tmp, seconds, runs, profile }) {
  if (!ctx.wrkPath) {
    ctx.note('frameworks scenario skipped: it loads with wrk only, and wrk is not installed');
    return undefined;
  }
  const servers = {};
  const pairs = frameworkServersFor(ctx.selected);
  for (const pair of pairs) Object.assign(servers, await benchPair(ctx, pair, { cpus, tmp, seconds, runs }));
  const ratios = {};
  for (const { fw } of pairs) {
    const t = servers[`${fw.name}-tsgi`];
    const u = servers[fw.usual.name];
    if (!t?.best || !u?.best) continue;
    ratios[fw.name] = {
      pair: `${fw.name}-tsgi / ${fw.usual.name}`,
      target: fw.target,
      byRate: t.best.rps / u.best.rps,
      byCpu: u.leastCpuUsPerRequest / t.leastCpuUsPerRequest,
      disturbed: t.best.disturbed || u.best.disturbed,
    };
  }
  const profiles = [];
  for (const name of profile) {
    const p = await profileServer(ctx, name, { cpus, tmp, seconds });
    if (p) profiles.push(p);
  }
  return { describe: 'Hono, Express, Fastify hello worlds: tsgi (--interface auto) vs their usual servers, wrk -t1', seconds, runs, servers, ratios, profiles };
}

/** The results: per server req/s and CPU per request; per framework the ratios and target. */
export function reportFrameworks(ctx, sc) {
  const { say } = ctx;
  say('');
  say(`frameworks — wrk -t1 -c${ctx.connections} -d${sc.seconds}s, ${sc.runs} alternating rounds per pair; best req/s (of the undisturbed runs if any), least server CPU per request`);
  const row = (s) => [
    s.name,
    s.best ? `${ctx.fmtInt(s.best.rps)}${s.best.disturbed ? ' !' : ''}` : 'failed',
    s.best ? ctx.fmtMs(s.best.p99Ms) : '-',
    s.leastCpuUsPerRequest?.toFixed(1) ?? '-',
    s.runs.map((r) => (r.ok ? `${ctx.fmtInt(r.rps)}/${r.cpuUsPerRequest?.toFixed(1) ?? '-'}${r.disturbed ? '!' : ''}` : 'failed')).join(' '),
  ];
  ctx.table(['server', 'req/s', 'p99 ms', 'us/req', 'runs (req/s / us/req)'], Object.values(sc.servers).map(row));
  say('  "!": others took more than 5% of the server\'s or the load generator\'s CPU during that run: its req/s is disturbed.');
  say('  tsgi / usual server (above 1: tsgi is faster); by CPU: usual us/req / tsgi us/req:');
  for (const [fw, r] of Object.entries(sc.ratios)) {
    const verdict = (v) => (v >= r.target ? 'met' : 'NOT met');
    say(
      `    ${r.pair.padEnd(34)} by req/s ${ctx.fmtRatio(r.byRate)} (target ${r.target}: ${verdict(r.byRate)}${r.disturbed ? ', disturbed' : ''}),` +
        ` by CPU/req ${ctx.fmtRatio(r.byCpu)} (${verdict(r.byCpu)})`,
    );
  }
  for (const p of sc.profiles ?? []) {
    say('');
    say(`  profile of ${p.server} (node --cpu-prof, ${ctx.fmtInt(p.rps)} req/s under the profiler), microseconds per request and share of samples:`);
    for (const c of p.categories) say(`    ${c.usPerRequest.toFixed(2).padStart(7)}  ${c.pct.toFixed(1).padStart(5)}%  ${c.name}`);
    say("    tsgi's functions, inclusive (each with what it calls):");
    for (const c of p.tsgiInclusive) say(`    ${c.usPerRequest.toFixed(2).padStart(7)}  ${c.pct.toFixed(1).padStart(5)}%  ${c.name}`);
    say('    hottest functions (self):');
    for (const c of p.selfTop) say(`    ${c.usPerRequest.toFixed(2).padStart(7)}  ${c.pct.toFixed(1).padStart(5)}%  ${c.name}`);
  }
}
