// The seeds' configurations run as written (the fixtures of test/fixtures/seeds/, which
// seeds-fixtures.test.mjs holds to ../shared/seeds): each one starts tsgi and answers a
// request through the socket and protocol it declares: HTTP directly, or the uwsgi
// protocol behind a real nginx where the block is meant for nginx; and the seeds' commands.
//
// Every process started here is stopped by pid (its workers too), every temp dir removed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { findNginx, findUwsgiParams, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { alive, killTree, stop, get, failsWith } from '../lib/cli-runs.mjs';

const FIX = join(FIXTURES, 'seeds');
const NGINX = findNginx();
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const NO_NGINX = !NGINX || !findUwsgiParams() ? 'needs nginx and its uwsgi_params (Debian: nginx-light)' : false;
const NO_ROOT = IS_ROOT ? false : 'needs root (the block sets uid/gid or chown-socket)';
const T = { timeout: 60000 };

/** The port of the CLI's first TCP socket in protocol (the master's and the single process's lines). */
const tcpPort = (cli, protocol) => cli.sockets.find((s) => s.kind === 'tcp' && s.protocol === protocol)?.port;

describe('seed 000 (uwsgi.ini of a Django project: strict, socket with protocol = http, 4 processes × 8 threads)', () => {
  test('tsgi uwsgi.ini: starts under strict, every option known, and answers HTTP on the socket', T, async (t) => {
    // "uwsgi --ini uwsgi.ini" from the project's directory; the file given alone, as uwsgi takes it too.
    const cli = spawnCli(['../000_d9b73b7138dba63f-block1.ini'], { cwd: join(FIX, '000') });
    t.after(() => stop(cli));
    const port = await cli.port;
    await cli.waitStderr(/(ready: application[^]*){4}/, 40000);
    const res = await get(port);
    assert.equal(res.status, 200, cli.stderrText());
    assert.equal(res.body.toString('utf8'), 'Привет, читатель!\n');
    assert.equal(res.header('content-type'), 'text/plain');
    const stderr = cli.stderrText();
    assert.doesNotMatch(stderr, /unknown option/);
    assert.match(stderr, /^tsgi: \.\.\/000_d9b73b7138dba63f-block1\.ini:16: die-on-term: accepted, no effect/m);
    assert.match(stderr, /^tsgi: \.\.\/000_d9b73b7138dba63f-block1\.ini:33: threads: each thread is a worker_thread/m);
    assert.match(stderr, /^tsgi: \.\.\/000_d9b73b7138dba63f-block1\.ini:36: enable-threads: accepted, no effect/m);
    assert.match(stderr, /master process \(pid: \d+\) spawning 4 workers/);
    assert.deepEqual(await stop(cli), { code: 0, signal: null }, cli.stderrText());
  });

  test('as the article has it, with wsgi-file = project/wsgi.py: one line naming the .ts next to it, exit 1', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-seed000-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ini = join(dir, 'uwsgi.ini');
    writeFileSync(ini, readFileSync(join(FIX, '000_d9b73b7138dba63f-block1.ini'), 'utf8').replace('project/wsgi.ts', 'project/wsgi.py'));
    await failsWith(t, ['--ini', ini], [`tsgi: ${ini}:3: wsgi-file project/wsgi.py is a Python file: tsgi runs JavaScript and TypeScript applications (project/wsgi.ts is there: wsgi-file = project/wsgi.ts)`], { cwd: join(FIX, '000') });
  });

  test('its command "uwsgi --module=project.wsgi --http :8001", from the project directory', T, async (t) => {
    const cli = spawnCli(['--module=project.wsgi', '--http', '127.0.0.1:0', '--disable-logging'], { cwd: join(FIX, '000') });
    t.after(() => stop(cli));
    const res = await get(await cli.port);
    assert.equal(res.body.toString('utf8'), 'Привет, читатель!\n');
    assert.equal((await stop(cli)).code, 0);
  });
});

