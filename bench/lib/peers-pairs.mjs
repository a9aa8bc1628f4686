// The peers scenario's verdicts, tsgi-native against uWebSockets.js, from loads taken by
// turns. This machine's speed changes by up to 3x within minutes, and the scenario's rounds
// load one server through every cell before the next one starts: a ratio between two
// servers measured minutes apart moves with the machine (pipelined hello 0.72 and 1.62 in
// two rounds of one run, 2026-12-07). Here both servers run at once, pinned to the same
// CPU (the one not loaded is idle), and each target cell loads them by turns: a slice of
// BENCH_PEERS_PAIR_SECONDS each, BENCH_PEERS_PAIR_SLICES times, the first of a turn
// alternating. A server's req/s is its requests over its slices' time, its p99 the median
// of its slices', its CPU per request its CPU time over its requests.
// The paced cell is not taken by turns but loads both servers at once, each by its own
// wrk: its p99 is set by the machine's stalls, a few ms in which every request of every
// process waits (2026-12-08: 70 to 160 windows of 5 ms a 6 s turn, each holding about a
// hundred slow requests), and a turn's stalls are not the other turn's. At once, a stall
// holds both servers' requests alike. The load is under a quarter of a CPU each, and each
// server's requests wait for the other's turns as much as the other's for its.
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSince, cpuSnapshot, pidList, worstStolen } from './cpu.mjs';
import { median } from './rounds.mjs';
import { PEER_CELLS, check, loadCell } from './peers-cells.mjs';

/** The cells the targets judge. */
export const PAIR_CELLS = ['hello c50', 'hello c1000', 'hello c1000 paced', 'hello pipelined 16 c50', '64 KiB response c50', '4 KiB POST echoed c50'];

/** One server's slices of a cell, summed (sliceInto() fills it). */
export function emptyTally() {
  return { requests: 0, seconds: 0, cpuSeconds: 0, latencySum: 0, p99s: [], rates: [], errors: 0, non2xx: 0, cpu: undefined, error: undefined };
}

/** Adds one slice's wrk result r and its CPU reading to tally a. */
export function sliceInto(a, r, cpu) {
  if (!r.ok) {
    a.error ??= r.error;
    return;
  }
  a.requests += r.requests;
  a.seconds += r.durationS;
  a.latencySum += r.latencyMs.mean * r.requests;
  a.p99s.push(r.latencyMs.p99);
  a.rates.push(r.rps);
  a.errors += r.errors;
  a.non2xx += r.non2xx;
  if (cpu?.serverPct !== undefined && a.cpuSeconds !== undefined) a.cpuSeconds += (cpu.serverPct / 100) * cpu.seconds;
  else a.cpuSeconds = undefined;
  if (cpu !== undefined && (a.cpu === undefined || worstStolen(cpu) > worstStolen(a.cpu))) a.cpu = cpu;
}

/** A tally as a cell's result, shaped as the rounds' are (ok, rps, latencyMs, cpu) plus its slices' rates and p99s. */
export function tallyResult(a) {
  if (a.error !== undefined || a.requests === 0) return { ok: false, error: a.error ?? 'no requests' };
  const rps = a.requests / a.seconds;
  const out = { ok: true, rps, requests: a.requests, latencyMs: { p99: median(a.p99s), mean: a.latencySum / a.requests }, errors: a.errors, non2xx: a.non2xx, slices: a.rates, sliceP99s: a.p99s };
  if (a.cpuSeconds !== undefined && a.cpu !== undefined) out.cpu = { ...a.cpu, serverPct: (100 * a.cpuSeconds) / a.seconds };
  return out;
}

/** The servers' order in slice k: the first alternates. */
const turnOrder = (k) => (k % 2 === 0 ? [0, 1] : [1, 0]);

/**
 * Slice k of a cell that loads every server at once (the paced cell): into tallies. The
 * wrk of each starts in turn, first one then the other by slice, as the by-turns slices
 * alternate: their random waits are the same sequence, and the one started first writes
 * its requests a moment ahead onto the CPU the servers share.
 */
async function sliceAtOnce(ctx, cell, handles, tallies, cpus, k) {
  const pids = handles.flatMap((h) => pidList(h.cpuPids));
  const snap = cpuSnapshot(pids);
  const loads = [];
  for (const i of turnOrder(k)) loads[i] = loadCell(ctx, cell, handles[i].port, ctx.pairSeconds, cpus);
  const results = await Promise.all(loads);
  const cpu = cpuSince(snap, pids, cpus?.server, cpus?.client);
  for (const [i, h] of handles.entries()) {
    // cpuSince counts every server's pids as "the server" (none is another's noise); each
    // one's share is its own pids'.
    const own = cpu?.perPidPct === undefined ? undefined : pidList(h.cpuPids).reduce((sum, pid) => sum + (cpu.perPidPct[pid] ?? NaN), 0);
    sliceInto(tallies[i], results[i], cpu === undefined ? undefined : { ...cpu, serverPct: Number.isFinite(own) ? own : undefined });
  }
}

