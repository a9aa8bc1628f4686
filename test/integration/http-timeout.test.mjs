// What http-timeout bounds, on both backends, as a user runs the server (`node
// bin/tsgi.js` as a child process; test/lib/faults-server.mjs): the time between two reads
// of a request body and between two writes the client takes of a response, as nginx's
// client_body_timeout and send_timeout, not the whole request or response. A client that
// sends a large body slowly but steadily is answered; a reader that takes a large
// response slowly but steadily gets all of it; one that stops reading is cut after
// http-timeout (the application's signal says so); a stop waits for a response that is
// over but still going out, and closes its connection once it is out. (A head, and a body
// that stops, get their 408 in the conformance suite's refusals.) Every process started
// here is killed by its pid, even on failure; every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { parseResponses } from '../lib/http-wire.mjs';
import { assertClean, baseline, startTsgi, waitLog } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, dial, probe } from '../lib/faults-clients.mjs';
import { nginxLikePacket, nginxLikeVars, uwsgiPacket } from '../lib/uwsgi-client.mjs';
import { fdCount } from '../lib/proc.mjs';

const MIB = 1024 * 1024;
const PUSHES = join(FIXTURES, 'faults', 'pushes.mjs');

/** Lets c read at most bytesPerSecond on average: paused whenever it is ahead. */
function throttle(c, bytesPerSecond) {
  const started = Date.now();
  c.socket.on('data', () => {
    const aheadMs = (c.size / bytesPerSecond) * 1000 - (Date.now() - started);
    if (aheadMs > 5) {
      c.socket.pause();
      setTimeout(() => c.socket.resume(), aheadMs).unref();
    }
  });
}

/** Whether c holds a whole response of bytes body bytes (its head and body). */
const holdsBody = (c, bytes) => {
  const at = c.data.indexOf('\r\n\r\n');
  return at >= 0 && c.size - at - 4 >= bytes;
};

/** Writes a body of total bytes to c at bytesPerSecond, in 64 KiB writes. */
async function sendPaced(c, total, bytesPerSecond) {
  const piece = Buffer.alloc(65536, 0x75);
  const started = Date.now();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(piece.length, total - sent);
    if (!(await c.send(piece.subarray(0, n), 5000))) throw new Error(`the server stopped taking the body after ${sent} bytes`);
    sent += n;
    const aheadMs = (sent / bytesPerSecond) * 1000 - (Date.now() - started);
    if (aheadMs > 0) await delay(aheadMs);
  }
}

