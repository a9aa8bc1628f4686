// lib/config/options.ts's option table as the config files see it: every option has a
// verdict, every option of the seeds is in it, a positional config file, an option
// written with a dash character, the environment's names.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPTIONS, parseArgv, argvEntries, envNames } from '../../dist/lib/config/options.js';

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
