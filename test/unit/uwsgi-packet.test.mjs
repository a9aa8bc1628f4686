// lib/protocol/uwsgi-packet.ts, the js backend's uwsgi parser, against the corpus the native
// parser is held to (test/uwsgi, see its README.md): every case whole, every prefix,
// and split at every offset into two buffers joined again (a Buffer that does not start
// at its ArrayBuffer's start, as one cut from a larger read does).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';
import { parseUwsgiPacket, stripScriptName, UWSGI_ERRORS, UWSGI_MAX_VARS } from '../../dist/lib/protocol/uwsgi-packet.js';

const CORPUS = join(ROOT, 'test', 'uwsgi');
const DEFAULT_MAX = 4096;

/** Every case of dir: { name, bytes, spec, text } (text: the .json as written, for content_length's digits). */
function cases(dir) {
  const at = join(CORPUS, dir);
  return readdirSync(at)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -4);
      const text = readFileSync(join(at, `${name}.json`), 'latin1');
      return { name, bytes: readFileSync(join(at, f)), spec: JSON.parse(text), text };
    });
}

/** bytes in a fresh Buffer placed at offset pad of a larger ArrayBuffer. */
function shifted(bytes, pad) {
  const big = Buffer.alloc(bytes.length + pad + 3, 0xee);
  bytes.copy(big, pad);
  return big.subarray(pad, pad + bytes.length);
}

/** The two halves of bytes cut at k, joined again: a new Buffer, the way a reader appends a second read. */
const rejoin = (bytes, k) => Buffer.concat([bytes.subarray(0, k), bytes.subarray(k)]);

/** The last index of key in vars, or -1: what the parser's indices must say. */
const lastIndex = (vars, key) => vars.map(([k]) => k).lastIndexOf(key);

/** Whether two results are the same 'ok' packet (field by field: a 64 KiB block makes deepEqual too slow for every offset). */
function samePacket(a, b) {
  if (a.kind !== 'ok' || b.kind !== 'ok') return false;
  const [p, q] = [a.packet, b.packet];
  const keys = Object.keys(q);
  if (Object.keys(p).length !== keys.length) return false;
  for (const k of keys) if (k !== 'vars' && p[k] !== q[k]) return false;
  return p.vars.length === q.vars.length && p.vars.every(([k, v], i) => k === q.vars[i][0] && v === q.vars[i][1]);
}

const VALID = cases('valid');
const INVALID = cases('invalid');

describe('parseUwsgiPacket: the valid corpus', () => {
  test('the corpus is there', () => {
    assert.ok(VALID.length >= 20, `${VALID.length} valid cases`);
    assert.ok(INVALID.length >= 30, `${INVALID.length} invalid cases`);
  });

  for (const { name, bytes, spec, text } of VALID) {
    test(name, () => {
      const max = spec.max_size ?? DEFAULT_MAX;
      const r = parseUwsgiPacket(bytes, max);
      assert.equal(r.kind, 'ok', `${name}: ${r.error ?? r.kind}`);
      const p = r.packet;
      assert.equal(p.consumed, spec.consumed);
      assert.equal(p.modifier1, spec.modifier1);
      assert.equal(p.modifier2, spec.modifier2);
      assert.deepEqual(p.vars, spec.vars);
      // JSON numbers lose digits past 2^53: the digits as written.
      const digits = /"content_length":\s*(\d+)/.exec(text)[1];
      assert.equal(p.contentLength, BigInt(digits));
      assert.equal(bytes.subarray(p.consumed).toString('latin1'), spec.body, 'the body is not consumed');
      for (const [field, key] of [
        ['requestMethod', 'REQUEST_METHOD'],
        ['requestUri', 'REQUEST_URI'],
        ['pathInfo', 'PATH_INFO'],
        ['scriptName', 'SCRIPT_NAME'],
        ['queryString', 'QUERY_STRING'],
        ['serverProtocol', 'SERVER_PROTOCOL'],
        ['contentLengthVar', 'CONTENT_LENGTH'],
      ]) {
        assert.equal(p[field], lastIndex(spec.vars, key), field);
      }
      const same = (got, what) => assert.ok(samePacket(got, r), what);
      for (let k = 0; k <= bytes.length; k++) {
        const prefix = parseUwsgiPacket(shifted(bytes.subarray(0, k), k % 7), max);
        if (k < spec.consumed) assert.deepEqual(prefix, { kind: 'more' }, `prefix of ${k} bytes`);
        else same(prefix, `prefix of ${k} bytes`);
        same(parseUwsgiPacket(rejoin(bytes, k), max), `split at ${k}`);
      }
      // The block's own size as max_size is fine; one less is refused from the header.
      const size = spec.consumed - 4;
      same(parseUwsgiPacket(bytes, size), 'max_size = the block size');
      if (size > 0) {
        for (const k of [4, bytes.length]) {
          assert.deepEqual(parseUwsgiPacket(bytes.subarray(0, k), size - 1), { kind: 'bad', error: UWSGI_ERRORS.tooBig }, `max_size one less, ${k} bytes`);
        }
      }
    });
  }
});

