// The one road from values given to the configuration a process reads: makeConfig()
// coerces each value once (lib/config/options.ts coerce), fills each default once from
// the table, applies the per-option policies once (lib/config/derived.ts), and freezes
// the result. The CLI's sources (lib/config/config.ts resolveConfig) and serve()'s
// options (configOf) both end here; a master hands the made configuration to its
// workers and their threads, which only freeze it again (freezeConfig).
import { TsgiError } from '../base/errors.js';
import { OPTIONS, camelCase, coerce, findOption, unknownOption, type OptionSpec } from './options.js';
import { limitAsPolicy } from './derived.js';
import { freezeConfig, type Config } from './typed.js';

/** One value as given, before coercion. */
export interface Given {
  readonly spec: OptionSpec;
  readonly raw: unknown;
  /** Given, but overridden by another source: coerced (a bad value is still an error), not used. */
  readonly overridden?: boolean;
}

export interface MakeHooks<G extends Given> {
  /** A value did not coerce: the caller names its source (must throw). */
  invalid?(given: G, err: TsgiError): never;
  /** A translating policy changed what an option means here: what to say at start, about the value given. */
  note?(spec: OptionSpec, given: unknown, text: string): void;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The configuration from the values given, in the order read: for a list option every
 * value not overridden, in order; for the others the last one not overridden. Throws
 * the first value that does not coerce (TSGI_ERR_OPTION_INVALID: "Expected ... for
 * NAME but received ..."), or hands it to hooks.invalid.
 */
export function makeConfig<G extends Given>(given: readonly G[], hooks: MakeHooks<G> = {}): Config {
  const lists = new Map<string, unknown[]>();
  const out: Record<string, unknown> = {};
  for (const g of given) {
    let value: unknown;
    try {
      value = coerce(g.spec, g.raw);
    } catch (err) {
      if (err instanceof TsgiError && hooks.invalid !== undefined) hooks.invalid(g, err);
      throw err;
    }
    if (g.overridden === true) continue;
    const key = camelCase(g.spec.name);
    if (!g.spec.repeatable) out[key] = value;
    else if (lists.has(key)) lists.get(key)!.push(value);
    else lists.set(key, [value]);
  }
  for (const spec of OPTIONS) {
    const key = camelCase(spec.name);
    if (spec.repeatable) out[key] = lists.get(key) ?? [];
    else if (out[key] === undefined && 'default' in spec) out[key] = spec.default;
  }
  // Built from the table just above, key by key, as Config is typed from it.
  const config = out as Writable<Config>;
  const limit = limitAsPolicy(config);
  if (limit.note !== undefined) hooks.note?.(findOption('limit-as')!, config.limitAs, limit.note);
  config.limitAs = limit.limitAs;
  config.reloadOnRss = limit.reloadOnRss;
  return freezeConfig(config);
}

/**
 * serve()'s options: camelCase keys ("bufferSize"), a list option as one value or an
 * array. An unknown key or a refused option is an error, as on the command line.
 */
export function configOf(options: Readonly<Record<string, unknown>>): Config {
  const given: Given[] = [];
  for (const [key, raw] of Object.entries(options)) {
    if (raw === undefined) continue;
    const name = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    // log4xx is log-4xx: a digit after a dash leaves no capital to find it by.
    const spec: OptionSpec = findOption(name) ?? OPTIONS.find((s) => camelCase(s.name) === key) ?? unknownOption(name);
    if (spec.verdict === 'refused') throw new TsgiError('TSGI_ERR_OPTION_REFUSED', `${spec.name}: ${spec.message ?? 'refused'}`);
    if (spec.repeatable && Array.isArray(raw)) for (const item of raw) given.push({ spec, raw: item });
    else given.push({ spec, raw });
  }
  return makeConfig(given);
}