describe('seed 001 (Django behind nginx: daemonize, pidfile, py-autoreload, uid/gid root, a unix socket)', { skip: NO_NGINX || NO_ROOT }, () => {
  let dir;
  let nginx;
  let masterPid;
  before(() => {
    // The article's layout: the project, with uwsgi/uwsgi.ini and logs/ in it.
    dir = makeTempDir('tsgi-seed001-');
    mkdirSync(join(dir, 'uwsgi'));
    mkdirSync(join(dir, 'logs'));
    cpSync(join(FIX, '001_76656e4508ad7551-block1.ini'), join(dir, 'uwsgi', 'uwsgi.ini'));
    cpSync(join(FIX, '001', 'mysite'), join(dir, 'mysite'), { recursive: true });
  });
  after(async () => {
    await nginx?.stop();
    if (masterPid !== undefined && alive(masterPid)) killTree(masterPid);
    rmSync(dir, { recursive: true, force: true });
  });

  test('"uwsgi --ini ./uwsgi/uwsgi.ini" daemonizes; nginx reaches it; a changed module reloads it; "uwsgi --stop ./uwsgi/uwsgi.pid" stops it', T, async () => {
    const log = () => (existsSync(join(dir, 'logs', 'uwsgi.log')) ? readFileSync(join(dir, 'logs', 'uwsgi.log'), 'utf8') : '');
    const start = spawnCli(['--ini', './uwsgi/uwsgi.ini'], { cwd: dir });
    const { code } = await start.waitExit(10000);
    assert.equal(code, 0, start.stderrText());
    masterPid = Number(/daemonized as pid (\d+)/.exec(start.stderrText())?.[1]);
    assert.ok(masterPid > 0, start.stderrText());
    assert.match(start.stderrText(), /uwsgi\/uwsgi\.ini:\d+: enable-threads: accepted, no effect/);
    assert.match(start.stderrText(), /uwsgi\/uwsgi\.ini:\d+: thunder-lock: accepted, no effect/);
    const pidfile = join(dir, 'uwsgi', 'uwsgi.pid');
    const sock = join(dir, 'uwsgi', 'uwsgi.sock');
    await waitUntil(() => (log().match(/ready: application/g) ?? []).length >= 2, 20000, `two workers ready; log:\n${log()}`).catch((err) => {
      throw new Error(`${err.message}\n${log()}`);
    });
    assert.equal(Number(readFileSync(pidfile, 'utf8')), masterPid, 'the pidfile holds the master');
    assert.ok(statSync(sock).isSocket());
    assert.match(log(), /master process \(pid: \d+\) spawning 2 workers/, 'workers=2, master=true');
    assert.match(log(), /privileges dropped to uid 0 gid 0/);
    assert.match(log(), /py-autoreload: watching 2 files every 1 s/, 'wsgi.ts and the greeting.ts it imports');

    // uid=root and no chmod-socket: the socket is root's, 0755, so only a root nginx worker can write to it.
    nginx = await startNginx({ upstream: sock, user: 'root' });
    let res = await get(nginx.port);
    assert.equal(res.status, 200, nginx.errorLog());
    assert.equal(res.body.toString(), 'Hello World');
    assert.equal(res.header('content-type'), 'text/html');

    // py-autoreload=1: the module the application imports changes, the workers reload one after another.
    writeFileSync(join(dir, 'mysite', 'greeting.ts'), "export function greeting(): string {\n  return 'Hello again, World';\n}\n");
    await waitUntil(() => /py-autoreload: .*greeting\.ts changed: graceful chain reload/.test(log()), 10000, 'the change to be seen');
    await waitUntil(async () => (await get(nginx.port)).body.toString() === 'Hello again, World', 20000, 'the reloaded workers to answer');
    await waitUntil(() => /chain reload done/.test(log()), 20000, 'the chain reload to end');
    res = await get(nginx.port);
    assert.equal(res.status, 200);
    assert.doesNotMatch(log(), /=> generated/, 'disable-logging=true: no request lines');

    // "uwsgi --stop ./uwsgi/uwsgi.pid"
    const stopper = spawnCli(['--stop', './uwsgi/uwsgi.pid'], { cwd: dir });
    assert.equal((await stopper.waitExit(10000)).code, 0, stopper.stderrText());
    await waitUntil(() => !alive(masterPid), 15000, 'the master to exit');
    assert.ok(!existsSync(pidfile), 'vacuum: the pidfile is removed');
    assert.ok(!existsSync(sock), 'vacuum: the socket is removed');
    assert.match(log(), /goodbye/);
  });
});

