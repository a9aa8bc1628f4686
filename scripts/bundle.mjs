#!/usr/bin/env node
// Bundles what tsc wrote to dist/lib/ into dist/lib/bundle/: the command (cli.js, what
// bin/tsgi.js runs) and the entries of the processes it starts (process/worker-main.js,
// process/thread-main.js), their shared code in chunks beside them. Node loads one file
// in a few milliseconds and a hundred small modules in about forty (resolving, reading and
// linking each): the bundle is what makes a process answer its first request sooner
// (bench: BENCH_SCENARIOS=startup). The packages tsgi depends on stay outside it, loaded
// from node_modules as before; dist/lib/ stays whole for `import ... from 'tsgi'`.
//
// The bundle sits at the same depth as dist/lib/*/ so that every path its modules make
// from import.meta.url (the package root in base/package.ts, the worker and thread entries
// beside master-workers.ts and worker.ts, loader.ts's own files) comes out the same.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const out = join(root, 'dist', 'lib', 'bundle');
rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'dist/lib/cli.js',
    'worker-main': 'dist/lib/process/worker-main.js',
    'thread-main': 'dist/lib/process/thread-main.js',
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});
