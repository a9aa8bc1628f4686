#!/usr/bin/env node
// npm test: the native parser tests (ASan/UBSan), then every *.test.mjs under test/
// with node's test runner. Exits non-zero when anything fails.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
process.chdir(root);

for (const needed of ['build/Release/tsgi.node', 'dist/lib/index.js']) {
  if (!existsSync(needed)) {
    console.error(`npm test: ${needed} is missing: run "npm install" (or "npm run build") first`);
    process.exit(1);
  }
}

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.mjs')) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
let failed = false;

if (only.length === 0 || only.includes('native')) {
  console.log('== native tests (AddressSanitizer, UndefinedBehaviorSanitizer)');
  const r = spawnSync('bash', ['test/native/run.sh'], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}

const files = findTests(join(root, 'test')).map((f) => relative(root, f)).filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
if (files.length > 0) {
  console.log(`== node tests (${files.length} files)`);
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
