// lib/config/config.ts: placeholders in config files: $(ENV), %(option) of any key, the
// magic variables of the file (%d, %p, %n ...), unset ones (strict makes them errors),
// loops, expanded once. Every file is written to a temporary directory, removed at the end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { dir, file, resolve, fails } = configSandbox();

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
