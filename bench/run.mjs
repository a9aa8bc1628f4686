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
//   BENCH_SCENARIOS    comma list: hello, post, stream, frameworks, nginx, peers, startup, memory, websocket, js (default: hello, and
//                      nginx when nginx is installed)
//   BENCH_FRAMEWORKS_RUNS alternating rounds per pair in the frameworks scenario (default 3)
//   BENCH_FRAMEWORKS_PROFILE comma list of frameworks servers to profile (node --cpu-prof) afterwards
//   BENCH_STARTUP_RUNS  starts per case in the startup scenario (default 7)
//   BENCH_MEMORY_IDLE, BENCH_MEMORY_WARM, BENCH_MEMORY_UPLOAD_MB, BENCH_MEMORY_SOAK: the memory
//                      scenario's idle connections (10000), warm-up requests (20000), upload
//                      size in MiB (1024) and soak requests (1000000)
//   BENCH_WEBSOCKET_RUNS alternating rounds per server in the websocket scenario (default 3)
//   BENCH_WEBSOCKET_SECONDS seconds of load per round in the websocket scenario (default 5)
//   BENCH_JS_RUNS      alternating rounds per server in the js scenario (default 5)
//   BENCH_PEERS_SECONDS seconds of wrk load per cell per server in the peers scenario (default 5)
//   BENCH_PEERS_RUNS   rounds of the peers scenario, every server in each; figures are medians (default 1)
//   BENCH_PEERS_PACED_RPS the load offered in the peers scenario's paced cell, req/s (default 20000)
//   BENCH_UWS_NODE     the Node binary to run the uWebSockets.js peer with, when the bench's own has no uws binary (default: bench/.peers's Node 20)
//   BENCH_PEERS_PAIR_SLICES turns per target cell in the peers scenario's tsgi-native/uws pairs (default 4; 0: none)
//   BENCH_PEERS_PAIR_SECONDS seconds of each turn's load (default 2)
//   BENCH_NGINX_SECONDS seconds of load per tool per server in the nginx scenario (default 8)
//   BENCH_NGINX_UPSTREAM unix (default) or tcp: how nginx reaches node:http
//   BENCH_NGINX        the nginx binary (default: PATH, then /usr/sbin/nginx ...; empty: none)
//   BENCH_PIN          0 to not pin to CPUs with taskset (default: pin when possible)
//   BENCH_RETRIES      how often a run that other processes disturbed is run again (default 1)
//   BENCH_RETRY_BUDGET seconds of load all those reruns may take together (default 40)
//   BENCH_KEEP_LOGS    1 to keep the servers' stderr files (their path is printed)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, dirs, killChildren, removeTmp, tail } from './lib/children.mjs';
import { machineBusy } from './lib/cpu.mjs';
import { runFrameworks } from './lib/frameworks-scenario.mjs';
import { runWrk } from './lib/load.mjs';
import { benchServer } from './lib/measure.mjs';
import { findUwsgiParams } from './lib/nginx.mjs';
import { runPeers } from './lib/peers-scenario.mjs';
import { runStartup } from './lib/startup-scenario.mjs';
import { runMemory } from './lib/memory-scenario.mjs';
import { runWebsocket } from './lib/websocket-scenario.mjs';
import { runJs } from './lib/js-scenario.mjs';
import { cpuRatiosFor, fail, failures, fmtInt, fmtMs, fmtRatio, nginxCostRatios, note, printResults, ratiosFor, say, stolenCell, table, uwsgiCeiling, writeResults } from './lib/report.mjs';
import { checkResponse, startServer, stopServer, uwsgiBin } from './lib/servers.mjs';
import { CONTENTION_PCT, HOST, NGINX_SERVERS, NGINX_TARGET, RESULTS_DIR, ROOT, SCENARIOS, SERVERS, activeTools, nginxBin, nginxVer, secondsFor, serversFor, settings, usage, which, wrkPath } from './lib/settings.mjs';

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

/** The newest modification time of a file ending in one of exts, in dir and the folders below it. */
function newestMtime(dir, exts) {
  let newest = 0;
  if (!existsSync(dir)) return 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, statSync(p).mtimeMs);
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

/** What bench/lib/peers-scenario.mjs uses of this runner. */
function peersContext() {
  return {
    host: HOST,
    nginxBin,
    nginxDirs: dirs.nginx,
    wrkPath,
    selected: settings.servers,
    connections: settings.connections,
    warmupSeconds: settings.warmupSeconds,
    peersRuns: settings.peersRuns,
    pacedRps: settings.peersPacedRps,
    pairSlices: settings.peersPairSlices,
    pairSeconds: settings.peersPairSeconds,
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
      cpus = { server: allowed[0], client: allowed[1], all: allowed };
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
  dirs.tmp = tmp;
  const scenarios = {};

  for (const scenarioName of settings.scenarios) {
    const scenario = SCENARIOS[scenarioName];
    if (scenario.viaNginx && !nginxBin) continue; // noted above
    if (scenario.peers) {
      say('');
      say(`=== scenario peers: ${scenario.describe}; wrk only, ${settings.peersSeconds} s per cell, ${settings.peersRuns} round${settings.peersRuns === 1 ? '' : 's'}, each cell its own connections (the settings above do not apply)`);
      const sc = await runPeers(peersContext(), { cpus, tmp, seconds: settings.peersSeconds });
      if (sc) scenarios.peers = sc;
      continue;
    }
    if (scenario.startup) {
      say('');
      say(`=== scenario startup: ${scenario.describe}; ${settings.startupRuns} runs a case`);
      const sc = await runStartup(peersContext(), { runs: settings.startupRuns, cpus: cpus?.all });
      if (sc) scenarios.startup = sc;
      continue;
    }
    if (scenario.js) {
      const list = ['tsgi-js', 'node-http'].map((n) => SERVERS.find((s) => s.name === n));
      say('');
      say(`=== scenario js: ${scenario.describe}; ${settings.jsRuns} rounds of ${settings.seconds} s`);
      const sc = await runJs(peersContext(), { cpus, tmp, servers: list, scenario: { ...SCENARIOS.hello, peerScenario: 'hello' }, seconds: settings.seconds, runs: settings.jsRuns });
      if (sc) scenarios.js = sc;
      continue;
    }
    if (scenario.memory) {
      say('');
      const m = settings.memory;
      say(`=== scenario memory: ${scenario.describe}; ${m.idle.toLocaleString('en-US')} connections, ${m.uploadMiB} MiB, ${m.soak.toLocaleString('en-US')} requests`);
      scenarios.memory = await runMemory(peersContext(), settings.memory);
      continue;
    }
    if (scenario.websocket) {
      say('');
      say(`=== scenario websocket: ${scenario.describe}; ${settings.websocketRuns} alternating rounds of ${settings.websocketSeconds} s`);
      const sc = await runWebsocket(peersContext(), { cpus, seconds: settings.websocketSeconds, runs: settings.websocketRuns });
      if (sc) scenarios.websocket = sc;
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
    const cpuRatios = {};
    for (const tool of activeTools) {
      ratios[tool] = ratiosFor(servers, tool);
      cpuRatios[tool] = cpuRatiosFor(servers, tool);
    }
    scenarios[scenarioName] = { describe: scenario.describe, seconds: secondsFor(scenarioName), servers, ratios, cpuRatios };
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

  printResults(scenarios, { cpus, ctx: peersContext() });
  writeResults({ began, cpus, build, idle, scenarios });
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
