// tsgi behind a real nginx (uwsgi_pass), as it is deployed: unix and TCP upstreams,
// the environ nginx makes, request and response bodies, limits, the unix-socket
// permission trap, keep-alive load, stale sockets, several sockets at once.
// docs/deploy-nginx.md explains the configuration these tests use.
//
// Needs nginx (Debian: nginx-light). Without it the whole file is skipped, saying so.
// The permission tests need root (nginx only switches its workers to nobody when it
// starts as root). Everything listens on loopback; every nginx and tsgi is stopped and
// every temp dir removed, also on failure.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { FIXTURES, ROOT } from '../lib/project.mjs';
import { request, rawRequest, responses } from '../lib/raw-client.mjs';
import { req, parseResponses, parseResponse } from '../lib/http-wire.mjs';
import { withTimeout, delay, waitUntil } from '../lib/wait.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { findNginx, findUwsgiParams, nginxVersion, nginxWorkers, startNginx } from '../lib/nginx.mjs';
import { makeTempDir, makeStaleSocket } from '../lib/temp.mjs';
import { rawExchange, uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';
import { serve } from '../../dist/lib/index.js';
import { application, streamChunk, STREAM_CHUNKS, STREAM_CHUNK_SIZE } from '../fixtures/nginx/app.mjs';

const APP = join(FIXTURES, 'nginx', 'app.mjs');
const NGINX = findNginx();
const SKIP = !NGINX
  ? 'nginx is not installed, so tsgi cannot be tested behind it (Debian: apt-get install nginx-light; or set NGINX=/path/to/nginx)'
  : !findUwsgiParams()
    ? `nginx is at ${NGINX} but its uwsgi_params file was not found`
    : false;
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const SKIP_NOT_ROOT = IS_ROOT ? false : 'needs root: nginx switches its workers to user nobody only when it starts as root';
const T = { timeout: 30000 };

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** GET path through port with Connection: close; the parsed response. */
function get(port, path, headers = [], opts = {}) {
  return request(port, req('GET', path, [...headers, ['Connection', 'close']]), { timeoutMs: 10000, ...opts });
}

/** POST body to port (/upload unless path says otherwise); the parsed response. */
function post(port, body, { path = '/upload', headers = [], timeoutMs = 30000 } = {}) {
  return request(port, [req('POST', path, [['Content-Length', String(body.length)], ...headers, ['Connection', 'close']]), body], { timeoutMs });
}

/** A chunked POST of body, cut into chunks of the given sizes (the rest in one last chunk). */
function postChunked(port, body, sizes, { path = '/upload', timeoutMs = 30000 } = {}) {
  const pieces = [`POST ${path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`];
  let at = 0;
  for (const size of [...sizes, body.length]) {
    const n = Math.min(size, body.length - at);
    if (n <= 0) break;
    pieces.push(Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n')]));
    at += n;
  }
  pieces.push('0\r\n\r\n');
  return request(port, pieces, { timeoutMs });
}

/** SIGTERM, then wait for the exit (SIGKILL if it does not come). */
async function stopTsgi(cli) {
  try {
    cli.signal('SIGTERM');
    return await cli.waitExit(5000);
  } catch {
    await cli.kill();
    return { code: null, signal: 'SIGKILL' };
  }
}

/** The lines of text after offset: what nginx's error log gained since then. */
const logSince = (text, offset) => text.slice(offset);

if (SKIP) {
  test('nginx integration tests', { skip: SKIP }, () => {});
}

// The two backends must look the same from behind nginx: the main tests and the limits
// run against each (the js backend's uwsgi is lib/js/uwsgi.ts, the native one's
// native/server/). The rest (permissions, socket files, several sockets) is about
// sockets, not the protocol: native only.
const BACKENDS = ['native', 'js'];

// -------------------------------------------------------------------------------------
// 1-4: one tsgi (a unix uwsgi socket, a TCP uwsgi socket, an HTTP socket) behind three
// nginx: unix upstream, TCP upstream, unix upstream with uwsgi_request_buffering off.

for (const backend of BACKENDS) {
  describe(`tsgi behind nginx (--backend ${backend})`, { skip: SKIP }, () => {
    let dir;
    let sock;
    let tsgi;
    let httpPort;
    let uwsgiPort;
    let viaUnix; // nginx -> unix socket
    let viaTcp; // nginx -> 127.0.0.1:PORT
    let unbuffered; // nginx -> unix socket, uwsgi_request_buffering off

    before(async () => {
      dir = makeTempDir('tsgi-sock-');
      sock = join(dir, 'app.sock');
      tsgi = await startCli(['--backend', backend, '--socket', sock, '--chmod-socket', '--uwsgi-socket', '127.0.0.1:0', '--http-socket', '127.0.0.1:0', '--disable-logging', '--wsgi-file', APP]);
      httpPort = tsgi.sockets.find((s) => s.kind === 'tcp' && s.protocol === 'http').port;
      uwsgiPort = tsgi.sockets.find((s) => s.kind === 'tcp' && s.protocol === 'uwsgi').port;
      viaUnix = await startNginx({ upstream: sock });
      viaTcp = await startNginx({ upstream: uwsgiPort });
      unbuffered = await startNginx({ upstream: sock, extraLocation: '            uwsgi_request_buffering off;' });
    });

    after(async () => {
      for (const n of [viaUnix, viaTcp, unbuffered]) await n?.stop();
      if (tsgi) await stopTsgi(tsgi);
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    // ---- 1 ----------------------------------------------------------------------------

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

    // ---- 2 ----------------------------------------------------------------------------

    /**
     * The same request through nginx and straight over HTTP: the keys in `differ` must
     * hold exactly [throughNginx, direct] (undefined: absent); every other key the same.
     */
    async function compare(t, bytes, differ) {
      const via = await request(viaUnix.port, bytes, { timeoutMs: 10000 });
      const direct = await request(httpPort, bytes, { timeoutMs: 10000 });
      assert.equal(via.status, 200, viaUnix.errorLog());
      assert.equal(direct.status, 200);
      const a = JSON.parse(via.body.toString());
      const b = JSON.parse(direct.body.toString());
      const expected = typeof differ === 'function' ? differ(via, direct) : differ;
      const problems = [];
      for (const [key, [va, vb]] of Object.entries(expected)) {
        if (a[key] !== va) problems.push(`${key} through nginx: ${JSON.stringify(a[key])}, want ${JSON.stringify(va)}`);
        if (b[key] !== vb) problems.push(`${key} straight over HTTP: ${JSON.stringify(b[key])}, want ${JSON.stringify(vb)}`);
        delete a[key];
        delete b[key];
      }
      assert.deepEqual(problems, []);
      assert.deepEqual(a, b, 'every other key is the same both ways');
      t.diagnostic(`differ: ${Object.keys(expected).join(', ')}`);
      return a;
    }

    /** What nginx (Debian's uwsgi_params) sets differently from tsgi's own HTTP socket. */
    const NGINX_SETS = (via, direct, host) => ({
      REMOTE_PORT: [String(via.wire.localPort), String(direct.wire.localPort)], // each side's client port
      SERVER_PORT: [String(viaUnix.port), String(httpPort)], // nginx's listen port / tsgi's
      SERVER_NAME: ['localhost', hostname()], // $server_name / the machine's host name
      DOCUMENT_ROOT: [join(viaUnix.dir, 'html'), undefined], // $document_root: nginx only
      HTTP_HOST: [host.toLowerCase().replace(/:\d+$/, ''), host], // Debian: HTTP_HOST $host
    });

    const CLIENT_HEADERS = [
      ['Host', 'Test.Example:1234'],
      ['User-Agent', 'tsgi-nginx-test/1.0'],
      ['Accept', '*/*'],
      ['X-Custom', 'some  value'],
      ['X-Forwarded-For', '10.1.2.3'],
      ['X_Under', 'dropped by both'],
      ['Connection', 'close'],
    ];

    for (const [target, path] of [
      ['/env/simple?x=1&y=%20z', '/env/simple'],
      ['/env/a%20b', '/env/a b'],
    ]) {
      test(`environ of GET ${target}: the same through nginx as over HTTP, but for what nginx sets`, T, async (t) => {
        const same = await compare(t, req('GET', target, CLIENT_HEADERS), (via, direct) => NGINX_SETS(via, direct, 'Test.Example:1234'));
        assert.equal(same.REQUEST_METHOD, 'GET');
        assert.equal(same.PATH_INFO, path, 'percent-decoded');
        assert.equal(same.REQUEST_URI, target, 'as sent');
        assert.equal(same.QUERY_STRING, target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
        assert.equal(same.CONTENT_TYPE, '');
        assert.equal(same.CONTENT_LENGTH, '');
        assert.equal(same.SERVER_PROTOCOL, 'HTTP/1.1');
        assert.equal(same.REMOTE_ADDR, '127.0.0.1');
        assert.equal(same.REQUEST_SCHEME, 'http');
        assert.equal(same['wsgi.url_scheme'], 'http');
        assert.equal(same.HTTPS, undefined, 'HTTPS is "$https if_not_empty": absent on plain HTTP');
        assert.equal(same.HTTP_USER_AGENT, 'tsgi-nginx-test/1.0');
        assert.equal(same.HTTP_ACCEPT, '*/*');
        assert.equal(same.HTTP_X_CUSTOM, 'some  value');
        assert.equal(same.HTTP_X_FORWARDED_FOR, '10.1.2.3');
        assert.equal(same.HTTP_CONNECTION, 'close', 'nginx passes the client\'s Connection header on');
        assert.equal(same.HTTP_X_UNDER, undefined, 'a header name with "_" is dropped both ways');
      });
    }

    test('environ of a POST: nginx passes Content-Type and Content-Length as HTTP_* too; tsgi drops them, as over HTTP', T, async (t) => {
      const body = 'a=1&b=2';
      const same = await compare(
        t,
        req('POST', '/env/post?z=9', [['Host', 'localhost'], ['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(body.length)], ['Connection', 'close']], body),
        (via, direct) => ({ ...NGINX_SETS(via, direct, 'localhost') }),
      );
      assert.equal(same.HTTP_CONTENT_TYPE, undefined);
      assert.equal(same.HTTP_CONTENT_LENGTH, undefined);
      assert.equal(same.REQUEST_METHOD, 'POST');
      assert.equal(same.CONTENT_TYPE, 'application/x-www-form-urlencoded');
      assert.equal(same.CONTENT_LENGTH, String(body.length));
      assert.equal(same.QUERY_STRING, 'z=9');
    });

    test('environ of a chunked POST: CONTENT_LENGTH is the decoded length both ways; no HTTP_TRANSFER_ENCODING either way', T, async (t) => {
      const same = await compare(
        t,
        ['POST /env/chunked HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', '5\r\nhello\r\n', '6\r\n world\r\n0\r\n\r\n'],
        (via, direct) => ({ ...NGINX_SETS(via, direct, 'localhost') }),
      );
      assert.equal(same.CONTENT_LENGTH, '11');
      assert.equal(same.HTTP_TRANSFER_ENCODING, undefined);
    });

    test('nginx normalises the path it sends as PATH_INFO ($document_uri); REQUEST_URI stays as sent', T, async (t) => {
      const target = '/env/./x//y/../z%41?q=%2F';
      const same = await compare(t, req('GET', target, [['Host', 'localhost'], ['Connection', 'close']]), (via, direct) => ({
        ...NGINX_SETS(via, direct, 'localhost'),
        PATH_INFO: ['/env/x/zA', '/env/./x//y/../zA'], // nginx: dot segments resolved, slashes merged
      }));
      assert.equal(same.REQUEST_URI, target);
      assert.equal(same.QUERY_STRING, 'q=%2F');
    });

    test('environ: a repeated header field arrives joined through nginx as over HTTP (spec: ", ", Cookie "; ")', T, async () => {
      // nginx 1.22 sends a repeated field as repeated HTTP_* pairs (test/uwsgi/README.md).
      const headers = [['Host', 'localhost'], ['X-Multi', 'one'], ['X-Multi', 'two'], ['Cookie', 'a=1'], ['Cookie', 'b=2'], ['Connection', 'close']];
      const via = JSON.parse((await request(viaUnix.port, req('GET', '/env', headers), { timeoutMs: 10000 })).body.toString());
      const direct = JSON.parse((await request(httpPort, req('GET', '/env', headers), { timeoutMs: 10000 })).body.toString());
      assert.equal(direct.HTTP_X_MULTI, 'one, two');
      assert.equal(direct.HTTP_COOKIE, 'a=1; b=2');
      assert.deepEqual(
        { HTTP_X_MULTI: via.HTTP_X_MULTI, HTTP_COOKIE: via.HTTP_COOKIE },
        { HTTP_X_MULTI: 'one, two', HTTP_COOKIE: 'a=1; b=2' },
        'through nginx, the repeated pairs must be joined as the HTTP socket joins the fields, not the last one kept',
      );
    });

    test('environ of an HTTP/1.0 request through nginx: SERVER_PROTOCOL HTTP/1.0, HTTP_HOST is server_name', T, async () => {
      const res = await request(viaUnix.port, req('GET', '/env/old', [], '', 'HTTP/1.0'), { timeoutMs: 10000 });
      assert.equal(res.status, 200);
      const env = JSON.parse(res.body.toString());
      assert.equal(env.SERVER_PROTOCOL, 'HTTP/1.0');
      assert.equal(env.HTTP_HOST, 'localhost', 'no Host: $host is the server_name');
    });

    // ---- 3 ----------------------------------------------------------------------------

    const BIG = randomBytes(backend === 'native' ? 50 * 1024 * 1024 : 2 * 1024 * 1024);
    // 50 MB on the native backend only: the js backend's body path is the same for 1 MB
    // (past post-buffering, a temporary file), and the file's runtime stays bounded.
    const SIZES = [
      ['0 B', 0],
      ['1 MB', 1024 * 1024],
      ...(backend === 'native' ? [['50 MB', BIG.length]] : []),
    ];
    const TEMP_FILE = /a client request body is buffered to a temporary file/;

    for (const [label, nginxOf, buffered] of [
      ['default request buffering', () => viaUnix, true],
      ['uwsgi_request_buffering off', () => unbuffered, false],
    ]) {
      for (const [sizeLabel, size] of SIZES) {
        test(`a ${sizeLabel} body through nginx (${label}): length and sha256 intact`, { timeout: 60000 }, async () => {
          const nginx = nginxOf();
          const body = BIG.subarray(0, size);
          const mark = nginx.errorLog().length;
          const res = await post(nginx.port, body, { timeoutMs: 45000 });
          assert.equal(res.status, 200, `${res.body.toString().slice(0, 300)}\n${nginx.errorLog()}`);
          const got = JSON.parse(res.body.toString());
          assert.equal(got.length, size);
          assert.equal(got.sha256, sha256(body));
          assert.equal(got.CONTENT_LENGTH, String(size), 'nginx passes $content_length');
          assert.equal(got.HTTP_TRANSFER_ENCODING, null);
          if (size > 64 * 1024) {
            // The buffered nginx stores the body in client_body_temp_path first; with
            // buffering off it streams it to tsgi as it comes.
            const log = logSince(nginx.errorLog(), mark);
            if (buffered) assert.match(log, TEMP_FILE, 'nginx buffered the body to a file');
            else assert.doesNotMatch(log, TEMP_FILE, 'nginx streamed the body');
          }
        });
      }

      test(`a chunked upload through nginx (${label}): de-chunked, with CONTENT_LENGTH, and buffered by nginx either way`, { timeout: 60000 }, async () => {
        const nginx = nginxOf();
        const body = BIG.subarray(0, 1024 * 1024 + 17);
        const mark = nginx.errorLog().length;
        const res = await postChunked(nginx.port, body, [1, 10, 1000, 8192, 65536, 300000]);
        assert.equal(res.status, 200, `${res.body.toString().slice(0, 300)}\n${nginx.errorLog()}`);
        const got = JSON.parse(res.body.toString());
        assert.equal(got.length, body.length);
        assert.equal(got.sha256, sha256(body));
        // The uwsgi protocol needs CONTENT_LENGTH before the body: nginx 1.22 reads a
        // chunked body whole (no 411), even with uwsgi_request_buffering off.
        assert.equal(got.CONTENT_LENGTH, String(body.length));
        assert.equal(got.HTTP_TRANSFER_ENCODING, null, 'nginx passes the header on; tsgi drops it (the body is plain)');
        assert.match(logSince(nginx.errorLog(), mark), TEMP_FILE, 'nginx buffered the chunked body to a file');
      });
    }

    // ---- 4 ----------------------------------------------------------------------------

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

    // ---- 7 ----------------------------------------------------------------------------

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

// -------------------------------------------------------------------------------------
// 5: limits: buffer-size (the uwsgi vars block) and limit-post, behind nginx.

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

// -------------------------------------------------------------------------------------
// 6: the unix-socket permission trap: nginx's workers run as nobody.

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

// -------------------------------------------------------------------------------------
// 8: stale sockets, live sockets, --vacuum, abstract sockets.

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

// -------------------------------------------------------------------------------------
// 9: several sockets at once, each with its protocol.

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
