// lib/config/config.ts: what becomes of an option that tsgi does not take as it is:
// unknown keys (warnings, or errors under strict), refused and translated options,
// limit-as, and a Python application. Every file is written to a temporary directory,
// removed at the end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMIT_AS_FLOOR } from '../../dist/lib/config/derived.js';
import { configSandbox } from '../lib/config-sandbox.mjs';

const { file, resolve, fails } = configSandbox();

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
