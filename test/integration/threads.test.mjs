// --threads: each worker runs N cores (the main thread and N-1 worker_threads), each
// with its own loop, native server and application instance, all accepting on the
// master's sockets; the stats show one core per thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';

const APP = join(FIXTURES, 'threads', 'app.mjs');

function stats(port) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let d = '';
    s.on('data', (x) => (d += x));
    s.on('end', () => resolve(JSON.parse(d)));
    s.on('error', reject);
  });
}

test('--processes 1 --threads 3: requests that hold their thread go to the other threads; stats have three cores', async () => {
  // --no-orphans: should the test fail and kill the master, its worker goes too.
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--threads', '3', '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--disable-logging', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    const stderr = await cli.waitStderr(/stats server enabled on 127\.0\.0\.1:\d+/);
    const statsPort = Number(/stats server enabled on 127\.0\.0\.1:(\d+)/.exec(stderr)[1]);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    // Each request on its own connection, 60 ms apart, each holding its thread for
    // 300 ms: while one core is held, the next connection is accepted by another.
    const pending = [];
    for (let i = 0; i < 12; i++) {
      pending.push(fetch(`http://127.0.0.1:${port}/block`, { headers: { connection: 'close' } }).then((r) => r.json()));
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    const answers = await Promise.all(pending);
    assert.equal(new Set(answers.map((a) => a.pid)).size, 1, 'one process');
    const threads = new Set(answers.map((a) => a.thread));
    assert.ok(threads.size >= 2, `more than one thread answered: ${[...threads]}`);
    for (const a of answers) {
      assert.equal(a.multithread, true);
      assert.equal(a.multiprocess, false);
    }
    const doc = await stats(statsPort);
    assert.equal(doc.workers.length, 1);
    const [w] = doc.workers;
    assert.equal(w.cores.length, 3);
    assert.equal(w.requests, 12);
    assert.equal(w.cores.reduce((n, c) => n + c.requests, 0), 12);
    assert.ok(w.cores.filter((c) => c.requests > 0).length >= 2, JSON.stringify(w.cores.map((c) => c.requests)));
    cli.signal('SIGTERM');
    const { code } = await cli.waitExit(10000);
    assert.equal(code, 0);
    assert.match(cli.stderrText(), /worker 1 \(pid: \d+\) stopped \(exit code 0\)/);
  } finally {
    await cli.kill();
  }
});
