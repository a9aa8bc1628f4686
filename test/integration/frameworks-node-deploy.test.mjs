// The Express application of test/fixtures/frameworks/ served through the node interface
// as it is deployed: by the CLI under --master with a SIGHUP reload under a bounded load
// (no request fails), and over uwsgi behind a real nginx (skipped, saying so, without
// nginx). Loopback only; every process is stopped by pid and checked gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from '../lib/wait.mjs';
import { req } from '../lib/http-wire.mjs';
import { request } from '../lib/raw-client.mjs';
import { startCli } from '../lib/cli.mjs';
import { get, readyMaster, killAll, stopGracefully } from '../lib/master.mjs';
import { findNginx, findUwsgiParams, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { FRAMEWORK_DIR, UPLOAD, UPLOAD_DIGEST } from '../lib/frameworks.mjs';

const EXPRESS = join(FRAMEWORK_DIR, 'express-app.mjs');
const T = { timeout: 60000 };
const NGINX_SKIP = !findNginx() ? 'nginx is not installed (Debian: apt-get install nginx-light)' : !findUwsgiParams() ? 'no uwsgi_params' : false;

/** width loops of GET path on fresh connections until deadline: every answer, and every failure. */
async function load(port, path, ms, width = 6) {
  const deadline = Date.now() + ms;
  const answers = [];
  const failures = [];
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (Date.now() < deadline) {
        try {
          answers.push(await get(port, path, 10000));
        } catch (err) {
          failures.push(err.message);
        }
      }
    }),
  );
  return { answers, failures };
}

test('Express under --master: a SIGHUP reload under load fails no request, and the new workers serve it', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging'], { app: EXPRESS });
    const before = m.children();
    const running = load(m.portNumber, '/hello?name=master', 3500);
    await delay(1000);
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: chain reload done$/m, 20000);
    const { answers, failures } = await running;
    assert.deepEqual(failures, [], `no request failed; log:\n${m.log()}`);
    assert.ok(answers.length >= 20, `a load (${answers.length} requests)`);
    for (const a of answers) {
      assert.equal(a.status, 200);
      assert.equal(a.body, 'hello master\n');
    }
    const after = m.children();
    assert.equal(after.length, 2);
    for (const p of after) assert.ok(!before.includes(p), `every worker pid changed: before ${before}, after ${after}`);
    assert.equal((await get(m.portNumber, '/hello?name=after')).body, 'hello after\n');
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

test('Express over uwsgi behind nginx: routes, cookies, the browser\'s address, a streamed body, a 5 MB upload', { ...T, skip: NGINX_SKIP }, async () => {
  const dir = makeTempDir('tsgi-frameworks-');
  const sock = join(dir, 'app.sock');
  let tsgi;
  let nginx;
  try {
    tsgi = await startCli(['--socket', sock, '--chmod-socket', '--disable-logging', '--wsgi-file', EXPRESS]);
    nginx = await startNginx({ upstream: sock });
    const hello = await request(nginx.port, req('GET', '/hello?name=nginx'));
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), 'hello nginx\n');
    assert.equal(hello.header('x-powered-by'), 'Express');
    const cookies = await request(nginx.port, req('GET', '/cookies', [['Cookie', 'k=v']]));
    assert.deepEqual(cookies.headerAll('set-cookie'), ['first=one; Path=/; HttpOnly', 'second=two; Path=/cookies; SameSite=Lax']);
    assert.deepEqual(JSON.parse(cookies.body), { cookie: 'k=v' });
    const peer = JSON.parse((await request(nginx.port, req('GET', '/peer'))).body);
    assert.equal(peer.remoteAddress, '127.0.0.1', "REMOTE_ADDR from nginx: the browser's address");
    assert.equal(peer.ip, '127.0.0.1');
    const stream = await request(nginx.port, req('GET', '/stream'));
    assert.equal(stream.body.toString(), 'part one\npart two\npart three, the last\n');
    const upload = await request(nginx.port, [req('POST', '/upload', [['Content-Type', 'application/octet-stream'], ['Content-Length', String(UPLOAD.length)]]), UPLOAD], { timeoutMs: 15000 });
    assert.deepEqual(JSON.parse(upload.body), UPLOAD_DIGEST);
    const missing = await request(nginx.port, req('GET', '/nowhere'));
    assert.equal(missing.status, 404);
  } finally {
    await nginx?.stop();
    if (tsgi) {
      tsgi.signal('SIGTERM');
      await tsgi.waitExit(5000).catch(() => tsgi.kill());
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
