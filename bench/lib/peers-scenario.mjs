// The "peers" scenario of npm run bench (BENCH_SCENARIOS=peers): tsgi against the fast
// servers of other runtimes, on the same machine in the same run. Each server starts once,
// serves every route of bench/apps/peers.ts (or its peer's copy of it), and wrk loads it
// once per cell; the cells are the issue's five (hello at 50 and 1,000 connections, hello
// pipelined 16 deep, a 64 KiB response, a 4 KiB POST echoed) and Granian's published ones
// that matter for an application server (a 10 KiB response, a 10 KiB body read in 4 KiB
// pieces and echoed, a handler that awaits 10 ms at 512 connections), and hello at 1,000
// connections again at a paced load (the same for every server) for the p99 that is the
// server's own. Printed: req/s with p99 beside it, the server's CPU per request, and
// tsgi-native / each peer.
//
// This machine's speed changes by up to 3x from one phase to the next, and one pass
// runs each server minutes after the other. BENCH_PEERS_RUNS rounds (default 1) run
// every server again, in the same order, round after round; each figure is then the
// median of its rounds (mergeRounds), and so are the ratios made from them. The targets
// that set tsgi-native against uws are judged from the pairs that follow the rounds
// (bench/lib/peers-pairs.mjs): the two servers loaded by turns, seconds apart.
//
// bench/run.mjs calls runPeers() and reportPeers() with what it has for starting, checking
// and stopping servers, running wrk pinned, and formatting (the ctx argument).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSince, cpuSnapshot, worstStolen } from './cpu.mjs';
import { errorLogSummary, startNginx, stopNginx } from './nginx.mjs';
import { bunBin, uwsNode } from './peers-install.mjs';
import { targetsTable } from './targets.mjs';
import { median } from './rounds.mjs';
import { PEER_CELLS, check, loadCell } from './peers-cells.mjs';
import { reportPairs, runPairs } from './peers-pairs.mjs';

/**
 * The servers, in the order they run. "companion": selected whenever tsgi-native is (the
 * default), or by its own name in BENCH_ONLY. "absent": why it cannot run here, if so.
 */
export const PEER_SERVERS = [
  { name: 'tsgi-native', describe: 'tsgi --backend native --disable-logging --wsgi-file bench/apps/peers.ts', kind: 'tsgi', args: ['--disable-logging'] },
  { name: 'tsgi-js', describe: 'tsgi --backend js --disable-logging --wsgi-file bench/apps/peers.ts', kind: 'tsgi', args: ['--backend', 'js', '--disable-logging'] },
  { name: 'node-http', describe: 'plain node:http (bench/peers/node-http.mjs --scenario peers)', kind: 'peer', args: [] },
  {
    name: 'uws',
    companion: true,
    describe: 'uWebSockets.js (bench/peers/uws.mjs; @trufflesuite/uws-js-unofficial in bench/.peers)',
    kind: 'uws',
    absent: () => uwsNode().absent,
  },
  {
    name: 'bun',
    companion: true,
    describe: 'Bun.serve (bench/peers/bun.mjs run by @oven/bun-linux-x64 in bench/.peers)',
    kind: 'bun',
    absent: () => (bunBin() ? undefined : 'Bun is not installed in bench/.peers (npm run bench:peers-install)'),
  },
  {
    name: 'nginx-return',
    companion: true,
    describe: 'nginx, 1 worker, location / { return 200 "Hello, World!\\n"; } (hello cells only)',
    kind: 'nginx-return',
    helloOnly: true,
    absent: (ctx) => (ctx.nginxBin ? undefined : 'nginx is not installed'),
  },
];

/** The servers BENCH_ONLY selects for the peers scenario. */
export function peerServersFor(selected) {
  return PEER_SERVERS.filter((s) => selected.includes(s.name) || (s.companion && selected.includes('tsgi-native')));
}

