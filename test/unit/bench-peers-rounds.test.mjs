// The peers scenario's rounds (BENCH_PEERS_RUNS): each cell's figures are the medians of
// its rounds, a failure in any round fails the cell, and what others took of the CPUs is
// the worst round's (bench/lib/peers-scenario.mjs mergeRounds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeRounds } from '../../bench/lib/peers-scenario.mjs';
import { median } from '../../bench/lib/rounds.mjs';

/** One server's result in a round: cells of { rps, p99, us (server CPU per request), other (% of a CPU others took) }. */
function server(name, cells, extra = {}) {
  const out = { name, describe: name, ok: true, cells: {}, ...extra };
  for (const [cell, c] of Object.entries(cells)) {
    out.cells[cell] = c.ok === false
      ? { ok: false, error: c.error }
      : { ok: true, rps: c.rps, latencyMs: { p50: 1, p99: c.p99 }, errors: 0, cpu: { serverPct: (c.us * c.rps) / 1e4, otherOnServerCpuPct: c.other, otherOnClientCpuPct: 0 } };
  }
  return out;
}

test('median: the middle one, or the mean of the middle two', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('one round is returned as it is', () => {
  const round = { a: server('a', { hello: { rps: 10, p99: 1, us: 5, other: 0 } }) };
  assert.equal(mergeRounds([round]), round);
});

test("three rounds: each cell's req/s, p99 and CPU per request are its rounds' medians; the worst disturbance shows", () => {
  const rounds = [
    { a: server('a', { hello: { rps: 100, p99: 3, us: 10, other: 0 } }), b: server('b', { hello: { rps: 50, p99: 9, us: 20, other: 1 } }) },
    { a: server('a', { hello: { rps: 300, p99: 1, us: 12, other: 7 } }), b: server('b', { hello: { rps: 70, p99: 5, us: 16, other: 0 } }) },
    { a: server('a', { hello: { rps: 200, p99: 2, us: 11, other: 2 } }), b: server('b', { hello: { rps: 60, p99: 7, us: 18, other: 0 } }) },
  ];
  const m = mergeRounds(rounds);
  const a = m.a.cells.hello;
  assert.equal(a.rps, 200);
  assert.equal(a.latencyMs.p99, 2);
  assert.deepEqual(a.rounds, [100, 300, 200]);
  // The report's CPU per request (serverPct * 1e4 / rps) is the median of the rounds'.
  assert.ok(Math.abs((a.cpu.serverPct * 1e4) / a.rps - 11) < 1e-9);
  assert.equal(a.cpu.otherOnServerCpuPct, 7, 'the round others disturbed most');
  assert.equal(m.b.cells.hello.rps, 60);
  assert.equal(m.b.cells.hello.latencyMs.p99, 7);
  assert.equal(m.a.ok, true);
  assert.equal(m.a.rounds, 3);
});

test('a cell that failed in one round is that failure, and the server is not ok', () => {
  const rounds = [
    { a: server('a', { hello: { rps: 100, p99: 3, us: 10, other: 0 }, big: { rps: 10, p99: 5, us: 40, other: 0 } }) },
    { a: server('a', { hello: { rps: 120, p99: 2, us: 9, other: 0 }, big: { ok: false, error: 'timeout' } }, { ok: false, error: 'crashed during the big load' }) },
  ];
  const m = mergeRounds(rounds);
  assert.equal(m.a.cells.hello.rps, 110);
  assert.deepEqual(m.a.cells.big, { ok: false, error: 'timeout' });
  assert.equal(m.a.ok, false);
  assert.equal(m.a.error, 'crashed during the big load');
});
