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
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Node's ESM import of a built-in module reads every one of its exports once, the lazy
// ones too: importing node:fs loads its streams, fs/promises and readline (4-6 ms on
// Node 24 here, against 0.5 ms to require it), node:net and node:child_process likewise
// (2.6 and 1.3 ms more), node:http even undici (39 ms against 5). The bundle requires these
// instead: each becomes a module of the same named exports, taken from require() when it
// is evaluated; a lazy export (a getter: fs.promises, fs.ReadStream) is left out, so that
// importing one by name fails the build rather than loading it at every start.
const REQUIRED_BUILTINS = /^node:(fs|net|child_process|http)$/;
const requireHere = createRequire(import.meta.url);
const requiredBuiltins = {
  name: 'required-builtins',
  setup(b) {
    b.onResolve({ filter: REQUIRED_BUILTINS }, (args) => ({ path: args.path, namespace: 'required-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'required-builtin' }, (args) => {
      const mod = requireHere(args.path);
      const names = Object.keys(mod).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k) && Object.getOwnPropertyDescriptor(mod, k).get === undefined);
      const lines = [`import { createRequire } from 'node:module';`, `const m = createRequire(import.meta.url)(${JSON.stringify(args.path)});`, 'export default m;'];
      // Pure, so that esbuild keeps only the names the code imports: reading another could
      // run a getter that is hidden from Object.keys on another Node (fs.F_OK on Node 24
      // warns, DEP0176).
      for (const k of names) lines.push(`export const ${k} = /* @__PURE__ */ (() => m.${k})();`);
      return { contents: lines.join('\n'), loader: 'js' };
    });
  },
};

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
  plugins: [requiredBuiltins],
});
