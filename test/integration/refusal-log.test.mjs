// Each refusal writes exactly one log line on stderr, which names why, in the same
// words on both backends (docs/errors.md):
//   [pid: P] 127.0.0.1:PORT [Sat Nov 21 04:03:13 2026] refused STATUS TEXT: why
// Checked with the CLI, where logging is on by default.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { REFUSALS, REFUSAL_LIMITS } from '../lib/refusals.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { rawRequest } from '../lib/raw-client.mjs';
import { parseResponses } from '../lib/http-wire.mjs';
import { delay, waitUntil } from '../lib/wait.mjs';
import { uwsgiRequest, nginxLikeVars, uwsgiPacket } from '../lib/uwsgi-client.mjs';
import { KNOWN_DIFFERENCES } from '../conformance/differences.mjs';

const TEXT = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 505: 'HTTP Version Not Supported' };
const REFUSED = /^\[pid: (\d+)\] 127\.0\.0\.1:(\d+) \[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] refused (\d{3}) ([^:]+): (.+)$/gm;

const refusedLines = (stderr) => [...stderr.matchAll(REFUSED)];

for (const backend of BACKENDS) {
  describe(`${backend} backend`, () => {
    // The js backend: what it shares with the native one, and not the slow cases,
    // whose refusal is the conformance suite's to check.
    const cases = REFUSALS.filter(([name, , , , o]) => backend === 'native' || (!KNOWN_DIFFERENCES.has(name) && !o?.slow));
    test(`one "refused" line per refusal (${cases.length} refusals)`, { timeout: 60000 }, async (t) => {
      const cli = spawnCli([
        '--backend', backend,
        '--http', '127.0.0.1:0',
        '--buffer-size', String(REFUSAL_LIMITS.bufferSize),
        '--limit-post', String(REFUSAL_LIMITS.limitPost),
        '--http-timeout', String(REFUSAL_LIMITS.httpTimeout),
        '--wsgi-file', join(FIXTURES, 'app.mjs'),
      ]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const problems = [];
      for (const [i, [name, pieces, status, reason, o]] of cases.entries()) {
        const r = await rawRequest(port, pieces.map((p) => Buffer.from(p, 'latin1')), { timeoutMs: o?.slow ? 3500 : 3000 });
        const res = parseResponses(r.data).find((x) => !x.interim);
        if (res?.status !== status) problems.push(`${name}: answered ${res?.status}`);
        // Wait for this refusal's line; then make sure no second one follows.
        const deadline = Date.now() + 2000;
        while (refusedLines(cli.stderrText()).length < i + 1 && Date.now() < deadline) await delay(10);
        await delay(30);
        const lines = refusedLines(cli.stderrText());
        if (lines.length !== i + 1) {
          problems.push(`${name}: ${lines.length - i} "refused" lines (want 1)`);
          break;
        }
        const [, pid, clientPort, got, text, why] = lines[i];
        if (Number(pid) !== cli.child.pid) problems.push(`${name}: pid ${pid}`);
        if (Number(clientPort) !== r.localPort) problems.push(`${name}: port ${clientPort}, the client's is ${r.localPort}`);
        if (Number(got) !== status || text !== TEXT[status] || why !== reason) problems.push(`${name}: logged "refused ${got} ${text}: ${why}", want "${reason}"`);
      }
      assert.deepEqual(problems, [], cli.stderrText());
      assert.doesNotMatch(cli.stderrText(), /=> generated/, 'no request line for a refused request');
    });
  });
}

// A body that cannot be buffered (past --post-buffering, TMPDIR missing): 500, one line
// that names the call, the directory and the errno, and the server serves on.
for (const backend of BACKENDS) {
  test(`${backend} backend: no temporary directory: 500 and "cannot buffer the request body: ... in DIR: No such file or directory (ENOENT)"; the next request gets 200`, { timeout: 20000 }, async (t) => {
    const dir = '/nonexistent/tsgi-refusal-log';
    const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--post-buffering', '1024', '--wsgi-file', join(FIXTURES, 'app.mjs')], { env: { TMPDIR: dir } });
    t.after(() => cli.kill());
    const port = await cli.port;
    const body = 'b'.repeat(4000);
    const r = await rawRequest(port, [Buffer.from(`POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 'latin1')], { timeoutMs: 5000 });
    assert.equal(parseResponses(r.data).find((x) => !x.interim)?.status, 500, r.text);
    const deadline = Date.now() + 2000;
    while (refusedLines(cli.stderrText()).length < 1 && Date.now() < deadline) await delay(10);
    const lines = refusedLines(cli.stderrText()).map((m) => m[0]);
    assert.equal(lines.length, 1, cli.stderrText());
    const call = backend === 'native' ? 'open\\(O_TMPFILE\\)' : 'open';
    assert.match(lines[0], new RegExp(`refused 500 Internal Server Error: cannot buffer the request body: ${call} in ${dir}: No such file or directory \\(ENOENT\\)$`));
    const ok = await rawRequest(port, [Buffer.from('GET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', 'latin1')], { timeoutMs: 3000 });
    assert.equal(parseResponses(ok.data).find((x) => !x.interim)?.status, 200);
    assert.equal(cli.child.exitCode, null, 'still running');
  });
}

// The same over a uwsgi socket (a raw packet, as nginx sends it): a body past
// --post-buffering with no temporary directory gets 500 and its line; a body that stops
// coming gets 408 after --http-timeout; the next packet is served.
for (const backend of BACKENDS) {
  test(`${backend} backend, uwsgi socket: 500 when the body cannot be buffered, 408 when it stops coming; then 200`, { timeout: 20000 }, async (t) => {
    const dir = '/nonexistent/tsgi-refusal-log-uwsgi';
    const cli = await startCli(['--backend', backend, '--uwsgi-socket', '127.0.0.1:0', '--post-buffering', '1024', '--http-timeout', '1', '--wsgi-file', join(FIXTURES, 'app.mjs')], { env: { TMPDIR: dir } });
    t.after(() => cli.kill());
    const port = cli.sockets.find((s) => s.protocol === 'uwsgi').port;
    const status = (r) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(r.data.toString('latin1'))?.[1]);
    const body = Buffer.alloc(4000, 0x62);
    const big = await uwsgiRequest(port, nginxLikeVars({ method: 'POST', uri: '/up', contentLength: String(body.length) }), body);
    assert.equal(status(big), 500, big.data.toString('latin1'));
    const call = backend === 'native' ? 'open\\(O_TMPFILE\\)' : 'open';
    await waitUntil(() => new RegExp(`refused 500 Internal Server Error: cannot buffer the request body: ${call} in ${dir}: No such file or directory \\(ENOENT\\)`).test(cli.stderrText()), 2000, 'the 500 line');
    // 10 bytes of a 100-byte body, then nothing: 408 after the timeout.
    const short = await uwsgiRequest(port, nginxLikeVars({ method: 'POST', uri: '/slow', contentLength: '100' }), Buffer.alloc(10, 0x63), { timeoutMs: 5000 });
    assert.equal(status(short), 408, short.data.toString('latin1'));
    await waitUntil(() => /refused 408 Request Timeout: /.test(cli.stderrText()), 2000, 'the 408 line');
    const ok = await uwsgiRequest(port, nginxLikeVars({ uri: '/after' }));
    assert.equal(status(ok), 200);
    assert.match(ok.data.toString('latin1'), /hello from mjs \/after/);
  });
}

// A front end that reads slowly but steadily is not cut off by --http-timeout: the
// timeout is for a writer that makes no progress, not for a long download.
for (const backend of BACKENDS) {
  test(`${backend} backend, uwsgi socket: a slow but steady reader gets the whole streamed body past --http-timeout 1`, { timeout: 20000 }, async (t) => {
    const { STREAM_CHUNKS, STREAM_CHUNK_SIZE } = await import('../fixtures/nginx/app.mjs');
    // A unix socket: its small buffers keep the server's writes waiting, as nginx's do.
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-slow-reader-'));
    const path = join(dir, 'u.sock');
    const cli = await startCli(['--backend', backend, '--uwsgi-socket', path, '--http-timeout', '1', '--disable-logging', '--wsgi-file', join(FIXTURES, 'nginx', 'app.mjs')]);
    t.after(async () => {
      await cli.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    const started = Date.now();
    const data = await new Promise((resolve, reject) => {
      const s = net.connect({ path });
      const chunks = [];
      s.on('connect', () => s.write(uwsgiPacket(nginxLikeVars({ uri: '/stream' }))));
      s.on('data', (d) => {
        chunks.push(d);
        s.pause(); // a read every 120 ms: the whole body takes seconds
        setTimeout(() => s.resume(), 120);
      });
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    const text = data.toString('latin1');
    const headEnd = text.indexOf('\r\n\r\n');
    assert.match(text.slice(0, headEnd), /^HTTP\/1\.1 200 /);
    assert.equal(data.length - headEnd - 4, STREAM_CHUNKS * STREAM_CHUNK_SIZE, 'the whole body');
    t.diagnostic(`${data.length} bytes in ${Date.now() - started} ms`);
    assert.ok(Date.now() - started > 2000, 'the read took over twice the timeout');
  });
}

// A packet that arrives a byte at a time is read as one (both backends).
for (const backend of BACKENDS) {
  test(`${backend} backend, uwsgi socket: a packet sent a byte at a time is answered`, { timeout: 20000 }, async (t) => {
    const cli = await startCli(['--backend', backend, '--uwsgi-socket', '127.0.0.1:0', '--disable-logging', '--wsgi-file', join(FIXTURES, 'app.mjs')]);
    t.after(() => cli.kill());
    const port = cli.sockets.find((s) => s.protocol === 'uwsgi').port;
    const packet = uwsgiPacket(nginxLikeVars({ uri: '/bytes' }));
    const data = await new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      const chunks = [];
      s.setNoDelay(true);
      s.on('connect', async () => {
        for (let i = 0; i < packet.length; i++) {
          s.write(packet.subarray(i, i + 1));
          if (i % 16 === 0) await new Promise((r) => setTimeout(r, 1));
        }
      });
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
      s.on('error', reject);
    });
    assert.match(data, /^HTTP\/1\.1 200 /);
    assert.match(data, /hello from mjs \/bytes\n$/);
  });
}
