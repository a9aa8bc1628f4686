// lib/config/options.ts: the option table, the command-line parser, coercion, defaults, help.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPTIONS, parseArgv, coerce, helpText, suggest, findOption, camelCase } from '../../dist/lib/config/options.js';
import { configOf, makeConfig } from '../../dist/lib/config/make-config.js';
import { freezeConfig } from '../../dist/lib/config/typed.js';

const spec = (name) => {
  const s = findOption(name);
  assert.ok(s, `option ${name} exists`);
  return s;
};
const invalid = { name: 'TsgiError', code: 'TSGI_ERR_OPTION_INVALID' };
const unknown = { name: 'TsgiError', code: 'TSGI_ERR_OPTION_UNKNOWN' };

describe('OPTIONS', () => {
  test('every option is declared once, with help and a type', () => {
    const names = new Set();
    for (const o of OPTIONS) {
      assert.match(o.name, /^[a-z][a-z0-9-]*$/, o.name);
      assert.ok(!names.has(o.name), `${o.name} declared once`);
      names.add(o.name);
      assert.ok(o.help.length > 10, `${o.name} has help`);
      assert.ok(['string', 'int', 'size', 'bool', 'address', 'choice', 'keyvalue'].includes(o.type), `${o.name} type`);
    }
    for (const n of ['http', 'http-socket', 'wsgi-file', 'module', 'callable', 'chdir', 'env', 'buffer-size', 'post-buffering', 'limit-post', 'http-timeout', 'listen', 'disable-logging', 'backend', 'help', 'version']) {
      assert.ok(names.has(n), `--${n} is declared`);
    }
  });

  test('every default is a valid value of its option', () => {
    for (const o of OPTIONS) {
      if (o.default === undefined) continue;
      assert.equal(coerce(o, o.default), o.default, o.name);
    }
  });

  test('findOption: by name, alias, or with "_" for "-"', () => {
    assert.equal(findOption('buffer-size').name, 'buffer-size');
    assert.equal(findOption('buffer_size').name, 'buffer-size');
    assert.equal(findOption('file').name, 'wsgi-file');
    assert.equal(findOption('no-such-option'), undefined);
  });

  test('camelCase', () => {
    assert.equal(camelCase('buffer-size'), 'bufferSize');
    assert.equal(camelCase('http-socket'), 'httpSocket');
    assert.equal(camelCase('disable-logging'), 'disableLogging');
    assert.equal(camelCase('http'), 'http');
  });
});

