// Where options come from, and what they add up to: config files (--ini, --yaml,
// --json, with includes and uWSGI's placeholders), the environment (TSGI_<NAME>, then
// UWSGI_<NAME>) and the command line. The command line overrides the environment, which
// overrides the files; inside the files, repeated keys accumulate for a repeatable
// option and the last one wins for the others, as in uWSGI. Every value keeps its
// source (file:line, the environment variable, the command line) for its error, for
// the warnings and for --show-config.
//
// Placeholders, in the values of config files:
//   $(NAME)     the environment variable NAME (unset: empty, with a warning; strict: an error)
//   %(name)     the value of another key: an option (the command line's and the
//               environment's count) or any key of the files (a placeholder, as
//               "base = /srv" then "chdir = %(base)/app"); resolved once every file is
//               read. Unset: kept as it is, with a warning (strict: an error).
//   %d %p %s %n %e %c %x %o   the file's directory (with a trailing "/"), absolute path,
//               name, name without extension, extension, directory name, "name:section",
//               name as given
//   %h %k %t %u %U %g   hostname, cpu count, unix time, uid, user name, gid;  %% a "%"
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism, hostname, userInfo } from 'node:os';
import { basename, dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError, describeSource, type Source } from './config-error.js';
import { parseYamlOrJson, type RawValue } from './yaml-json.js';
import { rawText } from './show-config.js';
import { IniSyntaxError, parseIni } from './ini.js';
import { LogicError, expandLogic, hasLogic, type LogicValue } from './config-logic.js';
import { OPTIONS, argvEntries, envNames, findOption, suggest, type OptionSpec } from './options.js';
import { makeConfig } from './make-config.js';
import { VALUE_POLICIES, masterMode } from './derived.js';
import type { Config } from './typed.js';

type Layer = 'file' | 'env' | 'cli';

/** A file value: literal text and %(name) references, resolved once every file is read. */
type Part = string | { ref: string; text: string };

interface Entry {
  /** The key as written. */
  key: string;
  spec: OptionSpec | undefined;
  /** A string value of a file, with its %(name) references. */
  template?: Part[];
  /** The value as read: a string after placeholders, true for a bare key, a boolean. */
  raw: unknown;
  source: Source;
  layer: Layer;
  resolving?: boolean;
  resolved?: boolean;
}

export interface Setting {
  /** The option's name, or the key as written for an unknown key or a placeholder. */
  name: string;
  /** The key as written, when it is another name of the option ("workers" for processes). */
  writtenAs?: string;
  raw: unknown;
  source: Source;
  status: 'effective' | 'overridden' | 'unknown' | 'placeholder';
  overriddenBy?: Source;
}

/** What the sources add up to: the configuration, and how it was read. */
export interface ResolvedConfig {
  /** The configuration (lib/config/typed.ts), made by makeConfig() (lib/config/make-config.ts). */
  config: Config;
  /** Every value read, in order: the config files named, the files, the environment, the command line. */
  settings: Setting[];
  /** Unknown keys (without strict), unset placeholders. */
  warnings: string[];
  /** What the translated options mean here, once at start. */
  notes: string[];
  /** Every config file read, absolute. */
  files: string[];
  /** --show-config: log at start, then serve; with --dry-run: print on stdout (and exit). */
  showConfig: 'none' | 'print' | 'log';
}

const CONFIG_OPTIONS = new Set(['ini', 'yaml', 'json']);

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface FileContext {
  abs: string;
  given: string;
  section: string;
}

interface ChainLink {
  id: string;
  shown: string;
}

class Resolver {
  readonly entries: Entry[] = [];
  readonly files: string[] = [];
  /** Problems that strict turns into errors: unset placeholders. */
  readonly soft: string[] = [];
  readonly referenced = new Set<string>();

  constructor(
    readonly env: NodeJS.ProcessEnv,
    readonly cwd: string,
  ) {}

  /** A file as messages name it: relative to the working directory when that is shorter. */
  shown(abs: string): string {
    const r = relative(this.cwd, abs);
    return r !== '' && !isAbsolute(r) && r.length < abs.length ? r : abs;
  }

