// lib/config/config.ts: config files, ini, yaml and json: repeated keys, coercion,
// defaults, sections, includes (relative, of each format, of a section, loops), and the
// errors that name file:line. Every file is written to a temporary directory, removed
// at the end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { dir, file, resolve, fails } = configSandbox();

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
