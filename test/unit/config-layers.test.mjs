// lib/config/config.ts: where a value comes from: TSGI_<NAME> and UWSGI_<NAME> in the
// environment, the command line over the environment over the files, later files over
// earlier ones, and the command line's own errors. Every file is written to a temporary
// directory, removed at the end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError } from '../../dist/lib/config/config.js';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { dir, file, resolve, fails } = configSandbox();

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
