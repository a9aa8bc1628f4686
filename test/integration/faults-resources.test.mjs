// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// The process short of resources: out of file descriptors it neither dies nor spins and
// serves again once they are freed; without its temporary directory a body past
// post-buffering gets 500 and a log line, everything else is served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { fdCount, nofileLimit, procStat } from '../lib/proc.mjs';
import { nginxLikePacket } from '../lib/uwsgi-client.mjs';
import { assertClean, assertStops, baseline, startTsgi } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, dial, exchange } from '../lib/faults-clients.mjs';
import { chunked, mulberry32 } from '../lib/fuzz.mjs';

test('out of file descriptors: the server neither dies nor spins, and serves again once they are freed', { timeout: 20000 }, async (t) => {
  const LIMIT = 64;
  const srv = await startTsgi(t, ['--http-timeout', '3'], { nofile: LIMIT });
  assert.equal(nofileLimit(srv.pid), LIMIT);
  const base = await baseline(srv);
  const conns = Array.from({ length: LIMIT + 40 }, () => dial(HTTP(srv)));
  await withTimeout(Promise.allSettled(conns.map((c) => c.connected)), 5000, 'connections');
  await delay(500);
  const fdsFull = fdCount(srv.pid);
  const cpu = () => {
    return procStat(srv.pid).ticks; // utime + stime, in clock ticks (100 Hz)
  };
  const cpu0 = cpu();
  await delay(1000);
  const ticks = cpu() - cpu0;
  const dropped = conns.filter((c) => c.ended).length;
  const logged = srv.tail.split('\n').filter((l) => /^tsgi: accept\(\) on socket \d+: Too many open files \(EMFILE\): \d+ connections? refused/.test(l));
  t.diagnostic(`fd limit ${LIMIT}: ${fdsFull} fds open, ${dropped} of ${conns.length} connections closed by the server, ${ticks} CPU ticks in 1 s while out of fds; logged: ${logged.join(' / ')}`);
  assert.equal(srv.exit, undefined, `the server died: ${JSON.stringify(srv.exit)}:\n${srv.tail}`);
  assert.ok(ticks < 30, `no busy loop while out of fds (${ticks} ticks of CPU in 1 s)`);
  // Rate-limited to a line a second (test/integration/accept-limits.test.mjs holds the counts to the clients').
  assert.ok(logged.length >= 1 && logged.length <= 3, `the refusals are logged, a line a second at most:\n${srv.tail}`);
  for (const c of conns) c.socket.destroy();
  await assertClean(srv, base, 'after the fds were freed');
  await assertStops(srv);
});

test('the temporary directory is missing: a body past post-buffering gets 500 and a log line; everything else is served', { timeout: 20000 }, async (t) => {
  const srv = await startTsgi(t, ['--post-buffering', '1024'], { env: { TMPDIR: '/nonexistent/tsgi-faults' } });
  const base = await baseline(srv);
  const big = 'x'.repeat(2000);
  const cases = [
    ['Content-Length past post-buffering', HTTP(srv), `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\n\r\n${big}`, 500],
    ['chunked past post-buffering', HTTP(srv), `POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(mulberry32(1), big)}`, 500],
    ['uwsgi past post-buffering', UWSGI(srv), nginxLikePacket('POST', '/echo', Buffer.from(big)), 500],
    ['a body under post-buffering', HTTP(srv), `POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 500\r\nConnection: close\r\n\r\n${'y'.repeat(500)}`, 200],
  ];
  for (const [name, target, bytes, status] of cases) {
    const before = srv.counts.refusedHttp;
    const r = await exchange(target, Buffer.from(bytes, 'latin1'), 3000);
    assert.equal(r.status, status, name);
    if (status === 500) await waitUntil(() => srv.counts.refusedHttp === before + 1, 2000, `${name}: a "refused 500" log line`);
  }
  const lines = srv.tail.split('\n').filter((l) => l.includes('refused 500'));
  t.diagnostic(`the log says: ${lines[0]}`);
  // Each says which call failed, in which directory, and why (the errno's text and name).
  assert.equal(lines.length, 3);
  for (const l of lines) {
    assert.match(l, /\] refused 500 Internal Server Error: cannot buffer the request body: open\(O_TMPFILE\) in \/nonexistent\/tsgi-faults: No such file or directory \(ENOENT\)$/);
  }
  await assertClean(srv, base, 'with no temporary directory');
  await assertStops(srv);
});