describe('seed 002 (wsgiref\'s environ dump, uwsgi --http and uwsgi --socket behind nginx)', () => {
  const app = join(FIX, '002', 'mysite', 'wsgi.ts');
  test('"uwsgi --http 127.0.0.1:8000 --chdir /www/django --wsgi-file /www/django/mysite/wsgi.py", then curl -i', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--chdir', join(FIX, '002'), '--wsgi-file', app]);
    t.after(() => stop(cli));
    const res = await get(await cli.port);
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /^REQUEST_METHOD GET$/m);
    assert.match(res.body.toString(), /^SERVER_PROTOCOL HTTP\/1\.1$/m);
    assert.equal((await stop(cli)).code, 0);
  });

  test('"uwsgi --socket 127.0.0.1:8000 ..." behind nginx\'s "include uwsgi_params; uwsgi_pass 127.0.0.1:8000;"', { ...T, skip: NO_NGINX }, async (t) => {
    const cli = spawnCli(['--socket', '127.0.0.1:0', '--chdir', join(FIX, '002'), '--wsgi-file', app, '--disable-logging']);
    t.after(() => stop(cli));
    await cli.waitStderr(/tsgi is ready/, 15000);
    const port = tcpPort(cli, 'uwsgi');
    const nginx = await startNginx({ upstream: port });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/some/where?x=1');
    assert.equal(res.status, 200, nginx.errorLog());
    const body = res.body.toString();
    assert.match(body, /^PATH_INFO \/some\/where$/m);
    assert.match(body, /^QUERY_STRING x=1$/m);
    assert.match(body, /^DOCUMENT_ROOT /m, 'a variable of nginx\'s uwsgi_params: the uwsgi protocol');
    assert.equal((await stop(cli)).code, 0);
  });
});

describe('seed 003 (a uwsgi socket on 127.0.0.1:8001 for nginx; home, limit-as, master = false with workers = 2)', { skip: NO_NGINX }, () => {
  test('starts with its notes, answers through nginx, and removes its pidfile on exit', T, async (t) => {
    const run = makeTempDir('tsgi-seed003-');
    t.after(() => rmSync(run, { recursive: true, force: true }));
    const ini = join(FIX, '003_46280d4c568a3ab0-block1.ini');
    const cli = spawnCli(['--ini', ini], { env: { SEED_RUN_DIR: run } });
    t.after(() => stop(cli));
    await cli.waitStderr(/(ready: application[^]*){2}/, 30000);
    const stderr = cli.stderrText();
    const shown = 'test/fixtures/seeds/003_46280d4c568a3ab0-block1.ini';
    assert.match(stderr, new RegExp(`^tsgi: ${shown}:3: master = false, but processes = 2: tsgi runs a master anyway`, 'm'));
    assert.match(stderr, new RegExp(`^tsgi: ${shown}:6: home: ignored: it names a Python virtualenv`, 'm'));
    assert.match(stderr, new RegExp(`^tsgi: ${shown}:11: limit-as = 512: .*taken as reload-on-rss 512`, 'm'));
    assert.doesNotMatch(stderr, /unknown option|DAMN/);
    const port = tcpPort(cli, 'uwsgi');
    assert.ok(port > 0, stderr);
    const pidfile = join(run, 'uwsgi.pid');
    assert.equal(Number(readFileSync(pidfile, 'utf8')), cli.child.pid);
    const nginx = await startNginx({ upstream: port });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/virt');
    assert.equal(res.status, 200, nginx.errorLog());
    const body = JSON.parse(res.body.toString());
    assert.equal(body.app, 'cmpvirtmgr');
    assert.equal(body.path, '/virt');
    assert.equal(body.cwd, join(FIX, '003'), 'chdir = %d003/');
    assert.deepEqual(await stop(cli), { code: 0, signal: null });
    assert.ok(!existsSync(pidfile), 'vacuum = true: the pidfile is removed');
  });
});

