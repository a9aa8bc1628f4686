#!/usr/bin/env node
// The tsgi command. The TypeScript sources compile to dist/ on "npm install", and the
// command's modules are bundled into dist/lib/bundle/ (scripts/bundle.mjs): one file loads
// faster than a hundred.
//
// On Node 22.1 and later, V8's code cache of every module loaded from here on (tsgi's and
// the application's) is kept on disk (module.enableCompileCache(): in the directory of
// NODE_COMPILE_CACHE, else os.tmpdir()/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1
// turns it off), so that a start after the first compiles nothing again. Node makes the
// directory and its parents: with no NODE_COMPILE_CACHE, it is used only when os.tmpdir()
// exists, so that tsgi never makes a temporary directory that is missing (its request
// bodies would then go where the configuration said there is nothing). The workers get
// the same directory from the master (lib/process/compile-cache.ts); process.env is left
// as the user gave it, for the application's own child processes.
import module from 'node:module';
import { tmpdir } from 'node:os';

// Required, not imported: an ESM import of node:fs loads its streams and promises too
// (scripts/bundle.mjs says more).
const { existsSync } = module.createRequire(import.meta.url)('node:fs');

if (module.enableCompileCache !== undefined && (process.env.NODE_COMPILE_CACHE !== undefined || existsSync(tmpdir()))) {
  module.enableCompileCache();
}

const { main } = await import('../dist/lib/bundle/cli.js');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (code !== 0) process.exit(code);
  },
  (err) => {
    process.stderr.write(`tsgi: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
