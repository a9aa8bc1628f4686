// --static-map MOUNT=DIR and --static-index: files served by tsgi itself, on both
// backends, with the CLI as a user runs it: bytes on the wire, and what falls through to
// the application. Files live in a temporary directory, removed at the end.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';

const T = { timeout: 20000 };

for (const backend of BACKENDS) {
  describe(`--static-map (${backend} backend)`, () => {
    let root;
    let cli;
    let port;
    const big = Buffer.alloc(300 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'tsgi-static-'));
      const dir = join(root, 'public');
      mkdirSync(join(dir, 'css'), { recursive: true });
      mkdirSync(join(dir, 'docs'));
      mkdirSync(join(dir, 'empty'));
      writeFileSync(join(dir, 'css', 'site.css'), 'body { color: red }\n');
      writeFileSync(join(dir, 'big.bin'), big);
      writeFileSync(join(dir, 'docs', 'index.html'), '<h1>docs</h1>\n');
      writeFileSync(join(dir, 'café.txt'), 'utf-8 name\n');
      writeFileSync(join(root, 'secret.txt'), 'not for you\n');
      symlinkSync(join(root, 'secret.txt'), join(dir, 'escape.txt'));
      utimesSync(join(dir, 'css', 'site.css'), new Date('2026-01-02T03:04:05Z'), new Date('2026-01-02T03:04:05Z'));
      cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--static-map', `/static=${dir}`, '--static-index', 'index.html', '--disable-logging', '--wsgi-file', join(FIXTURES, 'app.mjs')]);
      port = cli.sockets.find((s) => s.kind === 'tcp').port;
    });
    after(async () => {
      await cli?.kill();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    const get = (path, headers = [], method = 'GET') => request(port, req(method, path, [...headers, ['Connection', 'close']]), { timeoutMs: 5000, method });

    test('a file under the mount: 200, its bytes, Content-Type by extension, Content-Length, Last-Modified', T, async () => {
      const r = await get('/static/css/site.css');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'body { color: red }\n');
      assert.equal(r.header('content-type'), 'text/css');
      assert.equal(r.header('content-length'), '20');
      assert.equal(r.header('last-modified'), 'Fri, 02 Jan 2026 03:04:05 GMT');
    });

    test('a 300 KiB file arrives whole; HEAD has the length and no body', T, async () => {
      const r = await get('/static/big.bin');
      assert.equal(r.status, 200);
      assert.equal(r.header('content-type'), 'application/octet-stream');
      assert.ok(Buffer.compare(r.body, big) === 0, `${r.body.length} bytes`);
      const h = await get('/static/big.bin', [], 'HEAD');
      assert.equal(h.status, 200);
      assert.equal(h.header('content-length'), String(big.length));
      assert.equal(h.body.length, 0);
    });

    test('If-Modified-Since at or after the file: 304, no body; before it: 200', T, async () => {
      const same = await get('/static/css/site.css', [['If-Modified-Since', 'Fri, 02 Jan 2026 03:04:05 GMT']]);
      assert.equal(same.status, 304);
      assert.equal(same.body.length, 0);
      const older = await get('/static/css/site.css', [['If-Modified-Since', 'Thu, 01 Jan 2026 00:00:00 GMT']]);
      assert.equal(older.status, 200);
    });

    test('a directory with --static-index gets its index; a percent-encoded UTF-8 name is found', T, async () => {
      const d = await get('/static/docs/');
      assert.equal(d.status, 200);
      assert.equal(d.body.toString(), '<h1>docs</h1>\n');
      assert.equal(d.header('content-type'), 'text/html');
      const u = await get('/static/caf%C3%A9.txt');
      assert.equal(u.status, 200);
      assert.equal(u.body.toString(), 'utf-8 name\n');
    });

    test('what is not a file under the mount goes to the application: missing, a directory without index, "..", a symlink out, POST, another prefix', T, async () => {
      for (const [method, path] of [
        ['GET', '/static/missing.css'],
        ['GET', '/static/empty/'],
        ['GET', '/static/../secret.txt'],
        ['GET', '/static/%2e%2e/secret.txt'],
        ['GET', '/static/escape.txt'],
        ['POST', '/static/css/site.css'],
        ['GET', '/staticx/css/site.css'],
      ]) {
        const r = await request(port, req(method, path, [['Connection', 'close'], ...(method === 'POST' ? [['Content-Length', '0']] : [])]), { timeoutMs: 5000 });
        assert.equal(r.status, 200, `${method} ${path}`);
        assert.match(r.body.toString(), /^hello from mjs /, `${method} ${path} reaches the application: ${r.body.toString()}`);
        assert.doesNotMatch(r.body.toString(), /not for you/);
      }
    });
  });
}

test('a static-map whose directory does not exist stops the start: one line, exit 1', T, async (t) => {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--static-map', '/s=/nonexistent/tsgi-static', '--wsgi-file', join(FIXTURES, 'app.mjs')]);
  t.after(() => cli.kill());
  const { code } = await cli.waitExit(8000);
  assert.equal(code, 1);
  assert.match(cli.stderrText(), /static-map "\/s=\/nonexistent\/tsgi-static": \/nonexistent\/tsgi-static: no such directory/);
});
