// lib/config/ini.ts: uWSGI's ini syntax, every rule, and the errors that name a line.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIni, stripInlineComment, IniSyntaxError } from '../../dist/lib/config/ini.js';

const entries = (text, section) => parseIni(text, section).entries.map(({ key, value, line }) => [key, value, line]);
const syntaxError = (line, message) => (err) => {
  assert.ok(err instanceof IniSyntaxError, String(err));
  assert.equal(err.line, line, `line of ${err.message}`);
  assert.match(err.message, message);
  return true;
};

describe('ini: sections', () => {
  test('the [uwsgi] section by default; other sections and lines before any header are not read', () => {
    const text = 'before = header\n[other]\nsocket = :1\n[uwsgi]\nsocket = :2\n[more]\nsocket = :3\n';
    assert.deepEqual(entries(text), [['socket', ':2', 5]]);
    const r = parseIni(text);
    assert.equal(r.found, true);
    assert.deepEqual(r.sections, ['other', 'uwsgi', 'more']);
  });

  test('another section by name (FILE:SECTION), the name trimmed, case kept', () => {
    const text = '[uwsgi]\na = 1\n[ prod ]\na = 2\n[Prod]\na = 3\n';
    assert.deepEqual(entries(text, 'prod'), [['a', '2', 4]]);
    assert.deepEqual(entries(text, 'Prod'), [['a', '3', 6]]);
  });

  test('a section given twice is read twice, in order', () => {
    assert.deepEqual(entries('[uwsgi]\na = 1\n[x]\na = 2\n[uwsgi]\na = 3\n'), [['a', '1', 2], ['a', '3', 6]]);
  });

  test('a missing section: found is false, and the sections are listed', () => {
    const r = parseIni('[supervisord]\nnodaemon=true\n[program:uwsgi]\ncommand=/usr/bin/uwsgi\n');
    assert.equal(r.found, false);
    assert.deepEqual(r.entries, []);
    assert.deepEqual(r.sections, ['supervisord', 'program:uwsgi']);
    assert.equal(parseIni('[uwsgi]\n').found, true, 'an empty section is found');
    assert.equal(parseIni('').found, false);
  });

  test('a header may be indented and followed by a comment', () => {
    assert.deepEqual(entries('   [uwsgi]   # main\n  master = true\n'), [['master', 'true', 2]]);
    assert.deepEqual(entries('[uwsgi] ; main\nmaster\n'), [['master', true, 2]]);
  });
});

describe('ini: comments', () => {
  test('";" and "#" comment lines, indented or not', () => {
    assert.deepEqual(entries('[uwsgi]\n; one\n# two\n   # three\n\t; four\nmaster = true\n'), [['master', 'true', 6]]);
  });

  test('a "#" after whitespace ends the value (uWSGI would keep it)', () => {
    assert.deepEqual(entries('[uwsgi]\nsocket = :8000  # the port\nstrict = true # prevents starting\nhttp = :1\t# tab\n'), [
      ['socket', ':8000', 2],
      ['strict', 'true', 3],
      ['http', ':1', 4],
    ]);
  });

  test('a "#" without whitespace before it is part of the value', () => {
    assert.deepEqual(entries('[uwsgi]\nenv = COLOR=#fff\nroute = /a#b\n'), [
      ['env', 'COLOR=#fff', 2],
      ['route', '/a#b', 3],
    ]);
  });

  test('";" after a value is part of it (only "#" starts an inline comment)', () => {
    assert.deepEqual(entries('[uwsgi]\nenv = A=1;2 ; x\n'), [['env', 'A=1;2 ; x', 2]]);
  });

  test('a bare key with a comment; a comment right after "="', () => {
    assert.deepEqual(entries('[uwsgi]\nmaster  # yes\nchdir = # nothing\n'), [
      ['master', true, 2],
      ['chdir', '', 3],
    ]);
  });

  test('stripInlineComment', () => {
    assert.equal(stripInlineComment(':8000  # port'), ':8000');
    assert.equal(stripInlineComment('a#b'), 'a#b');
    assert.equal(stripInlineComment('#x'), '#x');
    assert.equal(stripInlineComment('a #b #c'), 'a');
  });
});

describe('ini: keys and values', () => {
  test('the value is everything after the first "=", trimmed; the key is trimmed', () => {
    assert.deepEqual(entries('[uwsgi]\n  env   =   A=b=c  \nchdir=./\nempty =\n'), [
      ['env', 'A=b=c', 2],
      ['chdir', './', 3],
      ['empty', '', 4],
    ]);
  });

  test('a bare key means true', () => {
    assert.deepEqual(entries('[uwsgi]\nmaster\nvacuum\nmax_requests\n'), [
      ['master', true, 2],
      ['vacuum', true, 3],
      ['max_requests', true, 4],
    ]);
  });

  test('repeated keys are all returned, in order', () => {
    assert.deepEqual(entries('[uwsgi]\nsocket = :1\nsocket = :2\nprocesses = 2\nprocesses = 4\n'), [
      ['socket', ':1', 2],
      ['socket', ':2', 3],
      ['processes', '2', 4],
      ['processes', '4', 5],
    ]);
  });

  test('CRLF, CR and a byte order mark', () => {
    assert.deepEqual(entries('\uFEFF[uwsgi]\r\nmaster = true\r\nvacuum\rhttp = :1'), [
      ['master', 'true', 2],
      ['vacuum', true, 3],
      ['http', ':1', 4],
    ]);
  });

  test('placeholders are left for lib/config/config.ts', () => {
    assert.deepEqual(entries('[uwsgi]\nchdir = %d\nenv = PATH=%(home)/bin:$(PATH)\n'), [
      ['chdir', '%d', 2],
      ['env', 'PATH=%(home)/bin:$(PATH)', 3],
    ]);
  });

  test('UTF-8 comments and values (the seeds are Russian and Chinese)', () => {
    assert.deepEqual(entries('[uwsgi]\n#项目目录\nchdir=./\n# путь до wsgi-файла\nstrict = true  # предотвращает запуск\n'), [
      ['chdir', './', 3],
      ['strict', 'true', 5],
    ]);
  });
});

describe('ini: errors name their line', () => {
  test('an unterminated section header', () => {
    assert.throws(() => parseIni('# x\n[uwsgi\nhttp = :1\n'), syntaxError(2, /unterminated section header "\[uwsgi" \(no "\]"\)/));
  });

  test('text after a section header', () => {
    assert.throws(() => parseIni('[uwsgi] master\n'), syntaxError(1, /unexpected "master" after the section header "\[uwsgi\]"/));
  });

  test('a line without "=" that is not a bare option name', () => {
    assert.throws(() => parseIni('[uwsgi]\nhttp = :1\nthis is not an option\n'), syntaxError(3, /expected "key = value" or a bare option name, got "this is not an option"/));
    assert.throws(() => parseIni('[uwsgi]\n--master\n'), syntaxError(2, /"--master"/));
  });

  test('a value without a key', () => {
    assert.throws(() => parseIni('[uwsgi]\n= 5\n'), syntaxError(2, /a value without a key/));
  });

  test('lines of other sections are not checked (other programs share files)', () => {
    const r = parseIni('[tox]\n  this continues a value\n[uwsgi]\nmaster = true\n');
    assert.deepEqual(r.entries.map((e) => e.key), ['master']);
    // A broken header is an error anywhere: the sections cannot be told apart after it.
    assert.throws(() => parseIni('[tox\n[uwsgi]\n'), syntaxError(1, /unterminated/));
  });
});