/** nginx with "return 200" in a directory of its own, pinned to cpu: a handle like run.mjs's. */
async function startNginxReturn(ctx, cpu) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-nginx-'));
  ctx.nginxDirs.add(dir);
  const handle = { name: 'nginx-return', dir };
  try {
    handle.nginx = await startNginx({ bin: ctx.nginxBin, dir, upstream: { kind: 'return' }, cpu, onSpawn: (n) => (handle.nginx = n) });
  } catch (err) {
    if (handle.nginx) await stopNginx(handle.nginx);
    rmSync(dir, { recursive: true, force: true });
    ctx.nginxDirs.delete(dir);
    throw err;
  }
  Object.assign(handle, { pid: handle.nginx.pid, port: handle.nginx.port, command: handle.nginx.command, cpuPids: [handle.nginx.pid, ...handle.nginx.workers] });
  Object.defineProperty(handle, 'exited', { get: () => handle.nginx.exited });
  return handle;
}

async function stopNginxReturn(ctx, handle) {
  const stop = await stopNginx(handle.nginx);
  // nginx logs at "warn" and above: a quiet run leaves the error log empty.
  const log = errorLogSummary(handle.dir);
  if (log.lines) ctx.note(`peers/nginx-return: nginx's error log has ${log.lines} lines, first: ${log.first[0].slice(0, 300)}`);
  rmSync(handle.dir, { recursive: true, force: true });
  ctx.nginxDirs.delete(handle.dir);
  return stop;
}

async function benchPeer(ctx, server, cpus, tmp, seconds, round) {
  const { say, note, fail } = ctx;
  const result = { name: server.name, describe: server.describe, ok: false, cells: {} };
  say('');
  say(`--- peers / ${server.name}${round ? ` (round ${round})` : ''}: ${server.describe}`);
  const why = server.absent?.(ctx);
  if (why) {
    result.skipped = true;
    result.error = why;
    note(`peers/${server.name} skipped: ${why}`);
    return result;
  }
  const cells = PEER_CELLS.filter((c) => !server.helloOnly || c.nginx);
  let handle;
  try {
    handle =
      server.kind === 'nginx-return'
        ? await startNginxReturn(ctx, cpus?.server)
        : await ctx.startServer(server, 'peers', { app: 'bench/apps/peers.ts', peerScenario: 'peers' }, cpus?.server, tmp);
  } catch (err) {
    result.error = `did not start: ${err.message}`;
    fail(`peers/${server.name} ${result.error}`);
    return result;
  }
  result.command = handle.command;
  say(`    started pid ${handle.pid} on ${ctx.host}:${handle.port}: ${handle.command}`);
  try {
    for (const cell of cells) {
      const c = await check(ctx, cell, handle.port);
      if (c.problems.length) throw new Error(`answered ${cell.path} wrongly before the load: ${c.problems.join('; ')}`);
    }
    say(`    check: ${cells.map((c) => `${c.bodyBytes ? 'POST' : 'GET'} ${c.path}`).filter((v, i, a) => a.indexOf(v) === i).join(', ')}: each answered as expected`);
    if (ctx.warmupSeconds > 0) {
      const w = await loadCell(ctx, cells[0], handle.port, ctx.warmupSeconds, cpus);
      say(`    warm-up: ${ctx.warmupSeconds} s of wrk on ${cells[0].path}, ${ctx.fmtInt(w.rps)} req/s`);
    }
    for (const cell of cells) {
      await sleep(300);
      const snap = cpuSnapshot(handle.cpuPids);
      const r = await loadCell(ctx, cell, handle.port, seconds, cpus);
      r.cpu = cpuSince(snap, handle.cpuPids, cpus?.server, cpus?.client);
      result.cells[cell.name] = r;
      if (!r.ok) note(`peers/${server.name} ${cell.name}: ${r.error}`);
      else {
        say(
          `    ${cell.name.padEnd(26)} ${ctx.fmtInt(r.rps).padStart(8)} req/s  p99 ${ctx.fmtMs(r.latencyMs.p99)} ms  errors ${r.errors}  non-2xx ${r.non2xx}` +
            (r.cpu ? `  srv cpu ${Math.round(r.cpu.serverPct)}%  stolen ${ctx.stolenCell(r.cpu)}` : ''),
        );
        if (r.errors || r.non2xx) note(`peers/${server.name} ${cell.name}: ${r.errors} errors, ${r.non2xx} non-2xx (${JSON.stringify(r.errorDetail)})`);
      }
      if (handle.exited) throw new Error(`crashed during the ${cell.name} load (${ctx.describeExit(handle.exited)})`);
      const after = await check(ctx, cell, handle.port);
      if (after.problems.length) throw new Error(`answered ${cell.path} wrongly after the ${cell.name} load: ${after.problems.join('; ')}`);
    }
    result.ok = true;
  } catch (err) {
    result.error = err.message;
    fail(`peers/${server.name} ${err.message}${handle.logPath ? `\n${ctx.tail(handle.logPath)}` : ''}`);
  } finally {
    const stop = server.kind === 'nginx-return' ? await stopNginxReturn(ctx, handle) : await ctx.stopServer(handle);
    say(`    stopped: ${stop.how} -> ${ctx.describeExit(stop.exit)}`);
    if (stop.how.startsWith('SIGKILL')) note(`peers/${server.name} ignored SIGTERM for 5 s and was killed`);
  }
  return result;
}

