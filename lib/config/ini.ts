// uWSGI's ini syntax (core/ini.c), read strictly enough to point at a broken line:
//
//   [uwsgi]                  a section; uWSGI reads [uwsgi] unless FILE:SECTION says
//   ; comment                whole-line comments start with ";" or "#" (after any indentation)
//   # comment
//   socket = :8000  # port   a "#" after whitespace starts a comment (uWSGI itself would
//                            take "# port" into the value); "a#b" keeps its "#"
//   master                   a bare key means true
//   env = A=1                the value is everything after the first "=", trimmed
//
// Keys are kept as written; repeated keys are all returned, in order (lib/config/config.ts
// accumulates the repeatable options and lets the last value of the others win). Lines
// of other sections are not checked: a file may hold other programs' sections (tox,
// supervisord) with their own syntax. Placeholders ($(ENV), %(option), %d...) are
// lib/config/config.ts's business.

export interface IniEntry {
  /** The key as written, trimmed. */
  key: string;
  /** The value, trimmed, its comment removed; true for a bare key. */
  value: string | true;
  /** 1-based. */
  line: number;
}

export interface IniResult {
  /** The entries of the section asked for, in file order. */
  entries: IniEntry[];
  /** Whether the section's header was seen (an empty section counts). */
  found: boolean;
  /** Every section header, in order, without duplicates. */
  sections: string[];
}

export class IniSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
    this.name = 'IniSyntaxError';
  }
}

/** A bare key: an option name, nothing else ("this is junk" is an error, not an option). */
const BARE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.\-]*$/;

/** The text before a "#" that follows whitespace, trimmed at the end. */
export function stripInlineComment(text: string): string {
  const m = /\s#/.exec(text);
  return (m ? text.slice(0, m.index) : text).trimEnd();
}

export function parseIni(text: string, section = 'uwsgi'): IniResult {
  const entries: IniEntry[] = [];
  const sections: string[] = [];
  let current: string | undefined; // before any header: no section (uWSGI ignores those lines)
  let found = false;
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const t = lines[i]!.trim();
    if (t === '' || t[0] === ';' || t[0] === '#') continue;
    if (t[0] === '[') {
      const close = t.indexOf(']');
      if (close === -1) throw new IniSyntaxError(lineNo, `unterminated section header ${JSON.stringify(t)} (no "]")`);
      const rest = t.slice(close + 1).trim();
      if (rest !== '' && !/^[#;]/.test(rest)) {
        throw new IniSyntaxError(lineNo, `unexpected ${JSON.stringify(rest)} after the section header ${JSON.stringify(t.slice(0, close + 1))}`);
      }
      current = t.slice(1, close).trim();
      if (!sections.includes(current)) sections.push(current);
      if (current === section) found = true;
      continue;
    }
    if (current !== section) continue;
    const body = stripInlineComment(t);
    const eq = body.indexOf('=');
    if (eq === -1) {
      if (!BARE_KEY.test(body)) {
        throw new IniSyntaxError(lineNo, `expected "key = value" or a bare option name, got ${JSON.stringify(body)}`);
      }
      entries.push({ key: body, value: true, line: lineNo });
      continue;
    }
    const key = body.slice(0, eq).trim();
    if (key === '') throw new IniSyntaxError(lineNo, `a value without a key: ${JSON.stringify(body)}`);
    entries.push({ key, value: body.slice(eq + 1).trim(), line: lineNo });
  }
  return { entries, found, sections };
}
