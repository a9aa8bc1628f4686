// The tsgi command as a user runs it: node bin/tsgi.js, a real child process.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FIXTURES, ROOT, BACKENDS } from '../lib/project.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { request, connect } from '../lib/raw-client.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { delay } from '../lib/wait.mjs';
import { VERSION } from '../../dist/lib/index.js';

const T = { timeout: 30000 };
// Startup lines that come before any error: the banner and the "application loaded" line.
const STARTUP = [/^\*\*\* .* \*\*\*$/, /^tsgi: application .* loaded in \d+ msecs, interface \w+( \(auto: [^)]*\))?$/];

/** Starts the CLI with args, asserts it serves GET path with the expected body, stops it. */
async function servesWith(t, args, expected, { path = '/hello', cwd, env } = {}) {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--disable-logging', ...args], { cwd, env });
  t.after(() => cli.kill());
  const port = await cli.port;
  const res = await request(port, req('GET', path, [['Connection', 'close']]), { timeoutMs: 5000 });
  assert.equal(res.status, 200, cli.stderrText());
  if (expected instanceof RegExp) assert.match(res.body.toString(), expected);
  else assert.equal(res.body.toString(), expected);
  cli.signal('SIGTERM');
  const { code } = await cli.waitExit(5000);
  assert.equal(code, 0, cli.stderrText());
  return { cli, res };
}

/** Runs the CLI to its failure: exit code 1, quickly, and ONE line on stderr besides the startup lines. */
async function failsWith(t, args, pattern, opts) {
  const started = Date.now();
  const cli = spawnCli(args, opts);
  t.after(() => cli.kill());
  const { code, signal } = await cli.waitExit(8000);
  const elapsed = Date.now() - started;
  const stderr = cli.stderrText();
  assert.equal(signal, null, `not killed by a signal: ${stderr}`);
  assert.equal(code, 1, `exit code 1: ${stderr}`);
  assert.ok(elapsed < 8000, `exits within a few seconds (${elapsed} ms)`);
  const lines = stderr.split('\n').filter((l) => l !== '' && !STARTUP.some((re) => re.test(l)));
  assert.match(lines[0] ?? '', pattern, `the error line: ${JSON.stringify(stderr)}`);
  assert.equal(lines.length, 1, `one line on stderr, got ${lines.length}: ${JSON.stringify(stderr)}`);
  assert.equal(cli.stdoutText(), '', 'nothing on stdout');
  return stderr;
}

describe('tsgi --help and --version', () => {
  test('--help lists the options and exits 0', T, async (t) => {
    const cli = spawnCli(['--help']);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 0);
    const out = cli.stdoutText();
    for (const option of ['--http', '--http-socket', '--wsgi-file', '--module', '--callable', '--buffer-size', '--post-buffering', '--limit-post', '--http-timeout', '--disable-logging', '--chdir', '--env', '--backend']) {
      assert.ok(out.includes(option), `--help lists ${option}`);
    }
    assert.match(out, /^Usage: tsgi/);
    assert.equal(cli.stderrText(), '');
  });

  test('-h is --help', T, async (t) => {
    const cli = spawnCli(['-h']);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 0);
    assert.match(cli.stdoutText(), /--buffer-size/);
  });

  test('--version prints the version and exits 0', T, async (t) => {
    const cli = spawnCli(['--version']);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 0);
    assert.equal(cli.stdoutText(), `${VERSION}\n`);
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });
});

