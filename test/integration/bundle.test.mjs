// The command runs the bundle of tsgi's modules (dist/lib/bundle/, scripts/bundle.mjs),
// and an application that imports 'tsgi' gets the package's own modules (dist/lib/): two
// copies of the same classes. What the application sees must not depend on which copy
// made an object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodeModule from 'node:module';
import { FIXTURES, ROOT } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';
import { TsgiError } from '../../dist/lib/base/errors.js';
import { ConfigError } from '../../dist/lib/config/config-error.js';

test('bin/tsgi.js runs the bundle, whose entries (the command, the worker, the thread) are there', () => {
  assert.match(readFileSync(join(ROOT, 'bin', 'tsgi.js'), 'utf8'), /import\('\.\.\/dist\/lib\/bundle\/cli\.js'\)/);
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

for (const [mode, args] of [['one process', []], ['a worker under the master', ['--master', '--processes', '1', '--no-orphans']]]) {
  test(`${mode} starts without node:crypto, node:http, node:fs's streams and node-gyp-build, and without a warning`, { timeout: 30000 }, async () => {
    const cli = spawnCli([...args, '--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'bundle', 'modules-at-load.mjs'), '--disable-logging']);
    try {
      const res = await httpGet(await cli.port, '/');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'none');
      // The bundle's required built-ins read only the exports tsgi uses (Node 24 warns
      // for a few others: fs.F_OK, DEP0176).
      assert.doesNotMatch(cli.stderrText(), /Warning/);
    } finally {
      await cli.kill();
    }
  });
}

test('instanceof TsgiError holds for a branded error of any copy; a subclass keeps its own instanceof', () => {
  const fromAnotherCopy = Object.assign(Object.create({ [Symbol.for('tsgi.error')]: true }), { code: 'TSGI_ERR_CONFIG' });
  assert.ok(fromAnotherCopy instanceof TsgiError);
  assert.ok(!(new Error('plain') instanceof TsgiError));
  assert.ok(!(null instanceof TsgiError));
  const config = new ConfigError('TSGI_ERR_CONFIG', ['x.ini:1: what is wrong']);
  assert.ok(config instanceof TsgiError && config instanceof ConfigError);
  assert.ok(!(new TsgiError('TSGI_ERR_CONFIG', 'm') instanceof ConfigError));
});

// bin/tsgi.js: module.enableCompileCache(), on the Nodes that have it (22.1 and later).
const NO_CACHE = nodeModule.enableCompileCache === undefined ? `Node ${process.version} has no module.enableCompileCache()` : false;
const filesUnder = (dir) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

test("the code cache of tsgi's modules and the application's is kept in os.tmpdir()'s node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 keeps none", { skip: NO_CACHE, timeout: 30000 }, async () => {
  for (const disable of [undefined, '1']) {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-compile-cache-'));
    try {
      const env = { NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: disable, TMPDIR: dir };
      const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', join(ROOT, 'bench', 'apps', 'hello.mjs'), '--disable-logging'], { env });
      assert.equal((await httpGet(await cli.port, '/')).status, 200);
      cli.signal('SIGINT');
      assert.equal((await cli.waitExit()).code, 0);
      const cache = join(dir, 'node-compile-cache');
      if (disable) assert.ok(!existsSync(cache) || filesUnder(cache) === 0, 'no cache when disabled');
      else assert.ok(filesUnder(cache) > 0, `cache files in ${cache}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test("under the master, the workers use the master's cache directory, and the application's environment gets no NODE_COMPILE_CACHE", { skip: NO_CACHE, timeout: 30000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-compile-cache-'));
  // The application answers with its NODE_COMPILE_CACHE (what its own child processes
  // would inherit) and with the cache its process uses (Node 22.8 and later say).
  const app = join(dir, 'env-app.mjs');
  writeFileSync(app, "import module from 'node:module';\nexport function application(environ, startResponse) { startResponse('200 OK', []); return [`env=${process.env.NODE_COMPILE_CACHE} used=${module.getCompileCacheDir?.()}`]; }\n");
  // Without NODE_COMPILE_CACHE, the directory is node-compile-cache in os.tmpdir() (TMPDIR).
  const cache = join(dir, 'node-compile-cache');
  const used = [];
  try {
    for (const args of [['--master', '--processes', '1', '--no-orphans'], []]) {
      const what = args.join(' ') || 'single process';
      const cli = spawnCli([...args, '--http', '127.0.0.1:0', '--wsgi-file', app, '--disable-logging'], { env: { NODE_COMPILE_CACHE: undefined, TMPDIR: dir } });
      try {
        const res = await httpGet(await cli.port, '/');
        assert.match(res.body, /^env=undefined used=/, what);
        used.push(res.body.slice(res.body.indexOf('used=') + 5));
        cli.signal('SIGINT');
        assert.equal((await cli.waitExit()).code, 0, what);
      } finally {
        await cli.kill();
      }
    }
    if (nodeModule.getCompileCacheDir !== undefined) {
      // The worker's cache is the single process's: the directory of this Node version in
      // node-compile-cache, not one nested again.
      assert.ok(used[0].startsWith(`${cache}/`), used[0]);
      assert.equal(used[0], used[1]);
    }
    assert.ok(filesUnder(cache) > 0, `cache files in ${cache}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing temporary directory is not made for the cache (request bodies would then go where TMPDIR says there is nothing)', { skip: NO_CACHE, timeout: 30000 }, async () => {
  const parent = mkdtempSync(join(tmpdir(), 'tsgi-compile-cache-'));
  const missing = join(parent, 'missing');
  try {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', join(ROOT, 'bench', 'apps', 'hello.mjs'), '--disable-logging'], { env: { NODE_COMPILE_CACHE: undefined, TMPDIR: missing } });
    assert.equal((await httpGet(await cli.port, '/')).status, 200);
    cli.signal('SIGINT');
    assert.equal((await cli.waitExit()).code, 0);
    assert.ok(!existsSync(missing), `${missing} was made`);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
