// bench/lib/peers-install.mjs findUwsNode(), behind uwsNode(): the uws peer runs on a Node that has
// uWebSockets.js's binary, never on the package's node:http polyfill (its binaries are for
// Node 16 to 20 only). A package directory with one binary stands for the real one, and
// small scripts that answer a module version stand for other Nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findUwsNode, uwsBinary } from '../../bench/lib/peers-install.mjs';

function fixture(t) {
  const root = mkdtempSync(join(tmpdir(), 'tsgi-uws-node-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'uws');
  mkdirSync(join(dir, 'binaries'), { recursive: true });
  writeFileSync(join(dir, 'binaries', `uws_${process.platform}_${process.arch}_115.node`), '');
  /** A stand-in Node that answers `-p process.versions.modules` with abi. */
  const nodeOf = (name, abi) => {
    const file = join(root, name);
    writeFileSync(file, `#!/bin/sh\necho ${abi}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  return { dir, nodeOf };
}

test("uwsBinary finds the binary of a module version, and nothing for another", (t) => {
  const { dir } = fixture(t);
  assert.equal(uwsBinary('115', dir), join(dir, 'binaries', `uws_${process.platform}_${process.arch}_115.node`));
  assert.equal(uwsBinary('137', dir), undefined);
  assert.equal(uwsBinary('115', undefined), undefined);
});

test("the bench's own Node when it has the binary, else the first other Node that has one", (t) => {
  const { dir, nodeOf } = fixture(t);
  assert.deepEqual(findUwsNode(dir, '115', []), { node: process.execPath });
  const node24 = nodeOf('node24', '137');
  const node20 = nodeOf('node20', '115');
  assert.deepEqual(findUwsNode(dir, '137', [undefined, join(dir, 'missing'), node24, node20]), { node: node20 });
});

test('no Node with the binary, or no package: absent, saying why', (t) => {
  const { dir, nodeOf } = fixture(t);
  const { absent, node } = findUwsNode(dir, '137', [nodeOf('node26', '147')]);
  assert.equal(node, undefined);
  assert.match(absent, /^uWebSockets\.js has no binary for Node's module version 137 and would run its node:http polyfill; no Node with one at hand/);
  assert.deepEqual(findUwsNode(undefined, '137', []), { absent: 'uWebSockets.js is not installed in bench/.peers (npm run bench:peers-install)' });
});
