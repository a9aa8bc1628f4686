// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// Slow clients: slowloris (a head a byte at a time) gets 408, a slow reader of a large
// response is cut off after http-timeout, and a client that pipelines requests and never
// reads the answers is no longer read, costs bounded memory and is cut off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { fdCount } from '../lib/proc.mjs';
import { nginxLikePacket } from '../lib/uwsgi-client.mjs';
import { SANITIZED, assertClean, assertStops, baseline, rssKiB, startTsgi, waitLog } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, dial, prober } from '../lib/faults-clients.mjs';

test('slowloris: 200 connections trickling a head byte per 200 ms get 408 (or a close) 2-4 s after their first byte; others are served throughout', { timeout: 30000 }, async (t) => {
  const srv = await startTsgi(t, ['--http-timeout', '2']);
  const base = await baseline(srv);
  const N = 200;
  const head = Buffer.from(`GET /slow-loris HTTP/1.1\r\nHost: a\r\nUser-Agent: ${'s'.repeat(200)}\r\n\r\n`);
  const conns = [];
  for (let i = 0; i < N; i++) conns.push(dial(HTTP(srv)));
  await withTimeout(Promise.all(conns.map((c) => c.connected)), 5000, `${N} connections`);
  await waitUntil(() => fdCount(srv.pid) >= base + N, 3000, 'the server to accept them all');
  const probes = prober(srv, 100);
  for (const c of conns) {
    c.sent = 0;
    c.firstByteAt = undefined;
  }
  // One byte per connection per 200 ms, until the server answers or closes.
  const started = Date.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      let active = 0;
      for (const c of conns) {
        if (c.ended || c.size > 0 || c.sent >= head.length) continue;
        active++;
        if (c.firstByteAt === undefined) c.firstByteAt = Date.now();
        c.socket.write(head.subarray(c.sent, c.sent + 1));
        c.sent++;
      }
      if (active === 0 || Date.now() - started > 8000) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
  });
  await waitUntil(() => conns.every((c) => c.ended), 4000, 'the server to close every slow connection').catch(() => {});
  const probed = await probes.stop();
  const late = [];
  const statuses = {};
  const waits = [];
  for (const c of conns) {
    const answerAt = c.firstDataAt ?? c.closedAt;
    const text = c.data.toString('latin1');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? (c.ended ? 'closed' : 'open');
    statuses[status] = (statuses[status] ?? 0) + 1;
    const waited = answerAt === undefined ? Infinity : answerAt - c.firstByteAt;
    waits.push(waited);
    if (!(waited >= 1800 && waited <= 4000)) late.push(`${status} after ${waited} ms (${c.sent} bytes sent)`);
    c.socket.destroy();
  }
  waits.sort((a, b) => a - b);
  t.diagnostic(`slowloris: ${JSON.stringify(statuses)}; first byte to answer: min ${waits[0]} ms, median ${waits[N >> 1]} ms, max ${waits[N - 1]} ms; ${probed.count} probes, slowest ${probed.maxMs} ms; ${srv.counts.refusedHttp} "refused" lines`);
  assert.deepEqual(probed.failures, [], 'a normal client is served throughout');
  assert.ok(probed.maxMs < 1000, `probes stay fast (slowest ${probed.maxMs} ms)`);
  assert.deepEqual(late, [], 'every slow connection gets its 408 or close 2-4 s after its first byte');
  assert.equal(statuses['408'], N, `every slow connection gets a 408: ${JSON.stringify(statuses)}`);
  await delay(200);
  assert.equal(srv.counts.refusedHttp, N, 'one "refused 408" log line each');
  const fds = await assertClean(srv, base, 'after slowloris');
  t.diagnostic(`fds: baseline ${base}, with ${N} slow connections ${base + N}+, after ${fds}`);

  // Slow readers: a large streamed response that the client stops reading is cut off
  // after http-timeout (write stall), and the application hears of it.
  const readers = [];
  for (let i = 0; i < 10; i++) {
    const proto = i % 2 ? 'uwsgi' : 'http';
    const tag = `slowread-${proto}-${i}`;
    const c = dial(proto === 'http' ? HTTP(srv) : UWSGI(srv));
    c.socket.pause(); // reads nothing
    await c.connected;
    await c.send(proto === 'http' ? `GET /big?tag=${tag}&kib=1048576 HTTP/1.1\r\nHost: a\r\n\r\n` : nginxLikePacket('GET', `/big?tag=${tag}&kib=1048576`));
    readers.push({ c, tag });
  }
  const readStart = Date.now();
  await waitLog(srv, readers.flatMap(({ tag }) => [`abort ${tag}`, new RegExp(`^close ${tag} sent=\\d+$`, 'm')]), 6000);
  const cutAfter = Date.now() - readStart;
  t.diagnostic(`10 slow readers (http and uwsgi) cut off ${cutAfter} ms after their request`);
  assert.ok(cutAfter >= 1500, `not before http-timeout (${cutAfter} ms)`);
  for (const { c } of readers) c.socket.destroy();
  await assertClean(srv, base, 'after the slow readers');
  await assertStops(srv);
});