/** Runs the scenario; resolves what goes into latest.json under scenarios.peers. */
export async function runPeers(ctx, { cpus, tmp, seconds }) {
  if (!ctx.wrkPath) {
    ctx.note('peers scenario skipped: it loads with wrk only (1,000 connections, pipelining), and wrk is not installed');
    return undefined;
  }
  const runs = Math.max(1, ctx.peersRuns ?? 1);
  const rounds = [];
  for (let round = 1; round <= runs; round++) {
    const servers = {};
    for (const server of peerServersFor(ctx.selected)) {
      servers[server.name] = await benchPeer(ctx, server, cpus, tmp, seconds, runs > 1 ? round : undefined);
      await sleep(500);
    }
    rounds.push(servers);
  }
  const servers = mergeRounds(rounds);
  const ratios = {};
  // A paced cell's req/s is the load offered, not a speed: it has no ratio.
  for (const cell of PEER_CELLS.filter((c) => !c.paced)) {
    const rps = (name) => (servers[name]?.cells[cell.name]?.ok ? servers[name].cells[cell.name].rps : undefined);
    ratios[cell.name] = {};
    for (const name of Object.keys(servers)) {
      if (name !== 'tsgi-native' && rps(name) !== undefined && rps('tsgi-native') !== undefined) ratios[cell.name][`tsgi-native / ${name}`] = rps('tsgi-native') / rps(name);
    }
  }
  const sc = { describe: 'tsgi against node:http, uWebSockets.js, Bun and nginx, wrk -t1, per cell', seconds, runs, pacedRps: ctx.pacedRps, cells: PEER_CELLS.map(({ expect, ...c }) => c), servers, ratios };
  // The targets' figures: tsgi-native and uws by turns, when both ran in the rounds.
  const pairServers = PEER_SERVERS.filter((s) => s.name === 'tsgi-native' || s.name === 'uws');
  if (ctx.pairSlices > 0 && pairServers.every((s) => servers[s.name] !== undefined && !servers[s.name].skipped)) {
    sc.pairs = await runPairs(ctx, pairServers, { cpus, tmp });
  }
  sc.targets = peerTargets(sc);
  return sc;
}

/**
 * One result per server from several rounds' (benchPeer's, by server name): each cell's
 * req/s, p99 and CPU per request are the medians of its rounds; a cell that failed in any
 * round is that failure. The CPU's other fields (what others took) are the round's with
 * the most taken, so that the table's "!" shows a disturbance in any round.
 */
