// The environ behind a real nginx (uwsgi_pass): the same as over tsgi's own HTTP socket
// but for what nginx sets (its uwsgi_params), for GET, POST, a chunked POST, a path nginx
// normalises, repeated header fields and HTTP/1.0.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { SKIP, T, noteSkipped, BACKENDS, behindNginx } from '../lib/nginx-suite.mjs';

noteSkipped();

for (const backend of BACKENDS) {
  describe(`tsgi behind nginx (--backend ${backend})`, { skip: SKIP }, () => {
    let httpPort;
    let viaUnix; // nginx -> unix socket
    const nginxed = behindNginx(backend);
    before(() => ({ httpPort, viaUnix } = nginxed));

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
  });
}
