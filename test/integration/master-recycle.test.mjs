// The master and its workers, as a user runs them (test/lib/master.mjs): `node bin/tsgi.js
// --master` as a child process, HTTP on 127.0.0.1 only, real signals, real deaths. Every
// test starts its own master on an ephemeral port and ends by checking that none of its
// processes is left (isGone() of test/lib/proc.mjs says when a zombie counts as gone);
// whatever is left is killed by pid in a finally.
//
// Recycling: max-requests under load and as the last request begins, reload-on-rss; a
// worker whose process.exit() never returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, waitUntil } from '../lib/wait.mjs';
import { join } from 'node:path';
import { count, get, readyMaster, killAll, stopGracefully } from '../lib/master.mjs';
import { FIXTURES } from '../lib/project.mjs';
import { CONNECTIONS, load, assertClean } from '../lib/master-load.mjs';
import { isGone, describePid } from '../lib/proc.mjs';

const T = { timeout: 30000 };

// ---------------------------------------------------------------------------------
// max-requests

test('max-requests 50 under load: workers recycle, no error, no non-2xx', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging', '--max-requests', '50']);
    const port = m.portNumber;
    const r = await load(port, 3);
    const recycles = count(m.log(), /^tsgi: worker \d+ \(pid: \d+\) recycling: max-requests 50 reached$/gm);
    const answering = new Set(r.answers.map((a) => a.pid));
    assert.ok(recycles >= 3, `several recycles (${recycles}) in ${r.received} responses`);
    assert.ok(answering.size > 2, `more distinct pids answered (${answering.size}) than there are workers`);
    // A recycled worker stops accepting as its 50th request begins, and every response
    // from then on says "Connection: close": each of its other connections (at most
    // CONNECTIONS - 1) is served at most the one request already on its way, and none
    // is accepted after. A worker that went on accepting until its 50th request ended
    // served here up to 110.
    const perPid = new Map();
    for (const a of r.answers) perPid.set(a.pid, (perPid.get(a.pid) ?? 0) + 1);
    const most = Math.max(...perPid.values());
    assert.ok(most <= 50 + CONNECTIONS - 1, `at most 50 + ${CONNECTIONS - 1} requests per worker: ${JSON.stringify([...perPid])}`);
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0, `no worker died: ${m.log()}`);
    await waitUntil(() => m.children().length === 2, 3000, 'two workers after the load').catch(() => assert.fail(`workers: ${m.children()}; log:\n${m.log()}`));
    await stopGracefully(m);
    // Last, so that a failure here comes after everything else was checked.
    assertClean(r);
  } finally {
    await killAll(m);
  }
});

