// A reload that brings in an application that cannot load, in master mode: `node
// bin/tsgi.js --master` as a child process, HTTP on 127.0.0.1 only, real signals, a
// real application file in a temporary directory that the tests break (a syntax error)
// and fix again. What a user sees is asserted: the bytes the old workers keep serving,
// the master's log lines, its exit code, the worker pids.
//
// At startup an application that cannot load stops the master (exit 1, as uWSGI's
// need-app). Once the service runs, a reload (SIGHUP, --touch-reload, --py-autoreload)
// whose first new worker cannot load is aborted: the old workers serve on, and the
// next trigger tries again. A worker that dies while the code on disk is broken is
// respawned with back-off, and comes back at once when a reload finds the code fixed.
//
// Every test starts its own master in a process group of its own and ends by checking
// that none of its processes is left (the master and every worker pid it had, from its
// log and from /proc, polled); whatever is left is killed by pid in a finally, and the
// temporary directory is removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { startMaster as startMasterWith, readyMaster as readyMasterWith, assertAllGone, killAll, stopGracefully } from '../lib/master.mjs';
import { isGone, describePid } from '../lib/proc.mjs';
import { httpGet } from '../lib/http-client.mjs';

const T = { timeout: 40000 };
const ABORTED = /^tsgi: reload aborted: the application failed to load; the old workers keep serving: the application \S+app\.mjs failed to load: SyntaxError: .+$/m;

// ---------------------------------------------------------------------------------
// The application, in a temporary directory

/** An application whose every response is "VERSION PID\n". */
function writeApp(file, version) {
  writeFileSync(
    file,
    'export function application(environ, startResponse) {\n' +
      "  startResponse('200 OK', [['Content-Type', 'text/plain']]);\n" +
      `  return [\`${version} \${process.pid}\\n\`];\n` +
      '}\n',
  );
}

/** The same file saved halfway through an edit: a syntax error. */
function breakApp(file) {
  writeFileSync(file, "export function application(environ, startResponse) {\n  startResponse('200 OK', [];\n}\n");
}

function tempApp(version = 'v1') {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-reload-failure-'));
  const app = join(dir, 'app.mjs');
  writeApp(app, version);
  return { dir, app };
}

/** Sets file's mtime to a new value (seconds from now), as touch(1) would. */
function touch(file, offsetSeconds) {
  const t = Date.now() / 1000 + offsetSeconds;
  utimesSync(file, t, t);
}

// ---------------------------------------------------------------------------------
// Processes (test/lib/master.mjs), logging off: what is asserted is the master's own lines.

const startMaster = (app, args = [], opts = {}) => startMasterWith(['--disable-logging', ...args], { ...opts, app });
const readyMaster = (app, args = [], opts = {}) => readyMasterWith(['--disable-logging', ...args], { ...opts, app });

// ---------------------------------------------------------------------------------
// Clients

/** GET / on a fresh connection: { status, body, version, pid }; rejects on an error or after timeoutMs. */
async function get(port, timeoutMs = 5000) {
  const { status, body } = await httpGet(port, '/', { timeoutMs });
  const [version, pid] = body.trim().split(' ');
  return { status, body, version, pid: Number(pid) };
}

/**
 * Clients that send GET / one after another (on fresh connections), `width` at a time,
 * until stop() or for 20 s at most; stop() resolves with every outcome: { status, body,
 * version, pid } or { error }, with at (when the request was sent). Every test stops
 * its traffic in its finally.
 */
