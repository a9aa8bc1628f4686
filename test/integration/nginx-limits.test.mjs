// Limits behind a real nginx (uwsgi_pass): --buffer-size (the uwsgi vars block: nginx
// answers 502, tsgi logs the refusal), --limit-post (tsgi's 413 through nginx, buffered,
// chunked or not) and nginx's own client_max_body_size.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { req } from '../lib/http-wire.mjs';
import { delay, waitUntil } from '../lib/wait.mjs';
import { startCli } from '../lib/cli.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { APP, SKIP, T, get, post, postChunked, stopTsgi, logSince, noteSkipped, BACKENDS } from '../lib/nginx-suite.mjs';

noteSkipped();

for (const backend of BACKENDS) {
  describe(`limits behind nginx (--backend ${backend})`, { skip: SKIP }, () => {
    const LIMIT = 100000;
    let dir;
    let sock;
    let tsgi;
    let nginx;
    let unbuffered;

    before(async () => {
      dir = makeTempDir('tsgi-sock-');
      sock = join(dir, 'app.sock');
      tsgi = await startCli(['--backend', backend, '--socket', sock, '--chmod-socket', '--buffer-size', '1024', '--limit-post', String(LIMIT), '--wsgi-file', APP]);
      nginx = await startNginx({ upstream: sock, clientMaxBodySize: '1m' });
      unbuffered = await startNginx({ upstream: sock, clientMaxBodySize: '100m', extraLocation: '            uwsgi_request_buffering off;' });
    });

    after(async () => {
      await nginx?.stop();
      await unbuffered?.stop();
      if (tsgi) await stopTsgi(tsgi);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const refusedPacket = () => tsgi.stderrText().match(/refused uwsgi packet: .*/g) ?? [];

    test('a request head over --buffer-size (a big header): nginx answers 502, tsgi logs "refused uwsgi packet"', T, async () => {
      const before = refusedPacket().length;
      const mark = nginx.errorLog().length;
      const res = await get(nginx.port, '/big', [['X-Big', 'b'.repeat(2000)]]);
      assert.equal(res.status, 502);
      assert.match(res.body.toString(), /502 Bad Gateway/);
      await waitUntil(() => refusedPacket().length > before, 3000, 'the refusal line');
      await delay(50);
      const lines = refusedPacket().slice(before);
      assert.equal(lines.length, 1, `one line: ${JSON.stringify(lines)}`);
      assert.match(lines[0], /buffer-size/);
      assert.match(logSince(nginx.errorLog(), mark), /upstream prematurely closed connection while reading response header from upstream/);
      assert.doesNotMatch(tsgi.stderrText(), /GET \/big =>/, 'the application never saw it');
      // The server is fine: a small request on the same socket, logged as uWSGI logs a
      // request that came through nginx (REMOTE_ADDR from nginx, the vars it sent).
      const ok = await get(nginx.port, '/small');
      assert.equal(ok.status, 200);
      const line = await tsgi.waitStderr(/GET \/small => .*\n/, 3000).then((s) => /^.*GET \/small => .*$/m.exec(s)[0]);
      assert.match(line, /^\[pid: \d+\|app: 0\|req: \d+\/\d+\] 127\.0\.0\.1 \(\) \{1[5-9] vars in \d+ bytes\} \[.+\] GET \/small => generated 28 bytes in \d+ msecs \(HTTP\/1\.1 200\) \d+ headers in \d+ bytes \(1 switches on core 0\)$/);
    });

    test('the refusal line reads "refused uwsgi packet: vars block larger than buffer-size"', T, async () => {
      const before = refusedPacket().length;
      await get(nginx.port, '/big2', [['X-Big', 'c'.repeat(2000)]]);
      await waitUntil(() => refusedPacket().length > before, 3000, 'the refusal line');
      const line = refusedPacket().slice(before)[0];
      assert.match(line, /^refused uwsgi packet: vars block larger than buffer-size$/, `one "uwsgi packet:" prefix, not two: ${JSON.stringify(line)}`);
    });

    test('a body at --limit-post passes; one byte over gets tsgi\'s 413 through nginx', T, async () => {
      const at = await post(nginx.port, Buffer.alloc(LIMIT, 'a'));
      assert.equal(at.status, 200);
      assert.equal(JSON.parse(at.body.toString()).length, LIMIT);
      for (const size of [LIMIT + 1, 500 * 1024]) {
        const res = await post(nginx.port, Buffer.alloc(size, 'b'));
        assert.equal(res.status, 413, `${size} bytes: ${res.body.toString().slice(0, 200)}`);
        assert.equal(res.body.toString(), 'Content Too Large\n', 'tsgi\'s own 413, passed on by nginx');
      }
    });

    test('a chunked body over --limit-post: nginx de-chunks it, tsgi answers 413', T, async () => {
      const res = await postChunked(nginx.port, Buffer.alloc(LIMIT * 2, 'c'), [4096, 65536]);
      assert.equal(res.status, 413);
      assert.equal(res.body.toString(), 'Content Too Large\n');
    });

    test('over --limit-post with uwsgi_request_buffering off (tsgi answers while nginx still sends): 413', T, async () => {
      for (const size of [LIMIT + 1, 5 * 1024 * 1024]) {
        const res = await post(unbuffered.port, Buffer.alloc(size, 'd'));
        assert.equal(res.status, 413, `${size} bytes: ${res.body.toString().slice(0, 200)}\n${unbuffered.errorLog()}`);
        assert.equal(res.body.toString(), 'Content Too Large\n');
      }
    });

    test('over nginx\'s client_max_body_size: nginx\'s own 413, tsgi never sees the request', T, async () => {
      await delay(150); // the lines of the tests before have reached the pipe
      const lines = tsgi.stderrText().split('\n').length;
      const res = await post(nginx.port, Buffer.alloc(2 * 1024 * 1024, 'e'));
      assert.equal(res.status, 413);
      assert.match(res.body.toString(), /413 Request Entity Too Large/, 'nginx\'s HTML page');
      assert.match(nginx.errorLog(), /client intended to send too large body/);
      await delay(150);
      assert.equal(tsgi.stderrText().split('\n').length, lines, `no line from tsgi: ${JSON.stringify(tsgi.stderrText().split('\n').slice(lines - 3))}`);
    });
  });
}
