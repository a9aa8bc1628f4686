// The response body when something goes wrong: an error before the headers gets a clean
// 500, one after them cuts the response (chunked or Content-Length), a body of the wrong
// type gets a 500.
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs). The test of
// bodies of the wrong type runs its routes both ways: validate() catches them first
// (TSGI_ERR_APP_CONTRACT), so they also run unvalidated() for the server's own checks
// (TSGI_ERR_BODY_TYPE, TSGI_ERR_NO_START_RESPONSE).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { rawRequest } from '../lib/raw-client.mjs';
import { delay } from '../lib/wait.mjs';
import { unvalidated } from '../lib/contract.mjs';
import { CHUNK } from '../lib/bodies.mjs';
import { routedSuite } from './suite.mjs';

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

    test('body: an empty chunk, then an error, gets a clean 500', async () => {
      routes.set('/empty-then-throw', (environ, startResponse) => {
        return (function* () {
          startResponse('200 OK', [['X-App', '1']]);
          yield '';
          throw new Error('failed after an empty chunk');
        })();
      });
      routes.set('/empty-then-throw-async', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', [['X-App', '1']]);
          yield '';
          yield new Uint8Array(0);
          await delay(5);
          throw new Error('failed after an empty chunk');
        })();
      });
      for (const path of ['/empty-then-throw', '/empty-then-throw-async']) {
        const res = await get(path);
        assert.equal(res.status, 500, `${path}: ${res.raw.toString('latin1')}`);
        assert.ok(res.complete, `${path}: a complete response`);
        assert.equal(res.header('x-app'), undefined, `${path}: none of the application's headers`);
        assert.equal(res.body.toString(), 'Internal Server Error\n');
      }
    });

    test('body: an error after the first chunk cuts a chunked response', async () => {
      routes.set('/x-then-throw', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', []);
          yield 'x';
          await delay(10);
          throw new Error('failed mid-body');
        })();
      });
      // A sync body past one 64 KiB batch: its headers went out too.
      routes.set('/big-then-throw', (environ, startResponse) => {
        return (function* () {
          startResponse('200 OK', []);
          for (let i = 0; i < 3; i++) yield Buffer.alloc(CHUNK, 0x61);
          throw new Error('failed mid-body');
        })();
      });
      for (const [path, min] of [['/x-then-throw', 1], ['/big-then-throw', CHUNK]]) {
        const r = await rawRequest(srv.port, req('GET', path), { timeoutMs: 3000 });
        assert.ok(r.closed, `${path}: the server closes the connection`);
        const res = parseResponse(r.data);
        assert.equal(res.status, 200, path);
        assert.equal(res.header('transfer-encoding'), 'chunked', path);
        assert.ok(res.body.length >= min, `${path}: the body so far (${res.body.length} bytes)`);
        assert.equal(res.complete, false, `${path}: no last chunk: ${JSON.stringify(r.text.slice(-40))}`);
        assert.ok(!r.text.endsWith('0\r\n\r\n'), path);
      }
    });

    test('body: an error after the first chunk cuts a Content-Length response short', async () => {
      routes.set('/cl-then-throw', (environ, startResponse) => {
        return (async function* () {
          startResponse('200 OK', [['Content-Length', '100']]);
          yield 'x';
          await delay(10);
          throw new Error('failed mid-body');
        })();
      });
      const r = await rawRequest(srv.port, req('GET', '/cl-then-throw'), { timeoutMs: 3000 });
      assert.ok(r.closed, 'the server closes the connection');
      const res = parseResponse(r.data);
      assert.equal(res.status, 200);
      assert.equal(res.header('content-length'), '100');
      assert.equal(res.body.toString(), 'x');
      assert.equal(res.complete, false);
    });

    test('body: a body of the wrong type gets a 500', async () => {
      const apps = {
        'a string': (e, sr) => (sr('200 OK', []), 'text'),
        'a Uint8Array': (e, sr) => (sr('200 OK', []), Buffer.from('bytes')),
        null: (e, sr) => (sr('200 OK', []), null),
        'a number chunk': (e, sr) => (sr('200 OK', []), [42]),
        'an object chunk in a generator': (e, sr) =>
          (function* () {
            sr('200 OK', []);
            yield {};
          })(),
        'a body before start_response': () => ['early'],
        'no start_response at all': () => [],
        'a Promise of a string': async (e, sr) => (sr('200 OK', []), 'text'),
      };
      // Inside validate() (TSGI_ERR_APP_CONTRACT), and unvalidated (the server's own
      // checks): the client sees the same 500.
      for (const mode of ['validated', 'unvalidated']) {
        for (const [label, app] of Object.entries(apps)) {
          const route = (environ, startResponse) => app(environ, startResponse);
          routes.set('/wrong', mode === 'validated' ? route : unvalidated(route));
          const res = await get('/wrong');
          assert.equal(res.status, 500, `${label} (${mode}): ${res.raw.toString('latin1')}`);
          assert.equal(res.body.toString(), 'Internal Server Error\n', `${label} (${mode})`);
        }
      }
    });
  });
}
