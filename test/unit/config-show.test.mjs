// lib/config/config.ts's --show-config: every value with its source in ini form, when it
// is logged and when printed, and that what it prints reads back as the same
// configuration. Every file is written to a temporary directory, removed at the end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderShowConfig } from '../../dist/lib/config/config.js';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { file, resolve } = configSandbox();

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