export function mergeRounds(rounds) {
  if (rounds.length === 1) return rounds[0];
  const merged = {};
  for (const name of Object.keys(rounds[0])) {
    const all = rounds.map((servers) => servers[name]);
    const failed = all.find((s) => !s.ok);
    const result = { ...all[0], ok: failed === undefined, rounds: all.length, cells: {} };
    if (failed !== undefined) result.error = failed.error;
    for (const cellName of Object.keys(all[0].cells)) {
      const cells = all.map((s) => s.cells[cellName]);
      const bad = cells.find((r) => !r?.ok);
      if (bad !== undefined || cells.some((r) => r === undefined)) {
        result.cells[cellName] = bad ?? { ok: false, error: `no figure in every round` };
        continue;
      }
      const rps = median(cells.map((r) => r.rps));
      const latencyMs = { ...cells[0].latencyMs, p99: median(cells.map((r) => r.latencyMs.p99)), mean: median(cells.map((r) => r.latencyMs.mean)) };
      const cell = { ...cells[0], rps, latencyMs, rounds: cells.map((r) => r.rps) };
      if (cells.every((r) => r.cpu?.serverPct !== undefined && r.rps > 0)) {
        const usPerRequest = median(cells.map((r) => (r.cpu.serverPct * 1e4) / r.rps));
        const worst = cells.reduce((a, r) => (worstStolen(r.cpu) > worstStolen(a.cpu) ? r : a));
        cell.cpu = { ...worst.cpu, serverPct: (usPerRequest * rps) / 1e4 };
      }
      result.cells[cellName] = cell;
    }
    merged[name] = result;
  }
  return merged;
}

/**
 * The targets of the issue this scenario answers (docs: bench/README.md), each with the
 * run's figure: tsgi-native at least as fast as uWebSockets.js in five cells, and its p99
 * at 1,000 connections no higher (closed and paced). The js backend's (0.85 of node:http
 * on hello) is the js scenario's, judged over its alternating rounds
 * (bench/lib/js-scenario.mjs), not from this scenario's one cell: in the run of 2026-12-08
 * the cell said 0.83 and the rounds 0.983.
 */
export function peerTargets(sc) {
  // tsgi-native against uws from the pairs (by turns) when they ran; else, and for the
  // others, from the rounds.
  const source = (server) => (sc.pairs?.servers[server] !== undefined ? sc.pairs.servers[server] : sc.servers[server]);
  const cell = (server, name) => {
    const r = source(server)?.cells[name];
    return r?.ok ? r : undefined;
  };
  const out = [];
  const ratio = (what, a, b, name, target) => {
    const x = cell(a, name);
    const y = cell(b, name);
    const figure = x && y ? x.rps / y.rps : undefined;
    out.push({ what, target: `>= ${target}`, figure: figure?.toFixed(2), met: figure === undefined ? undefined : figure >= target });
  };
  for (const name of ['hello c50', 'hello c1000', 'hello pipelined 16 c50', '64 KiB response c50', '4 KiB POST echoed c50']) {
    ratio(`${name}: tsgi-native / uws, req/s`, 'tsgi-native', 'uws', name, 1.0);
  }
  // The p99 at 1,000 connections, twice. Closed ("hello c1000": each connection asks again
  // as soon as it has its answer): one wrk thread cannot keep up with 1,000 of them and
  // holds part of them itself, so that p99 is partly wrk's queue; "in flight" (req/s x mean
  // latency, Little's law) tells how many of the 1,000 were at the server. Paced ("hello
  // c1000 paced"): every server is offered the same load, below what each can serve, and
  // the p99 is the server's.
  const p99 = (name, figure) => {
    const t = cell('tsgi-native', name);
    const u = cell('uws', name);
    out.push({
      what: `${name}: p99, tsgi-native against uws`,
      target: '<= uws',
      figure: t && u ? `${t.latencyMs.p99.toFixed(2)} ms against ${u.latencyMs.p99.toFixed(2)} ms${figure(t, u)}${byTurn(t, u)}` : undefined,
      met: t && u ? t.latencyMs.p99 <= u.latencyMs.p99 : undefined,
    });
  };
  // From the pairs, turn by turn (each turn loads both within seconds): in how many of them
  // tsgi-native's p99 was lower or equal, the verdict's spread at this machine's noise.
  const byTurn = (t, u) => {
    if (t.sliceP99s === undefined || u.sliceP99s === undefined) return '';
    const n = Math.min(t.sliceP99s.length, u.sliceP99s.length);
    const lower = t.sliceP99s.slice(0, n).filter((x, k) => x <= u.sliceP99s[k]).length;
    return `; lower or equal in ${lower} of ${n} turns`;
  };
  const inFlight = (r) => Math.round((r.rps * r.latencyMs.mean) / 1000);
  p99('hello c1000', (t, u) => (t.latencyMs.mean !== undefined && u.latencyMs.mean !== undefined ? `; in flight ${inFlight(t)} and ${inFlight(u)} of 1000` : ''));
  p99('hello c1000 paced', (t, u) => `, at ${Math.round(t.rps)} and ${Math.round(u.rps)} req/s${sc.pacedRps ? ` (about ${sc.pacedRps} offered)` : ''}`);
  return out;
}

