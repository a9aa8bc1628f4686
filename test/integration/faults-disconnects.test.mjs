// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// Abrupt disconnects at every stage: mid-head, mid-body (in memory or in a temporary
// file; Content-Length or chunked; HTTP or uwsgi), while the application runs (tsgi.signal
// fires, close() runs) and mid-response (the body stops). The application
// (test/fixtures/faults/app.mjs) writes what it hears to the file in FAULTS_LOG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { delay, waitUntil } from '../lib/wait.mjs';
import { fdCount } from '../lib/proc.mjs';
import { nginxLikePacket } from '../lib/uwsgi-client.mjs';
import { assertClean, assertStops, baseline, startTsgi, tempFds, waitLog } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, cut, dial } from '../lib/faults-clients.mjs';

test('abrupt disconnects at every stage: mid-head, mid-body (memory, file; Content-Length, chunked; HTTP, uwsgi), while the app runs, mid-response', { timeout: 60000 }, async (t) => {
  const srv = await startTsgi(t, ['--post-buffering', '1024', '--http-timeout', '5']);
  const base = await baseline(srv);
  const timings = [];
  const bigFigures = [];

  const stages = [];
  const stage = (name, fn) => stages.push([name, fn]);

  for (const how of ['close', 'rst']) {
    stage(`mid-head over HTTP (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send('GET /never HTTP/1.1\r\nHost: a\r\nX-Half: yes\r\nX-Ha');
      await delay(50);
      cut(c, how);
    });
    stage(`mid-head over uwsgi (${how})`, async () => {
      const c = dial(UWSGI(srv));
      await c.connected;
      const p = nginxLikePacket('GET', '/never');
      await c.send(p.subarray(0, 20));
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, Content-Length below post-buffering (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 800\r\n\r\n${'x'.repeat(400)}`);
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, Content-Length above post-buffering: a temporary file (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(50000)}`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the body to spill into a temporary file');
      cut(c, how);
    });
    stage(`mid-body, chunked below post-buffering (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n${'x'.repeat(256)}\r\n10\r\nxxxx`);
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, chunked above post-buffering: a temporary file (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      let body = '';
      for (let i = 0; i < 5; i++) body += `3e8\r\n${'y'.repeat(1000)}\r\n`;
      await c.send(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}3e8\r\nyyy`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the chunked body to spill into a temporary file');
      cut(c, how);
    });
    stage(`mid-body over uwsgi, above post-buffering (${how})`, async () => {
      const c = dial(UWSGI(srv));
      await c.connected;
      const p = nginxLikePacket('POST', '/echo', Buffer.alloc(100000, 0x7a));
      await c.send(p.subarray(0, p.length - 50000));
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the uwsgi body to spill into a temporary file');
      cut(c, how);
    });
    stage(`while the app runs, GET over HTTP (${how}): tsgi.signal fires, close() runs`, async () => {
      const tag = `run-http-${how}`;
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send(`GET /slow?tag=${tag} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await delay(50);
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    stage(`while the app runs with a body in a temporary file (${how}): the file goes`, async () => {
      const tag = `run-file-${how}`;
      const c = dial(HTTP(srv));
      await c.connected;
      await c.send(`POST /slow?tag=${tag} HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${'f'.repeat(5000)}`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the body in a temporary file');
      await delay(50);
      assert.equal(c.size, 0, 'no answer yet: the app is still running');
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    stage(`while the app runs, over uwsgi (${how}): tsgi.signal fires, close() runs`, async () => {
      const tag = `run-uwsgi-${how}`;
      const c = dial(UWSGI(srv));
      await c.connected;
      await c.send(nginxLikePacket('POST', `/slow?tag=${tag}`, Buffer.alloc(3000, 0x75)));
      await delay(50);
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    for (const proto of ['http', 'uwsgi']) {
      stage(`mid-response of a large streamed body over ${proto}, after 100 KiB (${how}): close() runs, the body stops`, async () => {
        const tag = `big-${proto}-${how}`;
        const c = dial(proto === 'http' ? HTTP(srv) : UWSGI(srv));
        await c.connected;
        // The client stops reading at 100 KiB, waits, then goes away.
        c.socket.on('data', () => {
          if (c.size >= 100 * 1024) c.socket.pause();
        });
        await c.send(proto === 'http' ? `GET /big?tag=${tag}&kib=65536 HTTP/1.1\r\nHost: a\r\n\r\n` : nginxLikePacket('GET', `/big?tag=${tag}&kib=65536`));
        await waitUntil(() => c.size >= 100 * 1024 || c.ended, 3000, '100 KiB of the response');
        assert.match(c.data.subarray(0, 20).toString('latin1'), /^HTTP\/1\.1 200 /);
        await delay(200);
        const pulls = (await waitLog(srv, [new RegExp(`^pull ${tag} sent=\\d+$`, 'm')])).split('\n').filter((l) => l.startsWith(`pull ${tag} `));
        const pulled = Number(/ sent=(\d+)/.exec(pulls.pop())[1]);
        cut(c, how);
        const log = await waitLog(srv, [`abort ${tag}`, new RegExp(`^close ${tag} sent=\\d+$`, 'm')]);
        const sent = Number(new RegExp(`^close ${tag} sent=(\\d+)$`, 'm').exec(log)[1]);
        bigFigures.push(`${proto}/${how}: client read ${c.size} bytes, app pulled ${pulled} before the cut, ${sent} in all`);
        // Backpressure: while the client did not read, the app was pulled no further than
        // the socket buffers and the server's high-water mark; after the cut, not at all.
        assert.ok(sent - c.size < 16 * 1024 * 1024, `the body waited for the client (${sent} bytes pulled, ${c.size} read)`);
        assert.ok(sent - pulled <= 64 * 1024, `the body stopped when the client went away (${pulled} pulled before, ${sent} after)`);
      });
    }
  }

  for (const [name, fn] of stages) {
    const started = Date.now();
    try {
      await fn();
      await assertClean(srv, base, name);
    } catch (err) {
      throw new Error(`${name}: ${err.message}`, { cause: err });
    }
    timings.push(`${name}: ${Date.now() - started} ms`);
  }
  t.diagnostic(`mid-response: ${bigFigures.join('; ')}`);
  t.diagnostic(`the application heard: ${readFileSync(srv.log, 'latin1').trim().split('\n').join('; ')}`);
  t.diagnostic(`${stages.length} stages; fds back to ${fdCount(srv.pid)} (baseline ${base}) after each`);
  const log = readFileSync(srv.log, 'latin1').trim().split('\n');
  // close() exactly once per request the app saw.
  const closes = log.filter((l) => l.startsWith('close '));
  assert.equal(new Set(closes.map((l) => l.split(' ')[1])).size, closes.length, `close() once per request: ${JSON.stringify(log)}`);
  await assertStops(srv);
});
