// Faults against the native server as a user runs it: `node bin/tsgi.js` as a child
// process, HTTP and uwsgi (test/lib/faults-server.mjs: the server, and the standard every
// fault is held to: the right status and a log line for bad input, everyone else served
// on, nothing lost). Every process started here is killed by its pid, even on failure;
// every wait is bounded.
//
// Bad and broken-up input: garbage pipelined after a valid request gets the 200, then
// the 400 and the close; requests that arrive in pieces (split at any point, a byte at a
// time, HTTP and uwsgi) are served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delay, withTimeout, waitUntil } from '../lib/wait.mjs';
import { parseResponses } from '../lib/http-wire.mjs';
import { responses } from '../lib/raw-client.mjs';
import { nginxLikePacket } from '../lib/uwsgi-client.mjs';
import { assertClean, assertStops, baseline, startTsgi } from '../lib/faults-server.mjs';
import { HTTP, UWSGI, dial } from '../lib/faults-clients.mjs';

test('pipelined garbage: a valid request then garbage on one connection gets the 200, then the 400, then the close', { timeout: 20000 }, async (t) => {
  const srv = await startTsgi(t, []);
  const base = await baseline(srv);
  const cases = [
    ['sync app, one write', ['GET /first HTTP/1.1\r\nHost: a\r\n\r\nthis is \x01 not http\r\n\r\n']],
    ['sync app, garbage in a later write', ['GET /first HTTP/1.1\r\nHost: a\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n']],
    ['async app (200 ms), one write', ['GET /slow?tag=pipe HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n']],
    ['a body, then a bad request line', ['POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET  / HTTP/1.1\r\nHost: a\r\n\r\n']],
    ['keep-alive, then a huge garbage line', ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'X'.repeat(10000)]],
  ];
  for (const [name, pieces] of cases) {
    const refusedBefore = srv.counts.refusedHttp;
    const c = dial(HTTP(srv));
    await c.connected;
    for (const p of pieces) {
      await c.send(Buffer.from(p, 'latin1'));
      await delay(30);
    }
    await withTimeout(c.closed, 4000, `${name}: the server to close the connection`).catch((err) => {
      throw new Error(`${err.message}; got ${JSON.stringify(c.data.toString('latin1'))}`);
    });
    const all = parseResponses(c.data, { closed: true });
    assert.ok(all.length === 2 && all[0].status === 200 && (all[1].status === 400 || (name.includes('huge') && all[1].status === 431)), `${name}: ${JSON.stringify(c.data.toString('latin1'))}`);
    assert.ok(all.every((r) => r.complete), `${name}: complete responses`);
    assert.equal(all[1].header('connection'), 'close', `${name}: the refusal closes`);
    assert.equal(c.data.length, all[1].end, `${name}: nothing after the refusal`);
    await waitUntil(() => srv.counts.refusedHttp === refusedBefore + 1, 2000, `${name}: one "refused" line`);
    c.socket.destroy();
  }
  await assertClean(srv, base, 'after pipelined garbage');
  await assertStops(srv);
});

test('requests that arrive in pieces are served: HTTP heads and uwsgi packets split at any point, and a byte at a time', { timeout: 20000 }, async (t) => {
  const srv = await startTsgi(t, ['--http-timeout', '2']);
  const base = await baseline(srv);
  const inputs = [
    ['http GET', 'http', Buffer.from('GET /split HTTP/1.1\r\nHost: a\r\nUser-Agent: pieces\r\nConnection: close\r\n\r\n')],
    ['http POST', 'http', Buffer.from(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\nConnection: close\r\n\r\n${'p'.repeat(300)}`)],
    ['uwsgi GET', 'uwsgi', nginxLikePacket('GET', '/split')],
    ['uwsgi POST', 'uwsgi', nginxLikePacket('POST', '/echo', Buffer.alloc(300, 0x70))],
  ];
  const attempts = [];
  for (const [name, proto, bytes] of inputs) {
    const at = new Set([1, 2, 3, 4, 5, 9, 17, bytes.length >> 1, bytes.length - 301, bytes.length - 2, bytes.length - 1]);
    for (const a of at) if (a > 0 && a < bytes.length) attempts.push({ what: `${name} (${bytes.length} bytes) split at ${a}`, proto, pieces: [bytes.subarray(0, a), bytes.subarray(a)], gap: 50 });
    attempts.push({ what: `${name} (${bytes.length} bytes) a byte at a time`, proto, pieces: [...bytes].map((b) => Buffer.from([b])), gap: 2 });
  }
  // All at once: a server that waits for the rest of a packet forever costs 1 s here, not 2 s each.
  const results = await Promise.all(
    attempts.map(async ({ what, proto, pieces, gap }) => {
      const c = dial(proto === 'http' ? HTTP(srv) : UWSGI(srv));
      try {
        await withTimeout(c.connected, 2000, 'connect');
        for (const p of pieces) {
          await c.send(p);
          await delay(gap);
        }
        const sentAt = Date.now();
        await waitUntil(() => c.ended || responses(1)(c.data), 1000, 'x').catch(() => {});
        const res = parseResponses(c.data, { closed: c.ended }).find((r) => !r.interim && r.complete);
        if (res?.status !== 200) {
          return `${what}: ${res ? `answered ${res.status}` : `no answer ${Date.now() - sentAt} ms after the last byte`} (${c.ended ? 'closed' : 'still open'})`;
        }
        return undefined;
      } finally {
        c.socket.destroy();
      }
    }),
  );
  const failures = results.filter(Boolean);
  t.diagnostic(`${attempts.length} split requests, ${failures.length} not answered`);
  assert.deepEqual(failures, [], `every request that arrives in pieces is answered 200:\n${srv.tail.split('\n').filter((l) => l.includes('refused')).slice(-5).join('\n')}`);
  await assertClean(srv, base, 'after the split requests');
  await assertStops(srv);
});