describe('parseUwsgiPacket: the invalid corpus', () => {
  const sentences = new Set(Object.values(UWSGI_ERRORS));
  for (const { name, bytes, spec } of INVALID) {
    test(name, () => {
      const max = spec.max_size ?? DEFAULT_MAX;
      const r = parseUwsgiPacket(bytes, max);
      assert.equal(r.kind, 'bad', name);
      assert.ok(r.error.includes(spec.error), `${JSON.stringify(r.error)} holds ${JSON.stringify(spec.error)}`);
      assert.ok(sentences.has(r.error), 'one of the native sentences');
      const total = bytes.length >= 4 ? 4 + bytes.readUInt16LE(1) : Infinity;
      for (let k = 0; k <= bytes.length; k++) {
        const prefix = parseUwsgiPacket(shifted(bytes.subarray(0, k), k % 5), max);
        if (k < 4 || (!spec.from_header && k < total)) assert.deepEqual(prefix, { kind: 'more' }, `prefix of ${k} bytes`);
        else assert.deepEqual(prefix, r, `prefix of ${k} bytes: refused the same way`);
        assert.deepEqual(parseUwsgiPacket(rejoin(bytes, k), max), r, `split at ${k}`);
      }
    });
  }
});

describe('parseUwsgiPacket: the rules, one by one', () => {
  const pair = (k, v) => {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    const b = Buffer.alloc(4 + kb.length + vb.length);
    b.writeUInt16LE(kb.length, 0);
    kb.copy(b, 2);
    b.writeUInt16LE(vb.length, 2 + kb.length);
    vb.copy(b, 4 + kb.length);
    return b;
  };
  const packet = (pairs, modifier1 = 0) => {
    const block = Buffer.concat(pairs.map(([k, v]) => pair(k, v)));
    return Buffer.concat([Buffer.from([modifier1, block.length & 0xff, block.length >> 8, 0]), block]);
  };

  test(`${UWSGI_MAX_VARS} vars pass, ${UWSGI_MAX_VARS + 1} do not`, () => {
    const vars = [['REQUEST_METHOD', 'GET'], ...Array.from({ length: UWSGI_MAX_VARS - 1 }, (_, i) => [`K${i}`, ''])];
    assert.equal(parseUwsgiPacket(packet(vars), 65535).kind, 'ok');
    assert.deepEqual(parseUwsgiPacket(packet([...vars, ['X', '']]), 65535), { kind: 'bad', error: UWSGI_ERRORS.tooManyVars });
  });

  test('CONTENT_LENGTH: leading zeros, 19 digits, not 20; modifier1 30', () => {
    const cl = (v) => parseUwsgiPacket(packet([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', v]], 30), 4096);
    assert.equal(cl('000000000000000000000000042').packet.contentLength, 42n);
    assert.equal(cl('9999999999999999999').packet.contentLength, 9999999999999999999n);
    assert.equal(cl('').packet.contentLength, 0n);
    assert.equal(cl('').packet.modifier1, 30);
    assert.equal(cl('10000000000000000000').error, UWSGI_ERRORS.contentLength);
    assert.equal(cl('1e3').error, UWSGI_ERRORS.contentLength);
  });
});

describe('stripScriptName (native/protocol/cgi_vars.cc StripScriptName)', () => {
  test('a whole segment at a time', () => {
    const cases = [
      ['/app/items', '/app', '/items'],
      ['/app', '/app', ''],
      ['/app/', '/app', '/'],
      ['/app/items', '/app/', '/items'],
      ['/application', '/app', '/application'],
      ['/other/app', '/app', '/other/app'],
      ['/ap', '/app', '/ap'],
      ['/x', '', '/x'],
      ['/x', '/', '/x'],
      ['', '/app', ''],
    ];
    for (const [path, script, want] of cases) assert.equal(stripScriptName(path, script), want, `${path} - ${script}`);
  });
});
