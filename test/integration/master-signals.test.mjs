// The master and its workers, as a user runs them (test/lib/master.mjs): `node bin/tsgi.js
// --master` as a child process, HTTP on 127.0.0.1 only, real signals, real deaths. Every
// test starts its own master on an ephemeral port and ends by checking that none of its
// processes is left (isGone() of test/lib/proc.mjs says when a zombie counts as gone);
// whatever is left is killed by pid in a finally.
//
// The master's signals: SIGTERM (a graceful stop, with reload-mercy), SIGQUIT, SIGTTIN
// and SIGTTOU (one worker more or less, also during a chain reload), SIGUSR1 (stats).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { connect } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { count, get, readyMaster, assertAllGone, killAll, stopGracefully } from '../lib/master.mjs';
import { isGone, describePid } from '../lib/proc.mjs';

const T = { timeout: 30000 };

// ---------------------------------------------------------------------------------
// SIGTERM: a graceful stop

test('SIGTERM with slow requests in flight: both complete with 200, then the master exits 0', T, async () => {
  let m;
  try {
    m = await readyMaster([]);
    const port = m.portNumber;
    const slow = [get(port, '/sleep?1500', 5000), get(port, '/sleep?1500', 5000)];
    await delay(200);
    const termAt = Date.now();
    m.signal('SIGTERM');
    const rs = await Promise.allSettled(slow);
    for (const x of rs) {
      assert.equal(x.status, 'fulfilled', `a slow request in flight completes: ${x.reason}; log:\n${m.log()}`);
      assert.equal(x.value.status, 200);
    }
    const info = await withTimeout(m.exit, 4000, 'the master to exit after SIGTERM');
    assert.deepEqual(info, { code: 0, signal: null }, m.log());
    const took = Date.now() - termAt;
    assert.ok(took >= 1000, `the master waited for the requests (${took} ms)`);
    assert.ok(took <= 4000, `and exited within a few seconds (${took} ms)`);
    assert.match(m.log(), /^tsgi: stopping gracefully/m);
    assert.match(m.log(), /^tsgi: goodbye$/m);
    await assertAllGone(m);
  } finally {
    await killAll(m);
  }
});

test('SIGTERM with --reload-mercy 1 and a 10 s request: the worker is killed after about 1 s, the master exits', T, async () => {
  let m;
  try {
    m = await readyMaster(['--reload-mercy', '1']);
    const port = m.portNumber;
    const conn = connect(port);
    await withTimeout(conn.connected, 2000, 'connect');
    await conn.write(req('GET', '/sleep?10000'));
    await delay(200);
    const termAt = Date.now();
    m.signal('SIGTERM');
    const info = await withTimeout(m.exit, 4000, 'the master to exit after SIGTERM and the mercy');
    const took = Date.now() - termAt;
    assert.equal(info.signal, null, m.log());
    assert.equal(info.code, 0, m.log());
    assert.ok(took >= 900, `the worker had its mercy (${took} ms)`);
    assert.ok(took <= 2500, `killed after about 1 s (${took} ms)`);
    assert.match(m.log(), /^tsgi: worker \d+ \(pid: \d+\) still busy after 1 s of mercy: killing it$/m);
    await conn.waitClose(1000);
    assert.equal(conn.size, 0, 'no response to the killed request');
    await assertAllGone(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// SIGQUIT

test('SIGQUIT: the master and its workers are gone within 1 s', T, async () => {
  let m;
  try {
    m = await readyMaster([]);
    const workers = m.children();
    assert.equal(workers.length, 2);
    // A request in progress does not hold a SIGQUIT.
    const slow = get(m.portNumber, '/sleep?10000', 3000).catch((err) => err);
    await delay(100);
    const quitAt = Date.now();
    m.signal('SIGQUIT');
    await withTimeout(m.exit, 1000, 'the master to exit after SIGQUIT');
    await assertAllGone(m, Math.max(1, 1000 - (Date.now() - quitAt)));
    assert.ok((await slow) instanceof Error, 'the request in progress got no response');
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// SIGTTIN / SIGTTOU

test('SIGTTIN adds a worker, SIGTTOU removes one: 2 -> 3 -> 2', T, async () => {
  let m;
  try {
    m = await readyMaster([]);
    assert.equal(m.children().length, 2);
    m.signal('SIGTTIN');
    await m.waitReady(3, 3000);
    await waitUntil(() => m.children().length === 3, 2000, 'three workers').catch(() => assert.fail(`workers: ${m.children()}`));
    const three = m.children();
    m.signal('SIGTTOU');
    await waitUntil(() => m.children().length === 2, 3000, 'two workers').catch(() => assert.fail(`workers: ${m.children()}; log:\n${m.log()}`));
    const two = m.children();
    const removed = three.filter((p) => !two.includes(p));
    assert.equal(removed.length, 1, `one worker removed: ${three} -> ${two}`);
    assert.ok(isGone(removed[0], m.pid), `the removed worker is reaped: ${describePid(removed[0])}`);
    // It stays at two: the removed worker is not respawned.
    await delay(700);
    assert.deepEqual(m.children(), two, `still two workers; log:\n${m.log()}`);
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0);
    for (let i = 0; i < 4; i++) assert.ok(two.includes((await get(m.portNumber)).pid));
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

test('SIGTTOU during a chain reload: the worker it removes gets no successor, and the count stays as asked', T, async () => {
  let m;
  const pending = [];
  try {
    m = await readyMaster([], { processes: 3 });
    // Requests that keep every worker busy for a while, so that the one SIGTTOU removes
    // is still draining when the reload reaches it.
    for (let i = 0; i < 30; i++) pending.push(get(m.portNumber, '/sleep?2500').catch(() => undefined));
    await delay(300);
    m.signal('SIGHUP');
    await delay(50);
    m.signal('SIGTTOU');
    await m.waitLog(/^tsgi: chain reload done$/m, 15000);
    // Once the old workers have drained and gone: two, as SIGTTOU asked.
    await Promise.all(pending);
    await waitUntil(() => m.children().length <= 2, 5000, 'the old workers to go').catch(() => {});
    await delay(700);
    assert.equal(m.children().length, 2, `two workers after SIGTTOU: ${m.children()}; log:\n${m.log()}`);
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// SIGUSR1

test('SIGUSR1: a stats line per worker; their request counts add up to the requests sent', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging']);
    const workers = m.children();
    for (let i = 0; i < 20; i++) assert.equal((await get(m.portNumber)).status, 200);
    const from = m.log().length;
    m.signal('SIGUSR1');
    const head = await m.waitLog(/^tsgi: stats: master pid (\d+), (\d+) workers, listen_queue_errors (\d+)$/m, 2000, from);
    assert.equal(Number(head[1]), m.pid);
    assert.equal(Number(head[2]), 2);
    await waitUntil(() => count(m.log().slice(from), /^tsgi: worker \d+ pid \d+ requests \d+ .*\n/gm) >= 2, 2000, 'two stats lines');
    const lines = [...m.log().slice(from).matchAll(/^tsgi: worker (\d+) pid (\d+) requests (\d+) exceptions (\d+) .*$/gm)];
    assert.equal(lines.length, 2, `one line per worker: ${m.log().slice(from)}`);
    assert.deepEqual(lines.map((l) => Number(l[2])).sort((a, b) => a - b), workers, 'the lines name the workers');
    const total = lines.reduce((a, l) => a + Number(l[3]), 0);
    assert.equal(total, 20, `the requests add up to 20: ${m.log().slice(from)}`);
    for (const l of lines) assert.equal(Number(l[4]), 0, 'no exception');
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});
