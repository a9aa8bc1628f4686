// Socket files behind a real nginx: a stale one is replaced, one a live process serves is
// left alone (tsgi exits 1), --vacuum removes it at the end, an abstract socket, and
// serve(app, { socket }) in-process.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chmodSync, existsSync, lstatSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';
import { parseResponse } from '../lib/http-wire.mjs';
import { withTimeout } from '../lib/wait.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { makeTempDir, makeStaleSocket } from '../lib/temp.mjs';
import { rawExchange, uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';
import { serve } from '../../dist/lib/index.js';
import { application } from '../fixtures/nginx/app.mjs';
import { APP, SKIP, T, get, stopTsgi, noteSkipped } from '../lib/nginx-suite.mjs';

noteSkipped();

describe('socket files: stale, live, --vacuum, abstract', { skip: SKIP }, () => {
  let dir;
  before(() => {
    dir = makeTempDir('tsgi-sock-');
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a stale socket file (its process was SIGKILLed) is replaced: tsgi starts and serves through nginx', T, async (t) => {
    const sock = join(dir, 'stale.sock');
    await makeStaleSocket(sock);
    assert.ok(lstatSync(sock).isSocket(), 'the stale file is there');
    const tsgi = await startCli(['--socket', sock, '--chmod-socket', '--wsgi-file', APP]);
    t.after(() => stopTsgi(tsgi));
    const nginx = await startNginx({ upstream: sock });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/after-stale');
    assert.equal(res.status, 200, nginx.errorLog());
    assert.equal(res.body.toString(), 'hello from nginx app /after-stale\n');
  });

  test('a stale socket file before tsgi replaces it: nginx answers 502, (111: Connection refused)', T, async (t) => {
    const sock = join(dir, 'dead.sock');
    await makeStaleSocket(sock);
    chmodSync(sock, 0o666); // else the workers get (13: Permission denied) first
    const nginx = await startNginx({ upstream: sock });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/dead');
    assert.equal(res.status, 502);
    assert.ok(nginx.errorLog().includes(`connect() to unix:${sock} failed (111: Connection refused)`), nginx.errorLog());
  });

  test('a socket a live process serves: tsgi exits 1 with "another live process serves this socket", and leaves it alone', T, async (t) => {
    const sock = join(dir, 'live.sock');
    const live = net.createServer((c) => {
      c.on('error', () => {}); // tsgi's probe connects and goes: ECONNRESET here
      c.end('still mine\n');
    });
    await new Promise((resolve, reject) => {
      live.once('error', reject);
      live.listen(sock, resolve);
    });
    t.after(() => new Promise((resolve) => live.close(() => resolve())));
    const cli = spawnCli(['--socket', sock, '--wsgi-file', APP]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(10000);
    assert.equal(code, 1, cli.stderrText());
    assert.match(cli.stderrText(), /^tsgi: cannot listen on .*live\.sock: another live process serves this socket$/m);
    // The live socket still answers its owner's way.
    const r = await rawExchange(sock, '', { timeoutMs: 3000 });
    assert.equal(r.text, 'still mine\n');
  });

  for (const vacuum of [true, false]) {
    test(vacuum ? '--vacuum removes the socket file after SIGTERM' : 'without --vacuum the socket file stays after SIGTERM (uWSGI\'s behaviour)', T, async () => {
      const sock = join(dir, `vacuum-${vacuum}.sock`);
      const tsgi = await startCli(['--socket', sock, '--chmod-socket', ...(vacuum ? ['--vacuum'] : []), '--disable-logging', '--wsgi-file', APP]);
      try {
        assert.ok(lstatSync(sock).isSocket());
        const r = await uwsgiRequest(sock, nginxLikeVars({ uri: '/v' }));
        assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
      } finally {
        const { code } = await stopTsgi(tsgi);
        assert.equal(code, 0, tsgi.stderrText());
      }
      assert.equal(existsSync(sock), !vacuum, vacuum ? '--vacuum removed it' : 'without --vacuum it stays (uWSGI unlinks only with --vacuum)');
    });
  }

  test('an abstract socket @tsgi-test-<pid>: tsgi serves it; nginx 1.22 cannot reach it (unix:@name is a file path to nginx)', T, async (t) => {
    const name = `@tsgi-test-${process.pid}`;
    const tsgi = await startCli(['--socket', name, '--chmod-socket', '--vacuum', '--wsgi-file', APP]);
    t.after(() => stopTsgi(tsgi));
    assert.equal(tsgi.sockets[0].address, name);
    const direct = await uwsgiRequest(name, nginxLikeVars({ uri: '/abstract' }));
    assert.equal(parseResponse(direct.data).status, 200);
    assert.equal(parseResponse(direct.data).body.toString(), 'hello from nginx app /abstract\n');
    assert.equal(existsSync(join(ROOT, name)), false, 'no file named @... was made');
    const nginx = await startNginx({ upstream: `unix:${name}` });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/abstract');
    assert.equal(res.status, 502, 'nginx 1.22 has no abstract-socket support');
    assert.ok(nginx.errorLog().includes(`connect() to unix:${name} failed (2: No such file or directory)`), nginx.errorLog());
  });

  test('serve(app, { socket, chmodSocket: "666", vacuum }) in-process, behind nginx', T, async (t) => {
    const sock = join(dir, 'inproc.sock');
    const server = await serve(application, { socket: sock, chmodSocket: '666', vacuum: true, disableLogging: true });
    t.after(() => server.destroy());
    assert.deepEqual({ ...server.address }, { address: sock, port: 0, family: 'unix', protocol: 'uwsgi', spec: sock });
    assert.equal(statSync(sock).mode & 0o777, 0o666);
    const nginx = await startNginx({ upstream: sock });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/inproc');
    assert.equal(res.status, 200, nginx.errorLog());
    assert.equal(res.body.toString(), 'hello from nginx app /inproc\n');
    await withTimeout(server.close(), 5000, 'server.close()');
    assert.equal(existsSync(sock), false, 'vacuum: removed on close()');
  });
});