describe('parseArgv', () => {
  test('"--name value", "--name=value" and "-x value"', () => {
    assert.deepEqual(parseArgv(['--buffer-size', '8192', '--http-timeout=5', '-l', '64']), { bufferSize: 8192, httpTimeout: 5, listen: 64 });
  });

  test('booleans: bare flag, short flag, =false', () => {
    assert.deepEqual(parseArgv(['--disable-logging']), { disableLogging: true });
    assert.deepEqual(parseArgv(['-L']), { disableLogging: true });
    assert.deepEqual(parseArgv(['--disable-logging=false']), { disableLogging: false });
    assert.deepEqual(parseArgv(['--disable-logging=off']), { disableLogging: false });
    assert.deepEqual(parseArgv(['--help']), { help: true });
    assert.deepEqual(parseArgv(['-h']), { help: true });
    // A bare flag does not take the next argument as its value.
    assert.deepEqual(parseArgv(['--disable-logging', '--http', ':1']), { disableLogging: true, http: [':1'] });
  });

  test('repeatable options accumulate, in order', () => {
    assert.deepEqual(parseArgv(['--http', ':9090', '--http=127.0.0.1:9091', '--http-socket', '[::1]:9092']), {
      http: [':9090', '127.0.0.1:9091'],
      httpSocket: ['[::1]:9092'],
    });
    assert.deepEqual(parseArgv(['--env', 'A=1', '--env=B=2=3']), { env: ['A=1', 'B=2=3'] });
  });

  test('a later value of a single option wins', () => {
    assert.deepEqual(parseArgv(['--buffer-size', '1k', '--buffer-size', '2k']), { bufferSize: 2048 });
  });

  test('aliases and underscores', () => {
    assert.deepEqual(parseArgv(['--file', 'app.ts']), { wsgiFile: 'app.ts' });
    assert.deepEqual(parseArgv(['--wsgi_file', 'app.ts']), { wsgiFile: 'app.ts' });
    assert.deepEqual(parseArgv(['-w', 'pkg.sub', '--callable', 'app']), { module: 'pkg.sub', callable: 'app' });
    assert.deepEqual(parseArgv(['-b', '32k']), { bufferSize: 32768 });
  });

  test('a value may start with "-" or be empty for keyvalue', () => {
    assert.deepEqual(parseArgv(['--chdir', '-dir']), { chdir: '-dir' });
    assert.deepEqual(parseArgv(['--env', 'EMPTY=']), { env: ['EMPTY='] });
  });

  test('no arguments: no values', () => {
    assert.deepEqual(parseArgv([]), {});
  });

  test('an unknown option names it and suggests the closest', () => {
    assert.throws(() => parseArgv(['--bufer-size', '8192']), { ...unknown, message: /--bufer-size.*did you mean --buffer-size\?/ });
    assert.throws(() => parseArgv(['--htp', ':9090']), { ...unknown, message: /--htp.*--http\b/ });
    assert.throws(() => parseArgv(['--xyzzy']), (err) => {
      assert.equal(err.code, 'TSGI_ERR_OPTION_UNKNOWN');
      assert.match(err.message, /--xyzzy/);
      assert.doesNotMatch(err.message, /did you mean/);
      return true;
    });
    assert.throws(() => parseArgv(['-z']), { ...unknown, message: /z/ });
  });

  test('a positional argument is refused', () => {
    assert.throws(() => parseArgv(['app.py']), { ...unknown, message: /"app\.py"/ });
    assert.throws(() => parseArgv(['--http', ':1', 'extra']), { ...unknown, message: /"extra"/ });
  });

  test('a missing value is refused', () => {
    assert.throws(() => parseArgv(['--http']), { ...invalid, message: /--http/ });
    assert.throws(() => parseArgv(['--buffer-size']), { ...invalid, message: /--buffer-size/ });
  });

  test('a bad value names the option and what was expected', () => {
    assert.throws(() => parseArgv(['--buffer-size', '0']), { ...invalid, message: /from 256 to 1048576 for buffer-size but received "0"/ });
    assert.throws(() => parseArgv(['--buffer-size', 'big']), { ...invalid, message: /buffer-size/ });
    assert.throws(() => parseArgv(['--http-timeout', '0']), { ...invalid, message: /http-timeout/ });
    assert.throws(() => parseArgv(['--backend', 'python']), { ...invalid, message: /one of auto, native, js for backend/ });
    assert.throws(() => parseArgv(['--env', 'NOEQUALS']), { ...invalid, message: /KEY=VALUE for env/ });
    assert.throws(() => parseArgv(['--http=']), { ...invalid, message: /http/ });
    assert.throws(() => parseArgv(['--disable-logging=maybe']), { ...invalid, message: /disable-logging/ });
  });
});