  /** Reads a config file (and what it includes) into the file layer. */
  loadConfigFile(kind: 'ini' | 'yaml' | 'json', value: string, baseDir: string, from: Source, chain: ChainLink[], current?: string): void {
    const where = from.kind === 'cli' ? '' : `${describeSource(from)}: `;
    let file = value;
    let section: string | undefined;
    if (!isFile(resolve(baseDir, value))) {
      const colon = value.lastIndexOf(':');
      if (colon !== -1) {
        file = value.slice(0, colon);
        section = value.slice(colon + 1) || undefined;
      }
    }
    let abs: string;
    if (file === '') {
      // "ini = :other": another section of the same file, as in uWSGI.
      if (current === undefined) throw new ConfigError('TSGI_ERR_CONFIG', [`${where}${kind} ${JSON.stringify(value)} names no file`], from.kind === 'cli');
      abs = current;
    } else {
      abs = resolve(baseDir, file);
    }
    section ??= 'uwsgi';
    const shown = this.shown(abs);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
      const what = from.kind === 'file' ? `cannot include ${shown}` : `cannot read the ${kind} file ${shown}`;
      throw new ConfigError('TSGI_ERR_CONFIG', [`${where}${what}: ${why}`]);
    }
    let real = abs;
    try {
      real = realpathSync(abs);
    } catch {
      // read above: it exists
    }
    const id = `${real}\0${section}`;
    const link = { id, shown: section === 'uwsgi' ? shown : `${shown}:${section}` };
    if (chain.some((c) => c.id === id)) {
      throw new ConfigError('TSGI_ERR_CONFIG', [`${where}include loop: ${[...chain, link].map((c) => c.shown).join(' -> ')}`]);
    }
    if (!this.files.includes(abs)) this.files.push(abs);
    const ctx: FileContext = { abs, given: file === '' ? (current ?? abs) : file, section };
    const read = kind === 'ini' ? this.readIni(text, section, shown) : parseYamlOrJson(text, kind, section, shown);
    const raws = hasLogic(read) ? this.expandLogic(read, ctx, shown) : read;
    for (const { key, value: rawValue, line } of raws) {
      const source: Source = { kind: 'file', file: shown, line };
      const spec = findOption(key);
      const template = typeof rawValue === 'string' ? this.tokenize(rawValue, ctx, source) : undefined;
      if (spec !== undefined && CONFIG_OPTIONS.has(spec.name)) {
        if (template === undefined) {
          throw new ConfigError('TSGI_ERR_CONFIG', [`${describeSource(source)}: ${key} needs a file name`]);
        }
        const target = this.resolveNow(template, source);
        if (target === '') throw new ConfigError('TSGI_ERR_CONFIG', [`${describeSource(source)}: ${key} needs a file name`]);
        this.entries.push({ key, spec, raw: target, source, layer: 'file', resolved: true });
        this.loadConfigFile(spec.name as 'ini' | 'yaml' | 'json', target, dirname(abs), source, [...chain, link], abs);
        continue;
      }
      const entry: Entry = { key, spec, raw: rawValue, source, layer: 'file' };
      if (template !== undefined) entry.template = template;
      else entry.resolved = true;
      this.entries.push(entry);
    }
  }

  /** uWSGI's for ... endfor and if-... endif blocks of one file, carried out (lib/config/config-logic.ts). */
  expandLogic(values: RawValue[], ctx: FileContext, shown: string): RawValue[] {
    try {
      return expandLogic(values, {
        shown,
        cwd: this.cwd,
        env: this.env,
        resolveArg: (text, line) => this.resolveNow(this.tokenize(text, ctx, { kind: 'file', file: shown, line }), { kind: 'file', file: shown, line }),
        valueOf: (name, earlier) => this.valueSoFar(name, earlier),
      });
    } catch (err) {
      if (err instanceof LogicError) throw new ConfigError('TSGI_ERR_CONFIG', [err.message]);
      throw err;
    }
  }

  /** if-opt's question: the value name has so far (command line, environment, files read), or undefined. */
  valueSoFar(name: string, earlier: readonly LogicValue[]): string | undefined {
    const spec = findOption(name);
    const same = (key: string, s: OptionSpec | undefined) => (spec !== undefined ? s?.name === spec.name : s === undefined && key === name);
    const text = (v: unknown) => (v === true ? 'true' : String(v));
    for (const layer of ['cli', 'env'] as const) {
      const found = this.entries.filter((e) => e.layer === layer && same(e.key, e.spec)).pop();
      if (found !== undefined) return text(found.raw);
    }
    const inFile = [...earlier].reverse().find((v) => same(v.key, findOption(v.key)));
    if (inFile !== undefined) return text(inFile.value);
    const before = this.entries.filter((e) => e.layer === 'file' && same(e.key, e.spec)).pop();
    if (before === undefined) return undefined;
    this.resolveEntry(before);
    return text(before.raw);
  }

  readIni(text: string, section: string, shown: string): RawValue[] {
    let parsed;
    try {
      parsed = parseIni(text, section);
    } catch (err) {
      if (err instanceof IniSyntaxError) throw new ConfigError('TSGI_ERR_CONFIG', [`${shown}:${err.line}: ${err.message}`]);
      throw err;
    }
    if (!parsed.found) {
      const has = parsed.sections.length > 0 ? `its sections: ${parsed.sections.map((s) => `[${s}]`).join(', ')}` : 'it has no section header';
      throw new ConfigError('TSGI_ERR_CONFIG', [`${shown}: no [${section}] section (${has}); name another with ${shown}:SECTION`]);
    }
    return parsed.entries.map((e) => ({ key: e.key, value: e.value, line: e.line }));
  }

  /** $(ENV) and the magic variables now (they depend on the file); %(name) later. */
  tokenize(value: string, ctx: FileContext, source: Source): Part[] {
    const parts: Part[] = [];
    let lit = '';
    let last = 0;
    for (const m of value.matchAll(/\$\(([^)]*)\)|%\(([^)]*)\)|%([\s\S])/g)) {
      lit += value.slice(last, m.index);
      last = m.index! + m[0].length;
      if (m[1] !== undefined) {
        const v = this.env[m[1]];
        if (v === undefined) this.soft.push(`${describeSource(source)}: $(${m[1]}) is not set in the environment: it reads as ""`);
        lit += v ?? '';
      } else if (m[2] !== undefined) {
        if (lit !== '') parts.push(lit);
        lit = '';
        parts.push({ ref: m[2], text: m[0] });
      } else {
        lit += magic(m[3]!, ctx) ?? m[0];
      }
    }
    lit += value.slice(last);
    if (lit !== '' || parts.length === 0) parts.push(lit);
    return parts;
  }

  /** A template resolved against what has been read so far (an include's path). */
  resolveNow(template: Part[], source: Source): string {
    return template.map((p) => (typeof p === 'string' ? p : this.lookup(p, source))).join('');
  }

  /** The value of %(name): the command line's, the environment's, the files' last, the default. */
  lookup(part: { ref: string; text: string }, source: Source): string {
    const name = part.ref.trim();
    this.referenced.add(name);
    const spec = findOption(name);
    const matches = (e: Entry) => (spec !== undefined ? e.spec?.name === spec.name : e.spec === undefined && e.key === name);
    for (const layer of ['cli', 'env', 'file'] as const) {
      const found = this.entries.filter((e) => e.layer === layer && matches(e)).pop();
      if (found === undefined) continue;
      this.resolveEntry(found);
      return found.raw === true ? 'true' : String(found.raw);
    }
    if (spec?.default !== undefined) return String(spec.default);
    this.soft.push(`${describeSource(source)}: ${part.text} is not set: kept as it is`);
    return part.text;
  }

  resolveEntry(e: Entry): void {
    if (e.resolved) return;
    if (e.resolving) throw new ConfigError('TSGI_ERR_CONFIG', [`${describeSource(e.source)}: ${e.key} refers back to itself through %(...)`]);
    e.resolving = true;
    e.raw = this.resolveNow(e.template!, e.source);
    e.resolving = false;
    e.resolved = true;
  }
}

