// Express 5, Koa 3 and Fastify 5 applications (test/fixtures/frameworks/), unmodified,
// served by tsgi through the node interface (fromNodeListener) on both backends, and the
// same requests sent to the same applications on their usual servers: the responses are
// compared byte for byte (test/lib/frameworks.mjs says what that means and what is set aside).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { FRAMEWORKS, requestsFor, send, normalized, UPLOAD_DIGEST } from '../lib/frameworks.mjs';
import { fromNodeListener, nodeListenerOf } from '../../dist/lib/index.js';

const T = { timeout: 60000 };

for (const [name, fw] of Object.entries(FRAMEWORKS)) {
  describe(`${name} on tsgi and on its usual server`, () => {
    let m;
    let usual;
    let etag;
    const tsgi = {};

    before(async () => {
      m = await import(fw.file);
      usual = await fw.usual(m);
      for (const backend of BACKENDS) tsgi[backend] = await startServer(m.application, { backend });
      etag = (await send(usual.port, ['', 'GET', '/static/hello.txt', []])).header('etag');
    });

    after(async () => {
      for (const s of Object.values(tsgi)) await s.close();
      await usual?.close();
    });

    test(`${name}: every request gets the same response from tsgi (native, js) as from its usual server`, T, async () => {
      for (const r of requestsFor(etag)) {
        const expected = await send(usual.port, r);
        for (const backend of BACKENDS) {
          const got = await send(tsgi[backend].port, r);
          assert.deepEqual(normalized(got), normalized(expected), `${name}, ${r[0]} (${r[1]} ${r[2]}), tsgi --backend ${backend} against the usual server`);
        }
      }
    });

    test(`${name}: what the usual server answers is what the application means (the comparison compares something)`, T, async () => {
      const byName = new Map();
      for (const r of requestsFor(etag)) byName.set(r[0], await send(usual.port, r));
      assert.equal(byName.get('routing and a query').body.toString(), 'hello tsgi\n');
      assert.deepEqual(JSON.parse(byName.get('a JSON body').body), { got: { numbers: [1, 2, 3.5], text: 'café ☕' }, sum: 6.5 });
      assert.equal(byName.get('a JSON body').status, 201);
      const cookies = byName.get('cookies');
      assert.equal(cookies.headerAll('set-cookie').length, 2, 'two Set-Cookie lines');
      assert.deepEqual(JSON.parse(cookies.body), { cookie: 'a=1; b=2' });
      assert.equal(byName.get('a redirect').status, 302);
      assert.match(byName.get('a redirect').header('location'), /\/hello\?name=redirected$/);
      assert.match(byName.get('a static file').body.toString(), /^Hello from a static file/);
      if (name !== 'koa') assert.equal(byName.get('a static file, a Range').status, 206, 'koa-send has no Range');
      if (name !== 'koa') assert.equal(byName.get('a static file, a Range').body.toString(), 'from a sta');
      assert.equal(byName.get('a static file, If-Modified-Since').status, 304);
      if (etag !== undefined) assert.equal(byName.get('a static file, If-None-Match').status, 304);
      assert.equal(byName.get('a streamed body').framing, 'chunked');
      assert.equal(byName.get('a streamed body').body.toString(), 'part one\npart two\npart three, the last\n');
      assert.equal(byName.get('a thrown error and its handler').status, 500);
      assert.equal(byName.get('a thrown error and its handler').body.toString(), 'handled: thrown on purpose by /error\n');
      assert.equal(byName.get('a 404').status, 404);
      assert.equal(byName.get('HEAD').body.length, 0);
      assert.equal(byName.get('HEAD').header('content-length'), String('hello head\n'.length));
      const peer = JSON.parse(byName.get('the connection, as the request sees it').body);
      assert.equal(peer.remoteAddress, '127.0.0.1');
      assert.equal(peer.protocol, 'http');
      assert.deepEqual(JSON.parse(byName.get('a 5 MB upload').body), UPLOAD_DIGEST);
    });
  });
}

// nodeListenerOf(): what --interface node makes of a module's export, unmodified: an
// Express app (a function), a Koa application (its callback()), a Fastify instance
// (its router once ready()).
describe('nodeListenerOf: the listener of an Express app, a Koa application, a Fastify instance', () => {
  for (const [name, exported] of [
    ['express', async () => (await import(FRAMEWORKS.express.file)).app],
    ['koa', async () => (await import(FRAMEWORKS.koa.file)).app],
    ['fastify', async () => (await import(FRAMEWORKS.fastify.file)).build()],
  ]) {
    test(`${name}: served from the framework's own object`, T, async () => {
      const server = await startServer(fromNodeListener(await nodeListenerOf(await exported())));
      try {
        const r = await send(server.port, ['', 'GET', '/hello?name=unmodified', []]);
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), 'hello unmodified\n');
      } finally {
        await server.close();
      }
    });
  }

  test('anything else: TSGI_ERR_APP_NO_CALLABLE, naming what came', async () => {
    await assert.rejects(nodeListenerOf({ fetch() {} }), { code: 'TSGI_ERR_APP_NO_CALLABLE', message: /a Koa application or a Fastify instance for the node interface but received object/ });
    await assert.rejects(nodeListenerOf(null), { code: 'TSGI_ERR_APP_NO_CALLABLE', message: /received null/ });
  });
});
