// Where the "peers" scenario's extra servers are installed (bench/install-peers.mjs) and
// how the bench finds them: uWebSockets.js and Bun live in bench/.peers/node_modules
// (git-ignored), never in the project's node_modules.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PEERS_PREFIX = path.join(BENCH_DIR, '.peers');
const MODULES = path.join(PEERS_PREFIX, 'node_modules');

export const PEER_PACKAGES = {
  uws: { spec: '@trufflesuite/uws-js-unofficial', dir: path.join(MODULES, '@trufflesuite', 'uws-js-unofficial') },
  bun: { spec: '@oven/bun-linux-x64', dir: path.join(MODULES, '@oven', 'bun-linux-x64') },
};

/** The uWebSockets.js package directory, or undefined when not installed. */
export function uwsDir() {
  const d = PEER_PACKAGES.uws.dir;
  return existsSync(path.join(d, 'package.json')) ? d : undefined;
}

/** The bun binary, or undefined when not installed. */
export function bunBin() {
  const b = path.join(PEER_PACKAGES.bun.dir, 'bin', 'bun');
  return existsSync(b) ? b : undefined;
}
