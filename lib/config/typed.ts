// The type of the configuration, derived from the option table (lib/config/options.ts)
// by TypeScript alone: an option's declared type gives its property's type, its name
// the property's name ("buffer-size" is bufferSize), so a new option is a new typed
// field with nothing written twice. The object itself is made by makeConfig()
// (lib/config/make-config.ts) and is frozen: what a process reads is what was made.
import type { OptionTable } from './options.js';

type Spec = OptionTable[number];

/** "buffer-size" -> "bufferSize", as camelCase() does it at run time ("log-4xx" -> "log4xx"). */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** One value of an option: bool a boolean, int and size a number, choice one of its choices, the rest a string. */
type ValueOf<S> = S extends { readonly type: 'bool' }
  ? boolean
  : S extends { readonly type: 'int' | 'size' }
    ? number
    : S extends { readonly choices: readonly (infer C)[] }
      ? C
      : string;

/** A repeatable option is a list, in the order given; the others hold one value. */
type SettingOf<S> = S extends { readonly repeatable: true } ? readonly ValueOf<S>[] : ValueOf<S>;

/** Always present: an option with a default, and a list (empty when none is given). */
type AlwaysSet<S> = S extends { readonly default: unknown } ? true : S extends { readonly repeatable: true } ? true : false;

/**
 * Every option by its camelCase name, typed by the table: present when it has a
 * default or is a list, optional (absent: not given) otherwise.
 */
export type Config = {
  readonly [S in Spec as AlwaysSet<S> extends true ? CamelCase<S['name']> : never]: SettingOf<S>;
} & {
  readonly [S in Spec as AlwaysSet<S> extends true ? never : CamelCase<S['name']>]?: SettingOf<S>;
};

/**
 * Freezes a configuration and its lists. makeConfig() ends with it; a worker or a
 * thread calls it on the configuration it was handed (JSON, or a structured clone),
 * which is already made: nothing is coerced or defaulted again.
 */
export function freezeConfig(config: Config): Config {
  for (const value of Object.values(config)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(config);
}