function magic(letter: string, ctx: FileContext): string | undefined {
  const ext = extname(ctx.abs);
  switch (letter) {
    case 'd':
      return dirname(ctx.abs).replace(/\/?$/, '/');
    case 'p':
      return ctx.abs;
    case 's':
      return basename(ctx.abs);
    case 'n':
      return basename(ctx.abs, ext);
    case 'e':
      return ext.replace(/^\./, '');
    case 'c':
      return basename(dirname(ctx.abs));
    case 'x':
      return `${basename(ctx.abs)}:${ctx.section}`;
    case 'o':
      return ctx.given;
    case 'h':
      return hostname();
    case 'k':
      return String(availableParallelism());
    case 't':
      return String(Math.floor(Date.now() / 1000));
    case 'u':
      return String(process.getuid?.() ?? '');
    case 'U':
      try {
        return userInfo().username;
      } catch {
        return String(process.getuid?.() ?? '');
      }
    case 'g':
      return String(process.getgid?.() ?? '');
    case '%':
      return '%';
    default:
      return undefined; // not a magic variable: kept as it is, as uWSGI does
  }
}

/** The environment's options: TSGI_<NAME> first, then UWSGI_<NAME>; aliases count. */
function envEntries(env: NodeJS.ProcessEnv): Entry[] {
  const out: Entry[] = [];
  for (const spec of OPTIONS) {
    if (spec.name === 'help' || spec.name === 'version') continue;
    const names = [spec.name, ...(spec.aliases ?? [])].map(envNames);
    const candidates = [...names.map((n) => n[0]), ...names.map((n) => n[1])];
    const hit = candidates.find((n) => env[n] !== undefined && env[n] !== '');
    if (hit !== undefined) out.push({ key: spec.name, spec, raw: env[hit], source: { kind: 'env', name: hit }, layer: 'env', resolved: true });
  }
  return out;
}

