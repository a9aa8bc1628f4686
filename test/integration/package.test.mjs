// tsgi as a dependency, the way a user gets it: the tarball `npm pack` makes (its
// prepack builds the prebuilt addon), installed into a new project by an npm whose PATH
// has no compiler, make or python (only node, npm, npx and sh), run through `npx tsgi`,
// and its published types checked by TypeScript 5 and 7 on an application that imports
// them. Then the same project without an addon that fits: the install still succeeds,
// --backend native says why in one line, and the default (auto) serves with the js
// backend after one warning line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { RegistryUnreachable, typeScripts } from '../lib/typescripts.mjs';
import { npmCli, packedTarball, run } from '../lib/package-tarball.mjs';

// npm pack builds the addon twice (prebuildify, then build/ again) and the install
// builds nothing: minutes on a loaded 2-core machine.
const T = { timeout: 300000 };

const work = mkdtempSync(join(tmpdir(), 'tsgi-package-'));
after(() => rmSync(work, { recursive: true, force: true }));

// A PATH with node, npm, npx and sh and nothing else: no g++, cc, make or python3.
const tools = join(work, 'tools');
mkdirSync(tools);
const npm = npmCli();
symlinkSync(process.execPath, join(tools, 'node'));
symlinkSync(npm, join(tools, 'npm'));
symlinkSync(join(dirname(npm), 'npx'), join(tools, 'npx'));
symlinkSync('/bin/sh', join(tools, 'sh'));
// The environment of a user's shell: HOME (npm's cache), that PATH, nothing of npm test's.
const bare = { HOME: process.env.HOME ?? '/root', PATH: tools, TMPDIR: tmpdir(), ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}) };

const project = join(work, 'project');
const APP = `import { serve } from 'tsgi';
import type { Environ, StartResponse } from 'tsgi';

// A JSON echo: read() is a Buffer, the query string goes to URLSearchParams.
export function application(environ: Environ, startResponse: StartResponse) {
  const body: string = environ['wsgi.input'].read().toString('utf8');
  const query = new URLSearchParams(environ.QUERY_STRING);
  const reply = { backend: environ['tsgi.backend'], name: query.get('name'), body, aborted: environ['tsgi.signal'].aborted };
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(reply)];
}

export async function start(port: number): Promise<number> {
  const server = await serve(application, { http: \`127.0.0.1:\${port}\` });
  return server.address.port;
}
`;

/**
 * `npx tsgi ...args` in the project, with the compiler-less PATH, once it is ready:
 * { cli (spawnCli's handle), port, stop() }. npx runs tsgi under a shell of its own, so
 * tsgi is signalled by the pid it prints: stop() sends it SIGTERM and resolves with npx's
 * exit; after the test, a tsgi still running is killed.
 */
async function npxTsgi(t, args) {
  const cli = spawnCli(['tsgi', ...args], { cwd: project, env: { PATH: tools }, command: ['npx'] });
  let pid;
  t.after(async () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it stopped
      }
    }
    await cli.kill();
  });
  const port = await cli.port;
  pid = Number(/^\*\*\* tsgi is ready in single-process mode \(pid: (\d+)\) \*\*\*$/m.exec(await cli.waitStderr(/is ready/))[1]);
  const stop = () => {
    process.kill(pid, 'SIGTERM');
    return cli.waitExit(10000);
  };
  return { cli, port, stop };
}

let tarball;
let packed;
let install;

before(async () => {
  ({ packed, tarball } = await packedTarball(work));

  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true, type: 'module' }, null, 2) + '\n');
  writeFileSync(join(project, 'app.ts'), APP);
  install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project, env: bare });
});

