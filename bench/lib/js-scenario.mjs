// The js scenario of npm run bench (BENCH_SCENARIOS=js): the pure-JS backend against the
// node:http it is built on, on the hello application, for the target (tsgi-js at
// least 0.85 of node:http, same run). The hello scenario measures each server once, one
// after the other, and on a machine shared with other work the weather changes between
// the two; here both servers run at once, get a warm-up each, and wrk loads them in turn,
// BENCH_JS_RUNS rounds (default 5) of BENCH_SECONDS each. Each round gives a ratio by req/s
// and one by the server's CPU per request (node:http's microseconds over tsgi-js's); the
// medians of the rounds' ratios are the scenario's figures.
//
// bench/run.mjs calls runJs() and reportJs() with what it has for starting, checking and
// stopping servers and running wrk pinned (the ctx argument).
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSince, cpuSnapshot } from './cpu.mjs';
import { rawRequest } from './http-check.mjs';
import { median } from './rounds.mjs';

/** The target: tsgi-js / node-http, same run. */
export const JS_TARGET = 0.85;

/** servers: [tsgi-js, node-http] as SERVERS has them; scenario: hello's. */
export async function runJs(ctx, { cpus, tmp, servers, scenario, seconds, runs }) {
  const url = (h) => `http://${ctx.host}:${h.port}/`;
  const handles = [];
  const rounds = [];
  try {
    for (const server of servers) {
      const h = await ctx.startServer(server, 'js', scenario, cpus?.server, tmp);
      handles.push(h);
      const res = await rawRequest({ host: ctx.host, port: h.port, method: 'GET', path: '/', headers: {}, timeoutMs: 10000 });
      const problems = ctx.checkResponse(scenario, res);
      if (problems.length) throw new Error(`${server.name} answered wrongly: ${problems.join('; ')}`);
      ctx.say(`    ${server.name}: pid ${h.pid} on ${ctx.host}:${h.port}: ${h.command}`);
      if (ctx.warmupSeconds > 0) await ctx.runWrk(url(h), scenario, ctx.warmupSeconds, cpus?.client);
    }
    for (let round = 1; round <= runs; round++) {
      const got = {};
      for (const [i, server] of servers.entries()) {
        const h = handles[i];
        await sleep(300);
        const snap = cpuSnapshot(h.cpuPids);
        const r = await ctx.runWrk(url(h), scenario, seconds, cpus?.client);
        if (!r.ok) throw new Error(`${server.name}: ${r.error}`);
        r.cpu = cpuSince(snap, h.cpuPids, cpus?.server, cpus?.client);
        if (h.exited) throw new Error(`${server.name} crashed during the load (${ctx.describeExit(h.exited)})`);
        if (r.errors || r.non2xx) throw new Error(`${server.name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        got[server.name] = { rps: r.rps, us: r.cpu?.serverPct !== undefined ? (r.cpu.serverPct * 1e4) / r.rps : undefined, stolen: ctx.stolenCell(r.cpu) };
      }
      const [js, peer] = servers.map((s) => got[s.name]);
      const round_ = { round, js, peer, byRate: js.rps / peer.rps, byCpu: js.us !== undefined && peer.us !== undefined ? peer.us / js.us : undefined };
      rounds.push(round_);
      ctx.say(
        `    round ${round}: tsgi-js ${ctx.fmtInt(js.rps)} req/s ${js.us?.toFixed(1) ?? '-'} us/req (stolen ${js.stolen}), node-http ${ctx.fmtInt(peer.rps)} req/s ${peer.us?.toFixed(1) ?? '-'} us/req (stolen ${peer.stolen}):` +
          ` ${ctx.fmtRatio(round_.byRate)} by req/s, ${ctx.fmtRatio(round_.byCpu)} by CPU`,
      );
    }
  } catch (err) {
    ctx.fail(`js: ${err.message}`);
  } finally {
    for (const h of handles) await ctx.stopServer(h);
  }
  if (rounds.length === 0) return undefined;
  const cpu = rounds.map((r) => r.byCpu).filter((v) => v !== undefined);
  return {
    describe: 'tsgi-js / node-http on hello, alternating wrk rounds with both servers up',
    seconds,
    runs,
    target: `tsgi-js / node-http >= ${JS_TARGET}`,
    rounds,
    byRate: median(rounds.map((r) => r.byRate)),
    byCpu: cpu.length ? median(cpu) : undefined,
  };
}

export function reportJs(ctx, sc) {
  ctx.say('');
  ctx.say(`js — tsgi-js / node-http on hello, wrk -t1 -c${ctx.connections} -d${sc.seconds}s, ${sc.rounds.length} alternating rounds, medians of the rounds' ratios`);
  ctx.table(
    ['round', 'tsgi-js req/s', 'us/req', 'node-http req/s', 'us/req', 'by req/s', 'by CPU'],
    sc.rounds.map((r) => [String(r.round), ctx.fmtInt(r.js.rps), r.js.us?.toFixed(1) ?? '-', ctx.fmtInt(r.peer.rps), r.peer.us?.toFixed(1) ?? '-', ctx.fmtRatio(r.byRate), ctx.fmtRatio(r.byCpu)]),
  );
  const verdict = (v) => (v === undefined ? '-' : `${v >= JS_TARGET ? 'met' : 'NOT met'} (${v.toFixed(3)})`);
  ctx.say(`  target: tsgi-js / node-http >= ${JS_TARGET}: by req/s ${verdict(sc.byRate)}, by CPU/req ${verdict(sc.byCpu)}`);
}
