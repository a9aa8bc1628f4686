// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// SIGTERM amid faults: requests in progress finish, idle and half-sent ones close, a
// reader that stalls is cut off, and the process exits 0 with nothing left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { parseResponses } from '../lib/http-wire.mjs';
import { responses } from '../lib/raw-client.mjs';
import { nginxLikePacket } from '../lib/uwsgi-client.mjs';
import { baseline, startTsgi, tempFds, waitLog } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, dial } from '../lib/faults-clients.mjs';

test('SIGTERM amid faults: requests in progress finish, idle and half-sent ones close, a reader that stalls is cut off, and the process exits 0 with nothing left behind', { timeout: 20000 }, async (t) => {
  const srv = await startTsgi(t, ['--http-timeout', '2', '--post-buffering', '1024']);
  await baseline(srv);
  const upload = dial(HTTP(srv));
  const running = dial(HTTP(srv));
  const idle = dial(HTTP(srv));
  const halfHead = dial(HTTP(srv));
  const halfPacket = dial(UWSGI(srv));
  const stalled = dial(HTTP(srv));
  stalled.socket.pause();
  const all = [upload, running, idle, halfHead, halfPacket, stalled];
  await withTimeout(Promise.all(all.map((c) => c.connected)), 3000, 'connections');
  await upload.send(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${'u'.repeat(50000)}`);
  await waitUntil(() => tempFds(srv) > 0, 2000, 'the upload to spill into a temporary file');
  await running.send('GET /slow?tag=term HTTP/1.1\r\nHost: a\r\n\r\n');
  await idle.send('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  await waitUntil(() => responses(1)(idle.data), 2000, 'the idle connection\'s first answer');
  await halfHead.send('GET / HTTP/1.1\r\nHost: a\r\nX-Ha');
  await halfPacket.send(nginxLikePacket('GET', '/').subarray(0, 30));
  await stalled.send('GET /big?tag=term-stalled&kib=1048576 HTTP/1.1\r\nHost: a\r\n\r\n');
  await delay(100);
  const termAt = Date.now();
  process.kill(srv.pid, 'SIGTERM');
  await delay(100);
  await upload.send('u'.repeat(50000));
  const exit = await withTimeout(srv.exited, 8000, 'the server to exit after SIGTERM');
  const exitMs = Date.now() - termAt;
  await waitUntil(() => [upload, running, idle, halfHead, halfPacket].every((c) => c.ended), 2000, 'every connection to close').catch(() => {});
  const answer = (c) => parseResponses(c.data, { closed: true }).filter((r) => !r.interim).map((r) => `${r.status} ${r.body.toString('latin1').trim()}`);
  const seen = {
    exit,
    upload: answer(upload),
    running: answer(running),
    idle: answer(idle),
    idleClosed: idle.ended,
    // A head begun gets its 408 when the close's grace ends, or is closed.
    halfHead: `${answer(halfHead).join() || 'nothing'}, closed: ${halfHead.ended}`,
    halfPacket: `${answer(halfPacket).join() || 'nothing'}, closed: ${halfPacket.ended}`,
    leftInTmp: readdirSync(srv.tmp).filter((n) => n.startsWith('tsgi-body')),
  };
  t.diagnostic(`SIGTERM: exited ${exitMs} ms later; ${JSON.stringify(seen)}; faults log: ${JSON.stringify(readFileSync(srv.log, 'latin1'))}`);
  for (const k of ['halfHead', 'halfPacket']) {
    assert.match(seen[k], /^(nothing|408 Request Timeout), closed: true$/, k);
    delete seen[k];
  }
  assert.deepEqual(seen, {
    exit: { code: 0, signal: null },
    upload: ['200 100000'],
    running: ['200 slow 0'],
    idle: ['200 ok'],
    idleClosed: true,
    leftInTmp: [],
  });
  assert.ok(exitMs < 6000, `exits within http-timeout and the linger (${exitMs} ms)`);
  await waitLog(srv, ['close term', /^close term-stalled sent=\d+$/m]);
});
