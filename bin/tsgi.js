#!/usr/bin/env node
// The tsgi command. The TypeScript sources compile to dist/ on "npm install".
import { main } from '../dist/lib/cli.js';

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