/**
 * Reads every source of options and adds them up. Throws a ConfigError (or the
 * TsgiError of a bad command line) naming the source of what is wrong.
 */
export function resolveConfig(argv: readonly string[], options: ResolveOptions = {}): ResolvedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const r = new Resolver(env, cwd);
  const cli: Entry[] = argvEntries(argv).map(({ spec, raw }) => ({ key: spec.name, spec, raw, source: { kind: 'cli' }, layer: 'cli', resolved: true }));
  const fromEnv = envEntries(env);
  r.entries.push(...fromEnv, ...cli);
  // The config files: the environment's (UWSGI_INI, as uWSGI images set it), then the command line's.
  for (const e of [...fromEnv, ...cli]) {
    if (e.spec === undefined || !CONFIG_OPTIONS.has(e.spec.name)) continue;
    if (typeof e.raw !== 'string' || e.raw === '') {
      throw new ConfigError('TSGI_ERR_OPTION_INVALID', [`${e.layer === 'cli' ? '' : `${describeSource(e.source)}: `}Expected a file name for ${e.spec.name}`], e.layer === 'cli');
    }
    r.loadConfigFile(e.spec.name as 'ini' | 'yaml' | 'json', e.raw, cwd, e.source, []);
  }
  const fileEntries = r.entries.filter((e) => e.layer === 'file');
  for (const e of fileEntries) r.resolveEntry(e);

  // The layers: the command line overrides the environment, which overrides the files.
  const all = [...fileEntries, ...fromEnv, ...cli];
  const settingOf = new Map<Entry, Setting>();
  for (const e of all) {
    const s: Setting = { name: e.spec?.name ?? e.key, raw: e.raw, source: e.source, status: 'effective' };
    if (e.spec !== undefined && e.key.replace(/_/g, '-') !== e.spec.name) s.writtenAs = e.key;
    settingOf.set(e, s);
  }
  for (const spec of OPTIONS) {
    const mine = all.filter((e) => e.spec === spec);
    if (mine.length === 0) continue;
    const top = (['cli', 'env', 'file'] as const).find((l) => mine.some((e) => e.layer === l))!;
    const winners = mine.filter((e) => e.layer === top);
    const effective = spec.repeatable ? winners : winners.slice(-1);
    const by = effective[effective.length - 1]!.source;
    for (const e of mine) {
      if (effective.includes(e)) continue;
      const s = settingOf.get(e)!;
      s.status = 'overridden';
      s.overriddenBy = e.layer === top ? by : effective[0]!.source;
    }
  }

  // Coerced in read order (the first bad value stops, naming its source, overridden or
  // not), defaulted and translated: the configuration.
  const policyNotes = new Map<string, { given: unknown; text: string }>();
  const config = makeConfig(
    all.flatMap((e) => (e.spec === undefined ? [] : [{ entry: e, spec: e.spec, raw: e.raw, overridden: settingOf.get(e)!.status === 'overridden' }])),
    {
      invalid: (g, err) => {
        const where = g.entry.layer === 'cli' ? '' : `${describeSource(g.entry.source)}: `;
        throw new ConfigError(err.code, [`${where}${err.message}`], g.entry.layer === 'cli');
      },
      note: (spec, given, text) => policyNotes.set(spec.name, { given, text }),
    },
  );
  const strict = config.strict;

  // Unknown keys: placeholders when %(...) refers to them, else errors (strict) or warnings.
  const unknown: string[] = [];
  for (const e of fileEntries) {
    if (e.spec !== undefined) continue;
    const s = settingOf.get(e)!;
    if (r.referenced.has(e.key)) {
      s.status = 'placeholder';
      continue;
    }
    s.status = 'unknown';
    const near = suggest(e.key.replace(/_/g, '-'));
    unknown.push(`${describeSource(e.source)}: unknown option ${JSON.stringify(e.key)}${strict ? '' : ' ignored'}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ''}`);
  }
  if (strict && unknown.length > 0) throw new ConfigError('TSGI_ERR_OPTION_UNKNOWN', unknown);
  if (strict && r.soft.length > 0) throw new ConfigError('TSGI_ERR_CONFIG', r.soft.map((l) => `${l} (strict)`));

  // Refused options: an error wherever they are.
  const refused = all.filter((e) => e.spec?.verdict === 'refused');
  if (refused.length > 0) {
    throw new ConfigError(
      'TSGI_ERR_OPTION_REFUSED',
      refused.map((e) => `${e.layer === 'cli' ? `--${e.spec!.name}` : `${describeSource(e.source)}: ${e.spec!.name}`}: ${e.spec!.message}`),
      refused.every((e) => e.layer === 'cli'),
    );
  }

  checkPythonApplication(config, all, cwd);

  // Translated options: said once at start, where they were set, in read order.
  const noted: Array<[number, string]> = [];
  const effectiveOf = (name: string): Entry | undefined => all.filter((x) => x.spec?.name === name && settingOf.get(x)!.status === 'effective').pop();
  const whereOf = (e: Entry): string => (e.layer === 'cli' ? `--${e.spec!.name}` : `${describeSource(e.source)}: ${e.spec!.name}`);
  for (const spec of OPTIONS) {
    if (spec.verdict !== 'translated') continue;
    const e = effectiveOf(spec.name);
    if (e === undefined) continue;
    const policy = policyNotes.get(spec.name);
    if (policy !== undefined) noted.push([all.indexOf(e), `${whereOf(e)} = ${rawText(policy.given)}: ${policy.text}`]);
    else if (!VALUE_POLICIES.has(spec.name)) noted.push([all.indexOf(e), `${whereOf(e)}: ${spec.message}`]);
  }
  const master = effectiveOf('master');
  if (master !== undefined && !config.master && masterMode(config)) {
    noted.push([
      all.indexOf(master),
      `${whereOf(master)} = false, but processes = ${config.processes}: tsgi runs a master anyway (Node cannot fork a loaded application, so its workers need one to keep them)`,
    ]);
  }
  const notes = noted.sort((a, b) => a[0] - b[0]).map(([, text]) => text);

  const warnings = [...unknown, ...r.soft];
  const order = (e: Entry) => (e.spec !== undefined && CONFIG_OPTIONS.has(e.spec.name) && e.layer !== 'file' ? 0 : 1);
  const settings = [...all].sort((a, b) => order(a) - order(b)).map((e) => settingOf.get(e)!);
  const showConfig = !config.showConfig ? 'none' : config.dryRun ? 'print' : 'log';
  return { config, settings, warnings, notes, files: r.files, showConfig };
}

