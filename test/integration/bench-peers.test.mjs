// The bench's peers scenario compares servers that must answer the same requests with
// the same bytes: bench/apps/peers.ts on tsgi (both backends), bench/peers/node-http.mjs
// --scenario peers, uWebSockets.js and Bun (bench/peers/uws.mjs, bun.mjs: only when
// npm run bench:peers-install put them in bench/.peers; skipped otherwise) and nginx's
// "return 200" (bench/lib/nginx.mjs, when nginx is installed). Each route the scenario
// loads (PEER_CELLS) is requested once from each, over a real socket on 127.0.0.1, and
// the answer compared with what the bench checks before it loads a server: status 200,
// the body byte for byte, the Content-Type and the Content-Length. Then the await route
// is timed loosely (it must have waited, not answered at once). Each server is stopped by pid.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { PEER_CELLS } from '../../bench/lib/peers-cells.mjs';
import { bunBin, uwsNode } from '../../bench/lib/peers-install.mjs';
import { findNginx, startNginx, stopNginx } from '../../bench/lib/nginx.mjs';

const APP = join(ROOT, 'bench', 'apps', 'peers.ts');
const T = { timeout: 60000 };

/** The raw request of a cell, Connection: close. */
function cellRequest(cell) {
  if (!cell.bodyBytes) return req('GET', cell.path, [['Connection', 'close']]);
  return req('POST', cell.path, [['Content-Type', 'application/octet-stream'], ['Content-Length', String(cell.bodyBytes)], ['Connection', 'close']], 'x'.repeat(cell.bodyBytes));
}

async function assertCell(port, cell) {
  const res = await request(port, cellRequest(cell), { method: cell.bodyBytes ? 'POST' : 'GET', timeoutMs: 10000 });
  assert.equal(res.status, 200, `${cell.path}: status`);
  assert.equal(res.header('content-type')?.split(';')[0], cell.expect.contentType, `${cell.path}: Content-Type`);
  assert.equal(res.header('content-length'), cell.expect.contentLength, `${cell.path}: Content-Length`);
  assert.equal(res.body.length, cell.expect.body.length, `${cell.path}: body length`);
  assert.ok(res.body.equals(cell.expect.body), `${cell.path}: body bytes`);
}

/** A server that prints "...: socket 0 bound to TCP address 127.0.0.1:PORT (http": its port. */
async function peerPort(cli) {
  const text = await cli.waitStderr(/socket 0 bound to TCP address 127\.0\.0\.1:\d+ \(http/, 15000);
  return Number(/socket 0 bound to TCP address 127\.0\.0\.1:(\d+) \(http/.exec(text)[1]);
}

const SERVERS = [
  ['tsgi --backend native', () => spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging']), (cli) => cli.port],
  ['tsgi --backend js', () => spawnCli(['--backend', 'js', '--http', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging']), (cli) => cli.port],
  ['node:http (node-http.mjs --scenario peers)', () => spawnCli(['--http', '127.0.0.1:0', '--scenario', 'peers'], { command: [process.execPath, join(ROOT, 'bench', 'peers', 'node-http.mjs')] }), peerPort],
  // On the Node that has uWebSockets.js's binary, as the bench starts it (bench/lib/servers.mjs).
  ['uWebSockets.js (uws.mjs)', () => spawnCli(['--http', '127.0.0.1:0'], { command: [uwsNode().node, join(ROOT, 'bench', 'peers', 'uws.mjs')] }), peerPort, uwsNode().absent ?? false],
  ['Bun (bun.mjs)', () => spawnCli(['--http', '127.0.0.1:0'], { command: [bunBin(), join(ROOT, 'bench', 'peers', 'bun.mjs')] }), peerPort, bunBin() ? false : 'not installed in bench/.peers (npm run bench:peers-install)'],
];

for (const [name, start, portOf, skip] of SERVERS) {
  describe(`bench peers: ${name}`, { skip }, () => {
    let cli;
    let port;
    before(async () => {
      cli = start();
      port = await portOf(cli);
    });
    after(async () => {
      await cli?.kill();
    });
    for (const cell of PEER_CELLS) {
      test(`${cell.name}: ${cell.bodyBytes ? 'POST' : 'GET'} ${cell.path} answers the bytes the bench expects`, T, async () => {
        await assertCell(port, cell);
      });
    }
    test('GET /sleep answers after its 10 ms timer, not at once', T, async () => {
      const t0 = process.hrtime.bigint();
      await assertCell(port, PEER_CELLS.find((c) => c.path === '/sleep'));
      assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 >= 9, 'answered before the timer could fire');
    });
  });
}

describe('bench peers: nginx return 200 (bench/lib/nginx.mjs)', { skip: findNginx() ? false : 'nginx is not installed' }, () => {
  let dir;
  let nginx;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsgi-test-nginx-return-'));
    nginx = await startNginx({ bin: findNginx(), dir, upstream: { kind: 'return' }, onSpawn: (n) => (nginx = n) });
  });
  after(async () => {
    if (nginx) await stopNginx(nginx);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  for (const cell of PEER_CELLS.filter((c) => c.nginx)) {
    test(`${cell.name}: GET / answers the hello bytes`, T, async () => {
      await assertCell(nginx.port, cell);
    });
  }
});
