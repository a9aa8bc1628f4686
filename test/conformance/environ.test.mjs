// The environ an application receives, on both backends. Every application runs inside
// validate() (validated() in ../lib/contract.mjs), which checks the environ against
// docs/spec.md on every request.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { validated, validatedModule } from '../lib/contract.mjs';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { request, rawRequest, responses } from '../lib/raw-client.mjs';
import { req, parseResponses } from '../lib/http-wire.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { backendSuite } from './suite.mjs';

/** Answers with every string-valued environ entry as JSON (latin-1 strings survive JSON). */
function dumpApp(environ, startResponse) {
  const out = {};
  for (const [k, v] of Object.entries(environ)) if (typeof v === 'string') out[k] = v;
  out['(body)'] = Buffer.from(environ['wsgi.input'].read()).toString('latin1');
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify(out)];
}

async function dump(port, bytes, opts) {
  const res = await request(port, bytes, opts);
  assert.equal(res.status, 200, res.raw.toString('latin1'));
  return JSON.parse(res.body.toString('utf8'));
}

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv } = backendSuite(backend, validated(dumpApp));

    test('environ: CGI variables of a GET', async () => {
      const r = await rawRequest(srv.port, req('GET', '/some/path?a=1&b=%20', [['Connection', 'close']]), { until: responses(1) });
      const e = JSON.parse(parseResponses(r.data)[0].body.toString('utf8'));
      assert.equal(e.REQUEST_METHOD, 'GET');
      assert.equal(e.SCRIPT_NAME, '');
      assert.equal(e.PATH_INFO, '/some/path');
      assert.equal(e.QUERY_STRING, 'a=1&b=%20');
      assert.equal(e.REQUEST_URI, '/some/path?a=1&b=%20');
      assert.equal(e.SERVER_PROTOCOL, 'HTTP/1.1');
      assert.equal(e.SERVER_NAME, os.hostname());
      assert.equal(e.SERVER_PORT, String(srv.port));
      assert.equal(e.REMOTE_ADDR, '127.0.0.1');
      assert.equal(e.REMOTE_PORT, String(r.localPort));
      assert.equal(e.CONTENT_TYPE, '');
      assert.equal(e.CONTENT_LENGTH, '');
      assert.equal(e.HTTP_HOST, 'test');
      assert.equal(e.HTTP_CONNECTION, 'close');
    });

    test('environ: a custom method is passed as sent', async () => {
      const e = await dump(srv.port, req('PURGE', '/x', [['Connection', 'close']]));
      assert.equal(e.REQUEST_METHOD, 'PURGE');
    });

    test('environ: PATH_INFO is percent-decoded byte for byte, as latin-1', async () => {
      const cases = [
        ['/caf%C3%A9', '/caf\xc3\xa9'],
        ['/a%2Fb%2fc', '/a/b/c'],
        ['/100%25', '/100%'],
        ['/x%zzy%4', '/x%zzy%4'],
        ['/a+b%20c', '/a+b c'],
        ['/%FF%00%7e', '/\xff\x00~'],
      ];
      for (const [target, expected] of cases) {
        const e = await dump(srv.port, req('GET', target, [['Connection', 'close']]));
        assert.equal(e.PATH_INFO, expected, `PATH_INFO of ${target}`);
        assert.equal(e.REQUEST_URI, target);
      }
    });

    test('environ: QUERY_STRING is raw, "" without a query', async () => {
      const cases = [
        ['/p', ''],
        ['/p?', ''],
        ['/p?q', 'q'],
        ['/p?a=%41&b=c+d?e', 'a=%41&b=c+d?e'],
      ];
      for (const [target, expected] of cases) {
        const e = await dump(srv.port, req('GET', target, [['Connection', 'close']]));
        assert.equal(e.QUERY_STRING, expected, `QUERY_STRING of ${target}`);
        assert.equal(e.PATH_INFO, '/p');
        assert.equal(e.REQUEST_URI, target);
      }
    });

    test('environ: SERVER_PROTOCOL of an HTTP/1.0 request', async () => {
      const e = await dump(srv.port, 'GET /old HTTP/1.0\r\n\r\n');
      assert.equal(e.SERVER_PROTOCOL, 'HTTP/1.0');
      assert.equal(e.PATH_INFO, '/old');
    });

    test('environ: headers become HTTP_* variables', async () => {
      const e = await dump(
        srv.port,
        req('GET', '/', [
          ['Connection', 'close'],
          ['X-Custom-Header', 'value one'],
          ['accept-language', 'fr'],
          ['X-Empty', ''],
          ['User-Agent', 'raw/1.0'],
        ]),
      );
      assert.equal(e.HTTP_X_CUSTOM_HEADER, 'value one');
      assert.equal(e.HTTP_ACCEPT_LANGUAGE, 'fr');
      assert.equal(e.HTTP_X_EMPTY, '');
      assert.equal(e.HTTP_USER_AGENT, 'raw/1.0');
    });

    test('environ: repeated headers are joined with ", " (Cookie with "; ")', async () => {
      const e = await dump(
        srv.port,
        req('GET', '/', [
          ['Connection', 'close'],
          ['Accept', 'text/html'],
          ['Cookie', 'a=1'],
          ['accept', 'text/plain'],
          ['X-List', 'one'],
          ['Cookie', 'b=2'],
          ['X-LIST', 'two'],
          ['X-List', 'three'],
        ]),
      );
      assert.equal(e.HTTP_ACCEPT, 'text/html, text/plain');
      assert.equal(e.HTTP_COOKIE, 'a=1; b=2');
      assert.equal(e.HTTP_X_LIST, 'one, two, three');
    });

    test('environ: header names holding "_" are dropped', async () => {
      const e = await dump(
        srv.port,
        req('GET', '/', [
          ['Connection', 'close'],
          ['X_Forwarded_For', '6.6.6.6'],
          ['X-Forwarded-For', '1.2.3.4'],
          ['Under_Score', 'x'],
        ]),
      );
      assert.equal(e.HTTP_X_FORWARDED_FOR, '1.2.3.4');
      assert.equal(e.HTTP_UNDER_SCORE, undefined);
      assert.deepEqual(
        Object.keys(e).filter((k) => k.includes('UNDER')),
        [],
      );
    });

    test('environ: Content-Type and Content-Length are CGI variables, not HTTP_*', async () => {
      const e = await dump(
        srv.port,
        req('POST', '/form', [['Connection', 'close'], ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', '5']], 'hello'),
      );
      assert.equal(e.CONTENT_TYPE, 'text/plain; charset=utf-8');
      assert.equal(e.CONTENT_LENGTH, '5');
      assert.equal(e['(body)'], 'hello');
      assert.equal(e.HTTP_CONTENT_TYPE, undefined);
      assert.equal(e.HTTP_CONTENT_LENGTH, undefined);
    });

    test('environ: an empty body with Content-Length: 0', async () => {
      const e = await dump(srv.port, req('POST', '/', [['Connection', 'close'], ['Content-Length', '0']]));
      assert.equal(e.CONTENT_LENGTH, '0');
      assert.equal(e['(body)'], '');
    });

    test('environ: a chunked upload has its decoded length in CONTENT_LENGTH and no HTTP_TRANSFER_ENCODING', async () => {
      const e = await dump(
        srv.port,
        req('POST', '/up', [['Connection', 'close'], ['Transfer-Encoding', 'chunked'], ['Content-Type', 'application/octet-stream']], '5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n'),
      );
      assert.equal(e.CONTENT_LENGTH, '12');
      assert.equal(e['(body)'], 'hello, world');
      assert.equal(e.CONTENT_TYPE, 'application/octet-stream');
      assert.equal(e.HTTP_TRANSFER_ENCODING, undefined);
      assert.equal(e.HTTP_CONTENT_LENGTH, undefined);
    });

    test('environ: header values with bytes 0x80-0xFF arrive as latin-1 characters', async () => {
      const value = Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0x80, 0xff, 0xa0, 0x41]);
      const head = Buffer.concat([
        Buffer.from('GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\nX-Bytes: ', 'latin1'),
        value,
        Buffer.from('\r\n\r\n', 'latin1'),
      ]);
      const e = await dump(srv.port, head);
      assert.equal(e.HTTP_X_BYTES, 'caf\xc3\xa9 \x80\xff\xa0A');
      assert.deepEqual(Buffer.from(e.HTTP_X_BYTES, 'latin1'), value);
    });

    test('environ: an absolute-form target gives its path and query', async () => {
      const e = await dump(srv.port, 'GET http://example.com/p?q HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
      assert.equal(e.PATH_INFO, '/p');
      assert.equal(e.QUERY_STRING, 'q');
      assert.equal(e.REQUEST_URI, 'http://example.com/p?q');
      const root = await dump(srv.port, 'GET http://example.com:8080 HTTP/1.1\r\nHost: example.com:8080\r\nConnection: close\r\n\r\n');
      assert.equal(root.PATH_INFO, '/');
      assert.equal(root.QUERY_STRING, '');
    });

    // RFC 9112 §3.2.2: the target's authority replaces Host. SERVER_NAME and SERVER_PORT
    // are the server's (the machine's name, the listener's port), as before.
    test('environ: an absolute-form target\'s authority is HTTP_HOST, whatever Host says', async () => {
      const e = await dump(srv.port, 'GET http://other.example:8080/path?x=1 HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
      assert.equal(e.HTTP_HOST, 'other.example:8080');
      assert.equal(e.PATH_INFO, '/path');
      assert.equal(e.QUERY_STRING, 'x=1');
      assert.equal(e.REQUEST_URI, 'http://other.example:8080/path?x=1');
      assert.equal(e.SERVER_NAME, os.hostname());
      assert.equal(e.SERVER_PORT, String(srv.port));
      const https = await dump(srv.port, 'GET HTTPS://[::1]/a%20b HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
      assert.equal(https.HTTP_HOST, '[::1]');
      assert.equal(https.PATH_INFO, '/a b');
      // HTTP/1.0 needs no Host: the authority is HTTP_HOST all the same.
      const old = await dump(srv.port, 'GET http://a.example/p HTTP/1.0\r\n\r\n');
      assert.equal(old.HTTP_HOST, 'a.example');
      const origin = await dump(srv.port, 'GET /p HTTP/1.0\r\n\r\n');
      assert.equal(origin.HTTP_HOST, undefined);
    });

    test('environ: OPTIONS * is served, PATH_INFO "*"', async () => {
      const e = await dump(srv.port, 'OPTIONS * HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n');
      assert.equal(e.REQUEST_METHOD, 'OPTIONS');
      assert.equal(e.PATH_INFO, '*');
      assert.equal(e.REQUEST_URI, '*');
    });

    // RFC 9112 §7.1.1 allows BWS around ";" and "=" in a chunk extension, and RFC 9110
    // §5.6.3 says a recipient MUST parse it; extensions are dropped.
    test('environ: chunk extensions with whitespace (BWS) are accepted and dropped', async () => {
      const e = await dump(
        srv.port,
        req('POST', '/up', [['Connection', 'close'], ['Transfer-Encoding', 'chunked']], '5 ; a = b\r\nhello\r\n7; some; parameters=stuff\r\n, world\r\n0 ;last\r\n\r\n'),
      );
      assert.equal(e.CONTENT_LENGTH, '12');
      assert.equal(e['(body)'], 'hello, world');
    });

    test('environ: wsgi.* keys and tsgi.signal', async () => {
      const seen = {};
      const s = await startServer(
        validated((environ, startResponse) => {
          seen.version = environ['wsgi.version'];
          seen.versionFrozen = Object.isFrozen(environ['wsgi.version']);
          seen.scheme = environ['wsgi.url_scheme'];
          seen.multithread = environ['wsgi.multithread'];
          seen.multiprocess = environ['wsgi.multiprocess'];
          seen.runOnce = environ['wsgi.run_once'];
          const input = environ['wsgi.input'];
          seen.input = ['read', 'readline', 'readlines'].every((m) => typeof input[m] === 'function') && typeof input[Symbol.iterator] === 'function' && typeof input[Symbol.asyncIterator] === 'function';
          const errors = environ['wsgi.errors'];
          seen.errors = ['write', 'writelines', 'flush'].every((m) => typeof errors[m] === 'function');
          seen.fileWrapper = typeof environ['wsgi.file_wrapper'];
          const signal = environ['tsgi.signal'];
          seen.signal = signal instanceof AbortSignal;
          seen.signalAborted = signal?.aborted;
          seen.signalIn = 'tsgi.signal' in environ;
          seen.sameSignal = environ['tsgi.signal'] === signal;
          seen.backend = environ['tsgi.backend'];
          startResponse('200 OK', []);
          return ['ok'];
        }),
        { backend },
      );
      try {
        const res = await request(s.port, req('GET', '/', [['Connection', 'close']]));
        assert.equal(res.status, 200);
      } finally {
        await s.close();
      }
      assert.deepEqual(seen, {
        version: [1, 0],
        versionFrozen: true,
        scheme: 'http',
        multithread: false,
        multiprocess: false,
        runOnce: false,
        input: true,
        errors: true,
        fileWrapper: 'function',
        signal: true,
        signalAborted: false,
        signalIn: true,
        sameSignal: true,
        backend,
      });
    });

    test('environ: wsgi.errors writes to stderr', async (t) => {
      const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', validatedModule(join(FIXTURES, 'errors-app.mjs'))]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const res = await request(port, req('GET', '/?m=42', [['Connection', 'close']]));
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'logged\n');
      const stderr = await cli.waitStderr(/writelines two\n/);
      assert.match(stderr, /^wsgi\.errors marker m=42\nwritelines one\nwritelines two\n/m);
    });

    test('environ: REMOTE_ADDR and SERVER_PORT over IPv6 loopback', async (t) => {
      const ok = await new Promise((resolve) => {
        const probe = net.createServer();
        probe.once('error', () => resolve(false));
        probe.listen(0, '::1', () => probe.close(() => resolve(true)));
      });
      if (!ok) {
        t.skip('no IPv6 loopback on this machine');
        return;
      }
      const s = await startServer(validated(dumpApp), { backend, http: '[::1]:0' });
      try {
        assert.equal(s.server.address.family, 'IPv6');
        const r = await rawRequest(s.port, req('GET', '/v6', [['Connection', 'close']]), { host: '::1', until: responses(1) });
        const e = JSON.parse(parseResponses(r.data)[0].body.toString('utf8'));
        assert.equal(e.REMOTE_ADDR, '::1');
        assert.equal(e.REMOTE_PORT, String(r.localPort));
        assert.equal(e.SERVER_PORT, String(s.port));
      } finally {
        await s.close();
      }
    });
  });
}
