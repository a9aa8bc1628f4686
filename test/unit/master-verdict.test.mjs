// The master's watchdog verdicts (lib/process/master-verdict.ts), from made-up scoreboard
// readings: no process, no clock (now is given).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harakiriVerdict, rssOver } from '../../dist/lib/process/master-verdict.js';

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
