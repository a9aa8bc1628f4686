// uWSGI's configuration logic, in a config file's keys: blocks kept, dropped or repeated
// before the values are read.
//
//   for = a b c          ... endfor =    the block once per item (split on whitespace)
//   for-times = N        ... endfor =    the block N times, %(_) = 1..N
//   for-glob = PATTERN   ... endfor =    once per path matching (wildcards * ? [..] in the
//                                        last part of the path), in name order
//   for-readline = FILE  ... endfor =    once per non-empty line of FILE
//   if-env = NAME        ... endif =     when NAME is set and not empty; %(_) = its value
//   if-exists = PATH, if-file = PATH, if-dir = PATH      when PATH exists (is a file, a
//                                        directory); %(_) = PATH
//   if-opt = NAME[=VALUE]                when the option (or key) NAME was given before, in
//                                        any source (with VALUE: has that value); %(_) = its value
//   if-hostname = NAME                   when the host is called NAME
//   if-not-env, if-not-exists, if-not-file, if-not-dir, if-not-opt, if-not-hostname: the
//   opposite; %(_) = the argument.
//
// In a block, %(_) is the item (for) or what the test found (if). Blocks nest (uWSGI's
// files never need it, so nesting cannot change what they mean); relative paths are the
// working directory's, as in uWSGI. A block left open, or an end without its start, is
// an error at the file and line.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

export interface LogicValue {
  key: string;
  value: unknown;
  line: number;
}

export interface LogicContext {
  /** The file as messages name it. */
  shown: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** A block's argument with its placeholders ($(ENV), %(name), %d...) resolved. */
  resolveArg(text: string, line: number): string;
  /** The value NAME was given so far (another source, or earlier in the files), or undefined. */
  valueOf(name: string, earlier: readonly LogicValue[]): string | undefined;
}

export class LogicError extends Error {}

type Block = 'for' | 'if';

const FOR_KEYS = new Set(['for', 'for-times', 'for-glob', 'for-readline']);
const IF_KEYS = new Set(['env', 'exists', 'file', 'dir', 'opt', 'hostname']);

function normal(key: string): string {
  return key.trim().toLowerCase().replace(/_/g, '-');
}

/** 'for' or 'if' when key opens a block, undefined otherwise. */
function opens(key: string): Block | undefined {
  const k = normal(key);
  if (FOR_KEYS.has(k)) return 'for';
  const m = /^if-(?:not-)?(.+)$/.exec(k);
  return m !== null && IF_KEYS.has(m[1]!) ? 'if' : undefined;
}

function closes(key: string): Block | undefined {
  const k = normal(key);
  return k === 'endfor' ? 'for' : k === 'endif' ? 'if' : undefined;
}

/** Whether any key of values is configuration logic (then expandLogic has work). */
export function hasLogic(values: readonly LogicValue[]): boolean {
  return values.some((v) => opens(v.key) !== undefined || closes(v.key) !== undefined);
}

/** The values with the logic carried out: blocks dropped or repeated, %(_) put in. */
export function expandLogic(values: readonly LogicValue[], ctx: LogicContext): LogicValue[] {
  const out: LogicValue[] = [];
  expandInto(values, undefined, ctx, out);
  return out;
}

function at(ctx: LogicContext, line: number, what: string): LogicError {
  return new LogicError(`${ctx.shown}:${line}: ${what}`);
}

/** The index of the end that closes the block opened at values[start]. */
function blockEnd(values: readonly LogicValue[], start: number, ctx: LogicContext): number {
  const stack: Array<{ block: Block; key: string; line: number }> = [];
  for (let i = start; i < values.length; i++) {
    const v = values[i]!;
    const open = opens(v.key);
    if (open !== undefined) {
      stack.push({ block: open, key: v.key, line: v.line });
      continue;
    }
    const close = closes(v.key);
    if (close === undefined) continue;
    const top = stack.pop()!;
    if (top.block !== close) {
      throw at(ctx, v.line, `${v.key} closes ${top.key} (line ${top.line}), which ends with end${top.block}`);
    }
    if (stack.length === 0) return i;
  }
  const first = values[start]!;
  throw at(ctx, first.line, `${first.key} has no end${opens(first.key)} after it`);
}

