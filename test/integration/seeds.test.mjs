// The seeds' configurations run as written: every ini block of ../shared/seeds (uWSGI
// configs from Russian and Chinese articles) is a fixture in test/fixtures/seeds/,
// byte-identical but for the application paths (a TypeScript application of
// test/fixtures/seeds/) and the socket paths and ports (temp paths, port 0). Each one
// starts tsgi and answers a request through the socket and protocol it declares: HTTP
// directly, or the uwsgi protocol behind a real nginx where the block is meant for nginx.
// Then the seeds' commands, and config files at the command line: --show-config,
// strict, warnings, broken files, yaml, json, the environment, --py-autoreload.
//
// Every process started here is stopped by pid (its workers too), every temp dir removed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { waitUntil, delay } from '../lib/wait.mjs';
import { findNginx, findUwsgiParams, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { freePort } from '../lib/ports.mjs';
import { descendantsOf, procStat } from '../lib/proc.mjs';

const SEEDS = join(ROOT, '..', 'shared', 'seeds');
const FIX = join(FIXTURES, 'seeds');
const CONF = join(FIXTURES, 'config');
const NGINX = findNginx();
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const NO_NGINX = !NGINX || !findUwsgiParams() ? 'needs nginx and its uwsgi_params (Debian: nginx-light)' : false;
const NO_ROOT = IS_ROOT ? false : 'needs root (the block sets uid/gid or chown-socket)';
const T = { timeout: 60000 };

/** The substitutions that make a seed's block a fixture: application paths, socket paths and ports. */
const SUBSTITUTIONS = {
  '000_d9b73b7138dba63f-block1.ini': [
    ['wsgi-file = project/wsgi.py', 'wsgi-file = project/wsgi.ts'],
    ['socket = :8000  #', 'socket = :0  #'],
  ],
  '001_76656e4508ad7551-block1.ini': [],
  '003_46280d4c568a3ab0-block1.ini': [
    ['socket = 127.0.0.1:8001', 'socket = 127.0.0.1:0'],
    ['chdir = /var/www/cmpvirtmgr/', 'chdir = %d003/'],
    ['pidfile = /etc/uwsgi/uwsgi.pid', 'pidfile = $(SEED_RUN_DIR)/uwsgi.pid'],
  ],
  '004_13d24b601fdb1b80-block1.ini': [],
  '004_13d24b601fdb1b80-block2.ini': [
    ['wsgi-file = /app/routes.py', 'wsgi-file = %d004/routes.ts'],
    ['socket = /run/uwsgi.sock', 'socket = $(SEED_RUN_DIR)/uwsgi.sock'],
  ],
};

/** The fenced code blocks of a markdown text that hold an ini section header, verbatim. */
function iniBlocks(text) {
  const out = [];
  let open;
  let lines = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(`{3,})(.*)$/.exec(line);
    if (open === undefined && m) {
      open = m[1];
      lines = [];
    } else if (open !== undefined && m && m[1] === open && m[2].trim() === '') {
      if (lines.some((l) => /^\s*\[[^\]]+\]\s*$/.test(l))) out.push(lines.join('\n') + '\n');
      open = undefined;
    } else if (open !== undefined) {
      lines.push(line);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Processes

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return procStat(pid)?.state !== 'Z';
  } catch {
    return false;
  }
};

/** SIGKILL to pid and its descendants, each by pid. */
function killTree(pid) {
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** SIGTERM, then the exit code (SIGKILL to the tree after 10 s). */
async function stop(cli) {
  const pids = [cli.child.pid, ...descendantsOf(cli.child.pid)];
  cli.signal('SIGTERM');
  try {
    return await cli.waitExit(10000);
  } catch {
    for (const p of pids) killTree(p);
    await cli.kill();
    return { code: null, signal: 'SIGKILL' };
  }
}

/** GET path on port (HTTP, Connection: close). */
const get = (port, path = '/') => request(port, req('GET', path, [['Connection', 'close']]), { timeoutMs: 10000 });

/** The port of the CLI's first TCP socket in protocol (the master's and the single process's lines). */
const tcpPort = (cli, protocol) => cli.sockets.find((s) => s.kind === 'tcp' && s.protocol === protocol)?.port;

/** Runs the CLI to its failure: exit 1 within a few seconds, and the lines on stderr. */
async function failsWith(t, args, patterns, opts) {
  const cli = spawnCli(args, opts);
  t.after(() => cli.kill());
  const { code, signal } = await cli.waitExit(8000);
  const stderr = Buffer.from(cli.stderrText(), 'latin1').toString('utf8');
  assert.equal(signal, null, stderr);
  assert.equal(code, 1, `exit code 1: ${stderr}`);
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, patterns.length, `${patterns.length} line(s) on stderr: ${JSON.stringify(stderr)}`);
  patterns.forEach((p, i) => (typeof p === 'string' ? assert.equal(lines[i], p) : assert.match(lines[i], p)));
  assert.equal(cli.stdoutText(), '', 'nothing on stdout');
  return stderr;
}

// ---------------------------------------------------------------------------------

describe('the seeds\' ini blocks are the fixtures', () => {
  test('every ini block of ../shared/seeds is a fixture, byte-identical but for the application and socket paths', { skip: existsSync(SEEDS) ? false : `no seeds at ${SEEDS}` }, () => {
    const names = [];
    for (const seed of readdirSync(SEEDS).filter((f) => f.endsWith('.txt')).sort()) {
      iniBlocks(readFileSync(join(SEEDS, seed), 'utf8')).forEach((block, i) => {
        const name = `${seed.replace(/\.txt$/, '')}-block${i + 1}.ini`;
        names.push(name);
        assert.ok(SUBSTITUTIONS[name] !== undefined, `${name} has its substitutions listed`);
        let expected = block;
        for (const [from, to] of SUBSTITUTIONS[name]) {
          assert.ok(expected.includes(from), `${name}: the seed has ${JSON.stringify(from)}`);
          expected = expected.replace(from, to);
        }
        assert.equal(readFileSync(join(FIX, name), 'utf8'), expected, `test/fixtures/seeds/${name}`);
      });
    }
    assert.deepEqual(names.sort(), Object.keys(SUBSTITUTIONS).sort(), 'one fixture per block');
    assert.deepEqual(readdirSync(FIX).filter((f) => f.endsWith('.ini')).sort(), names.sort(), 'no other fixture');
  });
});

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

describe('config files at the command line', () => {
  const seed000 = join(FIX, '000_d9b73b7138dba63f-block1.ini');

  test('--show-config --dry-run prints what was read, in ini form, with each value\'s source, and exits 0', T, async (t) => {
    const cli = spawnCli(['--ini', seed000, '--show-config', '--dry-run', '--buffer-size', '8k'], { cwd: join(FIX, '000'), env: { TSGI_HARAKIRI: '30' } });
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 0, cli.stderrText());
    assert.equal(cli.stderrText(), '');
    const out = cli.stdoutText();
    const f = '../000_d9b73b7138dba63f-block1.ini';
    for (const line of [
      '[uwsgi]',
      `ini = ${seed000}  # command line`,
      `wsgi-file = project/wsgi.ts  # ${f}:3`,
      `strict = true  # ${f}:5`,
      `socket = :0  # ${f}:6`,
      `protocol = http  # ${f}:7`,
      `processes = 4  # ${f}:26`,
      `;harakiri = 60  # ${f}:49, overridden by environment TSGI_HARAKIRI`,
      `;buffer-size = 65535  # ${f}:60, overridden by command line`,
      'harakiri = 30  # environment TSGI_HARAKIRI',
      'buffer-size = 8k  # command line',
      'show-config = true  # command line',
      ';end of configuration',
    ]) {
      assert.ok(out.split('\n').includes(line), `--show-config prints ${JSON.stringify(line)}:\n${out}`);
    }
  });

  test('strict refuses a misspelt option with file:line and the nearest name', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-strict-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ini = join(dir, 'uwsgi.ini');
    writeFileSync(ini, readFileSync(seed000, 'utf8').replace('processes = 4', 'procesess = 4'));
    await failsWith(t, ['--ini', 'uwsgi.ini'], ['tsgi: uwsgi.ini:26: unknown option "procesess" (did you mean "processes"?)'], { cwd: dir });
  });

  test('without strict: one warning line per unknown option, and the server starts', T, async (t) => {
    const cli = spawnCli(['--ini', join(CONF, 'typo.ini')]);
    t.after(() => stop(cli));
    const res = await get(await cli.port);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.toString()).value, 'from the ini', 'the inline comment is not in the value');
    const warnings = cli.stderrText().split('\n').filter((l) => /unknown option/.test(l));
    assert.deepEqual(warnings, ['tsgi: test/fixtures/config/typo.ini:5: unknown option "procesess" ignored (did you mean "processes"?)']);
    assert.equal((await stop(cli)).code, 0);
  });

  for (const [name, args, line] of [
    ['a bad value', ['--ini', 'test/fixtures/config/bad-value.ini'], 'tsgi: test/fixtures/config/bad-value.ini:4: Expected an integer from 256 to 1048576 for buffer-size but received "0"'],
    ['an unterminated section header', ['test/fixtures/config/broken-section.ini'], 'tsgi: test/fixtures/config/broken-section.ini:2: unterminated section header "[uwsgi" (no "]")'],
    ['a line without "=" that is not a bare key', ['test/fixtures/config/junk-line.ini'], 'tsgi: test/fixtures/config/junk-line.ini:3: expected "key = value" or a bare option name, got "this is not an option"'],
    ['a missing include', ['test/fixtures/config/missing-include.ini'], 'tsgi: test/fixtures/config/missing-include.ini:3: cannot include test/fixtures/config/nowhere.ini: no such file'],
    ['an include loop', ['test/fixtures/config/loop-a.ini'], 'tsgi: test/fixtures/config/loop-b.ini:3: include loop: test/fixtures/config/loop-a.ini -> test/fixtures/config/loop-b.ini -> test/fixtures/config/loop-a.ini'],
    ['a missing config file', ['--ini', 'nowhere/uwsgi.ini'], 'tsgi: cannot read the ini file nowhere/uwsgi.ini: no such file'],
    ['a refused option', ['test/fixtures/config/refused.ini'], /^tsgi: test\/fixtures\/config\/refused\.ini:3: pythonpath: refused: .*NODE_PATH/],
    ['an option written with an en dash (seed 001: "uwsgi –http :8001 –wsgi-file test.py")', ['–http', ':8001', '–wsgi-file', 'test.py'], /^tsgi: Unexpected argument "–http": it starts with a dash character \(U\+2013\), not two hyphens: write --http \(see tsgi --help\)$/],
  ]) {
    test(`${name}: file:line (where there is one) and exit 1`, T, async (t) => {
      await failsWith(t, args, [line]);
    });
  }

  test('yaml: "tsgi app.yaml" serves, lists repeat env, $(ENV) placeholders', T, async (t) => {
    const cli = spawnCli(['test/fixtures/config/app.yaml'], { env: { SEED_YAML_OTHER: 'from the environment' } });
    t.after(() => stop(cli));
    const seen = JSON.parse((await get(await cli.port)).body.toString());
    assert.deepEqual([seen.value, seen.other], ['from yaml', 'from the environment']);
    assert.equal((await stop(cli)).code, 0);
  });

  test('json: "tsgi --json app.json" serves, with %d and %n', T, async (t) => {
    const cli = spawnCli(['--json', 'test/fixtures/config/app.json']);
    t.after(() => stop(cli));
    const seen = JSON.parse((await get(await cli.port)).body.toString());
    assert.deepEqual([seen.value, seen.other], ['from json', 'app']);
    assert.equal((await stop(cli)).code, 0);
  });

  test('the environment alone: UWSGI_HTTP, UWSGI_WSGI_FILE, TSGI_DISABLE_LOGGING', T, async (t) => {
    const cli = spawnCli([], { env: { UWSGI_HTTP: '127.0.0.1:0', UWSGI_WSGI_FILE: 'test/fixtures/app.mjs', TSGI_DISABLE_LOGGING: 'true' } });
    t.after(() => stop(cli));
    const res = await get(await cli.port);
    assert.equal(res.body.toString(), 'hello from mjs /\n');
    await delay(100);
    assert.doesNotMatch(cli.stderrText(), /=> generated/);
    assert.equal((await stop(cli)).code, 0);
  });

  test('--help shows the verdicts and the config files', T, async (t) => {
    const cli = spawnCli(['--help']);
    t.after(() => cli.kill());
    assert.equal((await cli.waitExit(8000)).code, 0);
    const out = cli.stdoutText();
    assert.match(out, /^Usage: tsgi --http :9090 --wsgi-file app\.ts \[options\]\n {7}tsgi \[options\] FILE\.ini\|FILE\.yaml\|FILE\.json\n/);
    assert.match(out, /--pythonpath, --python-path, --pp STRING\n.*\n {6}\[refused\] refused: it adds to Python's sys\.path/);
    assert.match(out, /--enable-threads\n.*\n {6}\[translated\] accepted, no effect/);
    assert.match(out, /TSGI_NAME or UWSGI_NAME/);
  });
});