describe('coerce', () => {
  test('sizes: plain, k, m, g, in range', () => {
    const pb = spec('post-buffering');
    assert.equal(coerce(pb, '0'), 0);
    assert.equal(coerce(pb, '100'), 100);
    assert.equal(coerce(pb, '8k'), 8192);
    assert.equal(coerce(pb, '8K'), 8192);
    assert.equal(coerce(pb, '2m'), 2 * 1024 * 1024);
    assert.equal(coerce(pb, '1g'), 1024 ** 3);
    assert.equal(coerce(pb, ' 64k '), 65536);
    assert.equal(coerce(pb, 4096), 4096);
    assert.throws(() => coerce(pb, '2g'), invalid);
    assert.throws(() => coerce(pb, '-1'), invalid);
    assert.throws(() => coerce(pb, '1.5k'), invalid);
    assert.throws(() => coerce(pb, '1kb'), invalid);
    assert.throws(() => coerce(pb, ''), invalid);
    assert.throws(() => coerce(pb, 1.5), invalid);
    assert.throws(() => coerce(pb, -1), invalid);
    assert.throws(() => coerce(pb, NaN), invalid);
    assert.throws(() => coerce(pb, true), invalid);
    const bs = spec('buffer-size');
    assert.equal(coerce(bs, '256'), 256);
    assert.equal(coerce(bs, '1m'), 1048576);
    assert.throws(() => coerce(bs, '255'), invalid);
    assert.throws(() => coerce(bs, '1048577'), invalid);
  });

  test('ints take no suffix', () => {
    const ht = spec('http-timeout');
    assert.equal(coerce(ht, '60'), 60);
    assert.equal(coerce(ht, 1), 1);
    assert.throws(() => coerce(ht, '1k'), invalid);
    assert.throws(() => coerce(ht, '0'), invalid);
    assert.throws(() => coerce(ht, '86401'), invalid);
  });

  test('booleans', () => {
    const dl = spec('disable-logging');
    for (const t of [true, 'true', 'TRUE', 'yes', 'on', '1', '']) assert.equal(coerce(dl, t), true, JSON.stringify(t));
    for (const f of [false, 'false', 'no', 'Off', '0']) assert.equal(coerce(dl, f), false, JSON.stringify(f));
    for (const bad of ['maybe', 2, null]) assert.throws(() => coerce(dl, bad), invalid);
  });

  test('choices, key=value pairs, strings', () => {
    assert.equal(coerce(spec('backend'), 'js'), 'js');
    assert.equal(coerce(spec('backend'), 'native'), 'native');
    assert.throws(() => coerce(spec('backend'), 'JS'), invalid);
    assert.equal(coerce(spec('env'), 'A=1'), 'A=1');
    assert.equal(coerce(spec('env'), 'A='), 'A=');
    assert.throws(() => coerce(spec('env'), '=1'), invalid);
    assert.throws(() => coerce(spec('env'), 'A'), invalid);
    assert.equal(coerce(spec('chdir'), '/tmp'), '/tmp');
    assert.throws(() => coerce(spec('chdir'), ''), invalid);
    assert.throws(() => coerce(spec('chdir'), 5), invalid);
    assert.equal(coerce(spec('http'), ':9090'), ':9090');
  });
});