describe('the npm pack tarball, installed in a new project', () => {
  test('the tarball carries the prebuilt addon, the compiled TypeScript with its types, and the sources to build from', T, () => {
    const files = packed.files.map((f) => f.path);
    assert.ok(files.includes('prebuilds/linux-x64/tsgi.glibc.node'), files.filter((f) => f.startsWith('prebuilds')).join(', '));
    for (const f of ['bin/tsgi.js', 'dist/lib/bundle/cli.js', 'dist/lib/bundle/worker-main.js', 'dist/lib/bundle/thread-main.js', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'binding.gyp', 'native/server/server.cc', 'native/wire.h', 'README.md']) assert.ok(files.includes(f), f);
    assert.ok(!files.some((f) => f.startsWith('build/') || f.startsWith('test/')), 'no build/ or test/ in the package');
  });

  test('npm install without a compiler on PATH, then npx tsgi serves app.ts on the native backend', T, async (t) => {
    assert.equal(install.code, 0, `npm install:\n${install.out}`);
    assert.ok(!existsSync(join(project, 'node_modules', 'tsgi', 'build')), 'nothing was built: the prebuilt addon fits');

    const { cli, port, stop } = await npxTsgi(t, ['--http', '127.0.0.1:0', '--wsgi-file', 'app.ts']);
    assert.match(cli.stderrText(), /^\*\*\* Starting tsgi \S+ \(native backend, node v[\d.]+\) \*\*\*$/m);
    const res = await request(port, req('POST', '/echo?name=J%C3%BCrgen&x=1', [['Content-Type', 'application/json'], ['Content-Length', '7'], ['Connection', 'close']], '{"a":1}'), { timeoutMs: 5000 });
    assert.equal(res.status, 200, cli.stderrText());
    assert.deepEqual(JSON.parse(res.body.toString()), { backend: 'native', name: 'Jürgen', body: '{"a":1}', aborted: false });
    const { code } = await stop();
    assert.equal(code, 0, cli.stderrText());
    assert.match(cli.stderrText(), /^tsgi: goodbye$/m);
  });

  for (const major of ['5', '7']) {
    test(`tsc --noEmit with TypeScript ${major} type-checks an application that imports tsgi and its types`, T, async (t) => {
      let tsc;
      try {
        tsc = (await typeScripts())[major];
      } catch (err) {
        if (err instanceof RegistryUnreachable && process.env.CI !== 'true') return t.skip(`the npm registry cannot be reached to install TypeScript ${major}: ${err.message.split('\n')[0]}`);
        throw err;
      }
      // What a user writes: strict, Node's module rules, no "types" (TypeScript 7 then takes
      // in no @types package by itself), the libraries' .d.ts checked (no skipLibCheck).
      // wrong.ts shows that it does check: a wrong use of tsgi's types is its one error.
      writeFileSync(join(project, 'wrong.ts'), "import type { Environ } from 'tsgi';\nexport const n: number = ({} as Environ)['wsgi.input'].read();\n");
      const config = join(project, `tsconfig.${major}.json`);
      writeFileSync(config, JSON.stringify({ compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, noEmit: true }, files: ['app.ts', 'wrong.ts'] }, null, 2) + '\n');
      const version = await run(process.execPath, [tsc, '--version'], { cwd: project, env: bare });
      assert.match(version.out, new RegExp(`^Version ${major}\\.`), version.out);
      const check = await run(process.execPath, [tsc, '-p', config, '--pretty', 'false'], { cwd: project, env: bare });
      const errors = check.out.split('\n').filter((l) => l !== '');
      assert.equal(errors.length, 1, `one error, in wrong.ts:\n${check.out}`);
      assert.match(errors[0], /^wrong\.ts\(2,14\): error TS2322: Type 'Buffer(<[^>]*>)?' is not assignable to type 'number'\.$/);
      assert.notEqual(check.code, 0, 'tsc fails on the error');
    });
  }

  test('no addon fits and none can be built: npm rebuild exits 0; --backend native fails in one line; auto serves with js after one warning', T, async (t) => {
    const pkg = join(project, 'node_modules', 'tsgi');
    rmSync(join(pkg, 'prebuilds'), { recursive: true, force: true });
    // The install script (node-gyp-build) finds no prebuild and tries node-gyp, which
    // finds no python, make or compiler on this PATH: the install goes on all the same.
    const rebuild = await run('npm', ['rebuild', 'tsgi', '--foreground-scripts'], { cwd: project, env: bare });
    assert.equal(rebuild.code, 0, `npm rebuild:\n${rebuild.out}`);
    assert.match(rebuild.out, /node-gyp-build \|\| exit 0/, 'the install script ran');
    assert.ok(!existsSync(join(pkg, 'build', 'Release', 'tsgi.node')), 'no addon was built');

    const native = spawnCli(['tsgi', '--http', '127.0.0.1:0', '--wsgi-file', 'app.ts', '--backend', 'native'], { cwd: project, env: { PATH: tools }, command: ['npx'] });
    t.after(() => native.kill());
    const { code } = await native.waitExit(15000);
    assert.equal(code, 1, native.stderrText());
    assert.equal(native.stderrText(), `tsgi: --backend native: no native addon for linux-x64 glibc: none prebuilt in ${join(pkg, 'prebuilds')}, none built in ${join(pkg, 'build')} (building one needs python3, make and a C++ compiler: npm rebuild tsgi)\n`);

    const { cli: auto, port, stop } = await npxTsgi(t, ['--http', '127.0.0.1:0', '--wsgi-file', 'app.ts', '--disable-logging']);
    const res = await request(port, req('GET', '/?name=x', [['Connection', 'close']]), { timeoutMs: 5000 });
    assert.equal(JSON.parse(res.body.toString()).backend, 'js');
    assert.equal((await stop()).code, 0, auto.stderrText());
    const lines = auto.stderrText().split('\n');
    assert.deepEqual(
      lines.filter((l) => /addon/.test(l)),
      [`tsgi: no native addon for linux-x64 glibc: none prebuilt in ${join(pkg, 'prebuilds')}, none built in ${join(pkg, 'build')} (building one needs python3, make and a C++ compiler: npm rebuild tsgi): serving with the js backend (node:http, node:net)`],
    );
    assert.match(auto.stderrText(), /^\*\*\* Starting tsgi \S+ \(js backend, node v[\d.]+\) \*\*\*$/m);
  });
});
