// WebSockets behind a real nginx (docs/websockets.md): proxy_pass over HTTP, with the
// Upgrade and Connection headers passed on, carries the handshake and the frames both
// ways, to a TCP and to a unix HTTP socket (the connection handed over is then a unix
// one); uwsgi_pass cannot (nginx's uwsgi module sends no Upgrade on and takes no 101
// back): the application sees an ordinary request. Both backends.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { BACKENDS, SKIP, T, get, noteSkipped, stopTsgi } from '../lib/nginx-suite.mjs';
import { openWebSocket } from '../lib/websocket-clients.mjs';

const APP = join(FIXTURES, 'websocket', 'ws-app.mjs');

/** What docs/websockets.md tells nginx: HTTP/1.1 to the upstream, Upgrade and Connection passed on. */
const UPGRADE_HTTP = `    map $http_upgrade $connection_upgrade {
        default upgrade;
        '' close;
    }
`;
const UPGRADE_LOCATION = `            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $host;
            proxy_read_timeout 1h;`;

noteSkipped();

for (const backend of SKIP ? [] : BACKENDS) {
  describe(`WebSockets behind nginx, ${backend} backend`, () => {
    const s = {};
    before(async () => {
      s.dir = makeTempDir('tsgi-ws-');
      s.sock = join(s.dir, 'http.sock');
      s.tsgi = await startCli(['--backend', backend, '--http-socket', '127.0.0.1:0', '--http-socket', s.sock, '--chmod-socket', '--uwsgi-socket', '127.0.0.1:0', '--wsgi-file', APP]);
      const tcp = s.tsgi.sockets.filter((x) => x.kind === 'tcp');
      s.http = await startNginx({ upstream: tcp.find((x) => x.protocol === 'http').port, pass: 'http', extraHttp: UPGRADE_HTTP, extraLocation: UPGRADE_LOCATION });
      s.unix = await startNginx({ upstream: s.sock, pass: 'http', extraHttp: UPGRADE_HTTP, extraLocation: UPGRADE_LOCATION });
      s.uwsgi = await startNginx({ upstream: tcp.find((x) => x.protocol === 'uwsgi').port });
    });
    after(async () => {
      for (const n of [s.http, s.unix, s.uwsgi]) await n?.stop();
      if (s.tsgi) await stopTsgi(s.tsgi);
      if (s.dir) rmSync(s.dir, { recursive: true, force: true });
    });

    for (const via of ['http', 'unix']) {
      test(`proxy_pass to the ${via === 'http' ? 'TCP' : 'unix'} HTTP socket: the handshake, 300 messages both ways, the close`, T, async () => {
        const port = s[via].port;
        const c = await openWebSocket(`ws://127.0.0.1:${port}/echo`);
        for (let i = 0; i < 300; i++) c.send(i % 2 ? `m${i}` : Buffer.from([i & 0xff, 1]));
        for (let i = 0; i < 300; i++) {
          const m = await c.next();
          if (i % 2) assert.deepEqual(m, { data: `m${i}`, binary: false });
          else assert.deepEqual([...m.data], [i & 0xff, 1]);
        }
        c.send('peer');
        // The connection the application holds is nginx's (a unix socket has no address).
        assert.equal((await c.next()).data, `${via === 'http' ? '127.0.0.1' : 'undefined'} /echo`);
        c.send('close:1000');
        assert.equal((await c.closed).code, 1000);
        const plain = await get(port, '/plain');
        assert.equal(plain.status, 200);
        assert.equal(plain.body.toString(), 'plain GET /plain\n');
      });
    }

    test('uwsgi_pass cannot carry an upgrade: the application sees an ordinary GET, the client no 101', T, async () => {
      await assert.rejects(openWebSocket(`ws://127.0.0.1:${s.uwsgi.port}/echo`), { status: 200 });
      const res = await get(s.uwsgi.port, '/echo', [['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']]);
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'plain GET /echo\n');
    });
  });
}