describe('configOf (serve()\'s options) and makeConfig', () => {
  test('fills in the defaults, and every list option with an empty list', () => {
    const v = configOf({});
    const expected = {};
    for (const o of OPTIONS) {
      if (o.repeatable) expected[camelCase(o.name)] = [];
      else if (o.default !== undefined) expected[camelCase(o.name)] = o.default;
    }
    assert.deepEqual({ ...v }, expected, 'every default, the lists, and nothing else');
    assert.equal(v.bufferSize, 4096);
    assert.equal(v.postBuffering, 65536);
    assert.equal(v.limitPost, 0);
    assert.equal(v.httpTimeout, 60);
    assert.equal(v.listen, 1024);
    assert.equal(v.disableLogging, false);
    assert.equal(v.backend, 'auto');
    assert.equal(v.wsgiFile, undefined);
  });

  test('takes camelCase keys, coerces, and keeps what was given', () => {
    const v = configOf({ bufferSize: '8k', httpTimeout: 5, disableLogging: true, backend: 'js', http: ['127.0.0.1:0', '[::1]:0'], limitPost: undefined });
    assert.equal(v.bufferSize, 8192);
    assert.equal(v.httpTimeout, 5);
    assert.equal(v.disableLogging, true);
    assert.equal(v.backend, 'js');
    assert.deepEqual(v.http, ['127.0.0.1:0', '[::1]:0']);
    assert.equal(v.limitPost, 0, 'undefined means the default');
  });

  test('a single value for a repeatable option becomes a list', () => {
    assert.deepEqual(configOf({ http: ':9090' }).http, [':9090']);
  });

  test('refuses unknown keys, refused options and bad values', () => {
    assert.throws(() => configOf({ bogusThing: 1 }), { ...unknown, message: /bogus-thing/ });
    assert.throws(() => configOf({ bufferSiz: 1 }), { ...unknown, message: /did you mean --buffer-size/ });
    assert.throws(() => configOf({ bufferSize: 0 }), { ...invalid, message: /^Expected an integer from 256 to 1048576 for buffer-size but received 0$/ });
    assert.throws(() => configOf({ backend: 'python' }), invalid);
    assert.throws(() => configOf({ pythonpath: '/x' }), { name: 'TsgiError', code: 'TSGI_ERR_OPTION_REFUSED', message: /^pythonpath: refused/ });
  });

  test('the configuration is frozen, its lists too', () => {
    const v = configOf({ http: [':1', ':2'], bufferSize: 8192 });
    assert.ok(Object.isFrozen(v));
    assert.ok(Object.isFrozen(v.http));
    assert.throws(() => {
      v.bufferSize = 1;
    }, TypeError);
    assert.throws(() => v.http.push(':3'), TypeError);
    assert.equal(v.bufferSize, 8192);
  });

  test('as a master hands it to a worker: JSON, then frozen again, equal and not coerced again', () => {
    const made = configOf({ http: ':1', bufferSize: '8k', limitAs: 512, processes: 2 });
    const again = freezeConfig(JSON.parse(JSON.stringify(made)));
    assert.deepEqual(again, made);
    assert.ok(Object.isFrozen(again) && Object.isFrozen(again.http));
    assert.equal(again.limitAs, 0, 'the policy applied once, at the master');
    assert.equal(again.reloadOnRss, 512);
  });

  test('makeConfig: a list takes every value not overridden, in order; the others the last one; overridden values are still checked', () => {
    const g = (name, raw, overridden) => ({ spec: findOption(name), raw, overridden });
    const v = makeConfig([g('socket', ':1', true), g('socket', ':2'), g('socket', ':3'), g('processes', '2', true), g('processes', '4')]);
    assert.deepEqual(v.socket, [':2', ':3']);
    assert.equal(v.processes, 4);
    assert.throws(() => makeConfig([g('processes', 'many', true), g('processes', '4')]), { ...invalid, message: /for processes but received "many"/ });
  });

  test('parseArgv then configOf: the command line\'s values, typed', () => {
    const v = configOf(parseArgv(['--http', ':9090', '-b', '8k', '--file', 'app.ts']));
    assert.deepEqual(v.http, [':9090']);
    assert.equal(v.bufferSize, 8192);
    assert.equal(v.wsgiFile, 'app.ts');
    assert.equal(v.postBuffering, 65536);
  });
});

describe('helpText', () => {
  const text = helpText();
  test('lists every option, its short form, aliases and default', () => {
    assert.match(text, /^Usage: tsgi --http :9090 --wsgi-file app\.ts \[options\]\n/);
    for (const o of OPTIONS) {
      assert.ok(text.includes(`--${o.name}`), `--${o.name}`);
      if (o.short) assert.ok(text.includes(`-${o.short}, --${o.name}`), `-${o.short}`);
      for (const a of o.aliases ?? []) assert.ok(text.includes(`--${a}`), `--${a}`);
      assert.ok(text.includes(o.help), `the help of --${o.name}`);
    }
    assert.match(text, /--buffer-size SIZE\n\s+.*\(default: 4096\)/);
    assert.match(text, /--http ADDRESS\n\s+.*\(repeatable\)/);
    assert.match(text, /--env KEY=VALUE/);
    assert.ok(text.endsWith('\n'));
  });
});

describe('suggest', () => {
  test('the closest option name, or nothing when none is close', () => {
    assert.equal(suggest('bufer-size'), 'buffer-size');
    assert.equal(suggest('buffersize'), 'buffer-size');
    assert.equal(suggest('htp'), 'http');
    assert.equal(suggest('http-timout'), 'http-timeout');
    assert.equal(suggest('wsgifile'), 'wsgi-file');
    assert.equal(suggest('modle'), 'module');
    assert.equal(suggest('xyzzy'), undefined);
    assert.equal(suggest('completely-unrelated'), undefined);
  });
});

test('configOf: a camelCase key whose dash came before a digit (log4xx is --log-4xx)', () => {
  const v = configOf({ log4xx: true, log5xx: true, logSlow: 5 });
  assert.equal(v.log4xx, true);
  assert.equal(v.log5xx, true);
  assert.equal(v.logSlow, 5);
});
