// lib/protocol/proxy-header.ts, the js backend's PROXY protocol parser, held to the corpus of
// its native twin (test/requests/proxy, see its README.md): every case whole, every
// prefix (need-more or the whole's result), and byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';
import { parseProxyHeader } from '../../dist/lib/protocol/proxy-header.js';

const DIR = join(ROOT, 'test', 'requests', 'proxy');

function describe(r) {
  if (r.kind === 'more') return { kind: 'more' };
  if (r.kind === 'bad') return { error: r.error };
  const a = r.address;
  return { consumed: r.consumed, version: r.version, src: a?.src ?? null, src_port: a?.srcPort ?? 0, dst: a?.dst ?? null, dst_port: a?.dstPort ?? 0 };
}

for (const kind of ['valid', 'invalid']) {
  const names = readdirSync(join(DIR, kind)).filter((n) => n.endsWith('.bin')).map((n) => n.slice(0, -4));
  assert.ok(names.length > 10, `a corpus in ${kind}`);
  for (const name of names) {
    test(`${kind}/${name}: whole, every prefix, byte by byte`, () => {
      const bytes = new Uint8Array(readFileSync(join(DIR, kind, `${name}.bin`)));
      const want = JSON.parse(readFileSync(join(DIR, kind, `${name}.json`), 'utf8'));
      const whole = describe(parseProxyHeader(bytes));
      assert.deepEqual(whole, want);
      let first;
      for (let k = 0; k <= bytes.length; k++) {
        const p = describe(parseProxyHeader(bytes.subarray(0, k)));
        if (p.kind === 'more') {
          assert.equal(first, undefined, `need-more at ${k} after an answer`);
          continue;
        }
        first ??= k;
        assert.deepEqual(p, whole, `prefix ${k}`);
      }
      if (want.consumed !== undefined) assert.equal(first, want.consumed, 'complete at its last byte, not before');
    });
  }
}
