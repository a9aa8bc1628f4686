// lib/config/config.ts: config files (ini, yaml, json), includes, placeholders, the
// environment, the command line over them, strict, verdicts and --show-config.
// Every file is written to a temporary directory, removed at the end.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, renderShowConfig, ConfigError } from '../../dist/lib/config/config.js';
import { LIMIT_AS_FLOOR } from '../../dist/lib/config/derived.js';
import { OPTIONS, parseArgv, argvEntries, envNames } from '../../dist/lib/config/options.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsgi-config-')));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes text to a fresh file in dir (name: its basename, default cN.ini); returns its path. */
function file(text, name = `c${n++}.ini`) {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

const resolve = (argv, env = {}) => resolveConfig(argv, { env, cwd: dir });
/** The ConfigError of resolve(), asserted: its lines. */
function fails(argv, env = {}, code) {
  try {
    resolve(argv, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `a ConfigError: ${err.stack}`);
    if (code) assert.equal(err.code, code);
    return err.lines;
  }
  assert.fail('resolveConfig did not throw');
}

describe('the option table', () => {
  test('every option has a verdict; translated and refused ones say why', () => {
    for (const o of OPTIONS) {
      assert.ok(['implemented', 'translated', 'refused'].includes(o.verdict), `${o.name}: ${o.verdict}`);
      if (o.verdict !== 'implemented') assert.ok((o.message ?? '').length > 40, `${o.name} explains its verdict`);
    }
  });

  test('every option of the seeds is in the table', () => {
    // Every key of the seeds' ini blocks and every option of their commands
    // (../shared/seeds: uWSGI configs in Russian and Chinese articles).
    const seeds = [
      'wsgi-file', 'strict', 'socket', 'protocol', 'master', 'no-orphans', 'die-on-term', 'lazy-apps', 'processes', 'threads',
      'enable-threads', 'max-requests', 'reload-on-rss', 'worker-reload-mercy', 'harakiri', 'harakiri-verbose', 'vacuum',
      'post-buffering', 'buffer-size', 'http', 'module', 'chdir', 'ini', 'py-autoreload', 'workers', 'pidfile', 'static-map',
      'uid', 'gid', 'daemonize', 'disable-logging', 'thunder-lock', 'env', 'home', 'stop', 'reload-mercy', 'limit-as',
      'chown-socket', 'chmod-socket', 'show-config',
    ];
    const names = new Map(OPTIONS.flatMap((o) => [o.name, ...(o.aliases ?? [])].map((n) => [n, o])));
    for (const s of seeds) assert.ok(names.has(s), `${s} is in the table`);
    assert.equal(names.get('pythonpath').verdict, 'refused');
    assert.equal(names.get('static-map').verdict, 'implemented');
    for (const t of ['enable-threads', 'die-on-term', 'home', 'virtualenv', 'venv', 'limit-as', 'threads', 'thunder-lock']) assert.equal(names.get(t).verdict, 'translated', t);
    for (const i of ['py-autoreload', 'strict', 'show-config', 'ini', 'module', 'wsgi-file']) assert.equal(names.get(i).verdict, 'implemented', i);
  });

  test('a positional FILE.ini, .yaml, .yml, .json is that config file', () => {
    assert.deepEqual(parseArgv(['app.ini']), { ini: ['app.ini'] });
    assert.deepEqual(parseArgv(['app.yml', 'b.yaml:prod', 'c.JSON']), { yaml: ['app.yml', 'b.yaml:prod'], json: ['c.JSON'] });
    assert.deepEqual(parseArgv(['x.ini:dev']), { ini: ['x.ini:dev'] });
    assert.throws(() => parseArgv(['app.py']), /Unexpected argument "app\.py"/);
  });

  test('an option written with a dash character, not two hyphens, is named', () => {
    // Seed 001 prints "uwsgi –http :8001 –wsgi-file test.py".
    assert.throws(() => argvEntries(['–http', ':8001']), { code: 'TSGI_ERR_OPTION_UNKNOWN', message: /"–http".*\(U\+2013\), not two hyphens: write --http/ });
    assert.throws(() => argvEntries(['—wsgi-file=x']), { message: /U\+2014.*write --wsgi-file/ });
  });

  test('envNames', () => {
    assert.deepEqual(envNames('buffer-size'), ['TSGI_BUFFER_SIZE', 'UWSGI_BUFFER_SIZE']);
  });
});

describe('ini files', () => {
  test('repeated keys accumulate for repeatable options; for the others the last wins', () => {
    const f = file('[uwsgi]\nsocket = :1\nsocket = :2\nprocesses = 2\nprocesses = 3\nenv = A=1\nenv = B=2\n');
    const { config: values, settings } = resolve(['--ini', f]);
    assert.deepEqual(values.socket, [':1', ':2']);
    assert.equal(values.processes, 3);
    assert.deepEqual(values.env, ['A=1', 'B=2']);
    const p = settings.filter((s) => s.name === 'processes');
    assert.deepEqual(p.map((s) => s.status), ['overridden', 'effective']);
  });

  test('values are coerced as on the command line; a bare key is true; underscores and aliases', () => {
    const f = file('[uwsgi]\nmaster\nbuffer_size = 32k\nworkers = 4\nchmod-socket\nvacuum = false\n');
    const { config: values } = resolve([f]);
    assert.equal(values.master, true);
    assert.equal(values.bufferSize, 32768);
    assert.equal(values.processes, 4);
    assert.equal(values.chmodSocket, '666');
    assert.equal(values.vacuum, false);
  });

  test('defaults fill what no source set', () => {
    const { config: values } = resolve([file('[uwsgi]\nhttp = :1\n')]);
    assert.equal(values.bufferSize, 4096);
    assert.equal(values.strict, false);
    assert.equal(values.pyAutoreload, 0);
  });

  test('FILE:SECTION reads another section', () => {
    const f = file('[uwsgi]\nhttp = :1\n[prod]\nhttp = :2\n');
    assert.deepEqual(resolve([`${f}:prod`]).config.http, [':2']);
    assert.deepEqual(resolve(['--ini', f]).config.http, [':1']);
  });

  test('a file without the section: an error listing its sections', () => {
    const f = file('[supervisord]\nnodaemon=true\n[program:uwsgi]\ncommand=/usr/bin/uwsgi --ini /etc/uwsgi/uwsgi.ini\n');
    const [line] = fails(['--ini', f], {}, 'TSGI_ERR_CONFIG');
    assert.match(line, /c\d+\.ini: no \[uwsgi\] section \(its sections: \[supervisord\], \[program:uwsgi\]\)/);
  });

  test('a missing file', () => {
    assert.match(fails(['--ini', 'nowhere.ini'], {}, 'TSGI_ERR_CONFIG')[0], /^cannot read the ini file nowhere\.ini: no such file$/);
    assert.match(fails(['--ini', dir])[0], /it is a directory/);
  });

  test('syntax errors name file:line', () => {
    assert.match(fails([file('[uwsgi]\nhttp = :1\n[broken\n')], {}, 'TSGI_ERR_CONFIG')[0], /c\d+\.ini:3: unterminated section header "\[broken"/);
    assert.match(fails([file('[uwsgi]\n\nnot an option at all\n')])[0], /c\d+\.ini:3: expected "key = value" or a bare option name/);
  });

  test('a bad value names file:line, the option and the value', () => {
    const lines = fails([file('[uwsgi]\nhttp = :1\nbuffer-size = 0\n', 'bad.ini')], {}, 'TSGI_ERR_OPTION_INVALID');
    assert.deepEqual(lines, ['bad.ini:3: Expected an integer from 256 to 1048576 for buffer-size but received "0"']);
    assert.match(fails([file('[uwsgi]\nmaster = maybe\n')])[0], /:2: Expected true or false for master but received "maybe"/);
    assert.match(fails([file('[uwsgi]\nsocket\n')])[0], /:2: Expected a non-empty string for socket but received true/);
  });
});

describe('includes', () => {
  test('ini = other.ini, relative to the including file, read where it stands', () => {
    file('[uwsgi]\nsocket = :2\nprocesses = 8\n', 'inc/parts/sockets.ini');
    const main = file('[uwsgi]\nsocket = :1\nini = parts/sockets.ini\nsocket = :3\n', 'inc/main.ini');
    const { config: values, files, settings } = resolve(['--ini', main]);
    assert.deepEqual(values.socket, [':1', ':2', ':3']);
    assert.equal(values.processes, 8);
    assert.deepEqual(files, [main, join(dir, 'inc/parts/sockets.ini')]);
    const inc = settings.find((s) => s.name === 'ini' && s.source.kind === 'file');
    assert.equal(inc.raw, 'parts/sockets.ini');
    assert.equal(inc.source.line, 3);
  });

  test('yaml and json files include and are included', () => {
    file('uwsgi:\n  processes: 5\n', 'mix/more.yaml');
    file('{"uwsgi": {"yaml": "more.yaml", "harakiri": 7}}', 'mix/more.json');
    const main = file('[uwsgi]\njson = %dmore.json\n', 'mix/main.ini');
    const { config: values } = resolve([main]);
    assert.equal(values.processes, 5);
    assert.equal(values.harakiri, 7);
  });

  test('ini = :section reads another section of the same file', () => {
    const f = file('[uwsgi]\nini = :base\nhttp = :2\n[base]\nhttp = :1\nmaster = true\n');
    const { config: values } = resolve([f]);
    assert.deepEqual(values.http, [':1', ':2']);
    assert.equal(values.master, true);
  });

  test('a missing include names the including line', () => {
    const lines = fails([file('[uwsgi]\nhttp = :1\nini = nope.ini\n', 'inc-missing.ini')], {}, 'TSGI_ERR_CONFIG');
    assert.deepEqual(lines, ['inc-missing.ini:3: cannot include nope.ini: no such file']);
  });

  test('an include loop is an error with the chain', () => {
    file('[uwsgi]\nini = loop2.ini\n', 'loop/loop1.ini');
    file('[uwsgi]\nmaster = true\nini = loop1.ini\n', 'loop/loop2.ini');
    const [line] = fails(['--ini', join(dir, 'loop/loop1.ini')], {}, 'TSGI_ERR_CONFIG');
    assert.equal(line, 'loop/loop2.ini:3: include loop: loop/loop1.ini -> loop/loop2.ini -> loop/loop1.ini');
    assert.match(fails([file('[uwsgi]\nini = %p\n', 'self.ini')])[0], /^self\.ini:2: include loop: self\.ini -> self\.ini$/);
  });

  test('the same file twice without a loop is fine', () => {
    const part = file('[uwsgi]\nsocket = :9\n', 'twice/part.ini');
    const main = file(`[uwsgi]\nini = part.ini\nini = ${part}\n`, 'twice/main.ini');
    assert.deepEqual(resolve([main]).config.socket, [':9', ':9']);
  });
});

describe('placeholders', () => {
  test('$(ENV): the environment variable', () => {
    const { config: values, warnings } = resolve([file('[uwsgi]\nchdir = $(APP_HOME)/src\nenv = PATH=$(PATH)\n')], { APP_HOME: '/srv/app', PATH: '/bin' });
    assert.equal(values.chdir, '/srv/app/src');
    assert.deepEqual(values.env, ['PATH=/bin']);
    assert.deepEqual(warnings, []);
  });

  test('an unset $(ENV) reads as "" with a warning; strict makes it an error', () => {
    const f = file('[uwsgi]\nhttp = :1\nenv = X=$(NOT_SET_ANYWHERE)\n', 'unset.ini');
    const { config: values, warnings } = resolve([f]);
    assert.deepEqual(values.env, ['X=']);
    assert.deepEqual(warnings, ['unset.ini:3: $(NOT_SET_ANYWHERE) is not set in the environment: it reads as ""']);
    assert.match(fails([f, '--strict'], {}, 'TSGI_ERR_CONFIG')[0], /unset\.ini:3: \$\(NOT_SET_ANYWHERE\) is not set.*\(strict\)/);
  });

  test('%(option): another option, its last value; the command line and the environment count', () => {
    const f = file('[uwsgi]\nsocket = :3031\nhttp = %(socket)\nbuffer-size = 8k\nlimit-post = %(buffer-size)\n');
    assert.deepEqual(resolve([f]).config.http, [':3031']);
    assert.equal(resolve([f]).config.limitPost, 8192);
    assert.deepEqual(resolve([f, '--socket', ':4000']).config.http, [':4000'], 'the command line counts');
    assert.equal(resolve([f], { TSGI_BUFFER_SIZE: '16k' }).config.limitPost, 16384, 'the environment counts');
  });

  test('%(name) of any key: a placeholder, not an unknown option, even under strict; forward references work', () => {
    const f = file('[uwsgi]\nstrict = true\nchdir = %(base)/%(project)\nbase = /var/www\nproject = mysite\nmodule = %(project).wsgi\n');
    const { config: values, warnings, settings } = resolve([f]);
    assert.equal(values.chdir, '/var/www/mysite');
    assert.equal(values.module, 'mysite.wsgi');
    assert.deepEqual(warnings, []);
    assert.deepEqual(settings.filter((s) => s.status === 'placeholder').map((s) => s.name), ['base', 'project']);
  });

  test('%(name) of an option nobody set: its default', () => {
    assert.deepEqual(resolve([file('[uwsgi]\nenv = SIZE=%(buffer-size)\n')]).config.env, ['SIZE=4096']);
  });

  test('an unset %(name) stays as written, with a warning; strict makes it an error', () => {
    const f = file('[uwsgi]\nhttp = :1\nenv = LOG=%(nothing)\n', 'unset-ref.ini');
    const { config: values, warnings } = resolve([f]);
    assert.deepEqual(values.env, ['LOG=%(nothing)']);
    assert.deepEqual(warnings, ['unset-ref.ini:3: %(nothing) is not set: kept as it is']);
    assert.equal(fails([f, '--strict'])[0], 'unset-ref.ini:3: %(nothing) is not set: kept as it is (strict)');
  });

  test('a placeholder that refers to itself is an error', () => {
    assert.match(fails([file('[uwsgi]\na = %(b)\nb = %(a)\nchdir = %(a)\n')], {}, 'TSGI_ERR_CONFIG')[0], /refers back to itself/);
  });

  test('the magic variables of the file', () => {
    const f = file(
      '[uwsgi]\nenv = d=%d\nenv = p=%p\nenv = s=%s\nenv = n=%n\nenv = e=%e\nenv = c=%c\nenv = x=%x\nenv = h=%h\nenv = k=%k\nenv = pct=100%%\nenv = other=%z%\n',
      'magic/site.conf.ini',
    );
    const env = Object.fromEntries(resolve([f]).config.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    assert.equal(env.d, join(dir, 'magic') + '/');
    assert.equal(env.p, f);
    assert.equal(env.s, 'site.conf.ini');
    assert.equal(env.n, 'site.conf');
    assert.equal(env.e, 'ini');
    assert.equal(env.c, 'magic');
    assert.equal(env.x, 'site.conf.ini:uwsgi');
    assert.equal(env.h, hostname());
    assert.equal(env.k, String(availableParallelism()));
    assert.equal(env.pct, '100%');
    assert.equal(env.other, '%z%', 'not a magic variable: kept');
  });

  test('%d of an included file is its own directory', () => {
    file('[uwsgi]\nchdir = %d\n', 'magic2/sub/inner.ini');
    const main = file('[uwsgi]\nini = sub/inner.ini\n', 'magic2/outer.ini');
    assert.equal(resolve([main]).config.chdir, join(dir, 'magic2/sub') + '/');
  });

  test('placeholders are expanded once: a value holding "%(" after expansion stays', () => {
    assert.deepEqual(resolve([file('[uwsgi]\nenv = A=$(TRICKY)\n')], { TRICKY: '%(socket)' }).config.env, ['A=%(socket)']);
    assert.deepEqual(resolve([file('[uwsgi]\nenv = A=%%(socket)\n')]).config.env, ['A=%(socket)']);
  });
});

describe('yaml and json', () => {
  test('yaml: the uwsgi key, lists repeat, booleans, empty means true, numbers as written', () => {
    const f = file('# comment\nuwsgi:\n  socket:\n    - :1\n    - :2\n  master: true\n  vacuum:\n  chmod-socket: 0664\n  buffer-size: 64k\n  processes: 4\nother:\n  socket: :9\n', 'a.yaml');
    const { config: values, settings } = resolve([f]);
    assert.deepEqual(values.socket, [':1', ':2']);
    assert.equal(values.master, true);
    assert.equal(values.vacuum, true);
    assert.equal(values.chmodSocket, '0664');
    assert.equal(values.bufferSize, 65536);
    assert.equal(values.processes, 4);
    assert.deepEqual(settings.filter((s) => s.name === 'socket').map((s) => s.source.line), [4, 5]);
    assert.deepEqual(resolve([`${f}:other`]).config.socket, [':9']);
    assert.deepEqual(resolve(['--yml', f]).config.socket, [':1', ':2']);
  });

  test('yaml: repeated keys accumulate like the ini\'s', () => {
    assert.deepEqual(resolve([file('uwsgi:\n  socket: :1\n  socket: :2\n', 'dup.yaml')]).config.socket, [':1', ':2']);
  });

  test('yaml: errors with file:line', () => {
    assert.match(fails([file('uwsgi:\n  socket: [unclosed\n  master: true\n', 'bad1.yaml')], {}, 'TSGI_ERR_CONFIG')[0], /^bad1\.yaml:\d+: not valid YAML/);
    assert.equal(fails([file('- a\n- b\n', 'bad2.yaml')])[0], 'bad2.yaml:1: expected a mapping with the key "uwsgi" at the top');
    assert.match(fails([file('app:\n  socket: :1\n', 'bad3.yaml')])[0], /^bad3\.yaml: no "uwsgi" key at the top \(its keys: "app"\)/);
    assert.equal(fails([file('uwsgi:\n  env:\n    A: 1\n', 'bad4.yaml')])[0], 'bad4.yaml:3: env: expected a value or a list of values');
    assert.equal(fails([file('uwsgi:\n  http: :1\n  buffer-size: 0\n', 'bad5.yaml')])[0], 'bad5.yaml:3: Expected an integer from 256 to 1048576 for buffer-size but received "0"');
  });

  test('yaml: an empty uwsgi key is no options', () => {
    assert.deepEqual(resolve([file('uwsgi:\n', 'empty.yaml')]).settings.filter((s) => s.source.kind === 'file'), []);
  });

  test('json: the uwsgi key, lists, numbers, booleans, lines', () => {
    const f = file('{\n  "uwsgi": {\n    "socket": [":1", ":2"],\n    "processes": 3,\n    "master": true,\n    "chdir": "%d"\n  }\n}\n', 'a.json');
    const { config: values, settings } = resolve([f]);
    assert.deepEqual(values.socket, [':1', ':2']);
    assert.equal(values.processes, 3);
    assert.equal(values.master, true);
    assert.equal(values.chdir, dir + '/');
    assert.equal(settings.find((s) => s.name === 'processes').source.line, 4);
  });

  test('json: invalid JSON names its line', () => {
    const [line] = fails([file('{\n  "uwsgi": {\n    "socket": ":1",\n  }\n}\n', 'bad.json')], {}, 'TSGI_ERR_CONFIG');
    assert.match(line, /^bad\.json:4: not valid JSON/);
    assert.match(fails([file('{"uwsgi": {"http": 1}, }', 'bad2.json')])[0], /^bad2\.json:1: not valid JSON/);
  });
});

describe('the environment and the command line', () => {
  test('TSGI_<NAME> and UWSGI_<NAME> set options; TSGI_ wins; aliases count; empty is unset', () => {
    let r = resolve([], { UWSGI_SOCKET: ':1', UWSGI_WORKERS: '3', UWSGI_MASTER: 'true', TSGI_BUFFER_SIZE: '8k', UWSGI_BUFFER_SIZE: '16k', TSGI_HARAKIRI: '' });
    assert.deepEqual(r.config.socket, [':1']);
    assert.equal(r.config.processes, 3);
    assert.equal(r.config.master, true);
    assert.equal(r.config.bufferSize, 8192);
    assert.equal(r.config.harakiri, 0);
    assert.deepEqual(r.settings.find((s) => s.name === 'buffer-size').source, { kind: 'env', name: 'TSGI_BUFFER_SIZE' });
    r = resolve([], { TSGI_HELP: '1', TSGI_VERSION: '1' });
    assert.equal(r.config.help, undefined, 'not from the environment');
  });

  test('a bad environment value names the variable', () => {
    assert.deepEqual(fails([], { UWSGI_BUFFER_SIZE: 'big' }, 'TSGI_ERR_OPTION_INVALID'), [
      'environment UWSGI_BUFFER_SIZE: Expected an integer from 256 to 1048576 (a k, m or g suffix may follow) for buffer-size but received "big"',
    ]);
  });

  test('UWSGI_INI (as uWSGI images set it) reads a config file', () => {
    const f = file('[uwsgi]\nprocesses = 6\n');
    assert.equal(resolve([], { UWSGI_INI: f }).config.processes, 6);
    assert.match(fails([], { TSGI_INI: join(dir, 'none.ini') })[0], /^environment TSGI_INI: cannot read the ini file none\.ini: no such file$/);
  });

  test('the command line overrides the environment, which overrides the files; lists are replaced', () => {
    const f = file('[uwsgi]\nsocket = :1\nsocket = :2\nprocesses = 2\nharakiri = 5\nbuffer-size = 8k\n', 'layers.ini');
    const { config: values, settings } = resolve([f, '--socket', ':9', '--processes', '4'], { TSGI_HARAKIRI: '6', TSGI_PROCESSES: '3' });
    assert.deepEqual(values.socket, [':9']);
    assert.equal(values.processes, 4);
    assert.equal(values.harakiri, 6);
    assert.equal(values.bufferSize, 8192);
    const sockets = settings.filter((s) => s.name === 'socket');
    assert.deepEqual(sockets.map((s) => s.status), ['overridden', 'overridden', 'effective']);
    assert.deepEqual(sockets[0].overriddenBy, { kind: 'cli' });
    const procs = settings.filter((s) => s.name === 'processes');
    assert.deepEqual(procs.map((s) => [s.source.kind, s.status]), [['file', 'overridden'], ['env', 'overridden'], ['cli', 'effective']]);
  });

  test('a later config file overrides an earlier one for single options, and adds to lists', () => {
    const a = file('[uwsgi]\nsocket = :1\nprocesses = 2\n');
    const b = file('[uwsgi]\nsocket = :2\nprocesses = 3\n');
    const { config: values } = resolve(['--ini', a, '--ini', b]);
    assert.deepEqual(values.socket, [':1', ':2']);
    assert.equal(values.processes, 3);
  });

  test('command-line errors stay as they were (unknown option, missing value)', () => {
    assert.throws(() => resolve(['--bufer-size', '1']), { code: 'TSGI_ERR_OPTION_UNKNOWN', message: /did you mean --buffer-size/ });
    const err = (() => {
      try {
        resolve(['--buffer-size', '0']);
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof ConfigError);
    assert.equal(err.fromCommandLine, true);
    assert.deepEqual(err.lines, ['Expected an integer from 256 to 1048576 for buffer-size but received "0"']);
  });
});

describe('strict, unknown options, verdicts', () => {
  test('without strict: one warning per unknown key, with the nearest name; the rest is read', () => {
    const f = file('[uwsgi]\nhttp = :1\nprocesess = 4\nmax_request = 5\nxyzzy = 1\n', 'typo.ini');
    const { config: values, warnings } = resolve([f]);
    assert.deepEqual(values.http, [':1']);
    assert.deepEqual(warnings, [
      'typo.ini:3: unknown option "procesess" ignored (did you mean "processes"?)',
      'typo.ini:4: unknown option "max_request" ignored (did you mean "max-requests"?)',
      'typo.ini:5: unknown option "xyzzy" ignored',
    ]);
  });

  test('strict (in the file, anywhere in it, or on the command line): unknown keys are errors, each with file:line', () => {
    const f = file('[uwsgi]\nhttp = :1\nprocesess = 4\nstrict = true\n', 'strict.ini');
    assert.deepEqual(fails([f], {}, 'TSGI_ERR_OPTION_UNKNOWN'), ['strict.ini:3: unknown option "procesess" (did you mean "processes"?)']);
    const g = file('[uwsgi]\nhttp = :1\nprocesess = 4\n', 'strict2.ini');
    assert.deepEqual(fails([g, '--strict']), ['strict2.ini:3: unknown option "procesess" (did you mean "processes"?)']);
    assert.deepEqual(fails([g], { TSGI_STRICT: '1' }), ['strict2.ini:3: unknown option "procesess" (did you mean "processes"?)']);
  });

  test('refused options are errors wherever they come from', () => {
    const lines = fails([file('[uwsgi]\nhttp = :1\npythonpath = /srv/lib\n', 'refused.ini')], {}, 'TSGI_ERR_OPTION_REFUSED');
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^refused\.ini:3: pythonpath: refused: it adds to Python's sys\.path/);
    assert.match(fails(['--pythonpath', '/x'])[0], /^--pythonpath: refused/);
    assert.match(fails([], { UWSGI_PYTHONPATH: '/x' })[0], /^environment UWSGI_PYTHONPATH: pythonpath: refused/);
  });

  test('translated options: one note each, where they were set, in read order', () => {
    const f = file('[uwsgi]\nhttp = :1\nhome = /var/www/env\nenable-threads = true\ndie-on-term = true\nvirtualenv = /x\n', 'tr.ini');
    const { notes, warnings, config: values } = resolve([f, '--thunder-lock']);
    assert.deepEqual(warnings, []);
    assert.equal(notes.length, 4);
    assert.match(notes[0], /^tr\.ini:4: enable-threads: accepted, no effect/);
    assert.match(notes[1], /^tr\.ini:5: die-on-term: accepted, no effect: SIGTERM always stops/);
    assert.match(notes[2], /^tr\.ini:6: home: ignored: it names a Python virtualenv/);
    assert.match(notes[3], /^--thunder-lock: accepted, no effect/);
    assert.equal(values.home, '/x');
  });

  test('limit-as under the floor (or with threads) becomes reload-on-rss in master mode', () => {
    const f = file('[uwsgi]\nsocket = :1\nmaster = false\nworkers = 2\nlimit-as = 512\n', 'limit.ini');
    const { config: values, notes } = resolve([f]);
    assert.equal(values.limitAs, 0);
    assert.equal(values.reloadOnRss, 512);
    assert.match(notes.join('\n'), /limit\.ini:5: limit-as = 512: a Node worker reserves about 2\.2 GB.*taken as reload-on-rss 512/);
    assert.match(notes.join('\n'), /limit\.ini:3: master = false, but processes = 2: tsgi runs a master anyway/);
    const kept = resolve([f, '--limit-as', String(LIMIT_AS_FLOOR)]);
    assert.equal(kept.config.limitAs, LIMIT_AS_FLOOR, 'from the floor up: RLIMIT_AS');
    assert.equal(kept.config.reloadOnRss, 0);
    const threads = resolve([f, '--limit-as', '8192', '--threads', '2']);
    assert.equal(threads.config.limitAs, 0);
    assert.equal(threads.config.reloadOnRss, 8192);
    const explicit = resolve([f, '--reload-on-rss', '300']);
    assert.equal(explicit.config.reloadOnRss, 300);
    assert.match(explicit.notes.join('\n'), /reload-on-rss 300 is set and stays/);
    const single = resolve(['--http', ':1', '--limit-as', '512']);
    assert.equal(single.config.limitAs, 0);
    assert.match(single.notes[0], /^--limit-as = 512: .*single-process mode: no memory limit applies/);
  });
});

describe('a Python application', () => {
  test('wsgi-file naming a .py file stops here, with the source and the .ts or .js next to it', () => {
    file('export const application = () => [];\n', 'py/project/wsgi.ts');
    const f = file('[uwsgi]\nhttp = :1\nchdir = %d\nwsgi-file = project/wsgi.py\n', 'py/uwsgi.ini');
    assert.deepEqual(fails([f], {}, 'TSGI_ERR_APP_PYTHON'), [
      'py/uwsgi.ini:4: wsgi-file project/wsgi.py is a Python file: tsgi runs JavaScript and TypeScript applications (project/wsgi.ts is there: wsgi-file = project/wsgi.ts)',
    ]);
    assert.deepEqual(fails(['--http', ':1', '--wsgi-file', 'nowhere/app.py']), [
      'wsgi-file nowhere/app.py is a Python file: tsgi runs JavaScript and TypeScript applications (write the application in a .ts or .js file with the same contract)',
    ]);
  });
});

describe('--show-config', () => {
  test('every value with its source, in ini form; overridden and unknown ones commented out', () => {
    const f = file('[uwsgi]\nsocket = :8000  # the port\nprocesses = 2\nworkers = 3\nprocesess = 9\nbase = /srv\nchdir = %(base)/app\nenv = A=b #c\n', 'show.ini');
    const config = resolve(['--ini', f, '--show-config', '--dry-run', '--socket', ':9'], { TSGI_HARAKIRI: '30' });
    assert.equal(config.showConfig, 'print');
    assert.equal(
      renderShowConfig(config),
      [
        ';tsgi configuration: every value read, with where it was read (file:line, environment, command line)',
        ';the command line overrides the environment, which overrides the files',
        '[uwsgi]',
        `ini = ${f}  # command line`,
        ';socket = :8000  # show.ini:2, overridden by command line',
        ';processes = 2  # show.ini:3, overridden by show.ini:4',
        'processes = 3  # show.ini:4 (as workers)',
        ';procesess = 9  # show.ini:5, unknown option: ignored',
        'base = /srv  # show.ini:6, a placeholder',
        'chdir = /srv/app  # show.ini:7',
        'env = A=b  # show.ini:8',
        'harakiri = 30  # environment TSGI_HARAKIRI',
        'show-config = true  # command line',
        'dry-run = true  # command line',
        'socket = :9  # command line',
        ';end of configuration',
        '',
      ].join('\n'),
    );
  });

  test('on the command line too it is logged at start and the server goes on, as uWSGI does; --dry-run prints it instead', () => {
    assert.equal(resolve(['--http', ':1', '--show-config']).showConfig, 'log');
    assert.equal(resolve(['--http', ':1', '--show-config', '--dry-run']).showConfig, 'print');
    assert.equal(resolve([file('[uwsgi]\nhttp = :1\nshow-config = true\n'), '--dry-run']).showConfig, 'print');
  });

  test('in a file or the environment it is logged at start (the server goes on); false is nothing', () => {
    assert.equal(resolve([file('[uwsgi]\nhttp = :1\nshow-config = true\n')]).showConfig, 'log');
    assert.equal(resolve(['--http', ':1'], { UWSGI_SHOW_CONFIG: '1' }).showConfig, 'log');
    assert.equal(resolve([file('[uwsgi]\nhttp = :1\nshow-config = true\n'), '--show-config=false']).showConfig, 'none');
    assert.equal(resolve(['--http', ':1']).showConfig, 'none');
  });

  test('a value holding " #" gets its source on the line before, so that the output reads back', () => {
    const config = resolve(['--env', 'A=b #c', '--show-config']);
    assert.match(renderShowConfig(config), /\n; command line\nenv = A=b #c\n/);
  });

  test('what --show-config prints reads back as the same configuration', () => {
    const f = file('[uwsgi]\nsocket = :1\nsocket = :2\nprocesses = 2\nbuffer-size = 8k\nenv = A=1\nmaster\n', 'round.ini');
    const first = resolve([f, '--show-config']);
    const again = file(renderShowConfig(first).replace(/^show-config = true.*\n/m, '').replace(/^ini = .*\n/m, ''), 'round-again.ini');
    const second = resolve([again]);
    for (const k of ['socket', 'processes', 'bufferSize', 'env', 'master']) assert.deepEqual(second.config[k], first.config[k], k);
  });
});
