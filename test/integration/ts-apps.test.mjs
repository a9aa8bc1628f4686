// TypeScript applications as projects write them (test/fixtures/ts-apps/), served through
// the CLI on whichever Node runs the tests (CI runs this file on Node 20, 22, 24 and 26):
// .js-suffixed and extensionless imports of .ts files, enum/namespace/parameter
// properties, decorators as the application's tsconfig.json says, ES module and CommonJS
// packages, .cts, .mts, tsconfig "paths"; in single-process mode, with a master, with
// threads. Then where errors point: at load and during a request, in an ES module and a
// CommonJS package, the log names the .ts file and its line (source maps), never a data:
// URL or tsgi's loader. Loading does not depend on the backend: the default one serves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, ROOT } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { assertAllGone, killAll, readyMaster, startMaster, stopGracefully } from '../lib/master.mjs';

const APPS = join(FIXTURES, 'ts-apps');
const T = { timeout: 30000 };

/** GET path on port, closing the connection: { status, body }. */
async function get(port, path = '/hello') {
  const res = await request(port, req('GET', path, [['Connection', 'close']]), { timeoutMs: 10000 });
  return { status: res.status, body: res.body.toString() };
}

/** Starts the CLI on the application, asserts GET /hello answers 200 with body, stops it (exit 0). */
async function serves(t, app, body, { args = [], cwd = ROOT } = {}) {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--disable-logging', ...args, '--wsgi-file', app], { cwd });
  t.after(() => cli.kill());
  const port = await cli.port;
  const res = await get(port);
  assert.deepEqual(res, { status: 200, body }, cli.stderrText());
  cli.signal('SIGTERM');
  const { code } = await cli.waitExit(5000);
  assert.equal(code, 0, cli.stderrText());
  return cli;
}

// [case, application file under ts-apps/, the body it answers]
const CASES = [
  ['an ES module package importing .ts files by their .js names', 'esm-js-suffix/app.ts', 'esm-js-suffix: hello /hello\n'],
  ['extensionless imports of a file and of a directory (index.ts)', 'extensionless/app.ts', 'extensionless: 42 9\n'],
  ['enum, namespace, constructor parameter properties', 'ts-features/app.ts', 'ts-features: Blue=3 red+blue 20\n'],
  ['legacy decorators (method and parameter) under "experimentalDecorators"', 'decorators-legacy/app.ts', 'decorators-legacy: HELLO WORLD greet#0\n'],
  ['TC39 decorators without "experimentalDecorators"', 'decorators-tc39/app.ts', 'decorators-tc39: 42 total\n'],
  ['a .ts file in a "type": "commonjs" package runs as CommonJS', 'cjs-package/app.ts', 'cjs-package: mode=cjs function __filename\n'],
  ['a .ts file in a package.json without "type" runs as CommonJS', 'no-type/app.ts', 'no-type: [kv] object\n'],
  ['a .cts file (in a "type": "module" package) importing a .cts by its .cjs name', 'cts/app.cts', 'cts: High=9 function\n'],
  ['a .mts file (in a "type": "commonjs" package) with top-level await', 'mts/app.mts', 'mts: 1000 undefined\n'],
  ['tsconfig "paths", the application\'s tsconfig.json found from its directory', 'tsconfig-paths/src/app.ts', 'tsconfig-paths: hello paths v7\n'],
];

describe(`TypeScript applications load on Node ${process.versions.node}`, () => {
  for (const [name, file, body] of CASES) {
    test(name, T, async (t) => {
      // The working directory is tsgi's own (its tsconfig.json neither includes these
      // files nor has their options): only the application's own tsconfig.json can count.
      await serves(t, join(APPS, file), body, { cwd: ROOT });
    });
  }

  test('with a master: two workers load the application (tsconfig paths, from another directory)', T, async () => {
    let m;
    try {
      m = await readyMaster(['--disable-logging'], { app: join(APPS, 'tsconfig-paths', 'src', 'app.ts'), processes: 2 });
      for (let i = 0; i < 4; i++) assert.deepEqual(await get(m.portNumber), { status: 200, body: 'tsconfig-paths: hello paths v7\n' });
      await stopGracefully(m);
    } finally {
      await killAll(m);
    }
  });

  for (const [file, body] of [
    ['esm-js-suffix/app.ts', 'esm-js-suffix: hello /hello\n'],
    ['cjs-package/app.ts', 'cjs-package: mode=cjs function __filename\n'],
  ]) {
    test(`with --threads 2: every thread loads ${file} (the worker is ready once each one did)`, T, async () => {
      let m;
      try {
        m = await readyMaster(['--threads', '2', '--disable-logging'], { app: join(APPS, file), processes: 1 });
        for (let i = 0; i < 4; i++) assert.deepEqual(await get(m.portNumber), { status: 200, body }, m.log());
        await stopGracefully(m);
      } finally {
        await killAll(m);
      }
    });
  }
});

