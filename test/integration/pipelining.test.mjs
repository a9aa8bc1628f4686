// A client that pipelines: thousands of requests in one write, the answers read at once
// or only after a pause. Every request is answered, whole and in order, on both
// backends; and a client that reads nothing cannot make the server hold its answers in
// memory: once its output is blocked the server stops taking requests, then stops
// reading (docs/architecture.md, "Output and backpressure").
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { delay, withTimeout } from '../lib/wait.mjs';
import { parseResponse } from '../lib/http-wire.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { processTable, residentBytes } from '../lib/proc.mjs';
import { digits } from '../fixtures/pipeline-app.mjs';

// Answers with the path, a POST's body after it, and ?pad=N bytes of "x" after that.
const APP = join(FIXTURES, 'pipeline-app.mjs');
const N = 10000;
const MiB = 1024 * 1024;

/**
 * Writes bytes on a new connection in one write, and reads the answers: at once, or
 * (pause) only once pause() has resolved. Each answer's body is compared with
 * expected(i) as it comes, and only the first difference is kept. Resolves with
 * { received, mismatch, closed } once count answers came, the server closed, or ms
 * passed (so that a stall is reported as how many came, not as a timeout).
 */
function pipeline(port, bytes, count, expected, { pause, ms = 20000 } = {}) {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  if (pause !== undefined) socket.pause();
  let received = 0;
  let mismatch;
  let closed = false;
  let pending = Buffer.alloc(0);
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  socket.on('data', (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let offset = 0;
    for (;;) {
      const r = parseResponse(pending, { offset, closed: false });
      if (r === undefined || !r.complete) break;
      const got = `${r.status} ${r.framing} ${r.body.toString('latin1')}`;
      const want = `200 content-length ${expected(received)}`;
      if (mismatch === undefined && got !== want) {
        mismatch = { index: received, got: got.slice(0, 200), want: want.slice(0, 200) };
      }
      received++;
      offset = r.end;
    }
    pending = pending.subarray(offset);
    if (received >= count) done();
  });
  socket.on('close', () => {
    closed = true;
    done();
  });
  socket.on('error', () => {});
  socket.write(bytes);
  const timer = setTimeout(done, ms);
  if (pause !== undefined) {
    Promise.resolve(pause()).then(
      () => socket.resume(),
      (err) => {
        socket.destroy(err);
        done();
      },
    );
  }
  return finished.then(() => {
    clearTimeout(timer);
    socket.destroy();
    return { received, mismatch, closed };
  });
}

/** Asserts that all count answers came, each the one expected, in order. */
function assertAll(result, count) {
  assert.equal(result.mismatch, undefined, `answer ${result.mismatch?.index} differs`);
  assert.equal(result.received, count, `${result.received} of ${count} answers came (connection closed: ${result.closed})`);
}

/** The CPU time (clock ticks) pid has used; undefined when it is gone. */
const cpuTicks = (pid) => processTable().get(pid)?.ticks;

/**
 * Resolves once pid has used no CPU for quietMs (it has done all it will do until the
 * client reads), or after ms at most: a wait, not an assertion.
 */
async function idle(pid, quietMs = 500, ms = 15000) {
  const end = Date.now() + ms;
  let last = cpuTicks(pid);
  let since = Date.now();
  while (Date.now() < end) {
    await delay(50);
    const now = cpuTicks(pid);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
  }
}

/** count GETs of /r/0, /r/1, ... with query after each path and header lines after Host. */
const gets = (count, query = '', headers = '') => {
  let s = '';
  for (let i = 0; i < count; i++) s += `GET /r/${i}${query} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`;
  return s;
};

