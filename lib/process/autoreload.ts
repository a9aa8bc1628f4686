// --py-autoreload N, carried over from uWSGI's Python reloader: every N seconds, look at
// the mtimes of the application's file and of the modules it imports, and reload when
// one changed. "The modules it imports" are found by reading the sources: relative
// import/export ... from, import(), require() of a literal, resolved as Node and tsx do
// (a ".js" specifier may name a ".ts" file); packages (node_modules) are not watched.
// In master mode the reload is SIGHUP to the master (a chain reload: the new workers
// load the files again); in single-process mode the serving process is a child of the
// tsgi process, which starts it again when it exits with RESTART_CODE
// (Django's runserver does the same).
import { readFileSync, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFile } from '../base/find-file.js';
import { resolveModule } from '../load/loader.js';
import type { Config } from '../config/typed.js';

/** The exit code of a single-process child that asks its parent to start it again. */
export const RESTART_CODE = 3;

const SOURCE = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx']);
const TRY = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx', '.json'];
const JS_TO_TS: Record<string, string[]> = { '.js': ['.ts', '.tsx'], '.mjs': ['.mts'], '.cjs': ['.cts'], '.jsx': ['.tsx'] };
const MAX_FILES = 2000;

/** The file a relative specifier names, from the directory of the importing file. */
function resolveSpecifier(spec: string, fromDir: string): string | undefined {
  let path: string;
  if (spec.startsWith('file://')) {
    try {
      path = fileURLToPath(spec);
    } catch {
      return undefined;
    }
  } else if (spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/') || spec === '.' || spec === '..') {
    path = resolve(fromDir, spec.split(/[?#]/)[0]!);
  } else {
    return undefined; // a package or a node: builtin
  }
  if (isFile(path)) return path;
  const ext = extname(path);
  for (const ts of JS_TO_TS[ext] ?? []) {
    const p = path.slice(0, -ext.length) + ts;
    if (isFile(p)) return p;
  }
  for (const e of TRY) if (isFile(path + e)) return path + e;
  for (const e of TRY) if (isFile(resolve(path, 'index' + e))) return resolve(path, 'index' + e);
  return undefined;
}

const IMPORT = /\b(?:from|import|require)\s*\(?\s*(['"])([^'"\n]+)\1/g;

/** The file and every file it imports, transitively (relative imports only). */
export function importGraph(entry: string): string[] {
  const seen = new Set<string>([entry]);
  const queue = [entry];
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const file = queue.shift()!;
    if (!SOURCE.has(extname(file))) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(IMPORT)) {
      const found = resolveSpecifier(m[2]!, dirname(file));
      if (found === undefined || found.includes('/node_modules/') || seen.has(found)) continue;
      seen.add(found);
      queue.push(found);
    }
  }
  return [...seen];
}

/** The application's file, as the loader will find it (undefined when it cannot be found). */
export function applicationFile(config: Config, cwd = process.cwd()): string | undefined {
  if (config.wsgiFile !== undefined) return resolve(cwd, config.wsgiFile);
  if (config.module !== undefined) {
    let spec = config.module;
    const colon = spec.lastIndexOf(':');
    if (colon > 0 && !/^[A-Za-z]:[\\/]/.test(spec)) spec = spec.slice(0, colon);
    return resolveModule(spec, cwd);
  }
  return undefined;
}

export type Stamp = string;

function stamp(file: string): Stamp {
  try {
    const s = statSync(file);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'gone';
  }
}

/** The files of the application and their mtimes now: a baseline for watchApplication(). */
export function snapshot(entry: string): Map<string, Stamp> {
  return new Map(importGraph(entry).map((f) => [f, stamp(f)]));
}

export interface Watcher {
  /** How many files are watched now. */
  readonly count: number;
  /** Takes the files (and their mtimes) again: after a reload, the imports may have changed. */
  rescan(): void;
  stop(): void;
}

/**
 * Polls the application's files every intervalSeconds; calls onChange(file) once per
 * change (the first changed file found), then keeps watching the same files until
 * rescan(). baseline: the mtimes taken before the application was loaded, so that a
 * change made while it loaded is not missed.
 */
export function watchApplication(entry: string, intervalSeconds: number, onChange: (file: string) => void, baseline?: Map<string, Stamp>): Watcher {
  let stamps = snapshot(entry);
  if (baseline !== undefined) for (const [file, before] of baseline) if (stamps.has(file)) stamps.set(file, before);
  const scan = () => {
    stamps = snapshot(entry);
  };
  const timer = setInterval(() => {
    for (const [file, before] of stamps) {
      const now = stamp(file);
      if (now !== before) {
        stamps.set(file, now);
        onChange(file);
        return;
      }
    }
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    get count() {
      return stamps.size;
    },
    rescan: scan,
    stop: () => clearInterval(timer),
  };
}