// The line of the throw in throws-on-load.ts and throws-in-request.ts: lines before it
// (an interface, an enum) are removed or expanded when compiled, so only a source map
// gives these lines back.
const LOAD_LINE = 20;
const REQUEST_LINE = 22;
const ERRORS = join(APPS, 'errors');

/**
 * The errors applications in a CommonJS package: the same files as ts-apps/errors/ (an ES
 * module package), copied to a temporary directory with a "type": "commonjs" package.json.
 */
function commonJsCopy() {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsgi-ts-errors-cjs-')));
  cpSync(ERRORS, dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  return dir;
}

describe('errors point at the application\'s own .ts lines', () => {
  let cjsDir;
  before(() => {
    cjsDir = commonJsCopy();
  });
  after(() => rmSync(cjsDir, { recursive: true, force: true }));

  for (const kind of ['esm', 'cjs']) {
    const where = () => (kind === 'esm' ? ERRORS : cjsDir);

    test(`${kind}: an error thrown while the application loads names throws-on-load.ts:${LOAD_LINE}`, T, async (t) => {
      const file = join(where(), 'throws-on-load.ts');
      const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', file]);
      t.after(() => cli.kill());
      const { code } = await cli.waitExit(10000);
      assert.equal(code, 1, cli.stderrText());
      const line = cli.stderrText().split('\n').find((l) => l.includes('failed to load'));
      assert.equal(line, `tsgi: the application ${file} failed to load: Error: boom at load: no database (at ${file}:${LOAD_LINE}:31)`, cli.stderrText());
    });

    test(`${kind}: an error thrown in a request is logged with throws-in-request.ts:${REQUEST_LINE}, the client gets a 500`, T, async (t) => {
      const file = join(where(), 'throws-in-request.ts');
      const cli = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', file]);
      t.after(() => cli.kill());
      const port = await cli.port;
      assert.deepEqual(await get(port, '/'), { status: 200, body: 'errors ok\n' });
      const res = await get(port, '/boom');
      assert.equal(res.status, 500);
      assert.doesNotMatch(res.body, /boom/, 'nothing of the error reaches the client');
      const stderr = await cli.waitStderr(/boom in request/);
      const stack = stderr.slice(stderr.indexOf('Error: boom in request: errors /boom')).split('\n').slice(0, 4);
      assert.equal(stack[0], 'Error: boom in request: errors /boom', stderr);
      assert.match(stack[1], new RegExp(`^    at Handler\\.fail \\(${file}:${REQUEST_LINE}:11\\)$`), stderr);
      assert.match(stack[2], new RegExp(`^    at Handler\\.handle \\(${file}:17:\\d+\\)$`), stderr);
      assert.doesNotMatch(stderr, /data:text\/javascript|dist\/lib\/loader/);
      cli.signal('SIGTERM');
      assert.equal((await cli.waitExit(5000)).code, 0, stderr);
    });
  }

  test(`cjs, with a master: a worker's load error names throws-on-load.ts:${LOAD_LINE}`, T, async () => {
    const file = join(cjsDir, 'throws-on-load.ts');
    let m;
    try {
      m = startMaster([], { app: file, processes: 1 });
      const info = await m.exit;
      assert.notEqual(info.code, 0, m.log());
      assert.ok(m.log().includes(`Error: boom at load: no database (at ${file}:${LOAD_LINE}:31)`), m.log());
      assert.doesNotMatch(m.log(), /data:text\/javascript|dist\/lib\/loader/);
      await assertAllGone(m);
    } finally {
      await killAll(m);
    }
  });
});
