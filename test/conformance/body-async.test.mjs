// Asynchronous response bodies: an async application (a Promise of a body), an async
// generator sent as it yields, and backpressure: a body, async or sync, is not pulled
// while the client reads nothing.
//
// Every route runs inside validate() (see routed() in ../lib/contract.mjs).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS } from '../lib/project.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { connect } from '../lib/raw-client.mjs';
import { delay } from '../lib/wait.mjs';
import { CHUNK } from '../lib/bodies.mjs';
import { routedSuite } from './suite.mjs';

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv, routes, get } = routedSuite(backend);

    test('body: an async application (a Promise of a body)', async () => {
      routes.set('/promise', async (environ, startResponse) => {
        await delay(10);
        startResponse('200 OK', [['X-Async', 'yes']]);
        return ['from ', 'a promise'];
      });
      routes.set('/promise-of-async-gen', async (environ, startResponse) => {
        await delay(5);
        startResponse('200 OK', []);
        return (async function* () {
          await delay(5);
          yield 'async ';
          yield 'generator';
        })();
      });
      const res = await get('/promise');
      assert.equal(res.status, 200);
      assert.equal(res.header('x-async'), 'yes');
      assert.equal(res.header('content-length'), '14');
      assert.equal(res.body.toString(), 'from a promise');
      const res2 = await get('/promise-of-async-gen');
      assert.equal(res2.body.toString(), 'async generator');
    });

    test('body: an async generator is sent as it yields', async () => {
      let release;
      const gate = new Promise((r) => (release = r));
      routes.set('/gated', (environ, startResponse) => {
        startResponse('200 OK', []);
        return (async function* () {
          yield 'first;';
          await gate;
          yield 'second';
        })();
      });
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('GET', '/gated', [['Connection', 'close']]));
        await c.waitFor('first;', 3000, 'the first chunk before the generator goes on');
        release();
        await c.waitClose(3000);
        const res = parseResponse(c.data);
        assert.equal(res.body.toString(), 'first;second');
        assert.ok(res.complete);
      } finally {
        release();
        c.destroy();
      }
    });

    for (const kind of ['async', 'sync']) {
      test(`body: backpressure: an ${kind} body is not pulled while the client reads nothing`, async () => {
        const TOTAL = 256; // 16 MiB
        let pulled = 0;
        routes.set(`/firehose-${kind}`, (environ, startResponse) => {
          startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
          if (kind === 'async') {
            return (async function* () {
              for (let i = 0; i < TOTAL; i++) {
                pulled++;
                yield Buffer.alloc(CHUNK, i & 255);
              }
            })();
          }
          return (function* () {
            for (let i = 0; i < TOTAL; i++) {
              pulled++;
              yield Buffer.alloc(CHUNK, i & 255);
            }
          })();
        });
        const c = connect(srv.port, { paused: true });
        try {
          await c.connected;
          await c.write(req('GET', `/firehose-${kind}`, [['Connection', 'close']]));
          await delay(1000);
          const whilePaused = pulled;
          assert.ok(whilePaused > 0, 'the application was called');
          assert.ok(whilePaused < 200, `pulled ${whilePaused} chunks of 64 KiB while the client read nothing`);
          c.socket.resume();
          await c.waitClose(10000);
          const res = parseResponse(c.data);
          assert.ok(res.complete, 'the whole response');
          assert.equal(res.body.length, TOTAL * CHUNK);
          for (let i = 0; i < TOTAL; i++) {
            const at = i * CHUNK;
            if (res.body[at] !== (i & 255) || res.body[at + CHUNK - 1] !== (i & 255)) assert.fail(`chunk ${i} is wrong`);
          }
          assert.equal(pulled, TOTAL);
        } finally {
          c.destroy();
        }
      });
    }
  });
}
