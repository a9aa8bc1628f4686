// The server runs out of file descriptors, as a user sees it: `node bin/tsgi.js` under
// `ulimit -n 64`, idle connections from here until accept() fails with EMFILE. The
// server refuses the connections it cannot take (it accepts and closes them, so that
// their clients know at once), says so on stderr at most once a second, with counts that
// add up to the connections its clients saw refused, counts them in the stats
// (accept_errors), and serves again once descriptors are free. Loopback only; every
// wait is bounded; every process started here is killed by its pid, and every client
// socket destroyed, even on failure. The listen queue (1024) holds every connection
// made here: one the kernel dropped from a full queue would reach the server seconds
// later, on its SYN-ACK's retransmission, and be counted after the counts are compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { fdCount } from '../lib/proc.mjs';
import { rawRequest } from '../lib/raw-client.mjs';

const APP = join(FIXTURES, 'app.mjs');
const LIMIT = 64;
const LINE = new RegExp(
  String.raw`^tsgi: accept\(\) on socket 0: Too many open files \(EMFILE\): (\d+) connections? refused( since the last line)?; ` +
    String.raw`raise the limit \(ulimit -n, now ${LIMIT}\) or lower the load$`,
);

/**
 * Starts the CLI with args under `ulimit -n nofile`; resolves once `ready` matches its
 * stderr, with { pid, port, exit, stderr(), lines (stderr lines with the time each
 * arrived), stop() (SIGTERM, then its exit) }. Killed by pid after the test.
 */
async function startUnderLimit(t, args, ready, nofile = LIMIT) {
  const cli = spawnCli(args, { nofile });
  t.after(() => cli.kill());
  await waitUntil(
    () => {
      if (cli.exitInfo !== undefined) throw new Error(`tsgi exited ${JSON.stringify(cli.exitInfo)} before it was ready:\n${cli.stderrText()}`);
      return ready.test(cli.stderrText());
    },
    15000,
    'tsgi to be ready',
  );
  return {
    pid: cli.child.pid,
    port: cli.sockets.find((s) => s.index === 0).port,
    get exit() {
      return cli.exitInfo;
    },
    stderr: cli.stderrText,
    lines: cli.stderrLines,
    async stop() {
      cli.signal('SIGTERM');
      return cli.waitExit(10000);
    },
  };
}

/** Idle client connections, each noting whether the server closed it. */
function clients(t) {
  const all = new Set();
  t.after(() => {
    for (const c of all) c.socket.destroy();
  });
  return {
    all,
    open(port) {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const c = { socket, connected: false, closedByServer: false, bytes: 0, destroyed: false };
      all.add(c);
      socket.on('connect', () => (c.connected = true));
      socket.on('data', (d) => (c.bytes += d.length));
      socket.on('error', () => {});
      socket.on('close', () => {
        if (!c.destroyed) c.closedByServer = true;
      });
      return c;
    },
    refused: () => [...all].filter((c) => c.connected && c.closedByServer).length,
    async destroyAll() {
      for (const c of all) {
        c.destroyed = true;
        c.socket.destroy();
      }
      await waitUntil(() => [...all].every((c) => c.socket.closed), 3000, 'the client sockets to close');
    },
  };
}