for (const backend of BACKENDS) {
  test(`${backend}: a client sending an 8 MiB body at 2 MiB/s, far longer than http-timeout (2 s), is answered, over HTTP and uwsgi`, { timeout: 30000 }, async (t) => {
    const srv = await startTsgi(t, ['--backend', backend, '--http-timeout', '2']);
    const base = await baseline(srv);
    const total = 8 * MIB;
    const senders = ['http', 'uwsgi'].map((how) => ({ how, c: dial(how === 'uwsgi' ? UWSGI(srv) : HTTP(srv)) }));
    await withTimeout(Promise.all(senders.map(({ c }) => c.connected)), 3000, 'the connections');
    const started = Date.now();
    await Promise.all(
      senders.map(async ({ how, c }) => {
        // A uwsgi packet announcing the body, which follows it as over HTTP.
        const head = how === 'uwsgi' ? uwsgiPacket(nginxLikeVars({ method: 'POST', uri: '/echo', contentType: 'application/octet-stream', contentLength: String(total) })) : Buffer.from(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: ${total}\r\n\r\n`);
        await c.send(head);
        await sendPaced(c, total, 2 * MIB);
      }),
    );
    for (const { how, c } of senders) {
      await c.waitFor(`\r\n\r\n${total}\n`, 5000, `the answer (${how})`);
      t.diagnostic(`${how}: answered ${Date.now() - started} ms after the head`);
    }
    assert.ok(Date.now() - started > 3500, `the body took longer than http-timeout (${Date.now() - started} ms)`);
    await assertClean(srv, base, 'after the slow uploads');
  });

  test(`${backend}: readers taking 16 MiB at 3 MiB/s, far longer than http-timeout (2 s), get all of it, given whole or pulled as they read, over HTTP and uwsgi`, { timeout: 40000 }, async (t) => {
    const srv = await startTsgi(t, ['--backend', backend, '--http-timeout', '2']);
    const base = await baseline(srv);
    // Over HTTP, and over uwsgi from a front end that passes the response on as its
    // client reads it (nginx's uwsgi_buffering off).
    const readers = ['whole=1', 'pulled=1', 'uwsgi'].map((how) => ({ how, c: dial(how === 'uwsgi' ? UWSGI(srv) : HTTP(srv)) }));
    await withTimeout(Promise.all(readers.map(({ c }) => c.connected)), 3000, 'the connections');
    const started = Date.now();
    for (const { how, c } of readers) {
      throttle(c, 3 * MIB);
      if (how === 'uwsgi') await c.send(nginxLikePacket('GET', '/big?tag=uwsgi&kib=16384&whole=1'));
      else await c.send(`GET /big?tag=${how}&kib=16384&${how} HTTP/1.1\r\nHost: a\r\n\r\n`);
    }
    for (const { how, c } of readers) {
      await waitUntil(() => holdsBody(c, 16 * MIB) || c.ended, 30000, `the whole body (${how})`);
      t.diagnostic(`${how}: ${c.size} bytes in ${Date.now() - started} ms, connection ${c.ended ? 'closed' : 'open'}`);
      const [res] = parseResponses(c.data, { closed: false });
      assert.equal(res?.status, 200, how);
      assert.equal(res?.body.length, 16 * MIB, `${how}: the whole body (the connection ended after ${c.size} bytes)`);
      assert.equal(c.error, undefined, `${how}: no reset`);
    }
    assert.ok(Date.now() - started > 4000, `the reading took longer than twice http-timeout (${Date.now() - started} ms)`);
    await assertClean(srv, base, 'after the slow readers');
  });

  test(`${backend}: readers that stop reading a large response are cut after http-timeout (2 s), given whole or pulled; the application's signal says so for the pulled one; everyone else is served`, { timeout: 30000 }, async (t) => {
    const srv = await startTsgi(t, ['--backend', backend, '--http-timeout', '2']);
    const base = await baseline(srv);
    const readers = ['whole=1', 'pulled=1'].map((how) => ({ how, c: dial(HTTP(srv)) }));
    await withTimeout(Promise.all(readers.map(({ c }) => c.connected)), 3000, 'the connections');
    for (const { how, c } of readers) {
      c.socket.pause();
      await c.send(`GET /big?tag=stop-${how.slice(0, -2)}&kib=65536&${how} HTTP/1.1\r\nHost: a\r\n\r\n`);
    }
    const sentAt = Date.now();
    await waitUntil(() => fdCount(srv.pid) >= base + 2, 3000, 'both connections to be open');
    // Served meanwhile: a probe every 100 ms until the server has closed both.
    let served = 0;
    while (fdCount(srv.pid) > base && Date.now() - sentAt < 8000) {
      await probe(srv);
      served++;
      await delay(100);
    }
    const cutMs = Date.now() - sentAt;
    t.diagnostic(`both cut ${cutMs} ms after their requests; ${served} probes served meanwhile`);
    assert.ok(cutMs >= 1800 && cutMs < 4500, `cut after http-timeout, not before nor long after (${cutMs} ms)`);
    for (const { how, c } of readers) {
      // The client reads again only to see the end: what the kernel held for it, then the close.
      c.socket.resume();
      await waitUntil(() => c.ended, 5000, `the ${how} connection to end`);
      t.diagnostic(`${how}: got ${c.size} of ${64 * MIB} bytes`);
      assert.ok(c.size < 64 * MIB, `${how}: cut, not served whole`);
    }
    await waitLog(srv, ['abort stop-pulled'], 3000);
    await assertClean(srv, base, 'after the cut readers');
  });

  test(`${backend}: a reader that stops reading a stream the application keeps writing to (64 KiB every 20 ms, heedless of it; --interface node) is cut after http-timeout (2 s), and the application's response closes`, { timeout: 20000 }, async (t) => {
    const srv = await startTsgi(t, ['--backend', backend, '--http-timeout', '2', '--interface', 'node', '--wsgi-file', PUSHES]);
    const base = fdCount(srv.pid);
    const c = dial(HTTP(srv));
    c.socket.pause();
    await withTimeout(c.connected, 3000, 'the connection');
    await c.send('GET /events HTTP/1.1\r\nHost: a\r\n\r\n');
    const sentAt = Date.now();
    await waitUntil(() => fdCount(srv.pid) > base, 3000, 'the connection to be open');
    // The socket's buffers fill first (a second or two), then nothing moves.
    await waitUntil(() => fdCount(srv.pid) <= base, 10000, 'the connection to be cut');
    const cutMs = Date.now() - sentAt;
    t.diagnostic(`cut ${cutMs} ms after the request`);
    assert.ok(cutMs >= 1800, `cut after http-timeout, not before (${cutMs} ms)`);
    await waitLog(srv, ['close pushed'], 3000);
  });

  test(`${backend}: SIGTERM while a keep-alive response that has ended is still going out to a slow reader: it goes out whole, then the connection closes and the process exits, without waiting for http-timeout`, { timeout: 30000 }, async (t) => {
    const srv = await startTsgi(t, ['--backend', backend, '--http-timeout', '20']);
    await baseline(srv);
    const slow = dial(HTTP(srv));
    slow.socket.pause();
    await withTimeout(slow.connected, 3000, 'the connection');
    const KIB = 16384; // far more than the socket buffers hold: most of it waits in the server
    await slow.send(`GET /big?tag=ended&kib=${KIB}&whole=1 HTTP/1.1\r\nHost: a\r\n\r\n`);
    // The application has given all of it: the response is over, its bytes are not out.
    await waitLog(srv, [`close ended sent=${KIB * 1024}`], 10000);
    process.kill(srv.pid, 'SIGTERM');
    await delay(500);
    const resumedAt = Date.now();
    slow.socket.resume();
    const exit = await withTimeout(srv.exited, 8000, 'the server to exit once the response is out');
    const exitMs = Date.now() - resumedAt;
    await waitUntil(() => slow.ended, 2000, 'the connection to close').catch(() => {});
    const [res] = parseResponses(slow.data, { closed: true });
    t.diagnostic(`exited ${exitMs} ms after the reader resumed; got ${slow.size} bytes`);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(res?.status, 200);
    assert.equal(res?.body.length, KIB * 1024, 'the whole body');
    assert.equal(slow.ended, true, 'the server closed the connection');
    assert.ok(exitMs < 5000, `exits once the response is out, not http-timeout's 20 s later (${exitMs} ms)`);
  });
}

test('native: a reader that takes less than a third of the socket send buffer per http-timeout (6 MiB at 512 KiB/s, http-timeout 1 s: TCP says the socket takes more only every 2 s or so) gets all of it, as the kernel queue shrinks', { timeout: 40000 }, async (t) => {
  const srv = await startTsgi(t, ['--backend', 'native', '--http-timeout', '1']);
  const c = dial(HTTP(srv));
  await withTimeout(c.connected, 3000, 'the connection');
  throttle(c, 512 * 1024);
  await c.send('GET /big?tag=slower&kib=6144&whole=1 HTTP/1.1\r\nHost: a\r\n\r\n');
  const started = Date.now();
  await waitUntil(() => holdsBody(c, 6 * MIB) || c.ended, 30000, 'the whole body');
  t.diagnostic(`${c.size} bytes in ${Date.now() - started} ms, connection ${c.ended ? 'closed' : 'open'}`);
  // What the kernel holds at the end takes the reader longer than http-timeout: the
  // connection, idle from the server's last write, may close after the body, not before.
  const [res] = parseResponses(c.data, { closed: false });
  assert.equal(res?.body.length, 6 * MIB, `the whole body (the connection ended after ${c.size} bytes)`);
  assert.equal(c.error, undefined, 'no reset');
});
