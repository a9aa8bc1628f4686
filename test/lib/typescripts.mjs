#!/usr/bin/env node
// The TypeScript compilers the packaging test checks tsgi's published types with: one
// of each major version users have (5: the JavaScript compiler; 7: the native one, whose
// "types" default no longer takes in every @types package). Each is installed once into
// node_modules/.cache/tsgi-typescripts/<major>/ (npm ci starts it again from nothing).
// `node test/lib/typescripts.mjs` installs them ahead of the tests (CI may call it before
// npm test); the test calls typeScripts() itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './project.mjs';

export const CACHE = join(ROOT, 'node_modules', '.cache', 'tsgi-typescripts');
export const MAJORS = ['5', '7'];

// npm's codes for a registry it cannot reach (and for a package it may not fetch offline).
const UNREACHABLE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ENOTCACHED)\b/;

export class RegistryUnreachable extends Error {}

function npm(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', (err) => resolve({ code: 1, out: String(err) }));
    child.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * Resolves with { '5': tscPath, '7': tscPath }, installing what is missing. Rejects with a
 * RegistryUnreachable when npm could not reach the registry, with an Error otherwise.
 */
export async function typeScripts() {
  const tsc = {};
  for (const major of MAJORS) {
    const dir = join(CACHE, major);
    const bin = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    if (!existsSync(bin)) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `tsgi-typescript-${major}`, private: true }) + '\n');
      const r = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', `typescript@${major}`], dir);
      if (r.code !== 0 || !existsSync(bin)) {
        const why = `npm install typescript@${major} in ${dir} failed (exit ${r.code}):\n${r.out}`;
        throw UNREACHABLE.test(r.out) ? new RegistryUnreachable(why) : new Error(why);
      }
    }
    tsc[major] = bin;
  }
  return tsc;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  typeScripts().then(
    (tsc) => {
      for (const [major, bin] of Object.entries(tsc)) console.log(`typescript ${major}: ${bin}`);
    },
    (err) => {
      console.error(err.message);
      process.exit(1);
    },
  );
}
