// The master's process options, with real processes: --logto, --daemonize, --uid and
// --gid, --touch-reload, --limit-as. Every test ends what it started, by pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, FIXTURES, ROOT } from '../lib/project.mjs';
import { delay, waitUntil } from '../lib/wait.mjs';
import { childrenOf, procStat, readProc, statusNumber } from '../lib/proc.mjs';
import { boundSockets, spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';

const APP = join(FIXTURES, 'master', 'app.mjs');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const get = (port, path = '/') => httpGet(port, path, { headers: { connection: 'close' }, encoding: 'utf8' });

async function stop(cli) {
  cli.signal('SIGTERM');
  await cli.waitExit(10000).catch(() => cli.kill());
}

test('--logto: every log line goes to the file, none to stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-logto-'));
  const logfile = join(dir, 'tsgi.log');
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--logto', logfile, '--wsgi-file', APP]);
  try {
    await waitUntil(() => existsSync(logfile) && boundSockets(readFileSync(logfile, 'latin1')).length > 0, 5000, 'the bind line in the log file');
    const port = boundSockets(readFileSync(logfile, 'latin1'))[0].port;
    await waitUntil(() => /worker 1 \(pid: \d+\) ready/.test(readFileSync(logfile, 'latin1')), 5000, 'the worker');
    assert.equal((await get(port, '/logged')).status, 200);
    await waitUntil(() => /GET \/logged => generated \d+ bytes/.test(readFileSync(logfile, 'latin1')), 3000, 'the request line in the file');
    await stop(cli);
    assert.equal(cli.stderrText(), '', 'nothing on stderr');
    assert.match(readFileSync(logfile, 'latin1'), /tsgi: goodbye/);
  } finally {
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--daemonize: the command returns at once; the daemon serves, in its own session, and logs to the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-daemon-'));
  const logfile = join(dir, 'daemon.log');
  const pidfile = join(dir, 'tsgi.pid');
  let daemonPid;
  try {
    const launcher = spawnCli(['--master', '--processes', '1', '--http', '127.0.0.1:0', '--daemonize', logfile, '--pidfile', pidfile, '--wsgi-file', APP]);
    const { code } = await launcher.exited;
    const stderr = launcher.stderrText();
    assert.equal(code, 0);
    assert.match(stderr, /daemonized as pid (\d+), logging to /);
    daemonPid = Number(/daemonized as pid (\d+)/.exec(stderr)[1]);
    await waitUntil(() => existsSync(pidfile), 5000, 'the pidfile');
    assert.equal(Number(readFileSync(pidfile, 'utf8')), daemonPid);
    const sid = procStat(daemonPid).session;
    assert.equal(sid, daemonPid, 'the daemon leads its own session');
    await waitUntil(() => /worker 1 \(pid: \d+\) ready/.test(readFileSync(logfile, 'latin1')), 5000, 'the worker');
    const port = boundSockets(readFileSync(logfile, 'latin1'))[0].port;
    assert.equal((await get(port)).status, 200);
    // --stop PIDFILE ends it.
    assert.equal((await spawnCli(['--stop', pidfile]).exited).code, 0);
    await waitUntil(() => !alive(daemonPid), 8000, 'the daemon to stop');
  } finally {
    if (daemonPid && alive(daemonPid)) process.kill(daemonPid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--uid nobody --gid nogroup: sockets bound as root (port 80 would work), workers run as nobody', { skip: process.getuid() !== 0 ? 'needs root' : false }, async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '2', '--http', '127.0.0.1:0', '--uid', 'nobody', '--gid', 'nogroup', '--wsgi-file', APP], { cwd: ROOT });
  try {
    const port = await cli.port;
    await cli.waitStderr(/privileges dropped to uid 65534 gid 65534/);
    await cli.waitStderr(/worker 2 \(pid: \d+\) ready/);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    assert.equal((await get(port)).status, 200);
    assert.equal(statusNumber(cli.child.pid, 'Uid'), 65534, 'the master dropped too');
    const workers = childrenOf(cli.child.pid);
    assert.equal(workers.length, 2);
    for (const w of workers) {
      assert.equal(statusNumber(w, 'Uid'), 65534);
      assert.equal(statusNumber(w, 'Gid'), 65534);
    }
    await stop(cli);
    assert.equal((await cli.waitExit()).code, 0);
  } finally {
    await cli.kill();
  }
});

test('--uid of a user that does not exist: one line, exit 1', async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--http', '127.0.0.1:0', '--uid', 'no-such-user-tsgi', '--wsgi-file', APP]);
  const { code } = await cli.waitExit(10000);
  assert.equal(code, 1);
  assert.match(cli.stderrText(), /Expected a user name or id for uid but received "no-such-user-tsgi"/);
});