describe('tsgi loads applications', () => {
  for (const ext of ['ts', 'mts', 'js', 'mjs', 'cjs']) {
    test(`--wsgi-file app.${ext}`, T, async (t) => {
      await servesWith(t, ['--wsgi-file', join(FIXTURES, `app.${ext}`)], `hello from ${ext} /hello\n`);
    });
  }

  test('--file is --wsgi-file, relative to the working directory', T, async (t) => {
    await servesWith(t, ['--file', 'test/fixtures/app.mjs'], 'hello from mjs /hello\n', { cwd: ROOT });
  });

  test('--module pkg.sub finds pkg/sub.ts', T, async (t) => {
    await servesWith(t, ['--module', 'pkg.sub'], 'hello from pkg.sub /hello\n', { cwd: FIXTURES });
  });

  test('--module file:callable picks the callable', T, async (t) => {
    await servesWith(t, ['--module', 'callables:other'], 'callable other\n', { cwd: FIXTURES });
    await servesWith(t, ['--module', 'callables.mjs:app'], 'callable app\n', { cwd: FIXTURES });
  });

  test('--callable app picks the callable; the default is application', T, async (t) => {
    await servesWith(t, ['--wsgi-file', join(FIXTURES, 'callables.mjs'), '--callable', 'app'], 'callable app\n');
    await servesWith(t, ['--wsgi-file', join(FIXTURES, 'callables.mjs')], 'callable application\n');
  });

  test('--chdir: the application is found and runs there', T, async (t) => {
    const { res } = await servesWith(t, ['--chdir', 'test/fixtures', '--wsgi-file', 'env-app.mjs'], /"cwd"/, { cwd: ROOT });
    assert.equal(JSON.parse(res.body.toString()).cwd, realpathSync(FIXTURES));
  });

  test('--env KEY=VALUE is in the application\'s process.env', T, async (t) => {
    const { res } = await servesWith(t, ['--env', 'TSGI_TEST_VALUE=a=b c', '--env', 'TSGI_TEST_OTHER=', '--wsgi-file', join(FIXTURES, 'env-app.mjs')], /"value"/);
    const seen = JSON.parse(res.body.toString());
    assert.equal(seen.value, 'a=b c');
    assert.equal(seen.other, '');
  });

  test('the startup lines name the application and the bound socket', T, async (t) => {
    const { cli } = await servesWith(t, ['--wsgi-file', join(FIXTURES, 'app.mjs')], 'hello from mjs /hello\n');
    const stderr = cli.stderrText();
    assert.match(stderr, /^tsgi: socket 0 bound to TCP address 127\.0\.0\.1:\d+ \(http, from 127\.0\.0\.1:0\)$/m);
    assert.match(stderr, /app\.mjs callable 'application' loaded in \d+ msecs/);
  });
});

describe('tsgi fails clearly', () => {
  test('a missing --wsgi-file', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'does-not-exist.mjs')], /^tsgi: .*does-not-exist\.mjs/);
  });

  test('a missing --module', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--module', 'no.such.module'], /^tsgi: .*no\.such\.module/, { cwd: FIXTURES });
  });

  test('a module without the callable: the message says what each place tsgi looked at holds', T, async (t) => {
    const file = join(FIXTURES, 'no-callable.mjs');
    await failsWith(
      t,
      ['--http', '127.0.0.1:0', '--wsgi-file', file],
      new RegExp(
        `^tsgi: ${file} has no application: tsgi takes the export 'application', else 'app', else the default export \\(a function, an object with a fetch method, a Koa application or a Fastify instance\\), and there is no default export \\(it exports: helper, notAnApp\\)$`,
      ),
    );
    await failsWith(
      t,
      ['--http', '127.0.0.1:0', '--module', 'callables:missing'],
      /^tsgi: \S+callables\.mjs has no application 'missing' \(a function, an object with a fetch method, a Koa application or a Fastify instance\), and there is no export 'missing' \(it exports: app, application, other\)$/,
      { cwd: FIXTURES },
    );
  });

  test('a default export that is not a function is named as such, not denied', T, async (t) => {
    const file = join(FIXTURES, 'default-object.mjs');
    await failsWith(
      t,
      ['--http', '127.0.0.1:0', '--wsgi-file', file],
      new RegExp(
        `^tsgi: ${file} has no application: tsgi takes the export 'application', else 'app', else the default export \\(a function, an object with a fetch method, a Koa application or a Fastify instance\\), and the default export is an object \\(keys: handler\\) \\(it exports: default, handler\\)$`,
      ),
    );
  });

  test('a Python file', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'app.py')], /^tsgi: .*app\.py.*Python/);
  });

  test('an application that throws while loading', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'throws-on-load.mjs')], /^tsgi: .*throws-on-load\.mjs.*boom while loading the fixture/);
  });

  test('an invalid value: --buffer-size 0', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--buffer-size', '0', '--wsgi-file', join(FIXTURES, 'app.mjs')], /^tsgi: .*buffer-size/);
  });

  test('an unknown option: --bufer-size suggests --buffer-size', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--bufer-size', '8192', '--wsgi-file', join(FIXTURES, 'app.mjs')], /^tsgi: .*--bufer-size.*--buffer-size/);
  });

  test('no socket to serve on', T, async (t) => {
    await failsWith(t, ['--wsgi-file', join(FIXTURES, 'app.mjs')], /^tsgi: no socket given: use --http :9090, --http-socket, --socket or --uwsgi-socket$/);
  });

  test('no arguments at all: the usage, exit 1', T, async (t) => {
    const cli = spawnCli([]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 1);
    assert.equal(
      cli.stderrText(),
      'Usage: tsgi --http :9090 --wsgi-file app.ts [options]\n       tsgi [options] FILE.ini|FILE.yaml|FILE.json\ntsgi --help lists every option.\n',
    );
    assert.equal(cli.stdoutText(), '');
  });

  test('--backend native without an addon: one line that says so, exit 1', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--backend', 'native', '--wsgi-file', join(FIXTURES, 'app.mjs')], /^tsgi: --backend native: no native addon at TSGI_NATIVE_ADDON=\/nonexistent\/tsgi\.node$/, {
      env: { TSGI_NATIVE_ADDON: '/nonexistent/tsgi.node' },
    });
  });

  test('--master without an addon: one line, exit 1', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--master', '--wsgi-file', join(FIXTURES, 'app.mjs')], /^tsgi: --master and --processes run the native backend: no native addon at TSGI_NATIVE_ADDON=\/nonexistent\/tsgi\.node$/, {
      env: { TSGI_NATIVE_ADDON: '/nonexistent/tsgi.node' },
    });
  });

  for (const backend of BACKENDS) {
    test(`a port in use (${backend} backend)`, T, async (t) => {
      const blocker = net.createServer();
      await new Promise((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen(0, '127.0.0.1', resolve);
      });
      t.after(() => new Promise((resolve) => blocker.close(() => resolve())));
      const port = blocker.address().port;
      await failsWith(t, ['--backend', backend, '--http', `127.0.0.1:${port}`, '--wsgi-file', join(FIXTURES, 'app.mjs')], new RegExp(`^tsgi: .*127\\.0\\.0\\.1:${port}.*in use`));
    });
  }
});

