// Where a value was read (a file's line, an environment variable, the command line),
// and the error that names it.
import { TsgiError, type ErrorCode } from '../base/errors.js';

export type Source = { kind: 'cli' } | { kind: 'env'; name: string } | { kind: 'file'; file: string; line: number };

export function describeSource(s: Source): string {
  if (s.kind === 'cli') return 'command line';
  if (s.kind === 'env') return `environment ${s.name}`;
  return `${s.file}:${s.line}`;
}

/** A configuration error: one line or more, each naming its source. */
export class ConfigError extends TsgiError {
  constructor(
    code: ErrorCode,
    readonly lines: string[],
    /** The error is the command line's: "see tsgi --help" helps. */
    readonly fromCommandLine = false,
  ) {
    super(code, lines.join('\n'));
  }
}
