// The master's watchdog (MasterWorkers.watch()) judging workers that serve something else at
// the same time: harakiri on the oldest request in progress while other requests start
// and end around it, and reload-on-rss on readings that belong to the process judged.
// As in the other master-*.test.mjs: `node bin/tsgi.js --master` as a child process,
// HTTP on 127.0.0.1 only, every process it had checked gone at the end (test/lib/master.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, withTimeout } from '../lib/wait.mjs';
import { connect } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { get, readyMaster, killAll, stopGracefully } from '../lib/master.mjs';
import { isGone, describePid } from '../lib/proc.mjs';

const T = { timeout: 30000 };
const HARAKIRI = 3;

// ---------------------------------------------------------------------------------
// harakiri: the oldest request in progress

/**
 * GET /ok one after another, each on a fresh connection, until stop() is called.
 * Resolves (on stop) with { ok, failed, pids }: the 200s, the requests that failed
 * (refused, reset, timed out), and the pids that answered.
 */
function okStream(port) {
  let stopped = false;
  const result = { ok: 0, failed: 0, pids: new Set() };
  const done = (async () => {
    while (!stopped) {
      try {
        const r = await get(port, '/ok', 2000);
        if (r.status === 200) {
          result.ok++;
          result.pids.add(r.pid);
        } else {
          result.failed++;
        }
      } catch {
        result.failed++;
      }
      await delay(20);
    }
    return result;
  })();
  return {
    stop() {
      stopped = true;
      return done;
    },
  };
}

for (const threads of [1, 2]) {
  test(`harakiri ${HARAKIRI}, --threads ${threads}: /hang is killed within ${HARAKIRI + 1} s while /ok requests start and end beside it; the log names /hang`, T, async () => {
    let m;
    try {
      m = await readyMaster(['--harakiri', String(HARAKIRI), '--threads', String(threads), '--disable-logging'], { processes: 1 });
      const port = m.portNumber;
      const [victim] = m.children();
      const hang = connect(port);
      await withTimeout(hang.connected, 2000, 'connect');
      const sentAt = Date.now();
      await hang.write(req('GET', '/hang'));
      await delay(100); // /hang is the oldest request in progress
      const stream = okStream(port);
      const closed = await hang.waitClose((HARAKIRI + 1) * 1000).then(
        () => Date.now() - sentAt,
        () => undefined,
      );
      const served = await stream.stop();
      assert.ok(closed !== undefined, `/hang is killed within ${HARAKIRI + 1} s: still open after ${Date.now() - sentAt} ms, ${served.ok} /ok served meanwhile; log:\n${m.log()}`);
      assert.ok(closed >= HARAKIRI * 1000 - 100, `not killed before ${HARAKIRI} s: closed after ${closed} ms`);
      assert.equal(hang.size, 0, `no response to the killed request: ${JSON.stringify(hang.text)}`);
      hang.destroy();
      const line = await m.waitLog(/^tsgi: \*\*\* HARAKIRI ON WORKER \d+ \(pid: (\d+)\) \*\*\* busy for ([\d.]+) s \(harakiri \d+\) on (.*)$/m, 1000);
      assert.equal(Number(line[1]), victim, 'the worker killed is the one that served /hang');
      assert.equal(line[3], 'GET /hang', 'the line names the request killed');
      assert.ok(Number(line[2]) >= HARAKIRI && Number(line[2]) <= HARAKIRI + 1, `/hang ran ${line[2]} s`);
      // Meanwhile the worker served /ok: about one every 20 ms for 3 s, on the same
      // worker (one process). The one in flight when the worker was killed may fail.
      assert.ok(served.ok >= 20, `/ok requests served while /hang hung: ${served.ok}`);
      assert.ok(served.pids.has(victim), `the hung worker itself served /ok: ${[...served.pids]}`);
      assert.ok(served.failed <= 1, `/ok requests failed: ${served.failed} (of ${served.ok + served.failed})`);
      assert.equal((m.log().match(/HARAKIRI ON WORKER/g) ?? []).length, 1, `one harakiri: ${m.log()}`);
      // A new worker serves.
      await m.waitLog(new RegExp(`^tsgi: DAMN ! worker \\d+ \\(pid: ${victim}\\) died`, 'm'), 1000);
      const next = await get(port, '/ok');
      assert.equal(next.status, 200);
      assert.notEqual(next.pid, victim);
      assert.ok(isGone(victim, m.pid), `the killed worker is reaped: ${describePid(victim)}`);
      await stopGracefully(m);
    } finally {
      await killAll(m);
    }
  });
}

// ---------------------------------------------------------------------------------
// reload-on-rss: a reading belongs to the process that holds the slot now

test('reload-on-rss 100 with an application that leaks 16 MB a request: each worker is recycled once, after it was ready and served', T, async () => {
  let m;
  try {
    m = await readyMaster(['--reload-on-rss', '100', '--disable-logging'], { processes: 1 });
    const port = m.portNumber;
    const RECYCLE = /^tsgi: worker \d+ \(pid: (\d+)\) rss (\d+) MB over reload-on-rss 100 MB: recycling$/gm;
    const recycled = () => [...m.log().matchAll(RECYCLE)].map((x) => Number(x[1]));
    // About 4 requests take a worker (about 50 MB at start) past 100 MB; the master
    // looks every 500 ms at a reading taken every second. Until 4 workers were recycled.
    const served = new Map(); // pid -> responses
    const until = Date.now() + 20000;
    while (recycled().length < 4 && Date.now() < until) {
      const r = await get(port, '/rss?mb=16', 5000);
      assert.equal(r.status, 200);
      served.set(r.pid, (served.get(r.pid) ?? 0) + 1);
      await delay(50);
    }
    const log = m.log();
    const pids = recycled();
    assert.ok(pids.length >= 4, `4 workers recycled within 20 s: ${pids}; log:\n${log}`);
    assert.equal(new Set(pids).size, pids.length, `each pid recycled once: ${pids}; log:\n${log}`);
    for (const pid of pids) {
      const at = log.search(new RegExp(`^tsgi: worker \\d+ \\(pid: ${pid}\\) rss \\d+ MB over reload-on-rss`, 'm'));
      const ready = log.search(new RegExp(`^tsgi: worker \\d+ \\(pid: ${pid}\\) ready: `, 'm'));
      assert.ok(ready >= 0 && ready < at, `worker ${pid} said ready before it was recycled; log:\n${log}`);
      assert.ok((served.get(pid) ?? 0) > 0, `worker ${pid} served a request before it was recycled: ${JSON.stringify([...served])}; log:\n${log}`);
    }
    assert.equal((log.match(/^tsgi: DAMN/gm) ?? []).length, 0, `recycled, not died: ${log}`);
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});
