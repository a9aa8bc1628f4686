// lib/logging/log-format.ts's pure parts: the filter (the twin of native ShouldLogRequest, whose
// unit test in test/native/units-test.cc checks the same edges), the format compiler,
// the escaping and the cached dates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';

const { shouldLog, compileLogFormat, escapeText, isoDate, apacheDate, customRequestLine } = await import(join(ROOT, 'dist', 'lib', 'logging', 'log-format.js'));

test('shouldLog: every request without --disable-logging; else those a rule names, edges included', () => {
  const none = { all: false, status4xx: false, status5xx: false, slowMs: 0, bigBytes: 0 };
  assert.equal(shouldLog({ ...none, all: true }, 200, 0, 0), true);
  assert.equal(shouldLog(none, 404, 1e6, 1e9), false);
  assert.deepEqual([399, 400, 499, 500].map((s) => shouldLog({ ...none, status4xx: true }, s, 0, 0)), [false, true, true, false]);
  assert.deepEqual([499, 500, 599, 600].map((s) => shouldLog({ ...none, status5xx: true }, s, 0, 0)), [false, true, true, false]);
  assert.deepEqual([99, 100].map((ms) => shouldLog({ ...none, slowMs: 100 }, 200, ms, 0)), [false, true]);
  assert.deepEqual([4095, 4096].map((b) => shouldLog({ ...none, bigBytes: 4096 }, 200, 0, b)), [false, true]);
});

test('compileLogFormat: literal text and variables; an unknown variable is an error naming it', () => {
  const parts = compileLogFormat('a %(method) b %(var.X_Y)%(status)');
  assert.deepEqual(parts.map((p) => (typeof p === 'string' ? p : `<${p.name}>`)), ['a ', '<method>', ' b ', '<var.X_Y>', '<status>']);
  assert.throws(() => compileLogFormat('%(method) %(nope)'), /unknown variable %\(nope\)/);
  assert.throws(() => compileLogFormat('%(var.)'), /unknown variable %\(var\.\)/);
});

test('escapeText: control bytes, DEL and backslashes as \\xHH, the rest as is', () => {
  assert.equal(escapeText('a\nb\\c\x7f\xe9'), 'a\\x0ab\\x5cc\\x7f\xe9');
});

test('isoDate and apacheDate: the same as made from scratch, across a second', () => {
  for (const t of [0, 999, 1000, 1796560219045, 1796560219999.6, 1796560220000]) {
    assert.equal(isoDate(t), new Date(Math.floor(t)).toISOString());
  }
  assert.match(apacheDate(1796560219045), /^\d\d\/Dec\/2026:\d\d:\d\d:19 [+-]\d{4}$/);
});

test('customRequestLine: json keys from the format, numbers as numbers, strings escaped', () => {
  const line = customRequestLine({ logEncoder: 'json', logformat: '%(method) %(status) %(uagent)' }, 3, 0);
  const facts = { status: 418, bodyBytes: 1, headerCount: 1, headerBytes: 20, micros: 1500, requests: 1, varsCount: 1, varsBytes: 1 };
  assert.equal(line({ REQUEST_METHOD: 'GET', HTTP_USER_AGENT: 'a"\n' }, facts), '{"method":"GET","status":418,"uagent":"a\\"\\n"}\n');
  assert.equal(customRequestLine({}, 1, 0), undefined);
});
