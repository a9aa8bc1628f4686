// Config files at the command line, as a user runs tsgi: --show-config, strict, warnings,
// broken files (each error with file:line and exit 1), yaml, json, the environment alone,
// --help.
//
// Every process started here is stopped by pid (its workers too), every temp dir removed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { delay } from '../lib/wait.mjs';
import { stop, get, failsWith } from '../lib/cli-runs.mjs';

const FIX = join(FIXTURES, 'seeds');
const CONF = join(FIXTURES, 'config');
const T = { timeout: 60000 };

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
