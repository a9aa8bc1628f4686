// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// The fuzz run: garbage, mutated and well-formed requests, split, reset, over HTTP and
// uwsgi, with a probe every 100 ms (test/lib/fuzz.mjs). FAULTS_SEED=<n> replays the run
// of that seed (its seed is printed as a diagnostic). When the run fails, its last inputs
// (bytes, splits, delays, endings) are written to a JSON file named in the failure message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay } from '../lib/wait.mjs';
import { assertClean, assertStops, baseline, rssKiB, startTsgi } from '../lib/faults-server.mjs';
import { prober } from '../lib/faults-clients.mjs';
import { fuzzConnection, mulberry32, writeRepro } from '../lib/fuzz.mjs';

test('fuzz: random garbage and mutated requests over HTTP and uwsgi, 20 clients, 8 s; the server stays up, probes all get 200, fds and temp files come back', { timeout: 40000 }, async (t) => {
  const seed = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
  t.diagnostic(`fuzz seed ${seed} (FAULTS_SEED=${seed} replays it)`);
  const srv = await startTsgi(t, ['--post-buffering', '1024', '--http-timeout', '2', '--buffer-size', '4096', '--limit-post', '10000000']);
  const base = await baseline(srv);
  const rss0 = rssKiB(srv.pid);
  const ring = [];
  const stats = { connections: 0, statuses: {}, unexpected: [], connectFailures: [], refusalsSeen: 0, validSent: 0, validUnanswered: [] };
  const DURATION = 8000;
  const MAX_CONNECTIONS = 20000;
  const until = Date.now() + DURATION;
  const probes = prober(srv, 100);
  const workers = Array.from({ length: 20 }, (_, w) => {
    const r = mulberry32((seed + Math.imul(w + 1, 0x9e3779b1)) >>> 0);
    return (async () => {
      for (let seq = 0; Date.now() < until && stats.connections < MAX_CONNECTIONS && srv.exit === undefined; seq++) {
        await fuzzConnection(r, srv, ring, stats, w, seq);
      }
    })();
  });
  await Promise.all(workers);
  const probed = await probes.stop();
  const died = srv.exit;
  let repro;
  if (died !== undefined || probed.failures.length > 0 || stats.unexpected.length > 0 || stats.validUnanswered.length > 0) repro = writeRepro(srv, seed, ring, stats);
  t.diagnostic(`fuzz: ${stats.connections} connections (${stats.validSent} valid and read), statuses ${JSON.stringify(stats.statuses)}; ${probed.count} probes, slowest ${probed.maxMs} ms; refusal log lines: ${srv.counts.refusedHttp} http, ${srv.counts.refusedUwsgi} uwsgi`);
  // Every symptom is collected, so that one does not hide the others.
  const problems = [];
  if (died !== undefined) problems.push(`the server died during the fuzz run (${JSON.stringify(died)}); stderr:\n${srv.tail}`);
  problems.push(...probed.failures.map((f) => `probe failed: ${f}`));
  problems.push(...stats.connectFailures.map((f) => `a fuzz client could not connect: ${f}`));
  problems.push(...stats.unexpected.slice(0, 5).map((u) => `${u.proto}: unexpected answer ${JSON.stringify(u.answer.slice(0, 80))} to ${u.input}`));
  if (stats.validUnanswered.length > 0) {
    // Tell the two shapes apart: a uwsgi packet whose first piece ended inside its vars block, and anything else.
    const split = (u) => u.proto === 'uwsgi' && Buffer.from(u.pieces[0], 'latin1').length < 4 + Buffer.from(u.pieces.join(''), 'latin1').readUInt16LE(1);
    const inBlock = stats.validUnanswered.filter(split);
    const other = stats.validUnanswered.filter((u) => !split(u));
    if (inBlock.length) problems.push(`${inBlock.length} valid uwsgi requests whose packet arrived in pieces (the first piece ending inside the vars block) were not answered within 1 s; e.g. pieces of ${inBlock[0].pieces.map((p) => p.length).join('+')} bytes, ${inBlock[0].delays.join('/')} ms apart: ${inBlock[0].answer}`);
    for (const u of other.slice(0, 5)) problems.push(`a well-formed ${u.proto} input in ${u.pieces.length} pieces did not get its ${u.expect}: ${u.answer}`);
  }
  if (stats.connections <= 200) problems.push(`not a real run: ${stats.connections} connections`);
  if (probed.count < 40) problems.push(`the probes did not run throughout: ${probed.count}`);
  // Every 4xx a client saw has its log line (more lines is fine: a client that reset
  // before reading its answer was still refused).
  await delay(200);
  if (srv.counts.refusedHttp < stats.refusalsSeen) problems.push(`fewer "refused" log lines (${srv.counts.refusedHttp}) than refusals seen (${stats.refusalsSeen})`);
  if (srv.counts.refusedUwsgi === 0) problems.push('no "refused uwsgi packet" log line');
  problems.push(...srv.other.map((l) => `an unexpected line on the server's stderr: ${l}`));
  try {
    const fds = await assertClean(srv, base, 'after the fuzz run');
    t.diagnostic(`fds: baseline ${base}, after ${fds}; RSS ${rss0} KiB -> ${rssKiB(srv.pid)} KiB`);
    await assertStops(srv);
  } catch (err) {
    problems.push(err.message);
  }
  if (problems.length > 0 && repro === undefined) repro = writeRepro(srv, seed, ring, stats);
  assert.deepEqual(problems, [], `the fuzz run (seed ${seed}; the last inputs are in ${repro})`);
});
