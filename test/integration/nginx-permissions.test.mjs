// The unix-socket permission trap behind a real nginx: its workers run as nobody, so the
// socket's mode and owner (--chmod-socket, --chown-socket) and its directory decide
// between 200 and 502 Permission denied. Needs root: nginx only switches its workers to
// nobody when it starts as root.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startCli } from '../lib/cli.mjs';
import { nginxWorkers, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { APP, SKIP, SKIP_NOT_ROOT, T, get, stopTsgi, noteSkipped } from '../lib/nginx-suite.mjs';

noteSkipped();

describe('unix socket permissions: nginx workers run as nobody', { skip: SKIP || SKIP_NOT_ROOT }, () => {
  const dirs = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** tsgi with args on a fresh socket, nginx in front, one GET: [status, socket stat, nginx error log]. */
  async function trial(t, args, { dirMode } = {}) {
    const dir = makeTempDir('tsgi-sock-');
    dirs.push(dir);
    const sock = join(dir, 'app.sock');
    const tsgi = await startCli(['--socket', sock, ...args, '--disable-logging', '--wsgi-file', APP]);
    t.after(() => stopTsgi(tsgi));
    if (dirMode !== undefined) chmodSync(dir, dirMode);
    const nginx = await startNginx({ upstream: sock });
    t.after(() => nginx.stop());
    const res = await get(nginx.port, '/perm');
    const st = statSync(sock);
    return { status: res.status, body: res.body.toString(), mode: st.mode & 0o777, uid: st.uid, gid: st.gid, log: nginx.errorLog(), workers: nginxWorkers(nginx.pid), sock };
  }

  test('without --chmod-socket (mode from the umask, 0755): nginx answers 502, error.log says Permission denied', T, async (t) => {
    const old = process.umask(0o022);
    let r;
    try {
      r = await trial(t, []);
    } finally {
      process.umask(old);
    }
    assert.equal(r.mode, 0o755, `mode ${r.mode.toString(8)}`);
    assert.ok(r.workers.every((w) => w.user === 'nobody'), JSON.stringify(r.workers));
    assert.equal(r.status, 502);
    assert.ok(r.log.includes(`connect() to unix:${r.sock} failed (13: Permission denied) while connecting to upstream`), r.log);
  });

  test('with --chmod-socket (666): 200', T, async (t) => {
    const r = await trial(t, ['--chmod-socket']);
    assert.equal(r.mode, 0o666);
    assert.equal(r.status, 200, r.log);
    assert.equal(r.body, 'hello from nginx app /perm\n');
  });

  test('with --chown-socket nobody:nogroup --chmod-socket 660: 200', T, async (t) => {
    const r = await trial(t, ['--chown-socket', 'nobody:nogroup', '--chmod-socket', '660']);
    assert.equal(r.mode, 0o660);
    assert.equal(r.uid, 65534);
    assert.equal(r.gid, 65534);
    assert.equal(r.status, 200, r.log);
  });

  test('with --chmod-socket 660 but root:root: 502 Permission denied (the group must be the workers\')', T, async (t) => {
    const r = await trial(t, ['--chmod-socket', '660']);
    assert.equal(r.mode, 0o660);
    assert.equal(r.status, 502);
    assert.match(r.log, /failed \(13: Permission denied\)/);
  });

  test('a 666 socket in a directory nobody cannot search (0700): 502 Permission denied too', T, async (t) => {
    const r = await trial(t, ['--chmod-socket'], { dirMode: 0o700 });
    assert.equal(r.mode, 0o666);
    assert.equal(r.status, 502);
    assert.match(r.log, /failed \(13: Permission denied\)/);
  });
});
