// start_response: what it checks, what it throws, excInfo, and write().
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs). A route that
// breaks the contract on purpose is caught by validate() first, with
// TSGI_ERR_APP_CONTRACT; so the tests of the server's own checks (its error codes) also
// run their route unvalidated(), and assert the server's code there.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponses } from '../lib/http-wire.mjs';
import { rawRequest, responses } from '../lib/raw-client.mjs';
import { delay } from '../lib/wait.mjs';
import { unvalidated } from '../lib/contract.mjs';
import { routedSuite } from './suite.mjs';

// [label, status, headers, expected err.code]
const BAD_CALLS = [
  ['status without a reason phrase', '200', [], 'TSGI_ERR_STATUS_INVALID'],
  ['status without a space', '200OK', [], 'TSGI_ERR_STATUS_INVALID'],
  ['two-digit status', '20 OK', [], 'TSGI_ERR_STATUS_INVALID'],
  ['four-digit status', '2000 OK', [], 'TSGI_ERR_STATUS_INVALID'],
  ['status below 100', '099 Low', [], 'TSGI_ERR_STATUS_INVALID'],
  ['reason first', 'OK 200', [], 'TSGI_ERR_STATUS_INVALID'],
  ['status with CRLF', '200 OK\r\nX-Injected: 1', [], 'TSGI_ERR_STATUS_INVALID'],
  ['status as a number', 200, [], 'TSGI_ERR_STATUS_INVALID'],
  ['headers not a list', '200 OK', 'X-A: 1', 'TSGI_ERR_HEADERS_TYPE'],
  ['header not a pair', '200 OK', [['X-A']], 'TSGI_ERR_HEADERS_TYPE'],
  ['header name with a space', '200 OK', [['X Y', 'v']], 'TSGI_ERR_HEADER_INVALID'],
  ['header name with a colon', '200 OK', [['X:Y', 'v']], 'TSGI_ERR_HEADER_INVALID'],
  ['empty header name', '200 OK', [['', 'v']], 'TSGI_ERR_HEADER_INVALID'],
  ['header value with CRLF', '200 OK', [['X-A', 'a\r\nX-Injected: 1']], 'TSGI_ERR_HEADER_INVALID'],
  ['header value with LF', '200 OK', [['X-A', 'a\nb']], 'TSGI_ERR_HEADER_INVALID'],
  ['header value with NUL', '200 OK', [['X-A', 'a\0b']], 'TSGI_ERR_HEADER_INVALID'],
  ['header value not latin-1', '200 OK', [['X-A', 'price: 5\u20ac']], 'TSGI_ERR_HEADER_INVALID'],
  ['header value not a string', '200 OK', [['X-A', 5]], 'TSGI_ERR_HEADER_INVALID'],
  ['Content-Length not a number', '200 OK', [['Content-Length', 'ten']], 'TSGI_ERR_HEADER_INVALID'],
  ['hop-by-hop Connection', '200 OK', [['Connection', 'close']], 'TSGI_ERR_HEADER_HOP_BY_HOP'],
  ['hop-by-hop connection (lower case)', '200 OK', [['connection', 'keep-alive']], 'TSGI_ERR_HEADER_HOP_BY_HOP'],
  ['hop-by-hop Transfer-Encoding', '200 OK', [['Transfer-Encoding', 'chunked']], 'TSGI_ERR_HEADER_HOP_BY_HOP'],
  ['hop-by-hop Keep-Alive', '200 OK', [['Keep-Alive', 'timeout=5']], 'TSGI_ERR_HEADER_HOP_BY_HOP'],
  ['hop-by-hop Upgrade', '200 OK', [['Upgrade', 'h2c']], 'TSGI_ERR_HEADER_HOP_BY_HOP'],
];

