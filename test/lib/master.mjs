// The master and its workers as the integration tests run them: `node bin/tsgi.js
// --master` as a child process in a process group of its own, its log read as it comes,
// every worker pid it ever had tracked (log lines and /proc, polled), and the checks that
// nothing of it is left; and get(), a GET on a fresh connection whose answer names the
// worker's pid; count() of the log's lines of a kind. Used by
// test/integration/master-*.test.mjs and reload-failure.test.mjs.
//
// Whether a worker is gone is isGone() of test/lib/proc.mjs, which explains zombies.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES } from './project.mjs';
import { spawnCli } from './cli.mjs';
import { httpGet } from './http-client.mjs';
import { withTimeout, waitUntil } from './wait.mjs';
import { childrenOf, describePid, isGone, sigkill } from './proc.mjs';

export const APP = join(FIXTURES, 'master', 'app.mjs');

const WORKER_PIDS = /worker \d+ \((?:new )?pid: (\d+)\)/g;

/**
 * Starts `node bin/tsgi.js --master --processes 2 --http 127.0.0.1:0 --wsgi-file APP
 * ...args` in a process group of its own (spawnCli, detached). Returns the handle the
 * tests use:
 *   pid, cli (the spawnCli() handle), port (a promise), log() (stderr so far), exit (a
 *   promise of { code, signal }, once the master itself exited), exitInfo, pids (every
 *   worker pid seen: log lines and the master's children, polled every 25 ms),
 *   children() (the master's children now), waitLog(re, ms, from), readyPids(),
 *   waitReady(n, ms), signal(sig).
 */
export function startMaster(args = [], { app = APP, processes = 2 } = {}) {
  const pids = new Set();
  const cli = spawnCli(['--master', '--processes', String(processes), '--http', '127.0.0.1:0', '--wsgi-file', app, ...args], {
    detached: true,
    onLine: (line) => {
      for (const x of line.matchAll(WORKER_PIDS)) pids.add(Number(x[1]));
    },
  });
  const stderr = () => cli.stderrText();
  const m = {
    pid: cli.child.pid,
    cli,
    pids,
    exitInfo: undefined,
    log: stderr,
    port: cli.port,
    children() {
      const c = childrenOf(m.pid);
      for (const p of c) m.pids.add(p);
      return c;
    },
    signal(sig) {
      process.kill(m.pid, sig);
    },
    /** Resolves with the match of re in the log (from offset from on), once there is one. */
    async waitLog(re, ms = 5000, from = 0) {
      let found;
      await waitUntil(
        () => {
          found = re.exec(stderr().slice(from));
          if (found) return true;
          if (m.exitInfo !== undefined) throw new Error(`the master exited (${JSON.stringify(m.exitInfo)}) before its log matched ${re}; log:\n${stderr()}`);
          return false;
        },
        ms,
        `the log to match ${re}`,
      ).catch((err) => {
        throw new Error(`${err.message.split('; log:')[0]}; log:\n${stderr()}`);
      });
      return found;
    },
    /** The pids of the workers' ready lines (from offset from on). */
    readyPids(from = 0) {
      return [...stderr().slice(from).matchAll(/^tsgi: worker \d+ \(pid: (\d+)\) ready: /gm)].map((x) => Number(x[1]));
    },
    alive: () => m.exitInfo === undefined && !isGone(m.pid, -1),
    async waitReady(n = processes, ms = 10000) {
      await waitUntil(() => m.readyPids().length >= n, ms, `${n} ready lines`).catch((err) => {
        throw new Error(`${err.message}; log:\n${stderr()}`);
      });
      return m.readyPids();
    },
  };
  m.exit = cli.processExited.then((info) => (m.exitInfo = info));
  const poll = setInterval(() => m.children(), 25);
  m.exit.then(() => clearInterval(poll));
  m.stopPolling = () => clearInterval(poll);
  return m;
}

/** Starts a master and waits for its port and its workers' ready lines. */
export async function readyMaster(args, opts) {
  const m = startMaster(args, opts);
  m.portNumber = await m.port;
  await m.waitReady(opts?.processes ?? 2);
  return m;
}

/** Asserts that the master and every worker pid it had are gone, waiting up to ms. */
export async function assertAllGone(m, ms = 3000) {
  m.children();
  const all = () => [m.pid, ...m.pids];
  try {
    await waitUntil(() => all().every((p) => isGone(p, m.pid)), ms, 'every process to be gone');
  } catch {
    const left = all().filter((p) => !isGone(p, m.pid));
    assert.fail(`processes left ${ms} ms after the end: ${left.map(describePid).join(', ')}; log:\n${m.log()}`);
  }
}

/** The finally of every test: kills whatever is left of m, by pid and by its group. */
export async function killAll(m) {
  if (m === undefined) return;
  m.stopPolling();
  sigkill([...m.pids, -m.pid, m.pid]);
  await withTimeout(m.exit, 3000, 'the master to be reaped').catch(() => {});
}

/** SIGTERM, then the master exits 0 within ms, then nothing of it is left. */
export async function stopGracefully(m, ms = 5000) {
  m.signal('SIGTERM');
  const info = await withTimeout(m.exit, ms, 'the master to exit after SIGTERM');
  assert.deepEqual(info, { code: 0, signal: null }, `the master exits 0 after SIGTERM; log:\n${m.log()}`);
  await assertAllGone(m);
}

/** GET path on a fresh connection: { status, body, pid (the worker's, from the body), ms }; rejects on an error or after timeoutMs. */
export async function get(port, path = '/', timeoutMs = 5000) {
  const r = await httpGet(port, path, { timeoutMs });
  return { status: r.status, body: r.body, pid: Number.parseInt(r.body, 10), ms: r.ms };
}

/** How many times re (with the g flag) matches text: the lines of a kind in a log. */
export const count = (text, re) => [...text.matchAll(re)].length;