/** The results: one table of req/s (p99) per cell and server, then tsgi-native / each. */
export function reportPeers(ctx, sc) {
  const { say } = ctx;
  const names = Object.keys(sc.servers);
  say('');
  const rounds = sc.runs > 1 ? `, medians of ${sc.runs} rounds` : ', one round (BENCH_PEERS_RUNS=3 for medians)';
  say(`peers — wrk -t1 -d${sc.seconds}s per cell${rounds}, req/s (p99 ms); "!" after a figure: others took more than ${ctx.contentionPct}% of a CPU of ours during it`);
  const cellOf = (name, cell) => {
    const s = sc.servers[name];
    if (s.skipped) return 'skipped';
    const r = s.cells[cell.name];
    if (!r) return PEER_SERVERS.find((p) => p.name === name)?.helloOnly && !cell.nginx ? 'n/a' : 'failed';
    if (!r.ok) return 'failed';
    return `${ctx.fmtInt(r.rps)} (${ctx.fmtMs(r.latencyMs.p99)})${ctx.stolenCell(r.cpu).endsWith('!') ? ' !' : ''}`;
  };
  const label = (cell) => `${cell.name}${cell.granian ? ' [G]' : ''}`;
  ctx.table(['cell', ...names], PEER_CELLS.map((cell) => [label(cell), ...names.map((n) => cellOf(n, cell))]));
  say('  [G]: Granian\'s published scenario. us/req (server CPU per request) by cell:');
  const us = (r) => (r?.ok && r.cpu?.serverPct !== undefined && r.rps > 0 ? ((r.cpu.serverPct * 1e4) / r.rps).toFixed(1) : '-');
  ctx.table(['cell', ...names], PEER_CELLS.map((cell) => [label(cell), ...names.map((n) => us(sc.servers[n].cells[cell.name]))]));
  const others = names.filter((n) => n !== 'tsgi-native');
  say('  req/s ratios, tsgi-native / each (above 1: tsgi-native is faster):');
  ctx.table(
    ['cell', ...others.map((n) => `/ ${n}`)],
    PEER_CELLS.map((cell) => [label(cell), ...others.map((n) => ctx.fmtRatio(sc.ratios[cell.name]?.[`tsgi-native / ${n}`]))]),
  );
  say(`  note: await 10 ms at 512 connections cannot exceed 512 / 10 ms = 51,200 req/s.`);
  if (sc.pacedRps) say(`  note: hello c1000 paced is offered about ${ctx.fmtInt(sc.pacedRps)} req/s (BENCH_PEERS_PACED_RPS) by every server's wrk alike: its req/s is the load, its p99 the server's.`);
  if (sc.pairs) reportPairs(ctx, sc.pairs);
  say(`  targets (same run${sc.pairs ? '; tsgi-native against uws from the turns above' : ''}):`);
  targetsTable(ctx, sc.targets);
}
