// tsgi behind a real nginx with uwsgi_pass, as it is deployed: unix and TCP upstreams,
// mounting under a prefix (uwsgi_param SCRIPT_NAME, uwsgi_modifier1 30,
// --manage-script-name), HEAD, a streamed download, the answer straight over the uwsgi
// socket, and keep-alive load through nginx.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { request } from '../lib/raw-client.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { withTimeout } from '../lib/wait.mjs';
import { startCli } from '../lib/cli.mjs';
import { nginxVersion, nginxWorkers, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';
import { streamChunk, STREAM_CHUNKS, STREAM_CHUNK_SIZE } from '../fixtures/nginx/app.mjs';
import { APP, NGINX, SKIP, IS_ROOT, T, sha256, get, stopTsgi, logSince, noteSkipped, BACKENDS, behindNginx } from '../lib/nginx-suite.mjs';

noteSkipped();

for (const backend of BACKENDS) {
  describe(`tsgi behind nginx (--backend ${backend})`, { skip: SKIP }, () => {
    let sock;
    let uwsgiPort;
    let viaUnix; // nginx -> unix socket
    let viaTcp; // nginx -> 127.0.0.1:PORT
    const nginxed = behindNginx(backend);
    before(() => ({ sock, uwsgiPort, viaUnix, viaTcp } = nginxed));

    test(`the nginx under test is ${NGINX} (${nginxVersion(NGINX)}), its workers run as ${IS_ROOT ? 'nobody' : 'this user'}`, T, (t) => {
      const workers = nginxWorkers(viaUnix.pid);
      assert.ok(workers.length >= 1, 'one worker');
      t.diagnostic(`nginx ${nginxVersion(NGINX)}; workers: ${workers.map((w) => `${w.pid} ${w.user}:${w.group}`).join(', ')}`);
      if (IS_ROOT) for (const w of workers) assert.equal(w.user, 'nobody', `nginx started as root runs its workers as nobody: ${JSON.stringify(w)}`);
      assert.equal(statSync(sock).mode & 0o777, 0o666, 'bare --chmod-socket is 666');
      assert.ok(statSync(sock).isSocket());
    });

    test('uwsgi_pass unix:/path: GET answers 200 with the body', T, async () => {
      const res = await get(viaUnix.port, '/hello');
      assert.equal(res.status, 200, viaUnix.errorLog());
      assert.equal(res.body.toString(), 'hello from nginx app /hello\n');
      assert.equal(res.header('content-type'), 'text/plain');
      assert.match(res.header('server') ?? '', /^nginx/, 'the answer came through nginx');
    });

    test('uwsgi_pass 127.0.0.1:PORT: GET answers 200 with the body', T, async () => {
      const res = await get(viaTcp.port, '/over/tcp');
      assert.equal(res.status, 200, viaTcp.errorLog());
      assert.equal(res.body.toString(), 'hello from nginx app /over/tcp\n');
      assert.match(res.header('server') ?? '', /^nginx/);
    });

    // Mounting under a prefix: uwsgi_param SCRIPT_NAME, with uwsgi_modifier1 30 or --manage-script-name.
    const envOf = async (port, target) => {
      const res = await get(port, target);
      assert.equal(res.status, 200, res.body.toString());
      return JSON.parse(res.body.toString());
    };

    test('uwsgi_param SCRIPT_NAME /app with uwsgi_modifier1 30: SCRIPT_NAME /app, PATH_INFO without it', T, async (t) => {
      const nginx = await startNginx({ upstream: sock, extraLocation: '            uwsgi_param SCRIPT_NAME /app;\n            uwsgi_modifier1 30;' });
      t.after(() => nginx.stop());
      const env = await envOf(nginx.port, '/app/env/x?q=1');
      assert.equal(env.SCRIPT_NAME, '/app');
      assert.equal(env.PATH_INFO, '/env/x');
      assert.equal(env.REQUEST_URI, '/app/env/x?q=1', 'as sent');
      assert.equal(env.QUERY_STRING, 'q=1');
      // A whole segment only: SCRIPT_NAME /en does not cut /env/x.
      const other = await startNginx({ upstream: sock, extraLocation: '            uwsgi_param SCRIPT_NAME /en;\n            uwsgi_modifier1 30;' });
      t.after(() => other.stop());
      const partial = await envOf(other.port, '/env/x');
      assert.equal(partial.SCRIPT_NAME, '/en');
      assert.equal(partial.PATH_INFO, '/env/x');
    });

    test('uwsgi_param SCRIPT_NAME without modifier1 30: PATH_INFO as nginx sent it, unless --manage-script-name', T, async (t) => {
      const plain = await startNginx({ upstream: sock, extraLocation: '            uwsgi_param SCRIPT_NAME /env;' });
      t.after(() => plain.stop());
      const env = await envOf(plain.port, '/env/x');
      assert.equal(env.SCRIPT_NAME, '/env');
      assert.equal(env.PATH_INFO, '/env/x', 'uWSGI leaves it too');

      const mdir = makeTempDir('tsgi-msn-');
      chmodSync(mdir, 0o755);
      const msock = join(mdir, 'm.sock');
      const managed = await startCli(['--backend', backend, '--socket', msock, '--chmod-socket', '--manage-script-name', '--disable-logging', '--wsgi-file', APP]);
      const viaManaged = await startNginx({ upstream: msock, extraLocation: '            uwsgi_param SCRIPT_NAME /app;' });
      t.after(async () => {
        await viaManaged.stop();
        await stopTsgi(managed);
        rmSync(mdir, { recursive: true, force: true });
      });
      const m = await envOf(viaManaged.port, '/app/env/y');
      assert.equal(m.SCRIPT_NAME, '/app');
      assert.equal(m.PATH_INFO, '/env/y');
    });

    test('HEAD through nginx: 200, no body', T, async () => {
      const res = await request(viaUnix.port, req('HEAD', '/q?a=1', [['Connection', 'close']]), { method: 'HEAD', timeoutMs: 10000 });
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0);
    });

    const STREAM = Buffer.concat(Array.from({ length: STREAM_CHUNKS }, (_, i) => streamChunk(i)));

    test(`a streamed download through nginx: ${STREAM_CHUNKS} x 64 KiB from an async generator, intact`, T, async () => {
      for (const nginx of [viaUnix, viaTcp]) {
        const res = await get(nginx.port, '/stream', [], { timeoutMs: 15000 });
        assert.equal(res.status, 200, nginx.errorLog());
        assert.ok(res.complete, 'the whole response');
        assert.equal(res.body.length, STREAM_CHUNKS * STREAM_CHUNK_SIZE);
        assert.equal(sha256(res.body), sha256(STREAM));
        // tsgi's answer is close-delimited; nginx re-frames it for its HTTP/1.1 client.
        assert.equal(res.framing, 'chunked');
      }
    });

    test('straight over the uwsgi socket: HTTP/1.1 status line, close-delimited stream, Content-Length when the body is at hand', T, async () => {
      const streamed = await uwsgiRequest(sock, nginxLikeVars({ uri: '/stream' }), undefined, { timeoutMs: 10000 });
      assert.ok(streamed.closed && !streamed.timedOut);
      const r = parseResponse(streamed.data);
      assert.equal(r.version, 'HTTP/1.1');
      assert.equal(r.status, 200);
      assert.equal(r.header('content-length'), undefined);
      assert.equal(r.header('transfer-encoding'), undefined);
      assert.equal(r.framing, 'close');
      assert.equal(sha256(r.body), sha256(STREAM));
      const small = await uwsgiRequest(uwsgiPort, nginxLikeVars({ uri: '/small' }));
      const s = parseResponse(small.data);
      assert.equal(s.status, 200);
      assert.equal(s.header('content-length'), String('hello from nginx app /small\n'.length));
      assert.equal(s.body.toString(), 'hello from nginx app /small\n');
      assert.ok(small.closed, 'one request per connection');
    });

    test('keep-alive load through nginx (autocannon, 10 connections, 3 s): no errors, no non-2xx, no timeouts', { timeout: 30000 }, async (t) => {
      // keepalive_requests: nginx (1.19.10+) closes a client connection after 1000
      // requests by default; autocannon does not heed that response's Connection: close
      // and writes the next request into the closing socket, which counts as an
      // ECONNRESET error between autocannon and nginx. Raised so that the run measures
      // nginx -> tsgi, not that.
      const extraServer = '        keepalive_requests 1000000;';
      const unix = await startNginx({ upstream: sock, extraServer });
      t.after(() => unix.stop());
      const tcp = await startNginx({ upstream: uwsgiPort, extraServer });
      t.after(() => tcp.stop());
      for (const [name, nginx] of [['unix', unix], ['tcp', tcp]]) {
        const mark = nginx.errorLog().length;
        const result = await withTimeout(
          autocannon({ url: `http://127.0.0.1:${nginx.port}/load`, connections: 10, duration: 3, timeout: 5 }),
          10000,
          'autocannon',
        );
        t.diagnostic(
          `${name} upstream: ${Math.round(result.requests.average)} req/s average, ${result.requests.total} requests, ` +
            `latency p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms, errors ${result.errors}, timeouts ${result.timeouts}, non-2xx ${result.non2xx}`,
        );
        assert.equal(result.errors, 0, 'errors');
        assert.equal(result.timeouts, 0, 'timeouts');
        assert.equal(result.non2xx, 0, 'non-2xx');
        assert.ok(result['2xx'] > 100, `${result['2xx']} 2xx answers`);
        assert.doesNotMatch(logSince(nginx.errorLog(), mark), /\[(error|crit|alert|emerg)\]/, 'nothing wrong in nginx\'s log');
      }
    });
  });
}