for (const backend of BACKENDS) {
  describe(`pipelining (${backend})`, () => {
    let cli;
    let port;
    before(async () => {
      cli = spawnCli(['--http', '127.0.0.1:0', '--backend', backend, '--disable-logging', '--wsgi-file', APP]);
      port = await cli.port;
    });
    after(() => cli.kill());

    test(`${N} GETs in one write, read at once: every answer, whole and in order`, async () => {
      const r = await pipeline(port, gets(N), N, (i) => `/r/${i}\n`);
      assertAll(r, N);
    });

    test('GETs answered from a nextTick, a microtask or after awaits, 3,000 in one write: every answer, in order', async () => {
      // The native server makes a read's pipelined requests after the first in one
      // callback scope (native/server/server.h BatchScope): their ticks and microtasks
      // run as the read's batch ends, and the answers go out then.
      const how = ['tick', 'microtask', 'chain'];
      let s = '';
      for (let i = 0; i < 3000; i++) s += `GET /l/${i}?later=${how[i % 3]} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const r = await pipeline(port, s, 3000, (i) => `/l/${i} ${how[i % 3]}\n`);
      assertAll(r, 3000);
    });

    test(`${N} POSTs of 100 bytes in one write, read at once: every answer, whole and in order`, async () => {
      const body = (i) => `body of ${i}:`.padEnd(100, '.');
      let s = '';
      for (let i = 0; i < N; i++) s += `POST /p/${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n${body(i)}`;
      const r = await pipeline(port, s, N, (i) => `/p/${i} ${body(i)}\n`);
      assertAll(r, N);
    });

    test(`${N} GETs in one write, read only once the server waits on its output: every answer, in order`, async () => {
      // 20 MB of answers: more than the sockets' buffers hold, so that the server's
      // writes block until the client reads.
      const pad = 'x'.repeat(2000);
      const r = await pipeline(port, gets(N, '?pad=2000'), N, (i) => `/r/${i} ${pad}\n`, { pause: () => idle(cli.child.pid) });
      assertAll(r, N);
    });

    test('bodies of one Buffer, large and small, pipelined and read after a pause: every byte, in order', async () => {
      // A large one is written from the application's Buffer with what is corked before
      // it (native/server/output.cc Server::Write); the socket takes part of it, the
      // rest is queued behind it. Small ones are corked as usual.
      const size = (i) => (i % 3 === 0 ? 100000 + i : 10 + (i % 7));
      let s = '';
      for (let i = 0; i < 300; i++) s += `GET /b/${i}?buf=${size(i)} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const r = await pipeline(port, s, 300, (i) => `/b/${i} ${digits(size(i))}\n`, { pause: () => idle(cli.child.pid) });
      assertAll(r, 300);
      // Read at once too: the large answers mostly go out whole from the Buffer.
      assertAll(await pipeline(port, s, 300, (i) => `/b/${i} ${digits(size(i))}\n`), 300);
    });

    test('a client that reads nothing while 25,000 requests wait: the server stops reading, its memory stays bounded', async (t) => {
      // 50 MB of requests (a 2000-byte header each) and 50 MB of answers: a server that
      // read on while its output is blocked would hold the first, one that took every
      // request the second. It must hold a bounded part of either; the sockets' buffers
      // hold a few MB more, outside its memory.
      const count = 25000;
      const pad = 'x'.repeat(2000);
      const requests = (n) => gets(n, '?pad=2000', `X-Pad: ${pad}\r\n`);
      // Warm up first (whatever ran before): the heaps grow to what this load needs.
      assertAll(await pipeline(port, requests(5000), 5000, (i) => `/r/${i} ${pad}\n`), 5000);
      await idle(cli.child.pid);
      const baseline = residentBytes(cli.child.pid);
      assert.ok(baseline > 0, 'the server\'s VmRSS can be read');
      let growth;
      const r = await pipeline(port, requests(count), count, (i) => `/r/${i} ${pad}\n`, {
        pause: async () => {
          await idle(cli.child.pid);
          growth = residentBytes(cli.child.pid) - baseline;
        },
        ms: 40000,
      });
      t.diagnostic(`VmRSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      assert.ok(growth < 32 * MiB, `the server's resident memory grew by ${(growth / MiB).toFixed(1)} MiB while the client read nothing`);
      assertAll(r, count);
      // And the server answers on, on a new connection.
      const again = await withTimeout(pipeline(port, gets(3), 3, (i) => `/r/${i}\n`), 10000, 'a later request');
      assertAll(again, 3);
    });
  });
}
