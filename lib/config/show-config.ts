// --show-config: every value read, in ini form, with where it was read and what became
// of it (overridden, unknown, a placeholder).
import { describeSource } from './config-error.js';
import type { ResolvedConfig } from './config.js';

export function rawText(raw: unknown): string {
  return raw === true ? 'true' : raw === false ? 'false' : String(raw);
}

/** --show-config: what was read, in ini form, each value with its source. */
export function renderShowConfig(config: ResolvedConfig): string {
  const lines = [
    ';tsgi configuration: every value read, with where it was read (file:line, environment, command line)',
    ';the command line overrides the environment, which overrides the files',
    '[uwsgi]',
  ];
  for (const s of config.settings) {
    const value = rawText(s.raw);
    let line = `${s.name} = ${value}`;
    let comment = describeSource(s.source);
    if (s.writtenAs !== undefined) comment += ` (as ${s.writtenAs})`;
    if (s.status === 'overridden') {
      line = `;${line}`;
      comment += `, overridden by ${s.overriddenBy ? describeSource(s.overriddenBy) : 'a later value'}`;
    } else if (s.status === 'unknown') {
      line = `;${line}`;
      comment += ', unknown option: ignored';
    } else if (s.status === 'placeholder') {
      comment += ', a placeholder';
    }
    if (/\s#/.test(value) || /[\r\n]/.test(value)) lines.push(`; ${comment}`, line);
    else lines.push(`${line}  # ${comment}`);
  }
  lines.push(';end of configuration');
  return lines.join('\n') + '\n';
}
