// The master and its workers, as a user runs them (test/lib/master.mjs): `node bin/tsgi.js
// --master` as a child process, HTTP on 127.0.0.1 only, real signals, real deaths. Every
// test starts its own master on an ephemeral port and ends by checking that none of its
// processes is left (isGone() of test/lib/proc.mjs says when a zombie counts as gone);
// whatever is left is killed by pid in a finally.
//
// Reloads: SIGHUP under load is a chain reload that loses nothing, a request already
// sent on a kept-alive connection is answered, and --pidfile with --reload PIDFILE and
// --stop PIDFILE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { connect } from '../lib/raw-client.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { req } from '../lib/http-wire.mjs';
import { count, get, readyMaster, assertAllGone, killAll, stopGracefully } from '../lib/master.mjs';
import { load, assertClean } from '../lib/master-load.mjs';
import { isGone, describePid } from '../lib/proc.mjs';

const T = { timeout: 30000 };

// ---------------------------------------------------------------------------------
// SIGHUP under load

test('SIGHUP under load: a chain reload with no error, no non-2xx, no timeout; every worker pid changes', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging']);
    const port = m.portNumber;
    const before = m.children();
    assert.equal(before.length, 2);
    const running = load(port, 4);
    await delay(1000);
    const hupAt = Date.now();
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: chain reload done$/m, 5000);
    const r = await running;
    const answeredBefore = new Set(r.answers.filter((a) => a.at < hupAt).map((a) => a.pid));
    for (const p of answeredBefore) assert.ok(before.includes(p), `pid ${p} answered before the reload and is one of ${before}`);
    // The old workers finish their requests and go.
    await waitUntil(() => before.every((p) => isGone(p, m.pid)), 3000, 'the old workers to exit').catch(() => {
      assert.fail(`old workers left after the reload and the load: ${before.filter((p) => !isGone(p, m.pid)).map(describePid)}; log:\n${m.log()}`);
    });
    const after = m.children();
    assert.equal(after.length, 2, `two workers after the reload: ${after}`);
    for (const p of after) assert.ok(!before.includes(p), `every worker pid changed: before ${before}, after ${after}`);
    const answeredAfter = new Set();
    for (let i = 0; i < 10; i++) answeredAfter.add((await get(port)).pid);
    for (const p of answeredAfter) assert.ok(after.includes(p) && !before.includes(p), `pid ${p} answered after the reload: one of ${after}`);
    assert.equal(count(m.log(), /^tsgi: DAMN/gm), 0, 'no worker died');
    await stopGracefully(m);
    // Last, so that a failure here comes after everything else was checked.
    assertClean(r);
  } finally {
    await killAll(m);
  }
});

/** Reads one response from conn (connect() of ../lib/raw-client.mjs): { status, headers (lower-case text), body }. */
async function readResponse(conn, from = 0, ms = 3000) {
  const data = await conn.waitFor((d) => {
    const head = d.indexOf('\r\n\r\n', from, 'latin1');
    if (head === -1) return false;
    const cl = /\r\ncontent-length: *(\d+)/i.exec(d.subarray(from, head).toString('latin1'));
    return cl !== null && d.length >= head + 4 + Number(cl[1]);
  }, ms, 'a complete response');
  const head = data.indexOf('\r\n\r\n', from, 'latin1');
  const headText = data.subarray(from, head).toString('latin1');
  const cl = Number(/\r\ncontent-length: *(\d+)/i.exec(headText)[1]);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1]),
    head: headText.toLowerCase(),
    body: data.subarray(head + 4, head + 4 + cl).toString('latin1'),
    end: head + 4 + cl,
  };
}

