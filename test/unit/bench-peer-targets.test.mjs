// bench/lib/peers-scenario.mjs peerTargets(): each target of the peers scenario judged
// from one run's figures, and "not measured" (undefined) where a server did not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { peerTargets } from '../../bench/lib/peers-scenario.mjs';

const run = (rps, p99 = 5) => ({ ok: true, rps, latencyMs: { p99 } });
const cells = (rps, p99) => ({
  'hello c50': run(rps),
  'hello c1000': run(rps, p99),
  'hello pipelined 16 c50': run(rps * 4),
  '64 KiB response c50': run(rps / 2),
  '4 KiB POST echoed c50': run(rps / 2),
});

test('each target with its figure and verdict', () => {
  const sc = {
    servers: {
      'tsgi-native': { cells: cells(110, 4) },
      uws: { cells: { ...cells(100, 5), '64 KiB response c50': run(60) } },
      'tsgi-js': { cells: { 'hello c50': run(40) } },
      'node-http': { cells: { 'hello c50': run(50) } },
    },
  };
  const byWhat = Object.fromEntries(peerTargets(sc).map((t) => [t.what, t]));
  assert.deepEqual(byWhat['hello c50: tsgi-native / uws, req/s'], { what: 'hello c50: tsgi-native / uws, req/s', target: '>= 1', figure: '1.10', met: true });
  assert.equal(byWhat['64 KiB response c50: tsgi-native / uws, req/s'].figure, '0.92');
  assert.equal(byWhat['64 KiB response c50: tsgi-native / uws, req/s'].met, false);
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].met, true);
  assert.equal(byWhat['hello c1000: p99, tsgi-native against uws'].figure, '4.00 ms against 5.00 ms');
  assert.equal(byWhat['hello c50: tsgi-js / node-http, req/s'].figure, '0.80');
  assert.equal(byWhat['hello c50: tsgi-js / node-http, req/s'].met, false);
});

test('a server that did not run leaves its targets not measured', () => {
  const sc = { servers: { 'tsgi-native': { cells: cells(110, 4) }, uws: { skipped: true, cells: {} } } };
  const targets = peerTargets(sc);
  assert.equal(targets.length, 7);
  for (const t of targets) assert.equal(t.met, undefined, t.what);
});
