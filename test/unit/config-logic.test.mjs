// lib/config/config-logic.ts through resolveConfig: uWSGI's for/endfor and if-*/endif blocks in
// config files, %(_), nesting, and the errors that name the file and line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { dir, file, resolve, fails: failLines } = configSandbox('l');
/** The lines of resolve()'s ConfigError, asserted, as one text. */
const fails = (argv, env = {}) => failLines(argv, env).join('\n');

describe('config logic: for', () => {
  test('for = a b c repeats its block with %(_) as each item', () => {
    const f = file('[uwsgi]\nfor = 8001 8002 8003\nsocket = 127.0.0.1:%(_)\nendfor =\nprocesses = 2\n');
    const { config: values, warnings } = resolve([f]);
    assert.deepEqual(values.socket, ['127.0.0.1:8001', '127.0.0.1:8002', '127.0.0.1:8003']);
    assert.equal(values.processes, 2);
    assert.deepEqual(warnings, []);
  });

  test('for-times = 3 counts from 1; each line keeps its own file:line', () => {
    const f = file('[uwsgi]\nfor-times = 3\nhttp-socket = :900%(_)\nendfor\n');
    const { config: values } = resolve([f]);
    assert.deepEqual(values.httpSocket, [':9001', ':9002', ':9003']);
    assert.match(fails([file('[uwsgi]\nfor-times = many\nendfor =\n')]), /:2: for-times needs a whole number, not "many"/);
  });

  test('for-glob: the matching paths in name order; for-readline: the file\'s non-empty lines', () => {
    file('x', 'apps/b.sock');
    file('x', 'apps/a.sock');
    file('x', 'apps/c.txt');
    file('127.0.0.1:7001\n\n  127.0.0.1:7002  \n', 'sockets.txt');
    const { config: values } = resolve([file(`[uwsgi]\nfor-glob = ${dir}/apps/*.sock\nsocket = %(_)\nendfor =\nfor-readline = sockets.txt\nhttp-socket = %(_)\nendfor =\n`)]);
    assert.deepEqual(values.socket, [`${dir}/apps/a.sock`, `${dir}/apps/b.sock`]);
    assert.deepEqual(values.httpSocket, ['127.0.0.1:7001', '127.0.0.1:7002']);
    assert.match(fails([file('[uwsgi]\nfor-readline = nope.txt\nendfor =\n')]), /:2: for-readline: cannot read nope\.txt: ENOENT/);
  });
});

describe('config logic: if', () => {
  test('if-env: the block when the variable is set and not empty, %(_) its value; if-not-env the other way', () => {
    const f = file('[uwsgi]\nif-env = APP_PORT\nhttp-socket = :%(_)\nendif =\nif-not-env = APP_PORT\nhttp-socket = :8000\nendif =\n');
    assert.deepEqual(resolve([f], { APP_PORT: '9100' }).config.httpSocket, [':9100']);
    assert.deepEqual(resolve([f], {}).config.httpSocket, [':8000']);
    assert.deepEqual(resolve([f], { APP_PORT: '' }).config.httpSocket, [':8000'], 'empty counts as unset');
  });

  test('if-exists, if-file, if-dir and their if-not- forms, relative to the working directory', () => {
    file('', 'present.txt');
    mkdirSync(join(dir, 'adir'), { recursive: true });
    const f = file(
      '[uwsgi]\nif-exists = present.txt\nenv = A=%(_)\nendif =\nif-file = adir\nenv = B=no\nendif =\nif-dir = adir\nenv = C=%(_)\nendif =\n' +
        'if-not-exists = missing.txt\nenv = D=%(_)\nendif =\nif-not-file = present.txt\nenv = E=no\nendif =\n',
    );
    assert.deepEqual(resolve([f]).config.env, ['A=present.txt', 'C=adir', 'D=missing.txt']);
  });

  test('if-opt sees what was set before it (in the file, in an earlier file, on the command line); NAME=VALUE compares', () => {
    const f = file('[uwsgi]\nmaster = true\nif-opt = master\nprocesses = 4\nendif =\nif-opt = socket=:1\nenv = S=%(_)\nendif =\nif-not-opt = harakiri\nharakiri = 30\nendif =\n');
    const plain = resolve([f]).config;
    assert.equal(plain.processes, 4);
    assert.equal(plain.harakiri, 30);
    assert.deepEqual(plain.env, [], 'no env line kept: an empty list');
    const withCli = resolve([f, '--socket', ':1', '--harakiri', '5']).config;
    assert.deepEqual(withCli.env, ['S=:1']);
    assert.equal(withCli.harakiri, 5, 'the command line still wins');
  });

  test('if-hostname compares with this host\'s name', () => {
    const f = file(`[uwsgi]\nif-hostname = ${hostname()}\nenv = HOST=yes\nendif =\nif-not-hostname = ${hostname()}\nenv = HOST=no\nendif =\n`);
    assert.deepEqual(resolve([f]).config.env, ['HOST=yes']);
  });

  test('blocks nest; %(_) is the innermost block\'s; keys spelled with _ work too', () => {
    const f = file('[uwsgi]\nfor = a b\nif_env = FLAG_%(_)\nenv = V=%(_)\nendif =\nendfor =\n');
    assert.deepEqual(resolve([f], { FLAG_a: 'on', FLAG_b: '' }).config.env, ['V=on']);
  });

  test('an include inside a kept block is read; inside a dropped one it is not', () => {
    const inc = file('[uwsgi]\nprocesses = 3\n', 'inc.ini');
    const f = file(`[uwsgi]\nif-env = WITH_INC\nini = ${inc}\nendif =\nif-env = WITH_MISSING\nini = /nonexistent.ini\nendif =\n`);
    assert.equal(resolve([f], { WITH_INC: '1' }).config.processes, 3);
    assert.equal(resolve([f], {}).config.processes, 1, 'the default');
  });

  test('yaml files have the same logic (a list of single-key maps keeps the order)', () => {
    const f = file('uwsgi:\n  if-env: YPORT\n  http-socket: ":%(_)"\n  endif: ""\n', 'l.yaml');
    assert.deepEqual(resolve(['--yaml', f], { YPORT: '7007' }).config.httpSocket, [':7007']);
  });
});

describe('config logic: errors at file:line', () => {
  test('an if without endif, an endif without if, a for closed by endif', () => {
    assert.match(fails([file('[uwsgi]\nmaster = true\nif-env = X\nprocesses = 2\n')], { X: '1' }), /l\d+\.ini:3: if-env has no endif after it/);
    assert.match(fails([file('[uwsgi]\nendif =\n')]), /l\d+\.ini:2: endif without a if-\.\.\. before it/);
    assert.match(fails([file('[uwsgi]\nfor = a\nendif =\n')]), /l\d+\.ini:3: endif closes for \(line 2\), which ends with endfor/);
    assert.match(fails([file('[uwsgi]\nif-env =\nendif =\n')]), /l\d+\.ini:2: if-env needs an argument/);
  });
});
