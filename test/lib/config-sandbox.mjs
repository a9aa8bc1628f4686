// A temporary directory for the tests of resolveConfig() (test/unit/config-*.test.mjs):
// configSandbox(stem) makes it, has node:test remove it after the calling file's tests,
// and returns { dir, file, resolve, fails }: file() writes a config file in it (named
// <stem><n>.ini unless named otherwise), resolve() reads a command line and an
// environment with it as the working directory, and fails() asserts that resolve()
// throws a ConfigError and returns its lines.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, ConfigError } from '../../dist/lib/config/config.js';

export function configSandbox(stem = 'c') {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsgi-config-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  let n = 0;
  /** Writes text to a fresh file in dir (name: its basename, default <stem>N.ini); returns its path. */
  function file(text, name = `${stem}${n++}.ini`) {
    const p = join(dir, name);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text);
    return p;
  }

  const resolve = (argv, env = {}) => resolveConfig(argv, { env, cwd: dir });
  /** The ConfigError of resolve(), asserted (with its code, when given): its lines. */
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

  return { dir, file, resolve, fails };
}
