#!/usr/bin/env node
// npm test: the native parser tests (ASan/UBSan), then every *.test.mjs under test/
// with node's test runner. Exits non-zero when anything fails.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
// Each node --test run is bounded as a whole, so that a test that leaves a process
// behind holding the runner's pipes fails CI instead of hanging it.
const RUN_LIMIT_MS = 8 * 60 * 1000;
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
    timeout: RUN_LIMIT_MS,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) failed = true;
  if (r.error) console.error(`npm test: the node tests did not finish within ${RUN_LIMIT_MS / 60000} minutes`);
}
// The same JavaScript suites once more, against the addon built with ASan and UBSan:
// the server's own memory errors (a use-after-free, an over-read) fail here even when
// the behaviour looks right.
const ASAN_SUITES = [
  'test/conformance',
  'test/integration/cli.test.mjs',
  'test/integration/master-deaths.test.mjs',
  'test/integration/master-reload.test.mjs',
  'test/integration/master-recycle.test.mjs',
  'test/integration/master-signals.test.mjs',
  'test/integration/stats.test.mjs',
  'test/integration/accept-limits.test.mjs',
  'test/integration/nginx-uwsgi-pass.test.mjs',
  'test/integration/nginx-environ.test.mjs',
  'test/integration/nginx-bodies.test.mjs',
  'test/integration/nginx-limits.test.mjs',
  'test/integration/nginx-permissions.test.mjs',
  'test/integration/nginx-socket-files.test.mjs',
  'test/integration/nginx-protocols.test.mjs',
  'test/integration/pipelining.test.mjs',
  'test/integration/proxy-protocol.test.mjs',
  'test/integration/logging.test.mjs',
  'test/integration/ops-metrics.test.mjs',
  'test/integration/websocket-node.test.mjs',
  'test/integration/websocket-master.test.mjs',
];
if (only.length === 0 || only.includes('asan')) {
  console.log('== the addon under AddressSanitizer and UndefinedBehaviorSanitizer: ' + ASAN_SUITES.join(', '));
  const build = spawnSync('bash', ['test/native/build-asan-addon.sh'], { stdio: 'inherit' });
  const libasan = spawnSync(process.env.CXX ?? 'g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).stdout.trim();
  if (build.status !== 0 || !existsSync(libasan)) {
    console.error('npm test: cannot build the sanitized addon');
    failed = true;
  } else {
    const logDir = mkdtempSync(join(tmpdir(), 'tsgi-asan-'));
    const files = ASAN_SUITES.flatMap((p) => (statSync(p).isDirectory() ? findTests(join(root, p)).map((f) => relative(root, f)) : [p]));
    const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...files], {
      stdio: 'inherit',
      timeout: RUN_LIMIT_MS,
      killSignal: 'SIGKILL',
      env: {
        ...process.env,
        LD_PRELOAD: libasan,
        ASAN_OPTIONS: `detect_leaks=0:abort_on_error=1:log_path=${logDir}/asan`,
        UBSAN_OPTIONS: `print_stacktrace=1:halt_on_error=1:log_path=${logDir}/ubsan`,
        TSGI_NATIVE_ADDON: join(root, 'build', 'asan', 'tsgi.node'),
      },
    });
    const reports = readdirSync(logDir);
    for (const f of reports) console.error(readFileSync(join(logDir, f), 'utf8'));
    rmSync(logDir, { recursive: true, force: true });
    if (r.status !== 0 || reports.length > 0) {
      console.error(`npm test: the sanitized run failed (${reports.length} sanitizer reports)`);
      failed = true;
    }
  }
}

process.exit(failed ? 1 : 0);
