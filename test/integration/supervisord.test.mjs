// tsgi under supervisord, the layout of the uWSGI Docker articles (docs/deploy-cluster.md, "supervisord"):
// a real supervisord (-n, its socket, pidfile and logs in a temp dir, never the system's)
// runs `node bin/tsgi.js --ini uwsgi.ini` as [program:tsgi] with stopsignal=TERM. tsgi
// serves; `supervisorctl restart tsgi` gives a new master pid that serves; `supervisorctl
// stop tsgi` stops it gracefully (exit 0, supervisord's log says so, its workers gone);
// supervisord is stopped by its pid, and nothing of it is left.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, FIXTURES, ROOT } from '../lib/project.mjs';
import { waitUntil, withTimeout } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { get } from '../lib/master.mjs';
import { childrenOf, isGone } from '../lib/proc.mjs';

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || undefined;
const SUPERVISORD = which('supervisord');
const SUPERVISORCTL = which('supervisorctl');
const skip = SUPERVISORD === undefined || SUPERVISORCTL === undefined ? 'supervisord not found (apt-get install supervisor)' : false;

const SHUTDOWN_DELAY = 1;
const RELOAD_MERCY = 10;

/** The example's [program:tsgi] (examples/supervisord.conf) with this machine's paths, in a self-contained supervisord.conf. */
function supervisordConf(dir) {
  const example = readFileSync(join(ROOT, 'examples', 'supervisord.conf'), 'utf8');
  const program = example.slice(example.search(/^\[program:tsgi\]$/m));
  return `[unix_http_server]
file=${dir}/supervisor.sock
chmod=0700

[supervisord]
nodaemon=true
logfile=${dir}/supervisord.log
pidfile=${dir}/supervisord.pid
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${dir}/supervisor.sock

${program.replaceAll('/usr/bin/node', process.execPath).replaceAll('/app/node_modules/tsgi/bin/tsgi.js', CLI).replaceAll('/app/uwsgi.ini', join(dir, 'uwsgi.ini')).replaceAll('directory=/app', `directory=${ROOT}`).replaceAll('/dev/stdout', join(dir, 'tsgi.log'))}`;
}

let dir;
let supervisord;
const seenPids = new Set();

after(async () => {
  if (supervisord !== undefined && supervisord.exitCode === null && supervisord.signalCode === null) {
    process.kill(supervisord.pid, 'SIGKILL');
    await withTimeout(new Promise((resolve) => supervisord.once('exit', resolve)), 5000, 'supervisord to be reaped').catch(() => {});
  }
  for (const pid of seenPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (dir !== undefined && !process.env.KEEP) rmSync(dir, { recursive: true, force: true });
});

function ctl(...args) {
  const r = spawnSync(SUPERVISORCTL, ['-c', join(dir, 'supervisord.conf'), ...args], { encoding: 'utf8', timeout: 30000 });
  return `${r.stdout}${r.stderr}`;
}

/** The pid supervisord reports for tsgi once it is RUNNING. */
async function runningPid() {
  let pid;
  await waitUntil(
    () => {
      const m = /^tsgi\s+RUNNING\s+pid (\d+)/m.exec(ctl('status', 'tsgi'));
      pid = m ? Number(m[1]) : undefined;
      return pid !== undefined;
    },
    15000,
    'supervisorctl status to say tsgi RUNNING',
  );
  seenPids.add(pid);
  return pid;
}

/** A GET / served by a worker of master: the answer names a pid whose parent is master. */
async function servedBy(port, master) {
  let workers = [];
  await waitUntil(
    async () => {
      workers = childrenOf(master);
      if (workers.length < 2) return false;
      const r = await get(port).catch(() => undefined);
      return r?.status === 200 && workers.includes(Number(/^ok (\d+)\n$/.exec(r.body)?.[1]));
    },
    10000,
    `a worker of master ${master} to answer on port ${port}`,
  );
  for (const w of workers) seenPids.add(w);
  return workers;
}

const supervisordLog = () => readFileSync(join(dir, 'supervisord.log'), 'utf8');

test('supervisord runs tsgi: it serves, restart gives a new master that serves, stop is graceful (exit 0)', { skip }, async () => {
  dir = makeTempDir('tsgi-supervisord-');
  const port = await freePort();
  writeFileSync(
    join(dir, 'uwsgi.ini'),
    `[uwsgi]\nmaster = true\nprocesses = 2\nno-orphans = true\nhttp = 127.0.0.1:${port}\nwsgi-file = ${join(FIXTURES, 'ops-app.mjs')}\nshutdown-delay = ${SHUTDOWN_DELAY}\nreload-mercy = ${RELOAD_MERCY}\ndisable-logging = true\n`,
  );
  writeFileSync(join(dir, 'supervisord.conf'), supervisordConf(dir));
  supervisord = spawn(SUPERVISORD, ['-n', '-c', join(dir, 'supervisord.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  supervisord.stdout.setEncoding('utf8').on('data', (s) => (out += s));
  supervisord.stderr.setEncoding('utf8').on('data', (s) => (out += s));
  const supervisordExit = new Promise((resolve) => supervisord.once('exit', (code, signal) => resolve({ code, signal })));

  const first = await runningPid();
  const firstWorkers = await servedBy(port, first);

  const restart = ctl('restart', 'tsgi');
  assert.match(restart, /tsgi: stopped/);
  assert.match(restart, /tsgi: started/);
  const second = await runningPid();
  assert.notEqual(second, first, 'a new master');
  assert.ok([first, ...firstWorkers].every((p) => isGone(p, -1)), 'the first master and its workers are gone');
  await servedBy(port, second);
  const secondWorkers = childrenOf(second);

  assert.match(ctl('stop', 'tsgi'), /tsgi: stopped/);
  assert.match(ctl('status', 'tsgi'), /^tsgi\s+STOPPED/m);
  // Both stops were graceful: supervisord saw exit status 0 each time (not a signal).
  await waitUntil(() => (supervisordLog().match(/stopped: tsgi \(exit status 0\)/g) ?? []).length === 2, 5000, 'two "stopped: tsgi (exit status 0)" lines');
  assert.doesNotMatch(supervisordLog(), /terminated by|SIGKILL/);
  const tsgiLog = readFileSync(join(dir, 'tsgi.log'), 'utf8');
  assert.equal((tsgiLog.match(new RegExp(`SIGTERM received: draining for ${SHUTDOWN_DELAY} s`, 'g')) ?? []).length, 2, tsgiLog);
  assert.equal((tsgiLog.match(/goodbye/g) ?? []).length, 2, tsgiLog);
  assert.ok([second, ...secondWorkers].every((p) => isGone(p, -1)), 'the second master and its workers are gone');

  process.kill(supervisord.pid, 'SIGTERM');
  assert.deepEqual(await withTimeout(supervisordExit, 10000, 'supervisord to exit'), { code: 0, signal: null }, out);
  assert.ok(!existsSync(join(dir, 'supervisord.pid')), 'supervisord removed its pidfile');
  assert.ok(!existsSync(join(dir, 'supervisor.sock')), 'supervisord removed its socket');
});