function traffic(port, width = 2) {
  const outcomes = [];
  let running = true;
  const end = Date.now() + 20000;
  const loops = Array.from({ length: width }, async () => {
    while (running && Date.now() < end) {
      const at = Date.now();
      try {
        outcomes.push({ ...(await get(port, 3000)), at });
      } catch (err) {
        outcomes.push({ error: err.message, at });
      }
      await delay(5);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** Every outcome is a 200 with this version's body, from one of these pids. */
function assertServedBy(outcomes, version, pids, log) {
  assert.ok(outcomes.length > 0, 'requests were sent');
  const bad = outcomes.filter((o) => o.status !== 200 || o.version !== version || !pids.includes(o.pid)).map(({ at, ...o }) => o);
  assert.deepEqual(bad, [], `every one of ${outcomes.length} requests got 200 "${version} PID" from one of ${pids}; log:\n${log}`);
}

const count = (text, re) => [...text.matchAll(new RegExp(re.source, 'gm'))].length;

/** The old workers answer, their successors are gone, and nothing was respawned. */
async function assertOldWorkersServe(m, before, version) {
  assert.ok(m.alive(), `the master (pid ${m.pid}) is alive; log:\n${m.log()}`);
  await waitUntil(() => m.children().length === before.length, 3000, 'the failed successor to be reaped').catch(() =>
    assert.fail(`workers ${m.children().map(describePid)}, expected ${before}; log:\n${m.log()}`),
  );
  assert.deepEqual(m.children(), before, `the same workers serve: ${before}`);
  for (let i = 0; i < 6; i++) {
    const r = await get(m.portNumber);
    assert.equal(r.status, 200);
    assert.equal(r.version, version, `the old application answers: ${JSON.stringify(r.body)}`);
    assert.ok(before.includes(r.pid), `answered by an old worker (${r.pid}, not one of ${before})`);
  }
  assert.equal(count(m.log(), /^tsgi: (DAMN|OOPS) /gm), 0, `no worker died or was respawned; log:\n${m.log()}`);
}

/** After a reload that completed: the old workers are gone, new ones serve version. */
async function assertReloaded(m, before, version) {
  await waitUntil(() => before.every((p) => isGone(p, m.pid)), 5000, 'the old workers to exit').catch(() =>
    assert.fail(`old workers left: ${before.filter((p) => !isGone(p, m.pid)).map(describePid)}; log:\n${m.log()}`),
  );
  const after = m.children();
  assert.equal(after.length, before.length, `as many workers as before: ${after}`);
  for (const p of after) assert.ok(!before.includes(p), `every worker pid changed: ${before} -> ${after}`);
  for (let i = 0; i < 6; i++) {
    const r = await get(m.portNumber);
    assert.equal(r.status, 200);
    assert.equal(r.version, version, `the new application answers: ${JSON.stringify(r.body)}`);
    assert.ok(after.includes(r.pid), `answered by a new worker (${r.pid}, one of ${after})`);
  }
  return after;
}

// ---------------------------------------------------------------------------------
// Startup

test('startup: an application with a syntax error stops the master with exit 1 and the error', T, async () => {
  let m;
  const { dir, app } = tempApp();
  try {
    breakApp(app);
    const started = Date.now();
    m = startMaster(app);
    const info = await withTimeout(m.exit, 8000, 'the master to give up');
    const log = m.log();
    assert.deepEqual(info, { code: 1, signal: null }, `exit 1; log:\n${log}`);
    assert.ok(Date.now() - started <= 8000);
    assert.match(log, /^tsgi: worker \d+ \(pid: \d+\) cannot load the application: the application \S+app\.mjs failed to load: SyntaxError: /m);
    assert.match(log, /^tsgi: no application could be loaded: stopping$/m);
    // Reported once, not once per worker, and the workers' stop says nothing more.
    const after = log.slice(log.indexOf('cannot load the application')).split('\n').filter((l) => l !== '');
    assert.equal(after.length, 3, `the error, the stop and goodbye:\n${log}`);
    assert.match(after[1], /^tsgi: no application could be loaded: stopping$/);
    assert.equal(after[2], 'tsgi: goodbye');
    assert.equal(log.split('cannot load the application').length - 1, 1, `said once:\n${log}`);
    assert.doesNotMatch(log, /SIGTERM|stopped \(|stopping gracefully/, `no line for the workers' stop:\n${log}`);
    assert.doesNotMatch(log, /^tsgi: reload aborted/m);
    assert.doesNotMatch(log, /^tsgi: respawned worker/m, 'no respawn');
    assert.doesNotMatch(log, /\) ready: /, 'no worker became ready');
    assert.doesNotMatch(log, / \(at \/modules\//, "no frame of Node's internals as the place of the error");
    await assertAllGone(m);
  } finally {
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------
// SIGHUP

test('SIGHUP with a broken application: aborted, the old workers serve on, no request fails; fixed, SIGHUP reloads', T, async () => {
  let m;
  let load;
  const { dir, app } = tempApp('v1');
  try {
    m = await readyMaster(app);
    const before = m.children();
    assert.equal(before.length, 2, `two workers: ${before}`);

    breakApp(app);
    load = traffic(m.portNumber);
    await delay(200);
    let from = m.log().length;
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: SIGHUP: graceful chain reload of the workers$/m, 3000, from);
    const aborted = await m.waitLog(ABORTED, 8000, from);
    const failed = await m.waitLog(/^tsgi: worker \d+ \(pid: (\d+)\) exited before it was ready \(exit code 22\)$/m, 3000, from);
    await delay(300); // requests keep coming after the attempt
    const during = await load.stop();
    assertServedBy(during, 'v1', before, m.log());
    assert.ok(!before.includes(Number(failed[1])), 'the successor that could not load was a new process');
    assert.equal(count(m.log().slice(from), ABORTED), 1, `one abort line: ${aborted[0]}`);
    assert.doesNotMatch(m.log().slice(from), /^tsgi: chain reload done$/m, 'the reload did not complete');
    assert.doesNotMatch(aborted[0], / \(at \/modules\//, "no frame of Node's internals as the place of the error");
    await assertOldWorkersServe(m, before, 'v1');

    // The next SIGHUP tries again: still broken, still aborted.
    from = m.log().length;
    m.signal('SIGHUP');
    await m.waitLog(ABORTED, 8000, from);
    await assertOldWorkersServe(m, before, 'v1');

    // Fixed: the next SIGHUP reloads.
    writeApp(app, 'v2');
    from = m.log().length;
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: chain reload done$/m, 8000, from);
    assert.doesNotMatch(m.log().slice(from), /^tsgi: reload aborted/m);
    await assertReloaded(m, before, 'v2');
    await stopGracefully(m);
  } finally {
    await load?.stop();
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------
// --touch-reload

test('--touch-reload with a broken application: aborted, the old workers serve on; fixed and touched, reloaded', T, async () => {
  let m;
  let load;
  const { dir, app } = tempApp('v1');
  const trigger = join(dir, 'reload.touch');
  try {
    writeFileSync(trigger, '');
    touch(trigger, -60);
    m = await readyMaster(app, ['--touch-reload', trigger]);
    const before = m.children();
    assert.equal(before.length, 2);

    breakApp(app);
    load = traffic(m.portNumber);
    let from = m.log().length;
    touch(trigger, 0);
    await m.waitLog(new RegExp(`^tsgi: ${trigger.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} touched: graceful reload$`, 'm'), 3000, from);
    await m.waitLog(ABORTED, 8000, from);
    await delay(300);
    assertServedBy(await load.stop(), 'v1', before, m.log());
    await assertOldWorkersServe(m, before, 'v1');

    writeApp(app, 'v2');
    from = m.log().length;
    touch(trigger, 60);
    await m.waitLog(/^tsgi: chain reload done$/m, 8000, from);
    await assertReloaded(m, before, 'v2');
    await stopGracefully(m);
  } finally {
    await load?.stop();
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------
// --py-autoreload

test('--py-autoreload 1 in master mode: a save with a syntax error is aborted, the save that fixes it reloads', T, async () => {
  let m;
  const { dir, app } = tempApp('v1');
  try {
    m = await readyMaster(app, ['--py-autoreload', '1']);
    const before = m.children();
    await delay(300); // the watcher's baseline is taken; the next save is a change

    let from = m.log().length;
    breakApp(app);
    await m.waitLog(/^tsgi: py-autoreload: \S+app\.mjs changed: graceful chain reload$/m, 4000, from);
    await m.waitLog(ABORTED, 8000, from);
    await assertOldWorkersServe(m, before, 'v1');

    from = m.log().length;
    writeApp(app, 'v2');
    await m.waitLog(/^tsgi: chain reload done$/m, 10000, from);
    await assertReloaded(m, before, 'v2');
    await stopGracefully(m);
  } finally {
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------
// A worker that dies while the code on disk is broken

test('kill -9 of a worker while the application is broken: respawned with back-off, the master and the other worker serve on; fixed, SIGHUP brings both back', T, async () => {
  let m;
  let load;
  const { dir, app } = tempApp('v1');
  try {
    m = await readyMaster(app);
    const before = m.children();
    assert.equal(before.length, 2);
    breakApp(app);
    const [victim, survivor] = before;
    load = traffic(m.portNumber, 1);
    await delay(200);
    const from = m.log().length;
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    await m.waitLog(new RegExp(`^tsgi: DAMN ! worker \\d+ \\(pid: ${victim}\\) died, killed by signal SIGKILL`, 'm'), 2000, from);
    // A few attempts, each logged with the error and the wait before the next.
    await delay(3000);
    const oops = [...m.log().slice(from).matchAll(/^tsgi: OOPS ! worker \d+ \(pid: \d+\) cannot load the application: the application \S+app\.mjs failed to load: SyntaxError: .* :\( trying again in (\d+) ms \.\.\.$/gm)];
    const waits = oops.map((x) => Number(x[1]));
    assert.ok(waits.length >= 2, `the respawn is tried again: ${waits}; log:\n${m.log()}`);
    assert.ok(waits.length <= 6, `with back-off, not in a busy loop: ${waits.length} attempts in 3 s`);
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i] > waits[i - 1], `growing waits: ${waits}`);
    const outcomes = await load.stop();
    // The request in flight on the killed worker may fail; every one sent after is served.
    assertServedBy(outcomes.filter((o) => o.at > killedAt + 50), 'v1', [survivor], m.log());
    assert.ok(m.alive(), 'the master is alive');
    assert.ok(m.children().includes(survivor), `the other worker lives on: ${m.children()}`);

    // Fixed: a SIGHUP reloads the survivor, and the respawn waiting out its back-off
    // goes at once. The fix is written just after a failed attempt whose back-off is 4 s
    // or more, so the next attempt comes well after the reload's successor is ready, even
    // on a loaded machine (a 1 s back-off once ran out first in CI, and the respawn went by
    // its timer), and never happens to start as the file changes.
    const failedAt = m.log().length;
    await m.waitLog(/^tsgi: OOPS ! worker \d+ \(pid: \d+\) cannot load the application: .* trying again in ([4-9]\d{3}) ms \.\.\.$/m, 12000, failedAt);
    writeApp(app, 'v2');
    const fixedAt = m.log().length;
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: chain reload done$/m, 8000, fixedAt);
    await waitUntil(() => m.readyPids(fixedAt).length >= 2, 3000, 'two new workers ready').catch(() =>
      assert.fail(`ready lines after the fix: ${m.readyPids(fixedAt)}; log:\n${m.log()}`),
    );
    // At once: in the same turn as the first worker that loaded the fixed code, not when
    // the back-off (by now seconds) runs out.
    assert.match(
      m.log().slice(fixedAt),
      /^tsgi: worker \d+ \(pid: \d+\) ready: [^\n]*\ntsgi: respawned worker \d+ \(new pid: \d+\)$/m,
      `the waiting respawn goes as soon as a worker loads the fixed code; log:\n${m.log().slice(failedAt)}`,
    );
    await assertReloaded(m, [victim, survivor], 'v2');
    await stopGracefully(m);
  } finally {
    await load?.stop();
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});
