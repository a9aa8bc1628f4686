// Finds and loads the application as uWSGI does: --wsgi-file FILE, or --module SPEC
// with --callable NAME (default "application", then "app", then the default export).
// What is found is a function, or an object with a fetch method (Hono's app,
// `export default { fetch }`); lib/interfaces/ decides how it is served.
import { existsSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TsgiError } from '../base/errors.js';
import { servable } from '../interfaces/index.js';
import { isFile } from '../base/find-file.js';
import { importTypeScript } from './ts-import.js';
import type { Application } from '../contract/types.js';

const EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);
const PYTHON = new Set(['.py', '.pyc', '.pyw']);
/** How many frames an error raised while the application loads keeps. */
const LOAD_STACK_FRAMES = 50;
/** tsgi's own compiled files (dist/lib/, above this file's folder) and its command (bin/). */
const TSGI_FILES = [fileURLToPath(new URL('..', import.meta.url)), fileURLToPath(new URL('../../../bin/', import.meta.url))];

export interface LoadOptions {
  wsgiFile?: string;
  module?: string;
  callable?: string;
  /** Where relative names are resolved; process.cwd() by default. */
  cwd?: string;
}

/** What a module may export as its application: lib/interfaces/index.ts serves it. */
/** A function, or an object with a fetch method (Hono), a Koa application or a Fastify instance. */
export type Exported = Application | { fetch: (...args: never[]) => unknown } | { callback: () => unknown } | { routing: unknown; ready: unknown };

export interface LoadedApplication {
  app: Exported;
  file: string;
  callable: string;
  millis: number;
}

/** "mysite.wsgi" -> mysite/wsgi.ts (or .mts, .js ...); a path is taken as a path. */
export function resolveModule(spec: string, cwd: string): string | undefined {
  const direct = resolve(cwd, spec);
  if (isFile(direct)) return direct;
  for (const ext of EXTENSIONS) {
    if (isFile(direct + ext)) return direct + ext;
  }
  if (/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(spec)) {
    const base = resolve(cwd, ...spec.split('.'));
    for (const ext of EXTENSIONS) {
      if (isFile(base + ext)) return base + ext;
    }
    for (const ext of EXTENSIONS) {
      if (isFile(resolve(base, 'index' + ext))) return resolve(base, 'index' + ext);
    }
  }
  return undefined;
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  // TypeScript goes through tsx on every Node, never through Node's own type stripping
  // (lib/load/ts-import.ts says why); JavaScript is imported as Node imports it.
  if (TS_EXTENSIONS.has(extname(file))) return importTypeScript(file);
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

function pickCallable(mod: Record<string, unknown>, name: string | undefined, file: string): [Exported, string] {
  const candidates: Array<[string, unknown]> = [];
  const def = mod.default as Record<string, unknown> | undefined;
  if (name !== undefined) {
    candidates.push([name, mod[name]]);
    if (def && typeof def === 'object') candidates.push([name, def[name]]);
  } else {
    for (const n of ['application', 'app']) {
      candidates.push([n, mod[n]]);
      if (def && typeof def === 'object') candidates.push([n, def[n]]);
    }
    candidates.push(['default', def]);
  }
  for (const [n, v] of candidates) {
    if (servable(v)) return [v as Exported, n];
  }
  // Nothing callable: say what each place tsgi looked at holds, so that the message
  // never denies an export the module has.
  const facts: string[] = [];
  const look = (n: string) => {
    if (mod[n] !== undefined) facts.push(`'${n}' is ${kindOf(mod[n])}`);
    if (def && typeof def === 'object' && def[n] !== undefined) facts.push(`the default export's '${n}' is ${kindOf(def[n])}`);
  };
  let head: string;
  if (name !== undefined) {
    head = `has no application '${name}' (a function, an object with a fetch method, a Koa application or a Fastify instance)`;
    look(name);
    if (facts.length === 0) facts.push(`there is no export '${name}'`);
  } else {
    head = "has no application: tsgi takes the export 'application', else 'app', else the default export (a function, an object with a fetch method, a Koa application or a Fastify instance)";
    look('application');
    look('app');
    facts.push(def === undefined ? 'there is no default export' : `the default export is ${kindOf(def)}`);
  }
  const found = Object.keys(mod).filter((k) => k !== '__esModule');
  throw new TsgiError(
    'TSGI_ERR_APP_NO_CALLABLE',
    `${file} ${head}, and ${facts.join(', ')} (it exports: ${found.length ? found.join(', ') : 'nothing'})`,
  );
}

/** What a value that is not a function is, for a message: "a string", "an object (keys: a, b)". */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    return keys.length > 0 ? `an object (keys: ${keys.join(', ')})` : 'an empty object';
  }
  return `a ${typeof v}`;
}