/** The body of a 500 tells nothing of the error. */
function assertNoInternals(res, secret) {
  const body = res.body.toString('latin1');
  assert.ok(body.length < 200, `a short body: ${JSON.stringify(body)}`);
  for (const leak of [/TSGI_ERR/, /TsgiError/, /TypeError/, /\bat\s+\S+\s*\(/, /\.m?[jt]s\b/, /\/work\//, /node:/, secret]) {
    assert.doesNotMatch(body, leak instanceof RegExp ? leak : new RegExp(leak), `the 500 body leaks ${leak}: ${JSON.stringify(body)}`);
  }
  assert.doesNotMatch(res.raw.toString('latin1'), new RegExp(secret));
}

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

    test('start_response: malformed arguments throw inside the application', async () => {
      // Unvalidated: this tests the server's own checks and their codes; under validate()
      // every one of these calls would throw TSGI_ERR_APP_CONTRACT before reaching the
      // server (test/unit/validate-app-breaks.test.mjs tests that side).
      routes.set('/bad', unvalidated((environ, startResponse) => {
        const results = [];
        for (const [label, status, headers] of BAD_CALLS) {
          try {
            startResponse(status, headers);
            results.push([label, 'no error']);
          } catch (err) {
            results.push([label, err instanceof Error ? err.code : `non-Error ${String(err)}`]);
          }
        }
        startResponse('200 OK', [['Content-Type', 'application/json']]);
        return [JSON.stringify(results)];
      }));
      const res = await get('/bad');
      assert.equal(res.status, 200, res.raw.toString('latin1'));
      assert.deepEqual(JSON.parse(res.body.toString()), BAD_CALLS.map(([label, , , code]) => [label, code]));
    });

    test('start_response: the status line and headers go out as given', async () => {
      routes.set('/status', (environ, startResponse) => {
        startResponse('299 Custom Reason, Phrase', [
          ['X-Latin', 'caf\xe9 \xff'],
          ['X-Tab', 'a\tb'],
          ['X-Empty', ''],
          ['x-lower', 'kept'],
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ]);
        return ['body'];
      });
      const res = await get('/status');
      assert.equal(res.status, 299);
      assert.equal(res.reason, 'Custom Reason, Phrase');
      assert.match(res.raw.toString('latin1'), /^HTTP\/1\.1 299 Custom Reason, Phrase\r\n/);
      assert.ok(res.raw.includes(Buffer.from('\r\nX-Latin: caf\xe9 \xff\r\n', 'latin1')), 'latin-1 header value as its bytes');
      assert.ok(res.raw.includes(Buffer.from('\r\nX-Tab: a\tb\r\n', 'latin1')));
      assert.equal(res.header('x-empty'), '');
      assert.ok(res.raw.includes(Buffer.from('\r\nx-lower: kept\r\n', 'latin1')), 'header name case is kept');
      assert.deepEqual(res.headerAll('set-cookie'), ['a=1', 'b=2']);
      assert.equal(res.header('date'), undefined, 'no Date header');
      assert.equal(res.header('server'), undefined, 'no Server header');
      assert.equal(res.body.toString(), 'body');
      routes.set('/empty-reason', (environ, startResponse) => {
        startResponse('200 ', []);
        return ['ok'];
      });
      const res2 = await get('/empty-reason');
      assert.equal(res2.status, 200);
      assert.equal(res2.body.toString(), 'ok');
    });

    test('start_response: an error that escapes the application gets a 500 without internals', async () => {
      const escaping = [
        ['status without a reason', (e, sr) => sr('200', [['X-Secret', 'SECRET-1']])],
        ['header value with CRLF', (e, sr) => sr('200 OK', [['X-A', 'SECRET-2\r\nX: y']])],
        ['hop-by-hop header', (e, sr) => sr('200 OK', [['Connection', 'SECRET-3']])],
        [
          'a thrown Error',
          () => {
            throw new TypeError('SECRET-4 password=hunter2');
          },
        ],
        [
          'a rejected Promise',
          async () => {
            await delay(1);
            throw new Error('SECRET-5');
          },
        ],
        [
          'a thrown non-Error',
          () => {
            throw 'SECRET-6'; // eslint-disable-line no-throw-literal
          },
        ],
      ];
      // Inside validate() (which raises TSGI_ERR_APP_CONTRACT for the first three), and
      // unvalidated (the server's own checks raise): the client sees the same 500.
      for (const mode of ['validated', 'unvalidated']) {
        for (const [i, [label, app]] of escaping.entries()) {
          const route = (environ, startResponse) => {
            const r = app(environ, startResponse);
            return r instanceof Promise ? r : ['not reached'];
          };
          routes.set(`/escape${i}-${mode}`, mode === 'validated' ? route : unvalidated(route));
          const res = await get(`/escape${i}-${mode}`);
          assert.equal(res.status, 500, `${label} (${mode}): ${res.raw.toString('latin1')}`);
          assert.ok(res.complete, `${label} (${mode}): a complete response`);
          assertNoInternals(res, `SECRET-${i + 1}`);
        }
      }
    });

    test('start_response: a second call without excInfo throws TSGI_ERR_START_RESPONSE_TWICE', async () => {
      const twice = (environ, startResponse) => {
        startResponse('200 OK', [['X-First', '1']]);
        let code = 'no error';
        try {
          startResponse('201 Created', [['X-Second', '2']]);
        } catch (err) {
          code = err.code;
        }
        return [code];
      };
      // The server's own check, unvalidated; inside validate(), validate() raises first.
      for (const [path, app, code] of [
        ['/twice', unvalidated(twice), 'TSGI_ERR_START_RESPONSE_TWICE'],
        ['/twice-validated', (e, sr) => twice(e, sr), 'TSGI_ERR_APP_CONTRACT'],
      ]) {
        routes.set(path, app);
        const res = await get(path);
        assert.equal(res.status, 200, path);
        assert.equal(res.header('x-first'), '1', path);
        assert.equal(res.header('x-second'), undefined, path);
        assert.equal(res.body.toString(), code, path);
      }
    });

    test('start_response: a second call with excInfo before any body replaces status and headers', async () => {
      routes.set('/replace', (environ, startResponse) => {
        startResponse('200 OK', [['X-First', '1']]);
        startResponse('503 Service Unavailable', [['X-Second', '2']], new Error('the database is down'));
        return ['replaced'];
      });
      const res = await get('/replace');
      assert.equal(res.status, 503);
      assert.equal(res.reason, 'Service Unavailable');
      assert.equal(res.header('x-first'), undefined);
      assert.equal(res.header('x-second'), '2');
      assert.equal(res.body.toString(), 'replaced');

      // An empty chunk is no body: the headers have not gone out.
      routes.set('/replace-after-empty', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', [['X-First', '1']]);
          yield '';
          await delay(5);
          startResponse('502 Bad Gateway', [['X-Second', '2']], new Error('upstream'));
          yield 'second';
        })();
      });
      const res2 = await get('/replace-after-empty');
      assert.equal(res2.status, 502);
      assert.equal(res2.header('x-first'), undefined);
      assert.equal(res2.header('x-second'), '2');
      assert.equal(res2.body.toString(), 'second');
    });

    test('start_response: with excInfo after the headers went out it throws excInfo', async () => {
      routes.set('/rethrow-async', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', []);
          yield 'a';
          await delay(20);
          const excInfo = new Error('late failure');
          try {
            startResponse('500 Internal Server Error', [], excInfo);
            yield '-returned';
          } catch (err) {
            yield err === excInfo ? '-rethrown' : `-other ${err && err.code}`;
          }
        })();
      });
      const res = await get('/rethrow-async');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'a-rethrown');

      routes.set('/rethrow-write', (environ, startResponse) => {
        const write = startResponse('200 OK', []);
        write('w');
        const excInfo = new Error('late failure');
        try {
          startResponse('500 Internal Server Error', [], excInfo);
          return ['-returned'];
        } catch (err) {
          return [err === excInfo ? '-rethrown' : `-other ${err && err.code}`];
        }
      });
      const res2 = await get('/rethrow-write');
      assert.equal(res2.status, 200);
      assert.equal(res2.body.toString(), 'w-rethrown');
    });

    test('start_response: write() sends its bytes before the body\'s', async () => {
      routes.set('/write', (environ, startResponse) => {
        const write = startResponse('200 OK', [['Content-Type', 'text/plain']]);
        write('one-');
        write(Buffer.from('two-'));
        write('');
        return ['three', '-four'];
      });
      const res = await get('/write');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'one-two-three-four');

      routes.set('/write-length', (environ, startResponse) => {
        const write = startResponse('200 OK', [['Content-Length', '9']]);
        write('one-');
        return (function* () {
          yield 'two-x';
        })();
      });
      const r2 = await rawRequest(srv.port, req('GET', '/write-length') + req('GET', '/write', [['Connection', 'close']]), { until: responses(2) });
      const [a, b] = parseResponses(r2.data);
      assert.equal(a.header('content-length'), '9');
      assert.equal(a.body.toString(), 'one-two-x');
      assert.equal(b?.body.toString(), 'one-two-three-four');
    });

    test('start_response: write() after the response ended throws TSGI_ERR_WRITE_AFTER_END', async () => {
      // The server's own check, unvalidated; inside validate(), validate() raises first.
      for (const [path, mode, code] of [
        ['/write-late', 'unvalidated', 'TSGI_ERR_WRITE_AFTER_END'],
        ['/write-late-validated', 'validated', 'TSGI_ERR_APP_CONTRACT'],
      ]) {
        let write;
        const app = (environ, startResponse) => {
          write = startResponse('200 OK', []);
          return ['done'];
        };
        routes.set(path, mode === 'validated' ? app : unvalidated(app));
        const res = await get(path);
        assert.equal(res.body.toString(), 'done', path);
        assert.throws(() => write('late'), { code }, path);
      }
    });
  });
}
