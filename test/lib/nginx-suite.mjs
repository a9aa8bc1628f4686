// What the tests of tsgi behind a real nginx share (test/integration/nginx-*.test.mjs):
// the application they put behind it, whether nginx is here (SKIP says why not), the
// backends, the clients (GET, POST, a chunked POST), stopping tsgi, and behindNginx():
// one tsgi (a unix uwsgi socket, a TCP uwsgi socket, an HTTP socket) behind three nginx
// (unix upstream, TCP upstream, unix upstream with uwsgi_request_buffering off).
// docs/deploy-nginx.md explains the configuration these tests use.
//
// The tests need nginx (Debian: nginx-light); without it each file is skipped, saying so
// (noteSkipped()). The permission tests need root (nginx only switches its workers to
// nobody when it starts as root). Everything listens on loopback; every nginx and tsgi
// is stopped and every temp dir removed, also on failure.
import { test, before, after } from 'node:test';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from './project.mjs';
import { request } from './raw-client.mjs';
import { req } from './http-wire.mjs';
import { startCli } from './cli.mjs';
import { findNginx, findUwsgiParams, startNginx } from './nginx.mjs';
import { makeTempDir } from './temp.mjs';

/** The application put behind nginx. */
export const APP = join(FIXTURES, 'nginx', 'app.mjs');
/** The nginx binary, and why the tests are skipped (false: they run). */
export const NGINX = findNginx();
export const SKIP = !NGINX
  ? 'nginx is not installed, so tsgi cannot be tested behind it (Debian: apt-get install nginx-light; or set NGINX=/path/to/nginx)'
  : !findUwsgiParams()
    ? `nginx is at ${NGINX} but its uwsgi_params file was not found`
    : false;
export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const SKIP_NOT_ROOT = IS_ROOT ? false : 'needs root: nginx switches its workers to user nobody only when it starts as root';
/** A test's options: 30 s. */
export const T = { timeout: 30000 };

/** The sha256 of buf, in hex. */
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** GET path through port with Connection: close; the parsed response. */
export function get(port, path, headers = [], opts = {}) {
  return request(port, req('GET', path, [...headers, ['Connection', 'close']]), { timeoutMs: 10000, ...opts });
}

/** POST body to port (/upload unless path says otherwise); the parsed response. */
export function post(port, body, { path = '/upload', headers = [], timeoutMs = 30000 } = {}) {
  return request(port, [req('POST', path, [['Content-Length', String(body.length)], ...headers, ['Connection', 'close']]), body], { timeoutMs });
}

/** A chunked POST of body, cut into chunks of the given sizes (the rest in one last chunk). */
export function postChunked(port, body, sizes, { path = '/upload', timeoutMs = 30000 } = {}) {
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
export async function stopTsgi(cli) {
  try {
    cli.signal('SIGTERM');
    return await cli.waitExit(5000);
  } catch {
    await cli.kill();
    return { code: null, signal: 'SIGKILL' };
  }
}

/** The lines of text after offset: what nginx's error log gained since then. */
export const logSince = (text, offset) => text.slice(offset);

/** Registers one skipped test that says why, when nginx is not here (a file's tests are all skipped then). */
export function noteSkipped() {
  if (SKIP) test('nginx integration tests', { skip: SKIP }, () => {});
}

// The two backends must look the same from behind nginx: the main tests, the limits and
// the several sockets run against each (the js backend's uwsgi is lib/js/uwsgi.ts, the
// native one's native/server/). The rest (permissions, socket files) is about sockets,
// not the protocol: native only.
export { BACKENDS } from './project.mjs';

/**
 * One tsgi on --backend backend (a unix uwsgi socket, a TCP uwsgi socket, an HTTP socket)
 * behind three nginx: viaUnix (unix upstream), viaTcp (127.0.0.1:PORT upstream) and
 * unbuffered (unix upstream, uwsgi_request_buffering off). Call inside describe(): they
 * are started in before() and stopped in after(). Returns the object that before()
 * fills: { dir, sock, tsgi, httpPort, uwsgiPort, viaUnix, viaTcp, unbuffered }.
 */
export function behindNginx(backend) {
  const s = {};
  before(async () => {
    s.dir = makeTempDir('tsgi-sock-');
    s.sock = join(s.dir, 'app.sock');
    s.tsgi = await startCli(['--backend', backend, '--socket', s.sock, '--chmod-socket', '--uwsgi-socket', '127.0.0.1:0', '--http-socket', '127.0.0.1:0', '--disable-logging', '--wsgi-file', APP]);
    s.httpPort = s.tsgi.sockets.find((x) => x.kind === 'tcp' && x.protocol === 'http').port;
    s.uwsgiPort = s.tsgi.sockets.find((x) => x.kind === 'tcp' && x.protocol === 'uwsgi').port;
    s.viaUnix = await startNginx({ upstream: s.sock });
    s.viaTcp = await startNginx({ upstream: s.uwsgiPort });
    s.unbuffered = await startNginx({ upstream: s.sock, extraLocation: '            uwsgi_request_buffering off;' });
  });
  after(async () => {
    for (const n of [s.viaUnix, s.viaTcp, s.unbuffered]) await n?.stop();
    if (s.tsgi) await stopTsgi(s.tsgi);
    if (s.dir) rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}
