// The master and its workers, as a user runs them (test/lib/master.mjs): `node bin/tsgi.js
// --master` as a child process, HTTP on 127.0.0.1 only, real signals, real deaths. Every
// test starts its own master on an ephemeral port and ends by checking that none of its
// processes is left (isGone() of test/lib/proc.mjs says when a zombie counts as gone);
// whatever is left is killed by pid in a finally.
//
// Deaths: a worker killed with SIGKILL under load is replaced at once, harakiri kills a
// worker busy too long, the workers of a master killed with SIGKILL exit with
// --no-orphans and serve on without it, and an application that cannot load stops the
// master without a respawn loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { connect } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { get, startMaster, readyMaster, assertAllGone, killAll, stopGracefully } from '../lib/master.mjs';
import { CONNECTIONS, answeredBy, load } from '../lib/master-load.mjs';
import { isGone, describePid } from '../lib/proc.mjs';

const THROWS = join(FIXTURES, 'master', 'throws-on-load.mjs');
const SLOW_LOAD = join(FIXTURES, 'master', 'slow-load.mjs');
const T = { timeout: 30000 };

// ---------------------------------------------------------------------------------
// A worker killed with SIGKILL under load

// A worker's start under the sanitized addon (LD_PRELOAD=libasan) takes two to three
// times as long: the bound is 3 s there, 1 s otherwise.
const RESPAWN_MS = process.env.TSGI_NATIVE_ADDON?.includes('asan') ? 3000 : 1000;