/** One GET with Connection: close; resolves with the status (0 when the connection closed without one). */
async function get(port, path = '/') {
  const r = await rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`, { timeoutMs: 3000 });
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(r.text)?.[1] ?? 0);
}

/** The accept() failure lines so far, each checked against LINE. */
function acceptLines(srv) {
  const found = srv.lines.filter((l) => l.line.startsWith('tsgi: accept()'));
  for (const l of found) assert.match(l.line, LINE);
  return found.map((l) => ({ ...l, count: Number(LINE.exec(l.line)[1]), since: LINE.exec(l.line)[2] !== undefined }));
}

const sum = (lines) => lines.reduce((n, l) => n + l.count, 0);

test('out of file descriptors: connections are refused and logged a line a second at most, with counts that add up; served again once descriptors are free', { timeout: 30000 }, async (t) => {
  const srv = await startUnderLimit(t, ['--http', '127.0.0.1:0', '--listen', '1024', '--disable-logging', '--http-timeout', '30', '--wsgi-file', APP], /tsgi is ready/);
  assert.equal(await get(srv.port), 200);
  await delay(100);
  const baseline = fdCount(srv.pid);
  const cs = clients(t);
  // Connections in waves for 3 s: the first ones fill the descriptor table, the rest
  // are refused, wave after wave, so that failures go on for longer than a second.
  const started = Date.now();
  while (Date.now() - started < 3000) {
    for (let i = 0; i < 8; i++) cs.open(srv.port);
    await delay(100);
  }
  const opened = cs.all.size;
  await waitUntil(() => [...cs.all].every((c) => c.connected || c.socket.closed), 5000, 'every connection to be made');
  // Every refusal is counted in a line, those of the last second in one the tick writes.
  await waitUntil(() => cs.refused() > 0 && sum(acceptLines(srv)) === cs.refused(), 5000, 'the lines to count every refused connection').catch(() => {});
  const lines = acceptLines(srv);
  const refused = cs.refused();
  t.diagnostic(`${opened} connections, ${refused} refused by the server, ${fdCount(srv.pid)} fds open (limit ${LIMIT}); ${lines.length} lines: ${lines.map((l) => l.line).join(' / ')}`);
  assert.equal(srv.exit, undefined, `the server died:\n${srv.stderr()}`);
  assert.ok(refused > opened / 2, `most connections were refused (${refused} of ${opened})`);
  for (const c of cs.all) if (c.closedByServer) assert.equal(c.bytes, 0, 'a refused connection is closed without a byte');
  assert.equal(sum(lines), refused, 'the lines count every connection the clients saw refused');
  assert.ok(lines.length >= 2 && lines.length <= 6, `3 s of failures: a few lines, not one per failure (${lines.length})`);
  assert.equal(lines[0].since, false, 'the first line counts from the start');
  assert.ok(lines.slice(1).every((l) => l.since), 'the later ones count since the line before');
  // A second apart in the server; here as they arrive, after the server's log buffer
  // (up to 50 ms) and a busy loop's delays, so held to half a second. Without the rate
  // limit they would come a wave (100 ms) apart.
  for (let i = 1; i < lines.length; i++) {
    assert.ok(lines[i].at - lines[i - 1].at >= 500, `a line a second at most: ${lines[i].at - lines[i - 1].at} ms between lines ${i} and ${i + 1}`);
  }
  // The descriptors come back when the clients go, and the server serves again.
  await cs.destroyAll();
  await waitUntil(() => fdCount(srv.pid) <= baseline, 5000, `the server's fds to come back to ${baseline}`);
  for (let i = 0; i < 3; i++) assert.equal(await get(srv.port, `/again-${i}`), 200);
  assert.equal(acceptLines(srv).length, lines.length, 'no failure once descriptors are free');
  assert.deepEqual(await srv.stop(), { code: 0, signal: null }, `SIGTERM stops it cleanly:\n${srv.stderr()}`);
});

test('out of file descriptors under a master: the worker logs the refusals, and the stats count them (accept_errors)', { timeout: 30000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-accept-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const statsPath = join(dir, 'stats.sock');
  const srv = await startUnderLimit(
    t,
    ['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--listen', '1024', '--stats', statsPath, '--disable-logging', '--http-timeout', '30', '--wsgi-file', APP],
    /worker 1 \(pid: \d+\) ready/,
  );
  const stats = async () => {
    const body = await withTimeout(
      new Promise((resolve, reject) => {
        let data = '';
        const s = net.connect({ path: statsPath });
        s.setEncoding('utf8');
        s.on('data', (d) => (data += d));
        s.on('end', () => resolve(data));
        s.on('error', reject);
      }),
      3000,
      'the stats document',
    );
    return JSON.parse(body);
  };
  assert.equal(await get(srv.port), 200);
  assert.equal((await stats()).workers[0].accept_errors, 0, 'no accept error yet');
  const cs = clients(t);
  for (let i = 0; i < 120; i++) cs.open(srv.port);
  await waitUntil(() => [...cs.all].every((c) => c.connected || c.socket.closed), 5000, 'every connection to be made');
  await waitUntil(() => cs.refused() > 0 && sum(acceptLines(srv)) === cs.refused(), 5000, 'the lines to count every refused connection').catch(() => {});
  const lines = acceptLines(srv);
  const refused = cs.refused();
  const doc = await stats();
  t.diagnostic(`${cs.all.size} connections, ${refused} refused; accept_errors ${doc.workers[0].accept_errors}; ${lines.map((l) => l.line).join(' / ')}`);
  assert.ok(refused > 0, 'some connections were refused');
  assert.equal(sum(lines), refused, 'the worker\'s lines count every refused connection');
  assert.equal(doc.workers[0].accept_errors, refused, 'the stats count every refused connection');
  await cs.destroyAll();
  await waitUntil(async () => (await get(srv.port).catch(() => 0)) === 200, 5000, 'a request to be served again');
  assert.deepEqual(await srv.stop(), { code: 0, signal: null }, `SIGTERM stops the master cleanly:\n${srv.stderr()}`);
});
