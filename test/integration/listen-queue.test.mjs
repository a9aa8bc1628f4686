// The listen queue, watched as uWSGI's master watches it (lib/process/listen-queue.ts): a
// process whose application blocks, a backlog of 5, 20 connections opened: the queue
// fills, the line says so with the numbers the kernel gives, and the stats count it.
// And --listen above net.core.somaxconn is clamped with a warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { readProc } from '../lib/proc.mjs';

const APP = join(FIXTURES, 'busy-app.mjs');
const FULL = /\*\*\* listen queue of socket "127\.0\.0\.1:(\d+)" \(fd: \d+\) full !!! \((\d+)\/(\d+)\) \*\*\*/g;

function readAll(path) {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d) => (data += d));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
}

/** Opens n connections to port, each sending GET path; returns them (to destroy). */
function flood(port, n, path) {
  const sockets = [];
  for (let i = 0; i < n; i++) {
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    sockets.push(s);
  }
  return sockets;
}

// Only under a master: a single process whose application blocks its loop cannot look at
// its own queue meanwhile, and once the loop is free libuv may accept what waits before
// the watch's timer runs (seen: the queue read 0 right after a 3.5 s block). uWSGI too
// watches the queue from its master. The single process's watch is in the test below
// and in the somaxconn test; a blocked one is the master's to see.
for (const mode of ['master']) {
  test(`${mode}: a blocked process with --listen 5 and 20 connections: "listen queue ... full !!! (6/5)" and the count`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-lq-'));
    const statsPath = join(dir, 'stats.sock');
    const args = ['--http', '127.0.0.1:0', '--listen', '5', '--disable-logging', '--wsgi-file', APP];
    const cli = mode === 'master'
      ? spawnCli(['--master', '--no-orphans', '--processes', '1', '--stats', statsPath, ...args])
      : spawnCli(args);
    let sockets = [];
    try {
      const port = await cli.port;
      await cli.waitStderr(mode === 'master' ? /worker 1 \(pid: \d+\) ready/ : /tsgi is ready/, 15000);
      // The first connection blocks the only process for 3.5 s; the rest wait.
      sockets = flood(port, 1, '/busy?ms=3500');
      await new Promise((r) => setTimeout(r, 200));
      sockets.push(...flood(port, 19, '/'));
      const text = await cli.waitStderr(new RegExp(FULL.source), 6000);
      const lines = [...text.matchAll(FULL)];
      assert.ok(lines.length >= 1);
      for (const [, p, length, backlog] of lines) {
        assert.equal(Number(p), port);
        assert.equal(Number(backlog), 5, 'the backlog the kernel gave');
        // The kernel queues one more than the backlog before it refuses.
        assert.ok(Number(length) === 5 || Number(length) === 6, `queue length ${length}`);
      }
      if (mode === 'master') {
        // Stats after at least one full look; the count is of looks, and lines are at most
        // one a second, so the count is at least the lines.
        const doc = JSON.parse(await readAll(statsPath));
        const seen = [...cli.stderrText().matchAll(FULL)].length;
        assert.ok(doc.listen_queue_errors >= seen, `listen_queue_errors ${doc.listen_queue_errors} >= ${seen} lines`);
        assert.equal(doc.sockets[0].queue_full, doc.listen_queue_errors);
        assert.equal(doc.sockets[0].max_queue, 5);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await cli.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a server that is not blocked never says its queue is full, and its stats count 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-lq-'));
  const statsPath = join(dir, 'stats.sock');
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--stats', statsPath, '--http', '127.0.0.1:0', '--listen', '5', '--disable-logging', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/, 15000);
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(r.status, 200);
      await r.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, 1200)); // a look of the master's
    const doc = JSON.parse(await readAll(statsPath));
    assert.equal(doc.listen_queue_errors, 0);
    assert.equal(doc.sockets[0].max_queue, 5);
    assert.doesNotMatch(cli.stderrText(), /listen queue of socket/);
  } finally {
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--listen above net.core.somaxconn is clamped to it, with a warning; the default is 1024', async () => {
  const ceiling = Number(readProc('sys/net/core/somaxconn'));
  const asked = Math.min(65535, ceiling + 1);
  if (asked <= ceiling) return; // somaxconn at the option's maximum: nothing to clamp
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-lq-'));
  const statsPath = join(dir, 'stats.sock');
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--stats', statsPath, '--http', '127.0.0.1:0', '--listen', String(asked), '--disable-logging', '--wsgi-file', APP]);
  try {
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/, 15000);
    assert.match(cli.stderrText(), new RegExp(`listen ${asked} is more than the kernel allows \\(net\\.core\\.somaxconn = ${ceiling}\\): the listen queue is ${ceiling}`));
    const doc = JSON.parse(await readAll(statsPath));
    assert.equal(doc.sockets[0].max_queue, ceiling);
  } finally {
    await cli.kill();
  }
  const plain = spawnCli(['--master', '--no-orphans', '--processes', '1', '--stats', statsPath, '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', APP]);
  try {
    await plain.waitStderr(/worker 1 \(pid: \d+\) ready/, 15000);
    const doc = JSON.parse(await readAll(statsPath));
    assert.equal(doc.sockets[0].max_queue, Math.min(1024, ceiling));
    assert.doesNotMatch(plain.stderrText(), /more than the kernel allows/);
  } finally {
    await plain.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
