#!/usr/bin/env node
// The tsgi command. The TypeScript sources compile to dist/ on "npm install", and the
// command's modules are bundled into dist/lib/bundle/ (scripts/bundle.mjs): one file loads
// faster than a hundred.
import { main } from '../dist/lib/bundle/cli.js';

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