function put(text: string, item: string | undefined): string {
  return item === undefined ? text : text.split('%(_)').join(item);
}

function expandInto(values: readonly LogicValue[], item: string | undefined, ctx: LogicContext, out: LogicValue[]): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const close = closes(v.key);
    if (close !== undefined) throw at(ctx, v.line, `${v.key} without a ${close === 'for' ? 'for' : 'if-...'} before it`);
    const block = opens(v.key);
    if (block === undefined) {
      out.push(typeof v.value === 'string' ? { ...v, value: put(v.value, item) } : v);
      continue;
    }
    const end = blockEnd(values, i, ctx);
    const body = values.slice(i + 1, end);
    const arg = ctx.resolveArg(put(typeof v.value === 'string' ? v.value : v.value === true ? '' : String(v.value), item), v.line).trim();
    if (block === 'for') {
      for (const each of forItems(normal(v.key), arg, v, ctx)) expandInto(body, each, ctx, out);
    } else {
      const found = ifTest(normal(v.key), arg, v, ctx, out);
      if (found !== undefined) expandInto(body, found, ctx, out);
    }
    i = end;
  }
}

function forItems(key: string, arg: string, v: LogicValue, ctx: LogicContext): string[] {
  switch (key) {
    case 'for':
      return arg.split(/\s+/).filter(Boolean);
    case 'for-times': {
      if (!/^\d+$/.test(arg)) throw at(ctx, v.line, `${v.key} needs a whole number, not ${JSON.stringify(arg)}`);
      return Array.from({ length: Number(arg) }, (_, n) => String(n + 1));
    }
    case 'for-readline': {
      let text: string;
      try {
        text = readFileSync(resolve(ctx.cwd, arg), 'utf8');
      } catch (err) {
        throw at(ctx, v.line, `${v.key}: cannot read ${arg}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    }
    default:
      return globPaths(arg, v, ctx);
  }
}

/** Paths matching pattern, whose wildcards may stand in its last part only. */
function globPaths(pattern: string, v: LogicValue, ctx: LogicContext): string[] {
  const dir = dirname(pattern);
  if (/[*?[]/.test(dir)) throw at(ctx, v.line, `${v.key}: wildcards are supported in the last part of the path only (${pattern})`);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')
      .replace(/\?/g, '[^/]')}$`,
  );
  let names: string[];
  try {
    names = readdirSync(resolve(ctx.cwd, dir));
  } catch {
    return []; // no such directory: nothing matches, as with a shell glob
  }
  return names
    .filter((n) => re.test(n) && (n[0] !== '.' || basename(pattern)[0] === '.'))
    .sort()
    .map((n) => (dir === '.' && !pattern.startsWith('./') ? n : join(dir, n)));
}

function kindOf(path: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}

/** What an if-* found (%(_) in its block), or undefined when its block is dropped. */
function ifTest(key: string, arg: string, v: LogicValue, ctx: LogicContext, earlier: readonly LogicValue[]): string | undefined {
  const negated = key.startsWith('if-not-');
  const test = key.slice(negated ? 'if-not-'.length : 'if-'.length);
  if (arg === '') throw at(ctx, v.line, `${v.key} needs an argument`);
  let found: string | undefined;
  switch (test) {
    case 'env': {
      const value = ctx.env[arg];
      found = value !== undefined && value !== '' ? value : undefined;
      break;
    }
    case 'exists':
      found = existsSync(resolve(ctx.cwd, arg)) ? arg : undefined;
      break;
    case 'file':
      found = kindOf(resolve(ctx.cwd, arg)) === 'file' ? arg : undefined;
      break;
    case 'dir':
      found = kindOf(resolve(ctx.cwd, arg)) === 'dir' ? arg : undefined;
      break;
    case 'opt': {
      const eq = arg.indexOf('=');
      const name = (eq === -1 ? arg : arg.slice(0, eq)).trim();
      const value = ctx.valueOf(name, earlier);
      found = value !== undefined && (eq === -1 || value === arg.slice(eq + 1).trim()) ? value : undefined;
      break;
    }
    default:
      found = hostname() === arg ? arg : undefined;
  }
  if (negated) return found === undefined ? arg : undefined;
  return found;
}