const PYTHON = /\.py[cw]?$/;
const SIBLINGS = ['.ts', '.mts', '.js', '.mjs', '.cjs', '.cts'];

/**
 * A config carried over from uWSGI names its application's .py file: say so now, with
 * the setting's source, before any worker tries (and with the .ts or .js file next to
 * it, if there is one).
 */
function checkPythonApplication(config: Config, all: Entry[], cwd: string): void {
  const file = config.wsgiFile;
  if (file === undefined || !PYTHON.test(file)) return;
  const e = all.filter((x) => x.spec?.name === 'wsgi-file').pop()!;
  const base = config.chdir !== undefined ? resolve(cwd, config.chdir) : cwd;
  const stem = file.replace(PYTHON, '');
  const sibling = SIBLINGS.map((ext) => stem + ext).find((f) => isFile(resolve(base, f)));
  const where = e.layer === 'cli' ? '' : `${describeSource(e.source)}: `;
  throw new ConfigError('TSGI_ERR_APP_PYTHON', [
    `${where}wsgi-file ${file} is a Python file: tsgi runs JavaScript and TypeScript applications (${
      sibling !== undefined ? `${sibling} is there: wsgi-file = ${sibling}` : 'write the application in a .ts or .js file with the same contract'
    })`,
  ]);
}

export { ConfigError, describeSource, type Source } from './config-error.js';
export { renderShowConfig } from './show-config.js';
