// Several sockets at once, each in its protocol (uwsgi or HTTP), directly and behind a
// real nginx; and nginx pointed the wrong way: proxy_pass at a uwsgi socket, uwsgi_pass
// without uwsgi_params, uwsgi_pass at an HTTP socket.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { rawRequest, responses } from '../lib/raw-client.mjs';
import { req, parseResponses, parseResponse } from '../lib/http-wire.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { startCli } from '../lib/cli.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { rawExchange, uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';
import { APP, SKIP, T, get, stopTsgi, noteSkipped, BACKENDS } from '../lib/nginx-suite.mjs';

noteSkipped();

for (const backend of BACKENDS) {
  describe(`several sockets, each in its protocol (--backend ${backend})`, { skip: SKIP }, () => {
    let dir;
    let tsgi;
    before(async () => {
      dir = makeTempDir('tsgi-sock-');
      tsgi = await startCli([
        '--backend', backend,
        '--uwsgi-socket', join(dir, 'uwsgi.sock'),
        '--http-socket', '127.0.0.1:0',
        '--socket', '127.0.0.1:0',
        '--socket', join(dir, 'http.sock'),
        '--protocol', 'http',
        '--uwsgi-socket', '127.0.0.1:0',
        '--chmod-socket',
        '--wsgi-file', APP,
      ]);
    });
    after(async () => {
      if (tsgi) await stopTsgi(tsgi);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the startup lines list every socket with its protocol (--protocol http applies to every --socket)', T, () => {
      const got = tsgi.sockets.map((s) => `${s.kind} ${s.protocol} ${s.spec.replace(dir, 'DIR')}`);
      assert.deepEqual(got, [
        'tcp http 127.0.0.1:0',
        'unix http DIR/http.sock',
        'unix uwsgi DIR/uwsgi.sock',
        'tcp uwsgi 127.0.0.1:0',
        'tcp http 127.0.0.1:0',
      ]);
    });

    test('each socket answers in its protocol, directly and through nginx', T, async (t) => {
      for (const s of tsgi.sockets) {
        const target = s.kind === 'tcp' ? s.port : s.address;
        const where = `${s.kind} ${s.protocol} ${s.spec}`;
        if (s.protocol === 'http') {
          const r = await rawExchange(target, req('GET', '/proto', [['Connection', 'close']]));
          const res = parseResponse(r.data);
          assert.equal(res?.status, 200, where);
          assert.equal(res.body.toString(), 'hello from nginx app /proto\n', where);
          // A uwsgi packet on an HTTP socket is a malformed request line: 400.
          const wrong = await uwsgiRequest(target, nginxLikeVars({ uri: '/proto' }));
          assert.equal(parseResponse(wrong.data)?.status, 400, `${where}: uwsgi on http`);
        } else {
          const r = await uwsgiRequest(target, nginxLikeVars({ uri: '/proto' }));
          const res = parseResponse(r.data);
          assert.equal(res?.status, 200, where);
          assert.equal(res.body.toString(), 'hello from nginx app /proto\n');
          // HTTP on a uwsgi socket: no answer, the connection closed, one log line.
          const before = (tsgi.stderrText().match(/refused uwsgi packet/g) ?? []).length;
          const wrong = await rawExchange(target, req('GET', '/proto', [['Connection', 'close']]));
          assert.equal(wrong.data.length, 0, `${where}: no bytes for HTTP on a uwsgi socket`);
          assert.ok(wrong.closed && !wrong.timedOut, `${where}: closed`);
          await waitUntil(() => (tsgi.stderrText().match(/refused uwsgi packet/g) ?? []).length > before, 3000, 'the refusal line');
          assert.match(tsgi.stderrText(), /refused uwsgi packet: .*modifier1 is not 0/);
          // And through nginx.
          const nginx = await startNginx({ upstream: target });
          t.after(() => nginx.stop());
          const via = await get(nginx.port, '/via');
          assert.equal(via.status, 200, `${where} via nginx: ${nginx.errorLog()}`);
          assert.equal(via.body.toString(), 'hello from nginx app /via\n');
        }
      }
    });

    // About nginx, not tsgi: once.
    if (backend === 'native') {
      test('nginx opens one upstream connection per uwsgi request, even with keepalive in the upstream block (docs/deploy-nginx.md)', T, async (t) => {
        // A plain counting upstream, not tsgi: what is measured is nginx's side.
        const udir = makeTempDir('tsgi-count-');
        chmodSync(udir, 0o755);
        const usock = join(udir, 'count.sock');
        let connections = 0;
        const counter = net.createServer((c) => {
          connections++;
          let got = Buffer.alloc(0);
          c.on('data', (d) => {
            got = Buffer.concat([got, d]);
            if (got.length >= 4 && got.length >= 4 + got.readUInt16LE(1)) c.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
          });
          c.on('error', () => {});
        });
        await new Promise((resolve) => counter.listen(usock, resolve));
        chmodSync(usock, 0o666);
        const nginx = await startNginx({ upstream: usock, extraUpstream: '        keepalive 16;', extraServer: '        keepalive_requests 1000;' });
        t.after(async () => {
          await nginx.stop();
          await new Promise((resolve) => counter.close(resolve));
          rmSync(udir, { recursive: true, force: true });
        });
        // Ten requests on one kept-alive client connection.
        const one = req('GET', '/count', []);
        const wire = await rawRequest(nginx.port, [...Array(9).fill(one), req('GET', '/count', [['Connection', 'close']])], { timeoutMs: 10000, until: responses(10) });
        const answers = parseResponses(wire.data, { closed: wire.closed });
        assert.equal(answers.length, 10, 'ten answers on the client connection');
        for (const a of answers) assert.equal(a.status, 200);
        assert.equal(connections, 10, 'one upstream connection per request');
      });
    }

    test('proxy_pass (HTTP) pointed at a uwsgi socket by mistake: 502, tsgi logs "refused uwsgi packet: modifier1 is not 0"', T, async (t) => {
      const uwsgi = tsgi.sockets.find((s) => s.kind === 'unix' && s.protocol === 'uwsgi');
      const nginx = await startNginx({ upstream: uwsgi.address, pass: 'http' });
      t.after(() => nginx.stop());
      const before = (tsgi.stderrText().match(/modifier1 is not 0/g) ?? []).length;
      const res = await get(nginx.port, '/oops');
      assert.equal(res.status, 502);
      assert.match(nginx.errorLog(), /upstream prematurely closed connection while reading response header from upstream/);
      await waitUntil(() => (tsgi.stderrText().match(/modifier1 is not 0/g) ?? []).length > before, 3000, 'the refusal line');
    });

    test('uwsgi_pass without include uwsgi_params: 502, tsgi logs "REQUEST_METHOD is missing or empty"', T, async (t) => {
      const uwsgi = tsgi.sockets.find((s) => s.kind === 'unix' && s.protocol === 'uwsgi');
      const nginx = await startNginx({ upstream: uwsgi.address, uwsgiParams: '/dev/null' });
      t.after(() => nginx.stop());
      const before = (tsgi.stderrText().match(/REQUEST_METHOD is missing or empty/g) ?? []).length;
      const res = await get(nginx.port, '/no-params');
      assert.equal(res.status, 502);
      await waitUntil(() => (tsgi.stderrText().match(/REQUEST_METHOD is missing or empty/g) ?? []).length > before, 3000, 'the refusal line');
      assert.match(tsgi.stderrText(), /refused uwsgi packet: .*REQUEST_METHOD is missing or empty/);
    });

    test('uwsgi_pass pointed at an HTTP socket by mistake: the client gets tsgi\'s 400 through nginx', T, async (t) => {
      const http = tsgi.sockets.find((s) => s.kind === 'tcp' && s.protocol === 'http');
      const nginx = await startNginx({ upstream: http.port });
      t.after(() => nginx.stop());
      const res = await get(nginx.port, '/oops');
      assert.equal(res.status, 400);
      assert.equal(res.body.toString(), 'Bad Request\n');
    });
  });
}
