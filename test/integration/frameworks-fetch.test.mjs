// The fetch interface with the real framework: a Hono application (unchanged) served by
// tsgi on both backends and by its usual server, @hono/node-server, the same requests
// to each, the answers compared. Then plain fetch applications (`export default
// { fetch }`, a bare handler with --interface fetch), the wrong interface's errors,
// the abort signal and stream cancellation, nginx over uwsgi, and a chain reload of
// a master under load. Everything listens on 127.0.0.1 and is stopped by pid.
//
// What "the same answer" means (docs/frameworks.md says it to users too): the same
// status code and reason phrase, the same headers (names compared without case, in
// any order, but several Set-Cookie in their order) and the same body bytes. Not
// compared: what each server adds of its own (Date, Connection, Keep-Alive) and the
// framing (Content-Length or chunked: both frame the same bytes; for a body that is
// complete at once both send Content-Length). Two differences come from
// @hono/node-server, not from Hono, and are allowed by name:
//  - its own Response class (it replaces the global one) says "text/plain;
//    charset=UTF-8" where the standard Response (and tsgi) says
//    "text/plain;charset=UTF-8": the same media type;
//  - it adds Content-Type "text/plain; charset=UTF-8" to a response with a body and no
//    Content-Type (Hono's stream()); tsgi sends the Response's headers as they are.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, ROOT, BACKENDS } from '../lib/project.mjs';
import { request, connect } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';
import { withTimeout, delay, waitUntil } from '../lib/wait.mjs';
import { rmSync } from 'node:fs';
import { serve } from '../../dist/lib/index.js';
import { findNginx, findUwsgiParams, startNginx } from '../lib/nginx.mjs';
import { makeTempDir } from '../lib/temp.mjs';
import { get as masterGet, readyMaster, killAll, stopGracefully } from '../lib/master.mjs';
import { isGone } from '../lib/proc.mjs';

const HONO = join(FIXTURES, 'frameworks', 'hono-app.mjs');
const PLAIN = join(FIXTURES, 'frameworks', 'plain-fetch.mjs');
const HANDLER = join(FIXTURES, 'frameworks', 'plain-handler.mjs');
const RESPONSE_FUNCTION = join(FIXTURES, 'frameworks', 'response-function.mjs');
// The bench's peer: the application on @hono/node-server with its defaults.
const PEER = join(ROOT, 'bench', 'peers', 'hono-node-server.mjs');
const T = { timeout: 60000 };

/** 5 MB of bytes that are not all alike, and their sum as hono-app.mjs counts it. */
const UPLOAD = Buffer.alloc(5 * 1024 * 1024);
for (let i = 0; i < UPLOAD.length; i++) UPLOAD[i] = (i * 31 + (i >> 10)) & 0xff;
let UPLOAD_SUM = 0;
for (let i = 0; i < UPLOAD.length; i++) UPLOAD_SUM = (UPLOAD_SUM + UPLOAD[i]) % 65521;

const JSON_BODY = JSON.stringify({ name: 'ünï', n: [1, 2, 3] });

