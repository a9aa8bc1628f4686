// bench/lib/peers-pairs.mjs: a server's slices of a cell summed into one figure (req/s over
// all its slices' time, the median p99, the mean latency weighted by requests, CPU time
// over requests, the worst-disturbed slice's CPU reading), and a failed slice failing the
// cell; and peerTargets() taking tsgi-native against uws from the pairs when they ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyTally, sliceInto, tallyResult } from '../../bench/lib/peers-pairs.mjs';
import { peerTargets } from '../../bench/lib/peers-scenario.mjs';

const wrk = (requests, durationS, p99, mean) => ({ ok: true, requests, durationS, rps: requests / durationS, latencyMs: { p99, mean }, errors: 0, non2xx: 0 });
const cpu = (serverPct, seconds, other = 0) => ({ serverPct, seconds, otherOnServerCpuPct: other, stealOnServerCpuPct: 0 });

test('slices are summed: req/s over their time, median p99, weighted mean, CPU per request', () => {
  const a = emptyTally();
  sliceInto(a, wrk(100000, 2, 1.5, 0.5), cpu(100, 2));
  sliceInto(a, wrk(50000, 2, 3.0, 1.0), cpu(50, 2, 9));
  sliceInto(a, wrk(150000, 2, 2.0, 0.2), cpu(100, 2));
  const r = tallyResult(a);
  assert.equal(r.ok, true);
  assert.equal(r.rps, 300000 / 6);
  assert.deepEqual(r.slices, [50000, 25000, 75000]);
  assert.deepEqual(r.sliceP99s, [1.5, 3.0, 2.0]);
  assert.equal(r.latencyMs.p99, 2.0);
  assert.equal(r.latencyMs.mean, (100000 * 0.5 + 50000 * 1.0 + 150000 * 0.2) / 300000);
  // 5 CPU seconds over 6 s of load: 83.3%; 5 s / 300,000 requests = 16.7 us each.
  assert.ok(Math.abs(r.cpu.serverPct - (100 * 5) / 6) < 1e-9);
  assert.equal(r.cpu.otherOnServerCpuPct, 9, 'the worst-disturbed slice is the one shown');
});

test("the p99 targets from the pairs count the turns in which tsgi-native's p99 was lower or equal", () => {
  const turns = (p99s) => ({ ok: true, rps: 1000, latencyMs: { p99: p99s[1], mean: 1 }, sliceP99s: p99s });
  const sc = {
    servers: {},
    pairs: {
      servers: {
        'tsgi-native': { ok: true, cells: { 'hello c1000': turns([10, 12, 20]), 'hello c1000 paced': turns([1, 1, 1]) } },
        uws: { ok: true, cells: { 'hello c1000': turns([11, 12, 15]), 'hello c1000 paced': turns([2, 0.5, 0.9]) } },
      },
    },
  };
  const byWhat = Object.fromEntries(peerTargets(sc).map((t) => [t.what, t]));
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].figure, '12.00 ms against 12.00 ms; in flight 1 and 1 of 1000; lower or equal in 2 of 3 turns');
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].met, true);
  assert.match(byWhat['hello c1000 paced: p99, tsgi-native against uws'].figure, /; lower or equal in 1 of 3 turns$/);
});

test('a slice that failed fails the cell', () => {
  const a = emptyTally();
  sliceInto(a, wrk(100000, 2, 1.5, 0.5), cpu(100, 2));
  sliceInto(a, { ok: false, error: 'wrk gave no result' }, undefined);
  assert.deepEqual(tallyResult(a), { ok: false, error: 'wrk gave no result' });
});

test('peerTargets takes tsgi-native against uws from the pairs when they ran', () => {
  const run = (rps, p99 = 5, mean = 1) => ({ ok: true, rps, latencyMs: { p99, mean } });
  const cells = (rps) => ({
    'hello c50': run(rps),
    'hello c1000': run(rps),
    'hello c1000 paced': run(19000),
    'hello pipelined 16 c50': run(rps),
    '64 KiB response c50': run(rps),
    '4 KiB POST echoed c50': run(rps),
  });
  const sc = {
    // The rounds say tsgi-native is slower; the turns say faster: the turns judge.
    servers: { 'tsgi-native': { cells: cells(90) }, uws: { cells: cells(100) } },
    pairs: { servers: { 'tsgi-native': { ok: true, cells: cells(105) }, uws: { ok: true, cells: cells(100) } } },
  };
  const byWhat = Object.fromEntries(peerTargets(sc).map((t) => [t.what, t]));
  assert.equal(byWhat['hello c50: tsgi-native / uws, req/s'].figure, '1.05');
  assert.equal(byWhat['hello c50: tsgi-native / uws, req/s'].met, true);
  delete sc.pairs;
  assert.equal(peerTargets(sc).find((t) => t.what === 'hello c1000: p99, tsgi-native against uws').figure, '5.00 ms against 5.00 ms; in flight 0 and 0 of 1000', 'no turns counted from the rounds');
  assert.equal(peerTargets(sc).find((t) => t.what === 'hello c50: tsgi-native / uws, req/s').figure, '0.90');
});

test("the pairs' table gives each turn's req/s ratio, and the paced cell's (both servers loaded at once) its p99 ratio", async () => {
  const { reportPairs } = await import('../../bench/lib/peers-pairs.mjs');
  const r = (slices, sliceP99s) => ({ ok: true, rps: slices.reduce((a, b) => a + b) / slices.length, latencyMs: { p99: sliceP99s[0], mean: 1 }, slices, sliceP99s });
  const pairs = {
    slices: 2,
    sliceSeconds: 2,
    servers: {
      'tsgi-native': { ok: true, cells: { 'hello c50': r([110, 90], [1, 1]), 'hello c1000 paced': r([17000, 17000], [0.5, 0.9]) } },
      uws: { ok: true, cells: { 'hello c50': r([100, 100], [1, 1]), 'hello c1000 paced': r([17000, 17000], [0.4, 1.2]) } },
    },
  };
  const tables = [];
  const ctx = { say() {}, table: (head, rows) => tables.push(rows), fmtInt: String, fmtMs: String, fmtRatio: (x) => x.toFixed(2), stolenCell: () => '' };
  reportPairs(ctx, pairs);
  const rows = Object.fromEntries(tables[0].map((row) => [row[0], row]));
  assert.equal(rows['hello c50'][4], '1.00');
  assert.equal(rows['hello c50'][5], '1.10 0.90');
  assert.equal(rows['hello c1000 paced'][4], '-', 'a paced req/s is the load offered: no ratio');
  assert.equal(rows['hello c1000 paced'][5], '1.25 0.75 (p99)');
});