/** Runs the pairs (servers: tsgi-native and uws, as PEER_SERVERS has them); resolves { slices, sliceSeconds, servers } or undefined. */
export async function runPairs(ctx, servers, { cpus, tmp }) {
  const { say, note, fail } = ctx;
  const handles = [];
  say('');
  say(`--- peers / pairs: ${servers.map((s) => s.name).join(' and ')} at once, each target cell by turns (the paced one loading both together), ${ctx.pairSlices} slices of ${ctx.pairSeconds} s each`);
  try {
    for (const server of servers) {
      const h = await ctx.startServer(server, 'peers', { app: 'bench/apps/peers.ts', peerScenario: 'peers' }, cpus?.server, tmp);
      handles.push(h);
      say(`    started ${server.name}, pid ${h.pid} on ${ctx.host}:${h.port}`);
    }
    const cells = PEER_CELLS.filter((c) => PAIR_CELLS.includes(c.name));
    // Every route of every server answered right, before the loads and after them.
    const checkAll = async (when) => {
      for (const [i, h] of handles.entries()) {
        for (const cell of cells) {
          const c = await check(ctx, cell, h.port);
          if (c.problems.length) throw new Error(`${servers[i].name} answered ${cell.path} wrongly ${when}: ${c.problems.join('; ')}`);
        }
      }
    };
    await checkAll('before the loads');
    if (ctx.warmupSeconds > 0) for (const h of handles) await loadCell(ctx, cells[0], h.port, ctx.warmupSeconds, cpus);
    const result = { slices: ctx.pairSlices, sliceSeconds: ctx.pairSeconds, servers: Object.fromEntries(servers.map((s) => [s.name, { ok: true, cells: {} }])) };
    for (const cell of cells) {
      const tallies = servers.map(() => emptyTally());
      const alive = (i) => {
        if (handles[i].exited) throw new Error(`${servers[i].name} crashed during the ${cell.name} load (${ctx.describeExit(handles[i].exited)})`);
      };
      for (let k = 0; k < ctx.pairSlices; k++) {
        if (cell.paced) {
          await sleep(200);
          await sliceAtOnce(ctx, cell, handles, tallies, cpus, k);
          handles.forEach((h, i) => alive(i));
          continue;
        }
        for (const i of turnOrder(k)) {
          await sleep(200);
          const h = handles[i];
          const snap = cpuSnapshot(h.cpuPids);
          const r = await loadCell(ctx, cell, h.port, ctx.pairSeconds, cpus);
          sliceInto(tallies[i], r, cpuSince(snap, h.cpuPids, cpus?.server, cpus?.client));
          alive(i);
        }
      }
      const line = [];
      for (const [i, server] of servers.entries()) {
        const r = tallyResult(tallies[i]);
        result.servers[server.name].cells[cell.name] = r;
        if (!r.ok) {
          result.servers[server.name].ok = false;
          note(`peers/pairs ${server.name} ${cell.name}: ${r.error}`);
          line.push(`${server.name} failed`);
          continue;
        }
        if (r.errors || r.non2xx) note(`peers/pairs ${server.name} ${cell.name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        line.push(`${server.name} ${ctx.fmtInt(r.rps)} req/s p99 ${ctx.fmtMs(r.latencyMs.p99)} ms`);
      }
      say(`    ${cell.name.padEnd(26)} ${line.join(', ')}`);
    }
    await checkAll('after the loads');
    return result;
  } catch (err) {
    fail(`peers/pairs ${err.message}`);
    return undefined;
  } finally {
    for (const h of handles) {
      const stop = await ctx.stopServer(h);
      if (stop.how.startsWith('SIGKILL')) note(`peers/pairs: pid ${h.pid} ignored SIGTERM for 5 s and was killed`);
    }
  }
}

/** The pairs' table: each target cell's req/s (p99), CPU per request, the ratio, and the ratio of each turn. */
export function reportPairs(ctx, pairs) {
  const [a, b] = Object.keys(pairs.servers);
  ctx.say(`  by turns (${a} and ${b} at once, ${pairs.slices} slices of ${pairs.sliceSeconds} s each per cell, the paced cell's loading both together; the targets' figures): req/s (p99 ms), us/req, ${a} / ${b}, and by turn`);
  const fig = (r) => (r?.ok ? `${ctx.fmtInt(r.rps)} (${ctx.fmtMs(r.latencyMs.p99)})${ctx.stolenCell(r.cpu).endsWith('!') ? ' !' : ''}` : 'failed');
  const us = (r) => (r?.ok && r.cpu?.serverPct !== undefined ? ((r.cpu.serverPct * 1e4) / r.rps).toFixed(1) : '-');
  const rows = PAIR_CELLS.map((name) => {
    const x = pairs.servers[a].cells[name];
    const y = pairs.servers[b].cells[name];
    const both = x?.ok && y?.ok;
    const paced = PEER_CELLS.find((c) => c.name === name)?.paced;
    // A turn's ratio of req/s; of the paced cell (both at once), of p99.
    const [xs, ys] = paced ? [x?.sliceP99s, y?.sliceP99s] : [x?.slices, y?.slices];
    const turns = both ? xs.map((v, k) => (ys[k] ? (v / ys[k]).toFixed(2) : '-')).join(' ') + (paced ? ' (p99)' : '') : '-';
    return [name, fig(x), fig(y), `${us(x)} / ${us(y)}`, both && !paced ? ctx.fmtRatio(x.rps / y.rps) : '-', turns];
  });
  ctx.table(['cell', a, b, 'us/req', `${a} / ${b}`, 'by turn'], rows);
}
