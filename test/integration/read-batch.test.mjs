// Requests that arrive on many connections in one turn of the loop: the native server keeps
// the reads that start a request until it has read every connection that is ready (or 64
// of them), then takes them in one batch (docs/architecture.md, "Reads are taken by the loop's turn").
// Each connection must still get its own answers, in its order: when its request is
// followed at once by the client's half-close, when its answer comes from a tick or a
// promise job (a large turn is taken by batches of 64), when the rest of a pipelined request
// comes in a later read, and when a read is larger than what is kept for the batch. Both
// backends, on 127.0.0.1.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';

const APP = join(FIXTURES, 'pipeline-app.mjs'); // each answer is its request's path (and a POST's body)
const CONNECTIONS = 200;

/** The bodies of the complete responses in text (each framed by its Content-Length). */
function bodies(text) {
  const out = [];
  let at = 0;
  for (;;) {
    const head = text.indexOf('\r\n\r\n', at);
    if (head === -1) return out;
    const length = /\r\nContent-Length: (\d+)\r\n/i.exec(text.slice(at, head + 2));
    assert.ok(text.startsWith('HTTP/1.1 200 OK\r\n', at), `a 200 at ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    assert.ok(length, `a Content-Length in ${JSON.stringify(text.slice(at, head))}`);
    const end = head + 4 + Number(length[1]);
    if (end > text.length) return out;
    out.push(text.slice(head + 4, end));
    at = end;
  }
}

/** Opens n connections to port, all connected before it resolves. */
function connectAll(port, n) {
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => resolve(s));
        s.once('error', reject);
      }),
    ),
  );
}

/** Resolves with what s received once it holds `want` answers (or the peer closed). */
function answers(s, want) {
  return new Promise((resolve, reject) => {
    let text = '';
    const done = () => {
      s.removeAllListeners('data');
      resolve(bodies(text));
    };
    s.setEncoding('latin1');
    s.on('data', (d) => {
      text += d;
      if (bodies(text).length >= want) done();
    });
    s.on('end', done);
    s.on('error', reject);
  });
}

for (const backend of BACKENDS) {
  describe(`requests on many connections at once (--backend ${backend})`, () => {
    let cli;
    let port;
    before(async () => {
      cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging']);
      port = await cli.port;
    });
    after(async () => {
      cli?.signal('SIGTERM');
      await cli?.waitExit(5000).catch(() => cli.kill());
    });

    test(`${CONNECTIONS} connections write a request in the same moment, half of them half-close after it: each gets its own answer`, { timeout: 30000 }, async () => {
      const socks = await connectAll(port, CONNECTIONS);
      const got = socks.map((s) => answers(s, 1));
      socks.forEach((s, i) => {
        s.write(`GET /c${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
        if (i % 2 === 0) s.end(); // the request, then the client's FIN at once
      });
      const all = await Promise.all(got);
      all.forEach((b, i) => assert.deepEqual(b, [`/c${i}\n`], `connection ${i}`));
      socks.forEach((s) => s.destroy());
    });

    test(`${CONNECTIONS} connections at once, answered from a process.nextTick, a promise job, or at once: each its own`, { timeout: 30000 }, async () => {
      // A turn this large is taken by batches of 64 reads (kReadyBatch), each taken as it
      // fills: the ticks and promise jobs of each run before the next is read.
      const later = ['tick', 'microtask', 'chain', undefined];
      const socks = await connectAll(port, CONNECTIONS);
      const got = socks.map((s) => answers(s, 1));
      socks.forEach((s, i) => {
        const how = later[i % later.length];
        s.write(`GET /l${i}${how ? `?later=${how}` : ''} HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
      const all = await Promise.all(got);
      all.forEach((b, i) => {
        const how = later[i % later.length];
        assert.deepEqual(b, [how ? `/l${i} ${how}\n` : `/l${i}\n`], `connection ${i}`);
      });
      socks.forEach((s) => s.destroy());
    });

    test('the rest of a pipelined request in a later read, on every connection at once: both answers, in order', { timeout: 30000 }, async () => {
      const socks = await connectAll(port, CONNECTIONS);
      const got = socks.map((s) => answers(s, 2));
      socks.forEach((s, i) => s.write(`GET /a${i} HTTP/1.1\r\nHost: x\r\n\r\nGET /b${i} HTT`));
      await delay(50);
      socks.forEach((s) => s.write('P/1.1\r\nHost: x\r\n\r\n'));
      const all = await Promise.all(got);
      all.forEach((b, i) => assert.deepEqual(b, [`/a${i}\n`, `/b${i}\n`], `connection ${i}`));
      socks.forEach((s) => s.destroy());
    });

    test('a request whose body makes its first read larger than a batch keeps (16 KiB), beside small ones: each answered whole', { timeout: 30000 }, async () => {
      const socks = await connectAll(port, 20);
      const got = socks.map((s) => answers(s, 1));
      const big = 'y'.repeat(40000);
      socks.forEach((s, i) => {
        if (i % 4 === 0) s.write(`POST /p${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}`);
        else s.write(`GET /g${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      });
      const all = await Promise.all(got);
      all.forEach((b, i) => assert.deepEqual(b, [i % 4 === 0 ? `/p${i} ${big}\n` : `/g${i}\n`], `connection ${i}`));
      socks.forEach((s) => s.destroy());
    });
  });
}
