// Loads a TypeScript application (.ts, .mts, .cts) the same way on every supported Node
// (20 to 26): compiled by tsx (esbuild) with the whole language (enum, namespace,
// parameter properties, decorators as the application's tsconfig.json asks), resolved as
// TypeScript projects write imports ('./util.js' naming util.ts, extensionless, tsconfig
// "paths"), in the module system the file has under Node's rules. Node's own type
// stripping (22.18+, 23.6+) is never used: it refuses most of the language, and tsx's
// hooks take every file of the application before Node's loader would strip it.
//
// The hooks are scoped to one namespace: only the application and what it imports go
// through tsx; tsgi's own modules and anything imported outside the application do not.
import { readFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findUp } from '../base/find-file.js';
import { nodeCrypto } from '../base/lazy-require.js';

export type ModuleFormat = 'module' | 'commonjs';

/**
 * The module system a TypeScript file runs in, by Node's rules: .mts is ESM, .cts is
 * CommonJS, .ts follows the "type" of the nearest package.json ("module" is ESM; "commonjs",
 * no "type" or no package.json is CommonJS, as tsc compiles it under "module": "NodeNext").
 */
export function moduleFormat(file: string): ModuleFormat {
  const ext = extname(file);
  if (ext === '.mts') return 'module';
  if (ext === '.cts') return 'commonjs';
  const pkg = findUp(dirname(file), 'package.json');
  if (pkg === undefined) return 'commonjs';
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: unknown }).type === 'module' ? 'module' : 'commonjs';
  } catch {
    return 'commonjs'; // Node reports the broken package.json when it reads it
  }
}

/** The application's own tsconfig.json: the nearest one from its directory upwards, as tsc finds it. */
export function findTsconfig(file: string): string | undefined {
  return findUp(dirname(file), 'tsconfig.json');
}

/**
 * Imports a TypeScript file through tsx, in its module system: an ES module through tsx's
 * ESM hooks, a CommonJS one through tsx's require hooks (its functions then have their
 * own file name in stacks, not a data: URL, and source maps give the .ts lines).
 */
export async function importTypeScript(file: string): Promise<Record<string, unknown>> {
  const namespace = `tsgi-${nodeCrypto().randomUUID()}`;
  const tsconfig = findTsconfig(file);
  if (moduleFormat(file) === 'module') {
    const { register } = await import('tsx/esm/api');
    // Kept registered: the application may import() more of itself later.
    const api = register({ namespace, tsconfig: tsconfig ?? false });
    return (await api.import(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
  }
  const { register } = await import('tsx/cjs/api');
  // tsx's require hooks read the tsconfig's path from the environment when they are
  // registered; the variable is put back at once so that no child process inherits it.
  const before = process.env.TSX_TSCONFIG_PATH;
  if (tsconfig !== undefined) process.env.TSX_TSCONFIG_PATH = tsconfig;
  let api;
  try {
    api = register({ namespace });
  } finally {
    if (before === undefined) delete process.env.TSX_TSCONFIG_PATH;
    else process.env.TSX_TSCONFIG_PATH = before;
  }
  const exports = api.require(file, import.meta.url) as unknown;
  // A CommonJS module's exports are what import() would give as its namespace.
  return (exports !== null && typeof exports === 'object') || typeof exports === 'function'
    ? { default: exports, ...(exports as Record<string, unknown>) }
    : { default: exports };
}