describe('--py-autoreload in single-process mode', () => {
  test('a changed module restarts the serving child; a broken one waits for a fix; SIGTERM stops both', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-autoreload-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.ts'), "import { message } from './message.js';\nexport function application(_e: unknown, start: (s: string, h: [string, string][]) => void) {\n  start('200 OK', [['Content-Type', 'text/plain']]);\n  return [message];\n}\n");
    const setMessage = (text) => writeFileSync(join(dir, 'message.ts'), `export const message: string = ${JSON.stringify(text)};\n`);
    setMessage('one');
    const port = await freePort();
    const cli = spawnCli(['--http', `127.0.0.1:${port}`, '--py-autoreload', '1', '--disable-logging', '--wsgi-file', join(dir, 'app.ts')]);
    t.after(async () => {
      for (const p of descendantsOf(cli.child.pid)) killTree(p);
      await cli.kill();
    });
    await cli.port;
    const body = async () => {
      try {
        return (await get(port)).body.toString();
      } catch {
        return undefined; // between two children
      }
    };
    assert.equal(await body(), 'one');
    assert.match(cli.stderrText(), /py-autoreload 1: a child process serves/);
    assert.match(cli.stderrText(), /py-autoreload: watching 2 files every 1 s/);
    const firstChild = Number(/ready in single-process mode \(pid: (\d+)\)/.exec(cli.stderrText())[1]);
    assert.notEqual(firstChild, cli.child.pid);

    setMessage('the second message');
    await waitUntil(async () => (await body()) === 'the second message', 15000, 'the restarted child to answer');
    assert.match(cli.stderrText(), /py-autoreload: .*message\.ts changed: restarting/);
    assert.match(cli.stderrText(), /py-autoreload: starting the application again/);
    assert.ok(!alive(firstChild), 'the first child is gone');

    writeFileSync(join(dir, 'message.ts'), 'export const message: string = ;\n');
    await cli.waitStderr(/waiting for a change to .*app\.ts \(or what it imports\) to try again/, 15000);
    setMessage('fixed');
    await waitUntil(async () => (await body()) === 'fixed', 15000, 'the fixed application to answer').catch((err) => {
      throw new Error(`${err.message}\n${cli.stderrText()}`);
    });

    const children = descendantsOf(cli.child.pid);
    assert.deepEqual(await stop(cli), { code: 0, signal: null }, cli.stderrText());
    await waitUntil(() => children.every((p) => !alive(p)), 5000, 'the child to exit with its parent');
  });
});
