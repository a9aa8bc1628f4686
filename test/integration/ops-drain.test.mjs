// --shutdown-delay: SIGTERM under load, as Kubernetes sends it. /readyz turns 503 at
// once while the server serves on for the delay; then the sockets close (a new
// connection is refused), keep-alive connections close (the response in progress says
// "Connection: close", an idle one is closed), the request in progress finishes, and
// the process exits 0. The client is a load balancer's: 4 loops of keep-alive requests
// that reconnect when a connection closes, and stop sending a while (less than the
// delay) after /readyz said 503, as a load balancer does once its probe has seen it.
// No request may be lost: every one sent gets a complete response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { connect } from '../lib/raw-client.mjs';
import { delay, waitUntil } from '../lib/wait.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { get, statsPort } from '../lib/ops.mjs';
import { httpGet } from '../lib/http-client.mjs';

const APP = join(FIXTURES, 'ops-app.mjs');
const DELAY_S = 2;
const LAG_MS = 1000; // the load balancer's: from /readyz 503 to no more requests (< the delay)
const LOOPS = 4;

const request = (port, path, agent) => httpGet(port, path, { agent, timeoutMs: 10000, encoding: 'utf8', requireComplete: true });

function refused(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (err) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function drainUnderLoad(t, args) {
  const cli = spawnCli([...args, '--http', '127.0.0.1:0', '--stats', '127.0.0.1:0', '--stats-http', '--shutdown-delay', String(DELAY_S), '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    const stats = await statsPort(cli);
    await waitUntil(async () => (await get(stats, '/readyz')).status === 200, 10000, '/readyz to say 200');

    // An idle keep-alive connection: the server closes it once the delay is out.
    const idle = connect(port);
    await idle.connected;
    await idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.waitFor((d) => /\r\n\r\nok \d+\n$/.test(d.toString('latin1')));

    const counts = { sent: 0, answered: 0, failed: 0, refused: 0, answeredAfter503: 0, connectionClose: 0 };
    const failures = [];
    let seen503At = 0;
    let sigtermAt = 0;
    const hardStop = Date.now() + 15000;
    const sending = () => Date.now() < hardStop && (seen503At === 0 || Date.now() < seen503At + LAG_MS);
    const loop = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (sending()) {
        counts.sent++;
        try {
          const r = await request(port, '/', agent);
          assert.equal(r.status, 200);
          counts.answered++;
          if (seen503At > 0) counts.answeredAfter503++;
          if (r.headers.connection === 'close') counts.connectionClose++;
        } catch (err) {
          if (err.code === 'ECONNREFUSED') counts.refused++;
          else {
            counts.failed++;
            failures.push(err.code ?? err.message);
          }
        }
      }
      agent.destroy();
    };
    // The load balancer's probe.
    const probe = (async () => {
      while (seen503At === 0 && Date.now() < hardStop) {
        const r = await get(stats, '/readyz');
        if (r.status === 503) {
          assert.match(r.body, /draining/);
          seen503At = Date.now();
        } else {
          await delay(100);
        }
      }
    })();
    const loops = Array.from({ length: LOOPS }, loop);
    await delay(500);
    const answeredBefore = counts.answered;
    assert.ok(answeredBefore > 0, 'the loops are under way');
    sigtermAt = Date.now();
    cli.signal('SIGTERM');
    await cli.waitStderr(new RegExp(`SIGTERM received: draining for ${DELAY_S} s \\(readyz 503\\)`));
    await probe;
    assert.ok(seen503At > 0 && seen503At - sigtermAt < 1000, `/readyz said 503 ${seen503At - sigtermAt} ms after SIGTERM`);
    // Liveness is not readiness: /healthz says 200 throughout the drain.
    assert.equal((await get(stats, '/healthz')).status, 200);

    // A request that is in progress when the delay is out: it finishes, and says that
    // its connection closes.
    await delay(sigtermAt + DELAY_S * 1000 - 500 - Date.now());
    const slowAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const slow = request(port, '/sleep?2500', slowAgent);
    await Promise.all(loops);
    const stderr = await cli.waitStderr(/stopping gracefully: the sockets close, requests in progress finish \(reload-mercy 60 s\)/, 5000);
    assert.ok(!/goodbye/.test(stderr), 'the process waits for the request in progress');
    // In master mode the socket closes once every worker has closed its descriptors,
    // which each does as soon as it hears of the stop.
    await waitUntil(() => refused(port), 1500, 'a new connection to be refused once the sockets closed');
    assert.ok(!/goodbye/.test(cli.stderrText()), 'refused while a request is still in progress');
    const s = await slow;
    assert.equal(s.status, 200);
    assert.match(s.body, /^slept \d+\n$/);
    assert.equal(s.headers.connection, 'close');
    slowAgent.destroy();
    await idle.waitClose(5000);
    assert.equal(idle.text.match(/HTTP\/1\.1 /g).length, 1, 'the idle connection got nothing more');

    const exit = await cli.waitExit(10000);
    assert.deepEqual(exit, { code: 0, signal: null });
    t.diagnostic(`sent ${counts.sent}, answered ${counts.answered} (${counts.answeredAfter503} after /readyz said 503), failed ${counts.failed}, refused ${counts.refused}`);
    assert.deepEqual(failures, [], 'no request lost');
    assert.equal(counts.answered, counts.sent);
    assert.equal(counts.refused, 0, 'the client stopped before the sockets closed');
    assert.ok(counts.answeredAfter503 > 0, 'requests that came during the delay were served');
    assert.match(cli.stderrText(), /goodbye/);
    return cli.stderrText();
  } finally {
    await cli.kill();
  }
}

test('single process, native backend: SIGTERM with --shutdown-delay under load loses no request', async (t) => {
  await drainUnderLoad(t, ['--backend', 'native', '--disable-logging']);
});

test('single process, js backend: SIGTERM with --shutdown-delay under load loses no request', async (t) => {
  await drainUnderLoad(t, ['--backend', 'js', '--disable-logging']);
});

test('master mode, 2 workers: SIGTERM with --shutdown-delay under load loses no request', async (t) => {
  const log = await drainUnderLoad(t, ['--master', '--no-orphans', '--processes', '2', '--disable-logging']);
  assert.match(log, /worker 1 \(pid: \d+\) stopped \(exit code 0\)/);
  assert.match(log, /worker 2 \(pid: \d+\) stopped \(exit code 0\)/);
});

test('master mode, SIGTERM without a delay under clients that reconnect until refused: every connection accepted is answered, the others are refused', async (t) => {
  // A client that does not follow /readyz keeps reconnecting while the workers stop.
  // The master closes its descriptors of the sockets as the stop begins, and each worker
  // accepts what waits before its own close: no connection waits in a queue that nobody
  // accepts from, to be reset when the master closes the socket at its exit.
  const cli = spawnCli(['--master', '--no-orphans', '--processes', '2', '--disable-logging', '--http', '127.0.0.1:0', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    await cli.waitStderr(/worker 2 \(pid: \d+\) ready[^]*worker 1 \(pid: \d+\) ready|worker 1 \(pid: \d+\) ready[^]*worker 2 \(pid: \d+\) ready/, 10000);
    const counts = { sent: 0, answered: 0, failed: 0, refused: 0, resetInQueue: 0 };
    const failures = [];
    const hardStop = Date.now() + 10000;
    const loop = async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      while (Date.now() < hardStop) {
        counts.sent++;
        try {
          assert.equal((await request(port, '/', agent)).status, 200);
          counts.answered++;
        } catch (err) {
          if (err.code === 'ECONNREFUSED') {
            counts.refused++;
            break;
          }
          // A new connection reset before any byte of an answer: the kernel completed its
          // handshake after the last worker's last accept() and before that worker's
          // close(), and resets what waits in the queue at the close. No process can close
          // that window (uWSGI and nginx have it too); the request was never read, so the
          // client may send it elsewhere, as after a refusal. A reset on a kept-alive
          // connection, or a close without an answer ("socket hang up": a FIN, from a
          // process that had accepted), would be a request lost: it fails.
          if (err.code === 'ECONNRESET' && err.syscall === 'read' && !err.reusedSocket) {
            counts.refused++;
            counts.resetInQueue++;
            break;
          }
          counts.failed++;
          failures.push(err.code ?? err.message);
        }
      }
      agent.destroy();
    };
    const loops = Array.from({ length: LOOPS }, loop);
    await delay(700);
    cli.signal('SIGTERM');
    await Promise.all(loops);
    assert.deepEqual(await cli.waitExit(10000), { code: 0, signal: null });
    t.diagnostic(`sent ${counts.sent}, answered ${counts.answered}, failed ${counts.failed}, refused ${counts.refused} (${counts.resetInQueue} of them reset in the queue)`);
    assert.deepEqual(failures, [], 'no connection accepted and then reset');
    assert.equal(counts.refused, LOOPS, 'each loop ends on a refusal');
    assert.equal(counts.answered + counts.refused, counts.sent);
  } finally {
    await cli.kill();
  }
});
