// docs/ stays true: the options page is generated from the table and fresh, every
// error code is documented, and what users read speaks of uWSGI and tsgi, not of the
// project's working material (the "seed" articles its tests are named after).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { render } from '../../scripts/gen-options-doc.mjs';
import { ErrorCodes } from '../../dist/lib/base/errors.js';
import { OPTIONS } from '../../dist/lib/config/options.js';

test('docs/options.md is generated from the option table and up to date', () => {
  assert.equal(readFileSync('docs/options.md', 'utf8'), render(), 'run node scripts/gen-options-doc.mjs');
  for (const o of OPTIONS) assert.match(render(), new RegExp(`\`--${o.name}\``));
});

test('every error code is in docs/errors.md', () => {
  const doc = readFileSync('docs/errors.md', 'utf8');
  for (const code of Object.keys(ErrorCodes)) assert.ok(doc.includes(`\`${code}\``), `${code} is missing from docs/errors.md`);
});

test('every option says where it is obeyed, and that place exists', () => {
  for (const o of OPTIONS) {
    // "lib/serve.ts serve() -> native/server/server.cc Server::Listen, native/x.cc Y"
    for (const place of o.obeyedIn.split(/\s*(?:->|,)\s*/)) {
      const [file, symbol] = place.split(' ');
      const text = readFileSync(file, 'utf8');
      const name = symbol.replace(/\(\)$/, '').split(/::|\./).pop();
      assert.ok(new RegExp(`\\b${name}\\b`).test(text), `${o.name}: ${name} is not in ${file}`);
    }
  }
});

test('what users read never speaks of the seeds: README, docs/, examples/, the sources of --help and the messages', () => {
  const files = ['README.md', ...['docs', 'examples', 'lib'].flatMap((dir) => readdirSync(dir, { recursive: true }).map((f) => join(dir, f)))].filter((f) => statSync(f).isFile());
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    const found = lines.map((l, i) => [i + 1, l]).filter(([, l]) => /\bseeds?\b/i.test(l));
    assert.deepEqual(found, [], `${file} speaks of the seeds`);
  }
});