test('kill -9 of a worker under load: only its in-flight requests fail, a new worker answers within 1 s (3 s under ASan)', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging']);
    const port = m.portNumber;
    const before = m.children();
    assert.equal(before.length, 2, `two workers: ${before}`);
    const running = load(port, 3);
    await delay(1000);
    const victim = before[0];
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    await m.waitLog(new RegExp(`^tsgi: DAMN ! worker \\d+ \\(pid: ${victim}\\) died, killed by signal SIGKILL`, 'm'), 1000);
    const ready = await m.waitLog(/^tsgi: worker \d+ \(pid: (\d+)\) ready: /m, RESPAWN_MS - (Date.now() - killedAt), m.log().lastIndexOf('DAMN'));
    const fresh = Number(ready[1]);
    assert.ok(!before.includes(fresh), `a new pid ${fresh}, not one of ${before}`);
    const first = await answeredBy(port, (p) => p === fresh, killedAt + RESPAWN_MS);
    const fromLoad = (await running).answers.find((a) => a.pid === fresh);
    const firstAt = Math.min(first?.at ?? Infinity, fromLoad?.at ?? Infinity);
    assert.ok(firstAt - killedAt <= RESPAWN_MS, `the new worker ${fresh} answered ${firstAt - killedAt} ms after the kill`);
    const r = await running;
    assert.equal(r.non2xx, 0, r.summary);
    // lost counts every unanswered request, the errors' included.
    assert.ok(r.errors <= CONNECTIONS && r.lost <= CONNECTIONS, `only in-flight requests fail (at most ${CONNECTIONS}): ${r.summary}`);
    assert.ok(r.received > 100, `the load was served: ${r.summary}`);
    assert.ok(!r.answers.some((a) => a.pid === victim && a.at > killedAt + 50), 'no answer from the killed worker after its death');
    const after = m.children();
    assert.equal(after.length, 2, `two workers again: ${after}`);
    assert.ok(after.includes(fresh) && !after.includes(victim), `workers ${after}`);
    assert.ok(isGone(victim, m.pid), `the killed worker is reaped: ${describePid(victim)}`);
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// harakiri

test('harakiri 2: a request busy for 10 s has its worker killed within 3 s, the client is closed, a new worker serves', T, async () => {
  let m;
  try {
    m = await readyMaster(['--harakiri', '2']);
    const port = m.portNumber;
    const before = m.children();
    const conn = connect(port);
    await withTimeout(conn.connected, 2000, 'connect');
    const sentAt = Date.now();
    await conn.write(req('GET', '/sleep?10000'));
    await conn.waitClose(3500).catch(() => assert.fail(`the connection is still open ${Date.now() - sentAt} ms after the request; log:\n${m.log()}`));
    const closedAfter = Date.now() - sentAt;
    const line = await m.waitLog(/^tsgi: \*\*\* HARAKIRI ON WORKER \d+ \(pid: (\d+)\) \*\*\* busy for ([\d.]+) s/m, 1000);
    const victim = Number(line[1]);
    assert.ok(before.includes(victim), `the harakiri'd pid ${victim} was a worker (${before})`);
    assert.ok(closedAfter >= 1900, `not killed before the 2 s of harakiri (${closedAfter} ms)`);
    assert.ok(closedAfter <= 3000, `killed within 3 s (harakiri + 1): closed after ${closedAfter} ms`);
    assert.ok(Number(line[2]) >= 2 && Number(line[2]) <= 3, `busy for ${line[2]} s`);
    assert.equal(conn.size, 0, `no response to the killed request: ${JSON.stringify(conn.text)}`);
    conn.destroy();
    await m.waitLog(new RegExp(`^tsgi: DAMN ! worker \\d+ \\(pid: ${victim}\\) died`, 'm'), 1000);
    const next = await get(port);
    assert.equal(next.status, 200);
    assert.notEqual(next.pid, victim, 'the next request is not served by the killed worker');
    const ready = await m.waitLog(/^tsgi: worker \d+ \(pid: (\d+)\) ready: /m, 2000, m.log().lastIndexOf('HARAKIRI'));
    const fresh = Number(ready[1]);
    assert.ok(!before.includes(fresh), `a new worker ${fresh}`);
    const served = await answeredBy(port, (p) => p === fresh, Date.now() + 3000);
    assert.ok(served, `the new worker ${fresh} serves requests`);
    assert.ok(isGone(victim, m.pid), `the killed worker is reaped: ${describePid(victim)}`);
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// --no-orphans

/** Kills m's master with SIGKILL and asserts that workers (its pids) exit within 2 s (--no-orphans). */
async function killMasterOrphansGone(m, workers) {
  m.stopPolling();
  process.kill(m.pid, 'SIGKILL');
  await withTimeout(m.exit, 1000, 'the killed master to be reaped');
  await waitUntil(() => workers.every((p) => isGone(p, m.pid)), 2000, 'the orphans to exit').catch(() => {
    assert.fail(`workers still alive 2 s after their master died: ${workers.filter((p) => !isGone(p, m.pid)).map(describePid)}`);
  });
}

test('--no-orphans: the workers exit within 2 s of the master dying by SIGKILL', T, async () => {
  let m;
  try {
    m = await readyMaster(['--no-orphans']);
    const workers = m.children();
    assert.equal(workers.length, 2);
    await killMasterOrphansGone(m, workers);
    await assertAllGone(m, 1);
  } finally {
    await killAll(m);
  }
});

test('--no-orphans: workers still loading the application exit within 2 s of the master dying by SIGKILL', T, async () => {
  let m;
  try {
    m = startMaster(['--no-orphans'], { app: SLOW_LOAD });
    await m.port;
    await waitUntil(() => m.children().length === 2, 5000, 'two workers spawned');
    const workers = m.children();
    await delay(500); // the workers are in the application's 3 s import
    assert.deepEqual(m.readyPids(), [], 'no worker is ready yet');
    await killMasterOrphansGone(m, workers);
    // The master is dead: its log is what the workers wrote to the pipe they inherited.
    await waitUntil(() => /worker \d \(pid: \d+\): the master died, exiting \(no-orphans\)/.test(m.log()), 2000, "a worker's no-orphans line");
    await assertAllGone(m, 1);
  } finally {
    await killAll(m);
  }
});

test('without --no-orphans: the workers outlive a master killed by SIGKILL and serve on', T, async () => {
  let m;
  try {
    m = await readyMaster([]);
    const workers = m.children();
    assert.equal(workers.length, 2);
    m.stopPolling();
    process.kill(m.pid, 'SIGKILL');
    await withTimeout(m.exit, 1000, 'the killed master to be reaped');
    await delay(500);
    for (const p of workers) assert.ok(!isGone(p, m.pid), `worker ${describePid(p)} lives on`);
    for (let i = 0; i < 4; i++) {
      const r = await get(m.portNumber);
      assert.equal(r.status, 200);
      assert.ok(workers.includes(r.pid), `served by an orphaned worker (${r.pid})`);
    }
    for (const p of workers) process.kill(p, 'SIGTERM');
    await assertAllGone(m, 3000);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// An application that cannot load

test('an application that throws at import: the master exits non-zero with the error, no respawn loop', T, async () => {
  let m;
  try {
    const started = Date.now();
    m = startMaster([], { app: THROWS });
    // The master, then a worker, start and the worker fails: 5 s, three times that where
    // each start takes as long as under the sanitized addon.
    const giveUpMs = 5000 * (RESPAWN_MS / 1000);
    const info = await withTimeout(m.exit, giveUpMs, 'the master to give up');
    const took = Date.now() - started;
    const log = m.log();
    assert.equal(info.signal, null, log);
    assert.notEqual(info.code, 0, `a non-zero exit: ${log}`);
    assert.ok(took <= giveUpMs, `within ${giveUpMs / 1000} s (${took} ms)`);
    assert.match(log, /master fixture: boom while loading/, 'the error is in the log');
    assert.match(log, /^tsgi: worker \d+ \(pid: \d+\) cannot load the application: /m);
    assert.doesNotMatch(log, /^tsgi: respawned worker/m, 'no respawn');
    assert.doesNotMatch(log, /\) ready: /, 'no worker became ready');
    assert.ok(m.pids.size <= 3, `at most a couple of spawn attempts: ${m.pids.size} worker pids (${[...m.pids]}); log:\n${log}`);
    await assertAllGone(m);
  } finally {
    await killAll(m);
  }
});