// The race of the test above made deterministic: the worker is stopped (SIGSTOP) while the
// master's order to stop and then the client's next request wait in its sockets. When
// it runs again it reads the order first, closes, and the request already sent on its
// keep-alive connection must still be answered (with Connection: close), not reset.
test('chain reload: a request already sent on an idle keep-alive connection is answered, not reset', T, async () => {
  let m;
  let stopped;
  try {
    m = await readyMaster([]);
    const conn = connect(m.portNumber);
    await withTimeout(conn.connected, 2000, 'connect');
    await conn.write(req('GET', '/?first'));
    const first = await readResponse(conn);
    assert.equal(first.status, 200);
    assert.doesNotMatch(first.head, /connection: close/, 'a keep-alive connection');
    const worker = Number.parseInt(first.body, 10);
    process.kill(worker, 'SIGSTOP');
    stopped = worker;
    const from = m.log().length;
    m.signal('SIGHUP');
    // Both successors are ready: the stopped worker has been asked to stop (the reload is
    // done only when it has exited, after SIGCONT).
    await waitUntil(() => (m.log().slice(from).match(/^tsgi: worker \d+ \(pid: \d+\) ready: /gm) ?? []).length === 2, 5000, 'both successors');
    await delay(100); // the order to stop is in the stopped worker's IPC channel
    await conn.write(req('GET', '/?second'));
    await delay(100); // and the second request in its connection, behind it
    process.kill(worker, 'SIGCONT');
    stopped = undefined;
    await conn.waitClose(3000);
    const second = await readResponse(conn, first.end, 1).catch(() => undefined);
    assert.ok(
      second !== undefined,
      `the request sent before the worker read its order to stop gets a response; got ${JSON.stringify(conn.text.slice(first.end))}, ` +
        `connection error: ${conn.error?.code ?? 'none'}`,
    );
    assert.equal(second.status, 200);
    assert.match(second.head, /connection: close/);
    await waitUntil(() => isGone(worker, m.pid), 3000, 'the old worker to exit');
    await stopGracefully(m);
  } finally {
    if (stopped !== undefined) {
      try {
        process.kill(stopped, 'SIGCONT');
      } catch {
        // gone
      }
    }
    await killAll(m);
  }
});

// ---------------------------------------------------------------------------------
// --pidfile, --stop and --reload

/** Runs `node bin/tsgi.js ...args` to its end (5 s at most): { code, signal, stderr }. */
async function runCli(args) {
  const cli = spawnCli(args);
  try {
    const { code, signal } = await cli.waitExit(5000);
    return { code, signal, stderr: cli.stderrText() };
  } finally {
    await cli.kill();
  }
}

test('--pidfile, then --reload PIDFILE (a chain reload) and --stop PIDFILE (exit 0, the master stops)', T, async () => {
  let m;
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-master-'));
  try {
    const pidfile = join(dir, 'master.pid');
    m = await readyMaster(['--pidfile', pidfile]);
    assert.equal(readFileSync(pidfile, 'utf8'), `${m.pid}\n`);
    const before = m.children();
    const reload = await runCli(['--reload', pidfile]);
    assert.deepEqual([reload.code, reload.signal, reload.stderr], [0, null, '']);
    await m.waitLog(/^tsgi: SIGHUP: graceful chain reload of the workers$/m, 2000);
    await m.waitLog(/^tsgi: chain reload done$/m, 5000);
    await waitUntil(() => before.every((p) => isGone(p, m.pid)), 3000, 'the old workers to exit').catch(() => {
      assert.fail(`old workers left: ${before.filter((p) => !isGone(p, m.pid)).map(describePid)}; log:\n${m.log()}`);
    });
    const after = m.children();
    assert.equal(after.length, 2);
    for (const p of after) assert.ok(!before.includes(p), `new workers: ${before} -> ${after}`);
    assert.ok(after.includes((await get(m.portNumber)).pid));
    const stop = await runCli(['--stop', pidfile]);
    assert.deepEqual([stop.code, stop.signal, stop.stderr], [0, null, '']);
    const info = await withTimeout(m.exit, 5000, 'the master to exit after --stop');
    assert.deepEqual(info, { code: 0, signal: null }, m.log());
    await assertAllGone(m);
    // A pidfile whose master is gone: --stop says so and exits 1.
    const stale = await runCli(['--stop', pidfile]);
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /^tsgi: cannot signal pid \d+ from .*: ESRCH$/m);
  } finally {
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});