describe('seed 004 (Flask in Docker: supervisord.ini, and uwsgi.ini with a unix socket for nginx, chown www-data, show-config)', () => {
  test('uwsgi.ini: the socket is www-data\'s, mode 664; nginx (workers: www-data) reaches the Flask routes; show-config logs the configuration', { ...T, skip: NO_NGINX || NO_ROOT }, async (t) => {
    const run = makeTempDir('tsgi-seed004-');
    t.after(() => rmSync(run, { recursive: true, force: true }));
    const cli = spawnCli(['--ini', join(FIX, '004_13d24b601fdb1b80-block2.ini')], { env: { SEED_RUN_DIR: run } });
    t.after(() => stop(cli));
    await cli.waitStderr(/tsgi is ready/, 15000);
    const sock = join(run, 'uwsgi.sock');
    const st = statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o664);
    assert.equal(st.uid, 33, 'www-data');
    assert.equal(st.gid, 33, 'www-data');
    const shown = 'test/fixtures/seeds/004_13d24b601fdb1b80-block2.ini';
    const stderr = cli.stderrText();
    assert.match(stderr, /^\[uwsgi\]$/m);
    assert.match(stderr, new RegExp(`^wsgi-file = ${FIX}/004/routes\\.ts  # ${shown}:2$`, 'm'));
    assert.match(stderr, new RegExp(`^socket = ${run}/uwsgi\\.sock  # ${shown}:3$`, 'm'));
    assert.match(stderr, new RegExp(`^chown-socket = www-data:www-data  # ${shown}:4$`, 'm'));
    assert.match(stderr, new RegExp(`^chmod-socket = 664  # ${shown}:5$`, 'm'));
    assert.match(stderr, new RegExp(`^show-config = true  # ${shown}:7$`, 'm'));
    const nginx = await startNginx({ upstream: sock, user: 'www-data' });
    t.after(() => nginx.stop());
    assert.ok(nginx.workers().every((w) => w.user === 'www-data'), JSON.stringify(nginx.workers()));
    let res = await get(nginx.port, '/hello/hello');
    assert.equal(res.status, 200, nginx.errorLog());
    assert.deepEqual(JSON.parse(res.body.toString()), { message: 'hello', name: 'hello' }, 'the article\'s answer');
    res = await get(nginx.port, '/hello');
    assert.deepEqual(JSON.parse(res.body.toString()), { message: 'hello', name: 'username' });
    res = await get(nginx.port, '/nope');
    assert.equal(res.status, 404);
    assert.deepEqual(await stop(cli), { code: 0, signal: null });
  });

  test('supervisord.ini is not a uwsgi config: no [uwsgi] section, its sections named', T, async (t) => {
    await failsWith(t, ['--ini', join(FIX, '004_13d24b601fdb1b80-block1.ini')], [
      'tsgi: test/fixtures/seeds/004_13d24b601fdb1b80-block1.ini: no [uwsgi] section (its sections: [supervisord], [program:uwsgi], [program:nginx]); name another with test/fixtures/seeds/004_13d24b601fdb1b80-block1.ini:SECTION',
    ]);
  });
});
