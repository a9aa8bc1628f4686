// The folders of lib/ are the architecture (docs/architecture.md, "The map"): a room
// imports only from rooms below it, and no file imports itself back through others.
// A new folder must be given its place here, which is the point: where it sits is a
// decision, not an accident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');

// Lower numbers are lower rooms; rooms of the same rank may not import each other.
const RANK = {
  base: 0,
  addon: 1,
  config: 1,
  protocol: 1,
  contract: 2,
  logging: 2,
  backend: 2,
  interfaces: 3,
  native: 3,
  js: 3,
  load: 4,
  process: 5,
  '.': 6, // serve.ts, cli.ts, index.ts, make-server.ts
};

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)([^'";]*?)from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/**
 * file (relative to lib/) -> the lib files it imports (relative to lib/). runtimeOnly:
 * leaves out `import type` (erased when compiled: it cannot make a module wait for
 * another to load).
 */
function importGraph(runtimeOnly = false) {
  const graph = new Map();
  for (const file of sources(LIB)) {
    const from = relative(LIB, file);
    const targets = [];
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (runtimeOnly && m[1] !== undefined && /^\s*type\b/.test(m[1])) continue;
      const spec = m[2] ?? m[3];
      targets.push(normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts'));
    }
    graph.set(from, targets);
  }
  return graph;
}

const roomOf = (file) => (dirname(file) === '.' ? '.' : file.split('/')[0]);

test('every folder of lib/ has its place in the map', () => {
  const rooms = new Set([...importGraph().keys()].map(roomOf));
  for (const room of rooms) assert.ok(room in RANK, `lib/${room}/ is not in the map (test/unit/layout.test.mjs RANK, docs/architecture.md)`);
  for (const room of Object.keys(RANK)) assert.ok(rooms.has(room), `the map names lib/${room}/, which holds no source`);
});

test('a room imports only from rooms below it', () => {
  const wrong = [];
  for (const [from, targets] of importGraph()) {
    for (const to of targets) {
      const a = roomOf(from);
      const b = roomOf(to);
      if (a !== b && !(RANK[b] < RANK[a])) wrong.push(`lib/${from} imports lib/${to} (${a === '.' ? 'top' : a} ${RANK[a]} -> ${b === '.' ? 'top' : b} ${RANK[b]})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every import names a file that exists, and no file imports itself back at run time', () => {
  const graph = importGraph(true);
  for (const [from, targets] of graph) for (const to of targets) assert.ok(graph.has(to), `lib/${from} imports lib/${to}, which does not exist`);
  const state = new Map(); // 1: on the path, 2: done
  const cycles = [];
  const visit = (file, path) => {
    state.set(file, 1);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 1) cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next, [...path, next]);
    }
    state.set(file, 2);
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(cycles, []);
});