describe('tsgi logs requests', () => {
  const LOG = /^\[pid: (\d+)\|app: 0\|req: 1\/1\] 127\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} \[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] GET \/path\?q => generated (\d+) bytes in \d+ msecs \(HTTP\/1\.1 200\) \d+ headers in \d+ bytes \(1 switches on core 0\)$/m;

  for (const backend of BACKENDS) {
    test(`one uWSGI-style line per request on stderr (${backend} backend)`, T, async (t) => {
      const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'app.mjs')]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const res = await request(port, req('GET', '/path?q', [['Connection', 'close']]));
      assert.equal(res.status, 200);
      const stderr = await cli.waitStderr(/=> generated/, 5000);
      const m = LOG.exec(stderr);
      assert.ok(m, `the log line: ${JSON.stringify(stderr)}`);
      assert.equal(Number(m[1]), cli.child.pid);
      assert.equal(Number(m[2]), res.body.length, 'generated N bytes: the body length');
      assert.equal(stderr.match(/=> generated/g).length, 1, 'one line');
    });
  }

  test('--disable-logging removes the request line', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', join(FIXTURES, 'errors-app.mjs')]);
    t.after(() => cli.kill());
    const port = await cli.port;
    const res = await request(port, req('GET', '/path?q', [['Connection', 'close']]));
    assert.equal(res.status, 200);
    // The application's own wsgi.errors line comes after nothing else: wait for it.
    await cli.waitStderr(/writelines two/, 5000);
    await delay(100);
    assert.doesNotMatch(cli.stderrText(), /=> generated|\[pid: \d+\|app/);
  });
});

describe('tsgi stops gracefully', () => {
  for (const backend of BACKENDS) {
    for (const sig of ['SIGTERM', 'SIGINT']) {
      test(`${sig} with a slow request in flight: the request completes, then exit 0 (${backend} backend)`, T, async (t) => {
        const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', join(FIXTURES, 'slow-app.mjs')]);
        t.after(() => cli.kill());
        const port = await cli.port;
        const c = connect(port);
        t.after(() => c.destroy());
        await c.connected;
        await c.write(req('GET', '/slow'));
        await cli.waitStderr('slow request started', 5000);
        cli.signal(sig);
        await c.waitClose(5000);
        const res = parseResponse(c.data);
        assert.equal(res?.status, 200, JSON.stringify(c.text));
        assert.equal(res.body.toString(), 'slow done\n');
        assert.ok(res.complete, 'the whole response');
        const { code, signal } = await cli.waitExit(5000);
        assert.equal(signal, null, cli.stderrText());
        assert.equal(code, 0, cli.stderrText());
        // The port is closed now.
        const refused = await new Promise((resolve) => {
          const s = net.connect(port, '127.0.0.1');
          s.once('connect', () => (s.destroy(), resolve(false)));
          s.once('error', () => resolve(true));
        });
        assert.ok(refused, 'nothing listens after the exit');
      });
    }
  }

  test('SIGTERM when idle: exit 0 at once', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', join(FIXTURES, 'app.mjs')]);
    t.after(() => cli.kill());
    const port = await cli.port;
    // An idle keep-alive connection must not hold the exit up.
    const c = connect(port);
    t.after(() => c.destroy());
    await c.connected;
    await c.write(req('GET', '/'));
    await c.waitFor('hello from mjs', 3000);
    const started = Date.now();
    cli.signal('SIGTERM');
    const { code } = await cli.waitExit(5000);
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 3000, `exited in ${Date.now() - started} ms`);
  });
});

