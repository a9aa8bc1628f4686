// The command runs the bundle of tsgi's modules (dist/lib/bundle/, scripts/bundle.mjs),
// and an application that imports 'tsgi' gets the package's own modules (dist/lib/): two
// copies of the same classes. What the application sees must not depend on which copy
// made an object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';
import { TsgiError } from '../../dist/lib/base/errors.js';
import { ConfigError } from '../../dist/lib/config/config-error.js';

test('bin/tsgi.js runs the bundle, whose entries (the command, the worker, the thread) are there', () => {
  assert.match(readFileSync(join(ROOT, 'bin', 'tsgi.js'), 'utf8'), /from '\.\.\/dist\/lib\/bundle\/cli\.js'/);
  for (const entry of ['cli.js', 'worker-main.js', 'thread-main.js']) assert.ok(existsSync(join(ROOT, 'dist', 'lib', 'bundle', entry)), entry);
});

test("an application importing 'tsgi' recognises the server's TsgiError with instanceof", { timeout: 30000 }, async () => {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'bundle', 'imports-tsgi.mjs'), '--disable-logging']);
  try {
    const port = await cli.port;
    const res = await httpGet(port, '/');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'true TSGI_ERR_HEADER_INVALID');
  } finally {
    await cli.kill();
  }
});

test('instanceof TsgiError holds for a branded error of any copy; a subclass keeps its own instanceof', () => {
  const fromAnotherCopy = Object.assign(Object.create({ [Symbol.for('tsgi.error')]: true }), { code: 'TSGI_ERR_CONFIG' });
  assert.ok(fromAnotherCopy instanceof TsgiError);
  assert.ok(!(new Error('plain') instanceof TsgiError));
  assert.ok(!(null instanceof TsgiError));
  const config = new ConfigError('TSGI_ERR_CONFIG', ['x.ini:1: what is wrong']);
  assert.ok(config instanceof TsgiError && config instanceof ConfigError);
  assert.ok(!(new TsgiError('TSGI_ERR_CONFIG', 'm') instanceof ConfigError));
});