test('a client that pipelines requests and never reads the answers: the server stops reading it, its memory stays bounded, and it is cut off after http-timeout', { timeout: 30000 }, async (t) => {
  const srv = await startTsgi(t, ['--http-timeout', '2', '--disable-logging']);
  const base = await baseline(srv);
  const rss0 = rssKiB(srv.pid);
  const probes = prober(srv, 100);
  const c = dial(HTTP(srv));
  await c.connected;
  c.socket.pause(); // never reads
  const chunk = Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(2000)); // 54 KB, 2000 requests
  const started = Date.now();
  let sent = 0;
  let maxRss = rss0;
  let gaveUp = '';
  while (!c.ended && c.error === undefined) {
    maxRss = Math.max(maxRss, rssKiB(srv.pid));
    if (Date.now() - started > 8000) {
      gaveUp = 'still connected after 8 s';
      break;
    }
    if (maxRss - rss0 > (SANITIZED ? 512 : 192) * 1024) {
      // Already failed: stop before the server eats the machine's memory.
      gaveUp = `stopped after ${Date.now() - started} ms: the server's RSS grew by ${maxRss - rss0} KiB`;
      break;
    }
    if (c.socket.writableNeedDrain) {
      // Whichever comes first; the listener goes either way (ten left waiting made Node warn).
      let onDrain;
      await Promise.race([new Promise((r) => c.socket.once('drain', (onDrain = r))), delay(100)]);
      c.socket.off('drain', onDrain);
      continue;
    }
    c.socket.write(chunk);
    sent += chunk.length;
    await delay(1); // let the loop breathe
  }
  const cutAfter = gaveUp ? undefined : Date.now() - started;
  c.socket.destroy();
  const probed = await probes.stop();
  const growth = maxRss - rss0;
  t.diagnostic(`pipelining without reading: ${(sent / 1048576).toFixed(1)} MiB sent (${Math.round(sent / 27)} requests); server RSS ${rss0} KiB -> max ${maxRss} KiB (+${growth} KiB); ${cutAfter === undefined ? gaveUp : `cut off after ${cutAfter} ms`}`);
  const problems = [];
  if (srv.exit !== undefined) problems.push(`the server died: ${JSON.stringify(srv.exit)}`);
  // What the server read is the direct measure: the client writes only as fast as the
  // server reads, so a server that stopped reading leaves it a few MiB sent (4.6-5.6 MiB
  // seen), one that did not, all it could write in 8 s. RSS is the second: the answers
  // made before the output blocked are garbage, and the heap's growth under that burst
  // is V8's (+18 MiB on Node 20; +50 to +70 MiB on Node 24, whose heap sizing differs,
  // with the same addon and the same requests), hence the larger bound from Node 22 on.
  const rssLimitMiB = Number(process.versions.node.split('.')[0]) >= 22 ? 128 : 64;
  if (sent >= 32 * 1048576) problems.push(`the server read ${(sent / 1048576).toFixed(1)} MiB from a client that does not read (limit 32 MiB)`);
  if (growth >= rssLimitMiB * 1024 && !SANITIZED) problems.push(`the server's RSS grew by ${growth} KiB (limit ${rssLimitMiB} MiB) for one client that does not read`);
  if (cutAfter === undefined || cutAfter > 6000) problems.push(`the client was not cut off within 6 s (${gaveUp || `${cutAfter} ms`})`);
  problems.push(...probed.failures);
  assert.deepEqual(problems, [], 'a client that does not read costs bounded memory and is cut off');
  await assertClean(srv, base, 'after the client that did not read');
  await assertStops(srv);
});
