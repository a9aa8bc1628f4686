// YAML and JSON config files (--yaml, --json): the options under the root key, each
// with its line, for the same errors as an ini file's. The yaml package is loaded when
// the first such file is read, not with tsgi: it costs ~45 ms of every start-up
// otherwise (the config is read synchronously, so it is required, not imported).
import type * as YamlModule from 'yaml';
import type { Document } from 'yaml';
import { lazyRequire } from '../base/lazy-require.js';
import { ConfigError } from './config-error.js';

const loadYaml = lazyRequire<typeof YamlModule>('yaml');

/** A key and its value as a config file gives them, with its line. */
export interface RawValue {
  key: string;
  value: unknown;
  line: number;
}

/** The line of a character offset. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * A YAML or JSON config: the mapping under the root key ("uwsgi", or FILE:KEY), each
 * key an option, a list repeating it. JSON is read by the YAML parser too (JSON is
 * YAML), after JSON.parse has checked it is JSON, for the line of every key.
 */
export function parseYamlOrJson(text: string, kind: 'yaml' | 'json', section: string, shown: string): RawValue[] {
  const fail = (line: number | undefined, message: string): never => {
    throw new ConfigError('TSGI_ERR_CONFIG', [`${shown}${line !== undefined ? `:${line}` : ''}: ${message}`]);
  };
  const { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } = loadYaml();
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: false });
  if (kind === 'json') {
    try {
      JSON.parse(text);
    } catch (err) {
      const msg = (err as Error).message;
      const pos = /at position (\d+)/.exec(msg);
      const line = pos ? lineAt(text, Number(pos[1])) : doc.errors[0] ? lc.linePos(doc.errors[0].pos[0]).line : 1;
      fail(line, `not valid JSON: ${msg}`);
    }
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    fail(lc.linePos(e.pos[0]).line, `not valid ${kind === 'json' ? 'JSON' : 'YAML'}: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (node: unknown): number | undefined => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lc.linePos(range[0]).line : undefined;
  };
  const keyOf = (node: unknown): string => (isScalar(node) ? String(node.value) : String(node));
  const root = doc.contents;
  if (!isMap(root)) return fail(lineOf(root) ?? 1, `expected a mapping with the key "${section}" at the top`);
  const found = root.items.filter((pair) => keyOf(pair.key) === section).pop();
  if (found === undefined) {
    const keys = root.items.map((pair) => JSON.stringify(keyOf(pair.key)));
    return fail(undefined, `no "${section}" key at the top (${keys.length ? `its keys: ${keys.join(', ')}` : 'it is empty'}); name another with ${shown}:KEY`);
  }
  const out: RawValue[] = [];
  let options: unknown = found.value;
  if (isAlias(options)) options = options.resolve(doc as Document);
  if (options === null || (isScalar(options) && options.value === null)) return out;
  if (!isMap(options)) return fail(lineOf(options) ?? lineOf(found.key), `"${section}" must hold a mapping of options`);
  const scalar = (node: unknown, key: string, line: number): unknown => {
    if (isAlias(node)) node = node.resolve(doc as Document);
    if (node === null || node === undefined) return true;
    if (!isScalar(node)) fail(lineOf(node) ?? line, `${key}: expected a value or a list of values`);
    const v = (node as { value: unknown }).value;
    if (v === null) return true; // "enable-threads:" with nothing: a bare key
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number' || typeof v === 'bigint') {
      // The number as written: "0664" stays 0664, "1e3" is refused by the option.
      const range = (node as { range?: [number, number, number] }).range;
      return range ? text.slice(range[0], range[1]).trim() : String(v);
    }
    return String(v);
  };
  for (const pair of options.items) {
    const key = keyOf(pair.key);
    const line = lineOf(pair.key) ?? 1;
    let value: unknown = pair.value;
    if (isAlias(value)) value = value.resolve(doc as Document);
    if (isSeq(value)) {
      for (const item of value.items) out.push({ key, value: scalar(item, key, line), line: lineOf(item) ?? line });
    } else {
      out.push({ key, value: scalar(value, key, line), line });
    }
  }
  return out;
}
