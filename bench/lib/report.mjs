// What the bench prints and writes: lines, notes and failures as they come; number
// formats and tables; the CPU figures of a run (stolen shares, CPU per request, the
// uwsgi ceiling); the req/s ratios; the results tables at the end; and
// bench/results/latest.json.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stolenPct, worstStolen } from './cpu.mjs';
import { reportFrameworks } from './frameworks-scenario.mjs';
import { reportStartup } from './startup-scenario.mjs';
import { reportMemory } from './memory-scenario.mjs';
import { reportWebsocket } from './websocket-scenario.mjs';
import { JS_TARGET, reportJs } from './js-scenario.mjs';
import { reportPeers } from './peers-scenario.mjs';
import { AUTOCANNON_CEILING, CONTENTION_PCT, NGINX_SERVERS, NGINX_TARGET, RESULTS_DIR, ROOT, activeTools, nginxBin, nginxVer, secondsFor, settings, wrkPath } from './settings.mjs';

export const say = (line = '') => process.stdout.write(line + '\n');
export const notes = [];
export const failures = [];
export const note = (line) => {
  notes.push(line);
  say(`note: ${line}`);
};
export const fail = (line) => {
  failures.push(line);
  say('');
  say(`!!! FAILED: ${line}`);
  say('');
};

export function fmtInt(n) {
  return n === undefined || n === null || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en-US');
}
export function fmtMs(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '-';
  return ms < 10 ? ms.toFixed(3) : ms < 100 ? ms.toFixed(2) : ms.toFixed(1);
}
export function fmtRatio(r) {
  return r === undefined || !Number.isFinite(r) ? '-' : r.toFixed(2);
}

export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  say('  ' + line(header));
  say('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) say('  ' + line(r));
}

/** "0/12.3 !" for the table. */
export function stolenCell(cpu) {
  const s = stolenPct(cpu);
  if (s === undefined) return '-';
  const c = stolenPct(cpu, 'Client');
  return `${s}/${c ?? '-'}${worstStolen(cpu) > CONTENTION_PCT ? ' !' : ''}`;
}

export function describeCpu(c) {
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

/** CPU microseconds per request: "app+nginx" behind nginx, the server's alone otherwise. */
export function usPerRequest(r) {
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
export function uwsgiCeiling(servers, tool) {
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

export function ratiosFor(servers, tool) {
  const rps = (name) => (servers[name]?.ok && servers[name].tools[tool]?.ok ? servers[name].tools[tool].rps : undefined);
  const out = {};
  for (const [a, b] of RATIO_PAIRS) {
    if (rps(a) !== undefined && rps(b) !== undefined) out[`${a} / ${b}`] = rps(a) / rps(b);
  }
  return out;
}

/**
 * The same pairs by the server's CPU per request: b's microseconds / a's (above 1: a costs
 * less), the ratio to believe when other processes share the machine, since a rate says how
 * much CPU a server got as much as what it needs.
 */
export function cpuRatiosFor(servers, tool) {
  const us = (name) => {
    const r = servers[name]?.ok ? servers[name].tools[tool] : undefined;
    return r?.ok && r.rps > 0 && r.cpu?.serverPct !== undefined && r.cpu.nginxPct === undefined ? (r.cpu.serverPct * 1e4) / r.rps : undefined;
  };
  const out = {};
  for (const [a, b] of RATIO_PAIRS) {
    if (us(a) !== undefined && us(b) !== undefined) out[`${a} / ${b}`] = us(b) / us(a);
  }
  return out;
}


/** Behind nginx against direct (hello, same run): the share of the direct rate left. */
export function nginxCostRatios(nginxServers, helloServers, tool) {
  const rps = (servers, name) => (servers?.[name]?.ok && servers[name].tools[tool]?.ok ? servers[name].tools[tool].rps : undefined);
  const out = {};
  for (const s of NGINX_SERVERS.filter((n) => n.base)) {
    const behind = rps(nginxServers, s.name);
    const direct = rps(helloServers, s.base);
    if (behind !== undefined && direct !== undefined) out[`${s.name} / ${s.base} (direct, hello)`] = behind / direct;
  }
  return out;
}

export function gitInfo() {
  const run = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' });
  const head = run('rev-parse', '--short', 'HEAD');
  const dirty = run('status', '--porcelain', '--', 'lib', 'native', 'bin', 'binding.gyp');
  return { commit: head.status === 0 ? head.stdout.trim() : undefined, dirtySources: dirty.status === 0 ? dirty.stdout.trim().split('\n').filter(Boolean).length : undefined };
}

/** The results: per scenario and tool, a table, the ratios, and the notes that explain them. ctx: what the peers and frameworks reports use (run.mjs's). */
export function printResults(scenarios, { cpus, ctx }) {
  say('');
  say('==================================================================== results');
  for (const [scenarioName, sc] of Object.entries(scenarios)) {
    const reportOf = { peers: reportPeers, frameworks: reportFrameworks, startup: reportStartup, memory: reportMemory, websocket: reportWebsocket, js: reportJs }[scenarioName];
    if (reportOf !== undefined) {
      reportOf(ctx, sc);
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
      const byCpu = sc.cpuRatios?.[tool] ?? {};
      if (ratios.length) {
        say('  ratios:                           req/s   by CPU/req (b us / a us)');
        for (const [k, v] of ratios) say(`    ${k.padEnd(33)} ${fmtRatio(v).padStart(5)}   ${fmtRatio(byCpu[k]).padStart(5)}`);
      }
      const js = sc.ratios[tool]?.['tsgi-js / node-http'];
      if (js !== undefined && scenarioName === 'hello') {
        const cpu = byCpu['tsgi-js / node-http'];
        const verdict = (v) => (v === undefined ? '-' : v >= JS_TARGET ? 'met' : 'NOT met');
        const shown = (v) => (v === undefined ? '-' : v.toFixed(3)); // 0.849 is not met, and would print as 0.85
        say(`  target: tsgi-js / node-http >= ${JS_TARGET}: by req/s ${verdict(js)} (${shown(js)}), by CPU/req ${verdict(cpu)} (${shown(cpu)})`);
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
}

/** Writes bench/results/latest.json; returns what it wrote. */
export function writeResults({ began, cpus, build, idle, scenarios }) {
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
  return out;
}