// [name, method, raw request]. Every request carries Host: example.test, so that both
// servers see the same URL, and Connection: close.
const REQUESTS = [
  ['routing', 'GET', req('GET', '/', [['Host', 'example.test']])],
  ['path parameter and query string', 'GET', req('GET', '/users/42?q=caf%C3%A9&tag=a&tag=b', [['Host', 'example.test']])],
  ['a JSON body', 'POST', [req('POST', '/echo', [['Host', 'example.test'], ['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(JSON_BODY))]]), Buffer.from(JSON_BODY)]],
  ['cookies in and several Set-Cookie out', 'GET', req('GET', '/cookies', [['Host', 'example.test'], ['Cookie', 'seen=yes; other=1']])],
  ['a redirect', 'GET', req('GET', '/old', [['Host', 'example.test']])],
  ['a streamed response (hono/streaming)', 'GET', req('GET', '/stream', [['Host', 'example.test']])],
  ['a thrown error and onError', 'GET', req('GET', '/boom', [['Host', 'example.test']])],
  ['an HTTPException', 'GET', req('GET', '/forbidden', [['Host', 'example.test']])],
  ['a 404 from notFound', 'GET', req('GET', '/no/such/route', [['Host', 'example.test']])],
  ['HEAD', 'HEAD', req('HEAD', '/', [['Host', 'example.test']])],
  ['HEAD of a 404', 'HEAD', req('HEAD', '/nope', [['Host', 'example.test']])],
  ['the request URL and headers', 'GET', req('GET', '/headers', [['Host', 'example.test'], ['User-Agent', 'frameworks-test/1']])],
  ['a 5 MB upload (past post-buffering: a temporary file)', 'POST', [req('POST', '/upload', [['Host', 'example.test'], ['Content-Type', 'application/octet-stream'], ['Content-Length', String(UPLOAD.length)]]), UPLOAD]],
];

function send(port, method, bytes) {
  const pieces = Array.isArray(bytes) ? bytes : [bytes];
  const first = pieces[0].replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n');
  return request(port, [first, ...pieces.slice(1)], { method, timeoutMs: 20000 });
}

const OWN = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
const NODE_SERVER_DEFAULT_TYPE = 'text/plain; charset=UTF-8';

/** What is compared of a response (see the top of the file). */
function comparable(res, { peer }) {
  let headers = res.headers.filter(([n]) => !OWN.has(n.toLowerCase())).map(([n, v]) => [n.toLowerCase(), v]);
  headers = headers.map(([n, v]) => [n, n === 'content-type' ? v.replace(/;\s+/g, ';') : v]);
  if (peer && res.body.length > 0 && !res.__tsgiHasType) {
    // @hono/node-server's own Content-Type on a body that had none.
    headers = headers.filter(([n, v]) => !(n === 'content-type' && v === NODE_SERVER_DEFAULT_TYPE.replace(/;\s+/g, ';')));
  }
  const cookies = headers.filter(([n]) => n === 'set-cookie').map(([, v]) => v);
  const others = headers.filter(([n]) => n !== 'set-cookie').sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { status: res.status, reason: res.reason, headers: others, cookies, body: res.body.toString('latin1') };
}

/** Starts @hono/node-server on app; resolves with { port, child, stop() }. */
async function startPeer(app) {
  const child = spawn(process.execPath, [PEER, '--http', '127.0.0.1:0', app], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('latin1').on('data', (s) => (out += s));
  child.stderr.setEncoding('latin1').on('data', (s) => (out += s));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const bound = /socket 0 bound to TCP address 127\.0\.0\.1:(\d+)/;
  await waitUntil(() => bound.test(out), 15000, `@hono/node-server to listen; output:\n${out}`);
  const port = Number(bound.exec(out)[1]);
  return {
    port,
    output: () => out,
    async stop() {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
      await withTimeout(exited, 5000, '@hono/node-server to exit').catch(() => {});
    },
  };
}

describe('a Hono application: tsgi answers as @hono/node-server does', () => {
  let peer;
  const peerAnswers = new Map();
  before(async () => {
    peer = await startPeer(HONO);
    for (const [name, method, bytes] of REQUESTS) peerAnswers.set(name, await send(peer.port, method, bytes));
  });
  after(() => peer?.stop());

  for (const backend of BACKENDS) {
    describe(`--backend ${backend}`, () => {
      let cli;
      before(async () => {
        cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', HONO]);
      });
      after(() => cli?.kill());

      test('the start-up line says the interface auto chose', () => {
        assert.match(cli.stderrText(), /^tsgi: application .*hono-app\.mjs callable 'default' loaded in \d+ msecs, interface fetch \(auto: an object with a fetch method\)$/m);
      });

      for (const [name, method, bytes] of REQUESTS) {
        test(name, T, async () => {
          const ours = await send(await cli.port, method, bytes);
          const theirs = peerAnswers.get(name);
          assert.ok(ours.complete, `a complete response: ${ours.raw.toString('latin1').slice(0, 300)}`);
          theirs.__tsgiHasType = ours.header('content-type') !== undefined;
          assert.deepEqual(comparable(ours, { peer: false }), comparable(theirs, { peer: true }));
          // What each route must give, so that two servers equally wrong cannot pass.
          const body = ours.body.toString('utf8');
          if (name === 'a 5 MB upload (past post-buffering: a temporary file)') assert.deepEqual(JSON.parse(body), { bytes: UPLOAD.length, sum: UPLOAD_SUM });
          if (name === 'a JSON body') assert.deepEqual(JSON.parse(body), { got: JSON.parse(JSON_BODY), type: 'application/json' });
          if (name === 'path parameter and query string') assert.deepEqual(JSON.parse(body), { id: '42', q: 'café', tags: ['a', 'b'] });
          if (name === 'cookies in and several Set-Cookie out') {
            assert.deepEqual(ours.headerAll('set-cookie'), ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
            assert.equal(body, 'seen: yes\n');
          }
          if (name === 'a redirect') assert.equal(ours.header('location'), '/users/7?q=moved');
          if (name === 'a streamed response (hono/streaming)') {
            assert.equal(ours.framing, 'chunked');
            assert.equal(body, [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
          }
          if (name === 'HEAD') assert.equal(ours.header('content-length'), undefined, 'no Content-Length: 0 for a GET whose length is not known');
          if (name === 'the request URL and headers') assert.deepEqual(JSON.parse(body), { host: 'example.test', ua: 'frameworks-test/1', url: 'http://example.test/headers' });
          if (name === 'a thrown error and onError') assert.equal(ours.status, 500);
          // A complete-at-once body goes with its Content-Length, as @hono/node-server sends it.
          if (theirs.framing === 'content-length' && theirs.body.length > 0) assert.equal(ours.framing, 'content-length');
        });
      }
    });
  }
});

/** GET path on the CLI with Connection: close; the parsed response. */
async function get(cli, path, headers = [], method = 'GET') {
  return request(await cli.port, req(method, path, [...headers, ['Connection', 'close']]), { method, timeoutMs: 10000 });
}

for (const backend of BACKENDS) {
  describe(`plain fetch applications (--backend ${backend})`, () => {
    let plain;
    before(async () => {
      plain = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', PLAIN]);
    });
    after(() => plain?.kill());

    test('export default { fetch }: a standard Request, the environ beside it', T, async () => {
      const body = Buffer.from('caf\xc3\xa9=1&x=2', 'latin1');
      const res = await request(
        await plain.port,
        [req('PUT', '/echo?a=1&b=%20', [['Host', 'example.test:8080'], ['Content-Type', 'text/plain'], ['Content-Length', String(body.length)], ['X-Twice', 'one'], ['X-Twice', 'two'], ['Connection', 'close']]), body],
        { timeoutMs: 10000 },
      );
      assert.equal(res.status, 200);
      const got = JSON.parse(res.body.toString('utf8'));
      assert.equal(got.method, 'PUT');
      assert.equal(got.url, 'http://example.test:8080/echo?a=1&b=%20');
      assert.equal(got.body, 'café=1&x=2');
      assert.equal(got.headers['x-twice'], 'one, two');
      assert.equal(got.headers['content-type'], 'text/plain');
      assert.equal(got.headers['content-length'], String(body.length));
      assert.equal(got.instanceofRequest, true);
      assert.equal(got.remote, '127.0.0.1');
      assert.match(plain.stderrText(), /plain-fetch\.mjs callable 'default' loaded in \d+ msecs, interface fetch \(auto: an object with a fetch method\)/);
      // The request log line, as for a WSGI application.
      await plain.waitStderr(/\] PUT \/echo\?a=1&b=%20 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
    });

    test('a target with dot segments is given as a URL gives it', T, async () => {
      const res = await get(plain, '/a/./b/../../echo?q=%C3%A9', [['Host', 'Example.TEST']]);
      assert.equal(JSON.parse(res.body.toString('utf8')).url, 'http://example.test/echo?q=%C3%A9');
    });

    // node:http refuses a raw byte over 0x7f in the target (400, HPE_INVALID_URL): spec.md.
    test('a raw byte over 0x7f in the target is percent-encoded as the byte it is', { ...T, skip: backend === 'js' && "node:http's parser refuses it" }, async () => {
      const res = await get(plain, '/echo?q=\xe9', [['Host', 'example.test']]);
      assert.equal(JSON.parse(res.body.toString('utf8')).url, 'http://example.test/echo?q=%E9');
    });

    test('a Host that is not a host name: 400 and a log line naming it', T, async () => {
      const res = await get(plain, '/echo', [['Host', 'evil.test/x']]);
      assert.equal(res.status, 400);
      await plain.waitStderr(/tsgi: GET \/echo: 400 Bad Request: the Host "evil\.test\/x" and target "\/echo" do not make a URL|tsgi: GET \/echo: 400 Bad Request: the Host "evil\.test\/x" is not a host name/);
    });

    test('request.signal aborts when the client goes away', T, async () => {
      const conn = connect(await plain.port);
      await conn.connected;
      await conn.write(req('GET', '/wait'));
      await delay(200);
      conn.destroy();
      await plain.waitStderr('plain-fetch: signal aborted for /wait', 5000);
    });

    test('a streamed body is cancelled when the client goes away', T, async () => {
      const conn = connect(await plain.port);
      await conn.connected;
      await conn.write(req('GET', '/forever'));
      await waitUntil(() => conn.data.toString('latin1').includes('tick 2'), 5000, 'three ticks');
      conn.destroy();
      const m = await plain.waitStderr(/plain-fetch: stream cancelled after (\d+) chunks/, 5000);
      const n = Number(/stream cancelled after (\d+) chunks/.exec(m)[1]);
      await delay(300);
      // Pulled no further after the cancel: the count said at the cancel is the last.
      assert.ok(n >= 3, `cancelled after ${n} chunks`);
      assert.equal((plain.stderrText().match(/stream cancelled/g) ?? []).length, 1, 'cancel() once');
    });

    test('a stream with nothing to send yet is cancelled when the client goes away', T, async () => {
      const conn = connect(await plain.port);
      await conn.connected;
      await conn.write(req('GET', '/late'));
      await delay(300);
      conn.destroy();
      await plain.waitStderr('plain-fetch: late stream cancelled', 5000);
    });

    test("hop-by-hop headers of a Response are dropped; its status's unknown reason phrase is 'Unknown'", T, async () => {
      const res = await get(plain, '/proxied');
      assert.equal(res.status, 299);
      assert.equal(res.reason, 'Unknown');
      assert.equal(res.header('x-kept'), 'yes');
      for (const h of ['keep-alive', 'upgrade']) assert.equal(res.header(h), undefined, h);
      assert.equal(res.header('transfer-encoding'), undefined);
      assert.equal(res.header('content-length'), '8');
      assert.equal(res.body.toString(), 'proxied\n');
      assert.ok(!/x-private/i.test(res.header('connection') ?? ''), 'the application\'s Connection is not sent');
    });

    test("a streamed body framed by the application's Content-Length", T, async () => {
      const res = await get(plain, '/length');
      assert.equal(res.framing, 'content-length');
      assert.equal(res.header('content-length'), '6');
      assert.equal(res.body.toString(), 'abcdef');
    });

    test('204: no body, the headers kept', T, async () => {
      const res = await get(plain, '/no-content');
      assert.equal(res.status, 204);
      assert.equal(res.header('x-a'), '1');
      assert.equal(res.header('content-length'), undefined);
      assert.equal(res.header('transfer-encoding'), undefined);
    });

    test('a fetch handler that returns no Response: 500, and the log line says what it returned', T, async () => {
      const res = await get(plain, '/not-a-response');
      assert.equal(res.status, 500);
      assert.equal(res.body.toString(), 'Internal Server Error\n');
      await plain.waitStderr(/Expected the fetch application to return a Response \(or a promise of one\) but it returned an Array: did you mean --interface wsgi\?/);
    });
  });
}

test('examples/hono.ts (TypeScript, through tsx) runs as docs/frameworks.md says', T, async (t) => {
  const cli = await startCli(['--http', '127.0.0.1:0', '--wsgi-file', 'examples/hono.ts']);
  t.after(() => cli.kill());
  const res = await get(cli, '/hello/world');
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { hello: 'world' });
});

describe('the interface chosen by hand, and the wrong one', () => {
  test('--interface fetch serves a bare handler function', T, async (t) => {
    const cli = await startCli(['--http', '127.0.0.1:0', '--interface', 'fetch', '--wsgi-file', HANDLER]);
    t.after(() => cli.kill());
    assert.match(cli.stderrText(), /plain-handler\.mjs callable 'default' loaded in \d+ msecs, interface fetch$/m);
    const payload = Buffer.from('{"k":[1,2]}');
    const res = await request(await cli.port, [req('POST', '/p/q', [['Content-Type', 'application/json'], ['Content-Length', String(payload.length)], ['Connection', 'close']]), payload]);
    assert.equal(res.status, 200);
    assert.equal(res.header('x-handler'), 'plain');
    assert.deepEqual(JSON.parse(res.body.toString()), { path: '/p/q', body: { k: [1, 2] } });
  });

  test('interface = fetch in an ini file', T, async (t) => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-iface-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.ini'), `[uwsgi]\nhttp = 127.0.0.1:0\ninterface = fetch\nwsgi-file = ${HANDLER}\n`);
    const cli = await startCli([join(dir, 'app.ini')]);
    t.after(() => cli.kill());
    const res = await get(cli, '/from/ini');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body.toString()).path, '/from/ini');
  });

  for (const backend of BACKENDS) {
    test(`auto takes a function for WSGI: its Response is a 500 whose log line says --interface fetch (--backend ${backend})`, T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', RESPONSE_FUNCTION]);
      t.after(() => cli.kill());
      assert.match(cli.stderrText(), /interface wsgi \(auto: a function\)$/m);
      const res = await get(cli, '/x');
      assert.equal(res.status, 500);
      assert.equal(res.body.toString(), 'Internal Server Error\n');
      await cli.waitStderr(/tsgi: error in the application during GET \/x:\nTsgiError: The application returned a Response: did you mean --interface fetch\?/);
    });
  }

  test('--interface wsgi with a Hono application: exit 1 at load, saying --interface fetch', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--interface', 'wsgi', '--wsgi-file', HONO]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(15000);
    assert.equal(code, 1);
    assert.match(cli.stderrText(), /^tsgi: --interface wsgi: .*hono-app\.mjs cannot be served: it is an object with a fetch method, not a function \(environ, startResponse\): did you mean --interface fetch\?$/m);
  });

  test('--interface wsgi under a master: the master stops at start-up with the reason', T, async (t) => {
    const cli = spawnCli(['--master', '--processes', '1', '--http', '127.0.0.1:0', '--interface', 'wsgi', '--wsgi-file', HONO]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(20000);
    assert.equal(code, 1);
    assert.match(cli.stderrText(), /did you mean --interface fetch\?/);
  });

  test('--interface fetch and an export without a fetch method: exit 1 at load, saying what was looked for', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--interface', 'fetch', '--wsgi-file', join(FIXTURES, 'frameworks', 'no-fetch.mjs')]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(15000);
    assert.equal(code, 1);
    assert.match(cli.stderrText(), /^tsgi: .*no-fetch\.mjs has no application: tsgi takes the export 'application', else 'app', else the default export \(a function, an object with a fetch method, a Koa application or a Fastify instance\), and the default export is an object \(keys: [^)]*\) \(it exports: default\)$/m);
  });

  test('--interface asgi: refused by the option table', T, async (t) => {
    const cli = spawnCli(['--http', '127.0.0.1:0', '--interface', 'asgi', '--wsgi-file', HONO]);
    t.after(() => cli.kill());
    const { code } = await cli.waitExit(15000);
    assert.equal(code, 1);
    assert.match(cli.stderrText(), /^tsgi: Expected one of auto, wsgi, fetch, node for interface but received "asgi"/m);
  });

  test('serve(): an object with fetch is served, an object without is refused at once', T, async () => {
    const server = await serve({ fetch: (r) => new Response(`hi ${new URL(r.url).pathname}`) }, { http: '127.0.0.1:0', disableLogging: true });
    try {
      const res = await request(server.address.port, req('GET', '/there', [['Connection', 'close']]));
      assert.equal(res.body.toString(), 'hi /there');
    } finally {
      await server.close();
    }
    await assert.rejects(serve({ fetch: 1 }, { http: '127.0.0.1:0' }), { code: 'TSGI_ERR_INTERFACE' });
    await assert.rejects(serve({}, { http: '127.0.0.1:0', interface: 'fetch' }), {
      code: 'TSGI_ERR_INTERFACE',
      message: /--interface fetch: the application given to serve\(\) cannot be served: it is an object without a fetch method/,
    });
  });
});

// -------------------------------------------------------------------------------------
// Deployed: behind nginx over uwsgi, and under a master reloaded under load.

const NGINX = findNginx();
const NO_NGINX = !NGINX ? 'nginx is not installed (Debian: apt-get install nginx-light; or set NGINX=/path/to/nginx)' : !findUwsgiParams() ? 'no uwsgi_params file' : false;

for (const backend of BACKENDS) {
  describe(`a Hono application behind nginx over uwsgi (--backend ${backend})`, { skip: NO_NGINX }, () => {
    let dir;
    let tsgi;
    let nginx;
    before(async () => {
      dir = makeTempDir('tsgi-hono-');
      const sock = join(dir, 'app.sock');
      tsgi = await startCli(['--backend', backend, '--socket', sock, '--chmod-socket', '--disable-logging', '--wsgi-file', HONO]);
      nginx = await startNginx({ upstream: sock });
    });
    after(async () => {
      await nginx?.stop();
      await tsgi?.kill();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the URL is the one the client asked nginx for; query, JSON, cookies, stream, upload', T, async () => {
      const port = nginx.port;
      let res = await request(port, req('GET', '/headers', [['Host', 'shop.example'], ['User-Agent', 'ua/2'], ['Connection', 'close']]), { timeoutMs: 10000 });
      assert.deepEqual(JSON.parse(res.body.toString()), { host: 'shop.example', ua: 'ua/2', url: 'http://shop.example/headers' });
      res = await request(port, req('GET', '/users/9?q=caf%C3%A9&tag=x', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.deepEqual(JSON.parse(res.body.toString()), { id: '9', q: 'café', tags: ['x'] });
      res = await request(port, [req('POST', '/echo', [['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(JSON_BODY))], ['Connection', 'close']]), Buffer.from(JSON_BODY)], { timeoutMs: 10000 });
      assert.equal(res.status, 201);
      assert.deepEqual(JSON.parse(res.body.toString()).got, JSON.parse(JSON_BODY));
      res = await request(port, req('GET', '/cookies', [['Cookie', 'seen=nginx'], ['Connection', 'close']]), { timeoutMs: 10000 });
      assert.deepEqual(res.headerAll('set-cookie'), ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      assert.equal(res.body.toString(), 'seen: nginx\n');
      res = await request(port, req('GET', '/stream', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(res.body.toString(), [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
      res = await request(port, [req('POST', '/upload', [['Content-Length', String(UPLOAD.length)], ['Connection', 'close']]), UPLOAD], { timeoutMs: 30000 });
      assert.deepEqual(JSON.parse(res.body.toString()), { bytes: UPLOAD.length, sum: UPLOAD_SUM });
      res = await request(port, req('GET', '/boom', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(res.status, 500);
      assert.equal(res.body.toString(), 'handled: kaboom\n');
    });
  });
}

test('a fetch application under a master: harakiri kills the worker a hung request holds; the log names it; a new worker answers', T, async () => {
  let m;
  try {
    m = await readyMaster(['--harakiri', '2'], { app: PLAIN, processes: 1 });
    const port = m.portNumber;
    const [first] = m.readyPids();
    const hung = masterGet(port, '/hang', 8000).then(
      () => 'answered',
      (err) => err.message,
    );
    await m.waitLog(/\*\*\* HARAKIRI ON WORKER 1 \(pid: \d+\) \*\*\* busy for [\d.]+ s \(harakiri 2\) on GET \/hang/, 8000);
    assert.notEqual(await hung, 'answered');
    await m.waitReady(2, 10000);
    const r = await masterGet(port, '/pid');
    assert.equal(r.status, 200);
    assert.notEqual(r.pid, first, 'a new worker answers');
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});

test('a Hono application under a master: SIGHUP under load, no failed request, every worker replaced', T, async () => {
  let m;
  try {
    m = await readyMaster(['--disable-logging'], { app: join(FIXTURES, 'frameworks', 'hono-pid.mjs') });
    assert.match(m.log(), /ready: application .*hono-pid\.mjs callable 'default' loaded in \d+ msecs, interface fetch \(auto: an object with a fetch method\)/);
    const port = m.portNumber;
    const before = m.children();
    const answers = [];
    const failures = [];
    let stop = false;
    // Six clients, one request at a time each, a fresh connection per request, for
    // as long as the reload takes (bounded: 10 s at most).
    const clients = Array.from({ length: 6 }, async () => {
      const until = Date.now() + 10000;
      while (!stop && Date.now() < until) {
        try {
          const r = await masterGet(port, '/', 5000);
          if (r.status === 200) answers.push(r.pid);
          else failures.push(`status ${r.status}`);
        } catch (err) {
          failures.push(err.message);
        }
      }
    });
    await delay(500);
    m.signal('SIGHUP');
    await m.waitLog(/^tsgi: chain reload done$/m, 15000);
    await delay(300);
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(failures, [], 'no failed request');
    await waitUntil(() => before.every((p) => isGone(p, m.pid)), 5000, 'the old workers to exit');
    const after = m.children();
    assert.equal(after.length, 2);
    for (const p of after) assert.ok(!before.includes(p), `every worker replaced: before ${before}, after ${after}`);
    assert.ok(answers.length > 20, `answers during the reload: ${answers.length}`);
    assert.ok(answers.some((p) => before.includes(p)) && answers.some((p) => after.includes(p)), 'answered by old and new workers');
    await stopGracefully(m);
  } finally {
    await killAll(m);
  }
});
