// bench/lib/peers-scenario.mjs peerTargets(): each target of the peers scenario judged
// from one run's figures, and "not measured" (undefined) where a server did not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerTargets } from '../../bench/lib/peers-scenario.mjs';

const run = (rps, p99 = 5, mean = undefined) => ({ ok: true, rps, latencyMs: { p99, mean } });
const cells = (rps, p99) => ({
  'hello c50': run(rps),
  'hello c1000': run(rps, p99, 8),
  'hello c1000 paced': run(19000, p99 / 2),
  'hello pipelined 16 c50': run(rps * 4),
  '64 KiB response c50': run(rps / 2),
  '4 KiB POST echoed c50': run(rps / 2),
});

test('each target with its figure and verdict', () => {
  const sc = {
    pacedRps: 20000,
    servers: {
      'tsgi-native': { cells: cells(110, 4) },
      uws: { cells: { ...cells(100, 5), '64 KiB response c50': run(60), 'hello c1000 paced': run(19500, 1.5) } },
      'tsgi-js': { cells: { 'hello c50': run(40) } },
      'node-http': { cells: { 'hello c50': run(50) } },
    },
  };
  const byWhat = Object.fromEntries(peerTargets(sc).map((t) => [t.what, t]));
  assert.deepEqual(byWhat['hello c50: tsgi-native / uws, req/s'], { what: 'hello c50: tsgi-native / uws, req/s', target: '>= 1', figure: '1.10', met: true });
  assert.equal(byWhat['64 KiB response c50: tsgi-native / uws, req/s'].figure, '0.92');
  assert.equal(byWhat['64 KiB response c50: tsgi-native / uws, req/s'].met, false);
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].met, true);
  // In flight: req/s x mean latency (Little's law), of the 1,000 connections wrk holds.
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].figure, '4.00 ms against 5.00 ms; in flight 1 and 1 of 1000');
  // Paced: the same load offered to both; tsgi-native's 2 ms is above uws's 1.5.
  assert.equal(byWhat['hello c1000 paced: p99, tsgi-native against uws'].figure, '2.00 ms against 1.50 ms, at 19000 and 19500 req/s (about 20000 offered)');
  assert.equal(byWhat['hello c1000 paced: p99, tsgi-native against uws'].met, false);
  // The js backend's target is the js scenario's (its alternating rounds), not this cell's.
  assert.equal(byWhat['hello c50: tsgi-js / node-http, req/s'], undefined);
});

test('a server that did not run leaves its targets not measured', () => {
  const sc = { servers: { 'tsgi-native': { cells: cells(110, 4) }, uws: { skipped: true, cells: {} } } };
  const targets = peerTargets(sc);
  assert.equal(targets.length, 7);
  for (const t of targets) assert.equal(t.met, undefined, t.what);
});
