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
import http from 'node:http';
import { FIXTURES, ROOT, BACKENDS, request, req, connect, spawnCli, startCli, withTimeout, delay, waitUntil } from '../helpers.mjs';
import { serve } from '../../dist/lib/index.js';

const HONO = join(FIXTURES, 'frameworks', 'hono-app.mjs');
const PLAIN = join(FIXTURES, 'frameworks', 'plain-fetch.mjs');
const HANDLER = join(FIXTURES, 'frameworks', 'plain-handler.mjs');
const PEER = join(FIXTURES, 'frameworks', 'hono-node-server.mjs');
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
  const child = spawn(process.execPath, [PEER, app], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('latin1').on('data', (s) => (out += s));
  child.stderr.setEncoding('latin1').on('data', (s) => (out += s));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await waitUntil(() => /listening on \d+/.test(out), 15000, `@hono/node-server to listen; output:\n${out}`);
  const port = Number(/listening on (\d+)/.exec(out)[1]);
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