test('max-requests 8: the worker stops accepting as its 8th request begins; connections made while it runs go to its successor', T, async () => {
  let m;
  try {
    m = await readyMaster(['--max-requests', '8', '--disable-logging'], { processes: 1 });
    const port = m.portNumber;
    const before = [];
    for (let i = 0; i < 7; i++) before.push((await get(port)).pid);
    const old = before[0];
    assert.ok(before.every((p) => p === old), `one worker: ${before}`);
    const eighth = get(port, '/sleep?1500', 5000);
    await delay(300); // the 8th request is in progress
    const during = await Promise.all(Array.from({ length: 5 }, () => get(port, '/', 5000)));
    const late = await eighth;
    assert.equal(late.status, 200);
    assert.equal(late.pid, old, 'the 8th request is served by the worker it reached');
    assert.ok(during.every((r) => r.status === 200 && r.pid !== old), `the requests made during the 8th go to another worker than ${old}: ${during.map((r) => r.pid)}`);
    assert.equal(count(m.log(), /recycling: max-requests 8 reached$/gm), 1, m.log());
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// reload-on-rss

test('reload-on-rss 150: a worker that grows past it is replaced, the service goes on', T, async () => {
  let m;
  try {
    m = await readyMaster(['--reload-on-rss', '150']);
    const port = m.portNumber;
    const before = m.children();
    const grown = await get(port, '/rss?mb=200');
    assert.equal(grown.status, 200);
    const victim = grown.pid;
    const line = await m.waitLog(/^tsgi: worker \d+ \(pid: (\d+)\) rss (\d+) MB over reload-on-rss 150 MB: recycling$/m, 3000);
    assert.equal(Number(line[1]), victim, 'the worker that grew is recycled');
    assert.ok(Number(line[2]) > 150);
    await waitUntil(() => isGone(victim, m.pid), 3000, 'the grown worker to exit').catch(() => assert.fail(`still there: ${describePid(victim)}; log:\n${m.log()}`));
    await waitUntil(() => m.children().length === 2 && m.readyPids().length >= 3, 3000, 'its successor').catch(() => assert.fail(`workers ${m.children()}; log:\n${m.log()}`));
    const after = m.children();
    assert.ok(!after.includes(victim) && after.some((p) => !before.includes(p)), `a successor: ${before} -> ${after}`);
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0, 'recycled, not died');
    for (let i = 0; i < 4; i++) assert.ok(after.includes((await get(port)).pid));
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// A worker that hangs in process.exit()

test('a worker that hangs in process.exit() is killed 3 s after its stop is done: a recycle and the master\'s stop each count it stopped', T, async () => {
  let m;
  try {
    m = await readyMaster(['--max-requests', '1'], { app: join(FIXTURES, 'master', 'hangs-at-exit.mjs'), processes: 1 });
    const port = m.portNumber;
    const first = await get(port);
    assert.equal(first.status, 200);
    const recycled = await m.waitLog(/^tsgi: worker 1 \(pid: (\d+)\) recycling: max-requests 1 reached$/m, 3000);
    assert.equal(Number(recycled[1]), first.pid);
    const from = recycled.index;
    const killed = await m.waitLog(/^tsgi: worker 1 \(pid: (\d+)\) stopped but has not exited 3 s later: killing it$/m, 6000, from);
    assert.equal(Number(killed[1]), first.pid);
    await m.waitLog(new RegExp(`^tsgi: worker 1 \\(pid: ${first.pid}\\) stopped \\(killed by signal SIGKILL\\)$`, 'm'), 2000, from);
    await waitUntil(() => isGone(first.pid, m.pid), 2000, 'the hung worker to be reaped').catch(() => assert.fail(`still there: ${describePid(first.pid)}`));
    const next = await get(port);
    assert.equal(next.status, 200);
    assert.notEqual(next.pid, first.pid, 'its successor serves');
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0, `a stop, not a death: ${m.log()}`);
    // That answer recycled the successor too: wait for it, so the stop finds one worker.
    await m.waitLog(new RegExp(`^tsgi: worker 1 \\(pid: ${next.pid}\\) stopped but has not exited`, 'm'), 6000, from);
    await waitUntil(() => m.readyPids(from).length >= 2, 5000, 'a third worker').catch(() => assert.fail(m.log()));
    // The master's own stop: the last worker hangs too, and is killed 3 s after its
    // close, well before reload-mercy's 60 s; the master exits 0.
    const stopAt = m.log().length;
    await stopGracefully(m, 8000);
    assert.match(m.log().slice(stopAt), /^tsgi: worker 1 \(pid: \d+\) stopped but has not exited 3 s later: killing it$/m);
  } finally {
    await killAll(m);
  }
});

test('a worker stopped by a SIGTERM of its own that hangs in process.exit() is killed 3 s after its channel closes, and respawned', T, async () => {
  let m;
  try {
    m = await readyMaster([], { app: join(FIXTURES, 'master', 'hangs-at-exit.mjs'), processes: 1 });
    const [victim] = m.children();
    const from = m.log().length;
    process.kill(victim, 'SIGTERM');
    await m.waitLog(new RegExp(`^tsgi: worker 1 \\(pid: ${victim}\\) closed its channel but has not exited 3 s later: killing it$`, 'm'), 6000, from);
    await waitUntil(() => isGone(victim, m.pid), 2000, 'the hung worker to be reaped').catch(() => assert.fail(`still there: ${describePid(victim)}`));
    await waitUntil(() => m.readyPids(from).length >= 1, 5000, 'its successor').catch(() => assert.fail(m.log()));
    const next = await get(m.portNumber);
    assert.equal(next.status, 200);
    assert.notEqual(next.pid, victim);
  } finally {
    await killAll(m);
  }
});

test('max-requests 1 with its request hanging: the recycled worker is killed after worker-reload-mercy 2, the client is closed, the successor serves', T, async () => {
  let m;
  try {
    m = await readyMaster(['--max-requests', '1', '--worker-reload-mercy', '2'], { processes: 1 });
    const port = m.portNumber;
    const [old] = m.children();
    const started = Date.now();
    const hung = get(port, '/hang', 10000).then(
      (r) => ({ answered: r.status }),
      (err) => ({ error: err.code ?? err.message, ms: Date.now() - started }),
    );
    await m.waitLog(/recycling: max-requests 1 reached$/m, 3000);
    await m.waitLog(new RegExp(`^tsgi: worker 1 \\(pid: ${old}\\) still busy after 2 s of mercy: killing it$`, 'm'), 4000);
    await m.waitLog(new RegExp(`^tsgi: worker 1 \\(pid: ${old}\\) stopped \\(killed by signal SIGKILL\\)$`, 'm'), 2000);
    const r = await hung;
    assert.equal(r.answered, undefined, `the hung request is cut, not answered: ${JSON.stringify(r)}`);
    assert.ok(r.ms < 5000, `the client is closed with the worker, not at its own timeout: ${JSON.stringify(r)}`);
    const next = await get(port);
    assert.equal(next.status, 200);
    assert.notEqual(next.pid, old);
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0, `a stop, not a death: ${m.log()}`);
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});
