// The master's watchdog verdicts (lib/process/master-verdict.ts), from made-up scoreboard
// readings: no process, no clock (now is given).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harakiriVerdict, judgeWorkers, rssOver } from '../../dist/lib/process/master-verdict.js';

const NOW = 1_700_000_000_000;
const idle = { requestStart: 0, request: 'GET /done' };
const busy = (ms, request) => ({ requestStart: NOW - ms, request });

test('harakiri: an idle worker, or a request younger than the limit, is not killed', () => {
  assert.equal(harakiriVerdict([idle], NOW, 3), undefined);
  assert.equal(harakiriVerdict([busy(2999, 'GET /slow')], NOW, 3), undefined);
  assert.equal(harakiriVerdict([], NOW, 3), undefined);
});

test('harakiri: a request that ran the limit or more is killed, named, with how long it ran', () => {
  assert.deepEqual(harakiriVerdict([busy(3000, 'GET /hang')], NOW, 3), { core: 0, start: NOW - 3000, ranMs: 3000, request: 'GET /hang' });
  assert.deepEqual(harakiriVerdict([busy(12345, 'POST /x?y=1')], NOW, 3), { core: 0, start: NOW - 12345, ranMs: 12345, request: 'POST /x?y=1' });
});

test('harakiri 0 never kills', () => {
  assert.equal(harakiriVerdict([busy(86_400_000, 'GET /hang')], NOW, 0), undefined);
});

test('harakiri: over the cores, the oldest request is judged and its core named', () => {
  const cores = [busy(500, 'GET /ok'), busy(3500, 'GET /hang'), idle, busy(100, 'GET /ok2')];
  assert.deepEqual(harakiriVerdict(cores, NOW, 3), { core: 1, start: NOW - 3500, ranMs: 3500, request: 'GET /hang' });
  // The same oldest, not yet past the limit: nothing, whatever the younger ones.
  assert.equal(harakiriVerdict(cores, NOW - 1000, 3), undefined);
});

test('reload-on-rss: a reading over the limit recycles only when the process judged took it', () => {
  const MB = 1024 * 1024;
  assert.equal(rssOver({ rss: 226 * MB, rssPid: 41 }, 41, 200 * MB), true);
  // The slot's previous process's reading, or none yet (the master cleared it).
  assert.equal(rssOver({ rss: 226 * MB, rssPid: 40 }, 41, 200 * MB), false);
  assert.equal(rssOver({ rss: 0, rssPid: 0 }, 41, 200 * MB), false);
  // At or under the limit, or no limit.
  assert.equal(rssOver({ rss: 200 * MB, rssPid: 41 }, 41, 200 * MB), false);
  assert.equal(rssOver({ rss: 226 * MB, rssPid: 41 }, 41, 0), false);
});

test('judgeWorkers: harakiri before reload-on-rss, a stopping or unready worker is never recycled, slots by worker and threads', () => {
  const slot = (o = {}) => ({ requestStart: 0, request: '', rss: 0, rssPid: 0, ...o });
  const MB = 1024 * 1024;
  // Two threads a worker: worker A on slots 0-1, B on 2-3, C on 4-5, D on 6-7.
  const board = [
    slot({ rss: 200 * MB, rssPid: 10 }), slot({ requestStart: NOW - 5000, request: 'GET /hang' }), // A: stuck on core 1, and over rss
    slot({ rss: 200 * MB, rssPid: 20 }), slot(), // B: over rss
    slot({ rss: 200 * MB, rssPid: 30 }), slot(), // C: over rss, but stopping
    slot({ rss: 200 * MB, rssPid: 99 }), slot(), // D: a predecessor's reading (pid 99)
  ];
  const A = { name: 'A', pid: 10, slot: 0, ready: true, stopping: false };
  const B = { name: 'B', pid: 20, slot: 2, ready: true, stopping: false };
  const C = { name: 'C', pid: 30, slot: 4, ready: true, stopping: true };
  const D = { name: 'D', pid: 40, slot: 6, ready: true, stopping: false };
  const limits = { harakiri: 3, rssBytes: 100 * MB, threads: 2 };
  const got = judgeWorkers([A, B, C, D], board, NOW, limits).map((v) => [v.worker.name, v.kind, v.kind === 'harakiri' ? v.harakiri.request : v.rss / MB]);
  assert.deepEqual(got, [
    ['A', 'harakiri', 'GET /hang'],
    ['B', 'reload-on-rss', 200],
  ]);
  assert.deepEqual(judgeWorkers([A, B], board, NOW, { harakiri: 0, rssBytes: 0, threads: 2 }), []);
  assert.deepEqual(judgeWorkers([{ ...B, ready: false }], board, NOW, limits), []);
  // One thread a worker: A's slot 1 is another worker's, and A is judged by slot 0 alone.
  assert.deepEqual(judgeWorkers([A], board, NOW, { ...limits, threads: 1 }).map((v) => v.kind), ['reload-on-rss']);
});