export async function loadApplication(options: LoadOptions): Promise<LoadedApplication> {
  const cwd = options.cwd ?? process.cwd();
  let file: string | undefined;
  let callable = options.callable;
  if (options.wsgiFile !== undefined) {
    file = isAbsolute(options.wsgiFile) ? options.wsgiFile : resolve(cwd, options.wsgiFile);
    if (PYTHON.has(extname(file))) {
      throw new TsgiError(
        'TSGI_ERR_APP_PYTHON',
        `${options.wsgiFile} is a Python file: tsgi runs JavaScript and TypeScript applications (write the application in a .ts or .js file with the same contract)`,
      );
    }
    if (!existsSync(file)) throw new TsgiError('TSGI_ERR_APP_NOT_FOUND', `cannot find the wsgi-file ${file}`);
    if (!isFile(file)) throw new TsgiError('TSGI_ERR_APP_NOT_FOUND', `the wsgi-file ${file} is not a file`);
  } else if (options.module !== undefined) {
    let spec = options.module;
    const colon = spec.lastIndexOf(':');
    if (colon > 0 && !/^[A-Za-z]:[\\/]/.test(spec)) {
      if (callable === undefined) callable = spec.slice(colon + 1);
      spec = spec.slice(0, colon);
    }
    if (PYTHON.has(extname(spec))) {
      throw new TsgiError('TSGI_ERR_APP_PYTHON', `${spec} is a Python module: tsgi runs JavaScript and TypeScript applications`);
    }
    file = resolveModule(spec, cwd);
    if (file === undefined) {
      const tried = spec.replace(/\./g, '/');
      throw new TsgiError(
        'TSGI_ERR_APP_NOT_FOUND',
        `cannot find the module ${options.module} (looked for ${tried}{${EXTENSIONS.join(',')}} in ${cwd})`,
      );
    }
  } else {
    throw new TsgiError('TSGI_ERR_APP_NOT_FOUND', 'no application given: use --wsgi-file FILE or --module NAME');
  }
  const started = process.hrtime.bigint(); // not performance.now(): its module costs a start 1-3 ms
  let mod: Record<string, unknown>;
  // The frames of the loaders (Node's, tsx's) stand between an error and the line of the
  // application that caused it (a require() of a missing file): with Node's 10 frames,
  // that line is often cut off.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = Math.max(stackTraceLimit, LOAD_STACK_FRAMES);
  try {
    mod = await importFile(file);
  } catch (err) {
    const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
    throw new TsgiError('TSGI_ERR_APP_LOAD', `the application ${file} failed to load:\n${detail}`, { cause: err });
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  const [app, name] = pickCallable(mod, callable, file);
  return { app, file, callable: name, millis: Math.round(Number(process.hrtime.bigint() - started) / 1e6) };
}

/**
 * One line for an error of loadApplication(): for an application that threw while
 * loading, what it threw and where ("... failed to load: Error: no database (at
 * /srv/app.ts:3:9)"); for the others, their message.
 */
export function describeLoadError(err: TsgiError): string {
  if (err.code !== 'TSGI_ERR_APP_LOAD') return err.message;
  const cause = err.cause;
  const first = err.message.split('\n')[0]!.replace(/:$/, '');
  if (!(cause instanceof Error)) return `${first}: ${String(cause)}`;
  const where = applicationFrame(cause.stack ?? '');
  return `${first}: ${cause.name}: ${headline(cause.message)}${where ? ` (at ${where})` : ''}`;
}

/**
 * The first line of a message, and the line after it when the first announces it
 * (esbuild's "Transform failed with 1 error:" is followed by the file, line and error).
 */
function headline(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > 1 && lines[0]!.endsWith(':')) return `${lines[0]} ${lines[1]}`;
  return lines[0] ?? '';
}

/**
 * The first frame of a stack in the application's own files: Node's internals
 * (node:internal/...), packages (tsx, esbuild, a driver that threw), tsgi's loader and
 * generated code (data: URLs) are where an error surfaced, not what the developer has
 * to fix. A query a loader added to the file's URL (tsx's namespace) is left out.
 */
function applicationFrame(stack: string): string | undefined {
  for (const line of stack.split('\n')) {
    const m = /^\s+at (?:.*\(|async )?((?:file:\/\/)?\/[^()]+:\d+:\d+)\)?$/.exec(line);
    if (m === null) continue;
    const where = m[1]!.replace(/^file:\/\//, '').replace(/\?[^:]*(?=:\d+:\d+$)/, '');
    if (where.includes('/node_modules/') || TSGI_FILES.some((dir) => where.startsWith(dir))) continue;
    return where;
  }
  return undefined;
}
