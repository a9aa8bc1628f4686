// The tarball `npm pack` makes of this checkout, for test/integration/package.test.mjs.
// With TSGI_PACKAGE_CACHE (a directory; .ci/run sets one for its whole run), the tarball
// of the same sources is packed once and installed again on every Node, as a published
// tarball is (npm builds the prebuilt addon against npm's nodedir, the same headers
// whichever Node runs it). Run alone (`node test/lib/package-tarball.mjs`), it packs into
// TSGI_PACKAGE_CACHE: .ci/run does so before the tests, on an idle machine, instead of in
// the middle of a test run where the addon's compile shares the cores.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './project.mjs';

/** Runs file with args to its end: { code, out, stdout } (out: stdout and stderr together). */
export function run(file, args, { cwd, env, timeoutMs = 240000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (d) => {
      out += d;
      stdout += d;
    });
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file} ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, stdout });
    });
  });
}

/** Where npm is: beside node (its usual place), else on PATH. */
export function npmCli() {
  const beside = join(dirname(process.execPath), 'npm');
  if (existsSync(beside)) return beside;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'npm'))) return join(dir, 'npm');
  throw new Error('npm is not on PATH');
}

// What npm pack packs from the checkout (node_modules aside).
const PACKED_SOURCES = ['bin', 'lib', 'native', 'scripts', 'binding.gyp', 'package.json', 'tsconfig.json', 'README.md'];

/** A digest of PACKED_SOURCES: every file's path and bytes. */
function sourcesDigest() {
  const hash = createHash('sha256');
  const add = (rel) => {
    const p = join(ROOT, rel);
    if (statSync(p).isDirectory()) {
      for (const name of readdirSync(p).sort()) add(join(rel, name));
    } else {
      hash.update(`${rel}\0`).update(readFileSync(p));
    }
  };
  for (const f of PACKED_SOURCES) add(f);
  return hash.digest('hex').slice(0, 16);
}

/**
 * npm pack in a copy of the package (its node_modules linked), so that prepack's
 * rebuild of build/ does not pull the addon from under the suites running beside it.
 * Resolves with npm pack's report of the tarball it wrote into dir.
 */
async function pack(work, dir) {
  const stage = join(work, 'stage');
  mkdirSync(stage);
  for (const f of PACKED_SOURCES) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(stage, 'node_modules'));
  // Without npm test's own npm_* variables: npm_config_local_prefix would make this npm
  // pack the checkout instead of the copy.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
  const r = await run(npmCli(), ['pack', '--json', '--pack-destination', dir], { cwd: stage, env });
  assert.equal(r.code, 0, `npm pack:\n${r.out}`);
  // --json's report is the last thing on stdout, after what prepack printed there.
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('\n[\n') + 1))[0];
}

/**
 * { packed, tarball }: npm pack's report and the tarball's path, packed into work (a
 * scratch directory), or found in or added to TSGI_PACKAGE_CACHE.
 */
export async function packedTarball(work) {
  const cache = process.env.TSGI_PACKAGE_CACHE;
  const dir = cache ? join(cache, sourcesDigest()) : work;
  let packed;
  if (cache && existsSync(join(dir, 'packed.json'))) {
    packed = JSON.parse(readFileSync(join(dir, 'packed.json'), 'utf8'));
  } else {
    mkdirSync(dir, { recursive: true });
    packed = await pack(work, dir);
    if (cache) writeFileSync(join(dir, 'packed.json'), JSON.stringify(packed));
  }
  return { packed, tarball: join(dir, packed.filename) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.env.TSGI_PACKAGE_CACHE) {
    console.error('package-tarball: TSGI_PACKAGE_CACHE (a directory) is not set');
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'tsgi-pack-'));
  try {
    console.log(`package-tarball: ${(await packedTarball(work)).tarball}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