test('--touch-reload: touching the file reloads every worker; without --master it is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-touch-'));
  const file = join(dir, 'reload.txt');
  writeFileSync(file, 'x');
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '2', '--http', '127.0.0.1:0', '--touch-reload', file, '--wsgi-file', APP]);
  try {
    await cli.port;
    await cli.waitStderr(/worker 2 \(pid: \d+\) ready/);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    const before = childrenOf(cli.child.pid).sort();
    assert.equal(before.length, 2);
    await delay(300);
    const t = new Date(Date.now() + 5000);
    utimesSync(file, t, t);
    await cli.waitStderr(/reload\.txt touched: graceful reload/, 3000);
    await cli.waitStderr(/chain reload done/, 10000);
    await waitUntil(() => {
      const now = childrenOf(cli.child.pid);
      return now.length === 2 && now.every((p) => !before.includes(p));
    }, 5000, 'two new workers');
    await stop(cli);
  } finally {
    await cli.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const single = spawnCli(['--http', '127.0.0.1:0', '--touch-reload', '/tmp/x', '--wsgi-file', APP]);
  const { code } = await single.waitExit(10000);
  assert.equal(code, 1);
  assert.match(single.stderrText(), /--touch-reload reloads the workers of a master: add --master/);
});

test('--limit-as: each worker runs under RLIMIT_AS', async () => {
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '1', '--http', '127.0.0.1:0', '--limit-as', '8192', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    // A worker that loads under RLIMIT_AS takes seconds when the machine is loaded.
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/, 20000);
    assert.equal((await get(port)).status, 200);
    const [worker] = childrenOf(cli.child.pid);
    const limits = readProc(`${worker}/limits`);
    assert.match(limits, new RegExp(`Max address space\\s+${8192 * 1024 * 1024}\\s+${8192 * 1024 * 1024}\\s+bytes`));
    assert.match(readProc(`${cli.child.pid}/limits`), /Max address space\s+unlimited/, 'the master is not limited');
    await stop(cli);
  } finally {
    await cli.kill();
  }
});

test("node's own flags, given before the command, reach every worker: a respawned one too", async () => {
  // docs/deploy-cluster.md "Node's own flags": a V8 flag that NODE_OPTIONS refuses is
  // given to node before tsgi's script, and the workers are started with it.
  const flags = ['--stack-trace-limit=7'];
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '2', '--http', '127.0.0.1:0', '--wsgi-file', APP], { command: [process.execPath, ...flags, CLI] });
  const answer = async (port) => {
    const r = await get(port, '/node-flags');
    assert.equal(r.status, 200);
    const [pid, argv, limit] = r.body.trim().split(' ');
    return { pid: Number(pid), argv: JSON.parse(argv), limit: Number(limit) };
  };
  try {
    const port = await cli.port;
    await cli.waitStderr(/worker 2 \(pid: \d+\) ready/);
    await cli.waitStderr(/worker 1 \(pid: \d+\) ready/);
    const first = await answer(port);
    assert.ok(childrenOf(cli.child.pid).includes(first.pid), 'a worker answered');
    assert.deepEqual(first.argv, flags);
    assert.equal(first.limit, 7);
    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => {
      const now = childrenOf(cli.child.pid);
      return now.length === 2 && !now.includes(first.pid);
    }, 10000, 'the respawned worker');
    await waitUntil(() => (cli.stderrText().match(/^tsgi: worker \d+ \(pid: \d+\) ready: /gm) ?? []).length === 3, 10000, 'the respawned worker ready');
    const seen = new Set();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const a = await answer(port);
      assert.deepEqual(a.argv, flags, `worker ${a.pid}`);
      assert.equal(a.limit, 7, `worker ${a.pid}`);
      seen.add(a.pid);
    }
    assert.ok(!seen.has(first.pid));
    await stop(cli);
  } finally {
    await cli.kill();
  }
});