describe('--backend auto, --show-config, --dry-run', () => {
  test('auto (the default) without an addon: one warning line, then the js backend serves', T, async (t) => {
    const { cli, res } = await servesWith(t, ['--wsgi-file', join(FIXTURES, 'app.mjs')], 'hello from mjs /hello\n', { env: { TSGI_NATIVE_ADDON: '/nonexistent/tsgi.node' } });
    assert.equal(res.status, 200);
    const lines = cli.stderrText().split('\n');
    assert.deepEqual(
      lines.filter((l) => /addon|backend/.test(l)),
      ['tsgi: no native addon at TSGI_NATIVE_ADDON=/nonexistent/tsgi.node: serving with the js backend (node:http, node:net)', `*** Starting tsgi ${VERSION} (js backend, node ${process.version}) ***`],
    );
  });

  test('auto with the addon: the native backend, no warning', T, async (t) => {
    const { cli } = await servesWith(t, ['--wsgi-file', join(FIXTURES, 'app.mjs')], 'hello from mjs /hello\n');
    assert.deepEqual(
      cli.stderrText().split('\n').filter((l) => /addon|backend/.test(l)),
      [`*** Starting tsgi ${VERSION} (native backend, node ${process.version}) ***`],
    );
  });

  test('--show-config logs the configuration, then serves (as uWSGI does)', T, async (t) => {
    const { cli } = await servesWith(t, ['--wsgi-file', join(FIXTURES, 'app.mjs'), '--show-config'], 'hello from mjs /hello\n');
    const stderr = cli.stderrText();
    assert.match(stderr, /^\[uwsgi\]\nhttp = 127\.0\.0\.1:0  # command line\ndisable-logging = true  # command line\n/m);
    assert.match(stderr, /^show-config = true  # command line\n;end of configuration\n/m);
    assert.ok(stderr.indexOf(';end of configuration') < stderr.indexOf('*** tsgi is ready'), 'before the server is ready');
    assert.equal(cli.stdoutText(), '');
  });

  test('--show-config --dry-run prints the configuration on stdout and exits 0 without serving', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'does-not-exist.mjs'), '--show-config', '--dry-run']);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(8000);
    assert.equal(code, 0, cli.stderrText());
    assert.equal(cli.stderrText(), '');
    assert.match(cli.stdoutText(), /^;tsgi configuration: .*\n.*\n\[uwsgi\]\nhttp = 127\.0\.0\.1:0  # command line\n/);
    assert.match(cli.stdoutText(), /\ndry-run = true  # command line\n;end of configuration\n$/);
  });

  test('--dry-run checks the configuration: a bad value is one line and exit 1', T, async (t) => {
    await failsWith(t, ['--http', '127.0.0.1:0', '--buffer-size', '0', '--dry-run'], /^tsgi: .*buffer-size.*"0"/);
  });

  test('--help speaks of uWSGI and tsgi only: no "seed"', T, async (t) => {
    const cli = spawnCli(['--help']);
    t.after(() => cli.kill());
    assert.equal((await cli.waitExit(8000)).code, 0);
    assert.match(cli.stdoutText(), /--show-config[\s\S]*--dry-run/);
    assert.doesNotMatch(cli.stdoutText(), /seed/i);
  });
});

describe('config logic in an ini file (uWSGI\'s for / if-env)', () => {
  test('for makes one socket per item and if-env picks the application: every socket serves it', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-logic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ini = join(dir, 'app.ini');
    writeFileSync(ini, `[uwsgi]\nfor = a b\nhttp-socket = 127.0.0.1:0\nendfor =\nif-env = LOGIC_APP\nwsgi-file = %(_)\nendif =\ndisable-logging = true\n`);
    const cli = await startCli([ini], { env: { LOGIC_APP: join(FIXTURES, 'app.mjs') } });
    t.after(() => cli.kill());
    const ports = cli.sockets.filter((s) => s.kind === 'tcp').map((s) => s.port);
    assert.equal(ports.length, 2, cli.stderrText());
    for (const port of ports) {
      const res = await request(port, req('GET', '/x', [['Connection', 'close']]));
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello from mjs /x\n');
    }
    cli.signal('SIGTERM');
    assert.equal((await cli.waitExit(5000)).code, 0);
  });

  test('an if-env block left open: "app.ini:3: if-env has no endif after it", exit 1', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-logic-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const ini = join(dir, 'app.ini');
    writeFileSync(ini, `[uwsgi]\nhttp-socket = 127.0.0.1:0\nif-env = HOME\nwsgi-file = ${join(FIXTURES, 'app.mjs')}\n`);
    await failsWith(t, [ini], /app\.ini:3: if-env has no endif after it/);
  });
});
