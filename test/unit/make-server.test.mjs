// makeServer(host, port, app[, options]) (lib/make-server.ts): wsgiref.simple_server's
// make_server, on both backends. serveForever() binds and serves until close().
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { makeServer } from '../../dist/lib/index.js';
import { BACKENDS } from '../lib/project.mjs';
import { request, connect } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { withTimeout, delay } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';

function app(environ, startResponse) {
  if (environ.PATH_INFO === '/slow') {
    return (async () => {
      await delay(200);
      startResponse('200 OK', []);
      return ['slow done'];
    })();
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`hello ${environ.PATH_INFO} on ${environ['tsgi.backend']}`];
}

/** Resolves true when something accepts TCP connections on host:port. */
function accepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Settled state of a promise, now: 'pending', 'resolved' or 'rejected'. */
async function state(promise) {
  const marker = {};
  return Promise.race([promise.then(() => 'resolved', () => 'rejected'), delay(0).then(() => marker)]).then((v) => (v === marker ? 'pending' : v));
}

const IPV6 = await new Promise((resolve) => {
  const probe = net.createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});

for (const backend of BACKENDS) {
  describe(`makeServer (${backend})`, () => {
    const made = [];
    const make = (host, port, options = {}) => {
      const ms = makeServer(host, port, app, { backend, disableLogging: true, ...options });
      made.push(ms);
      return ms;
    };
    // Whatever a failed test left running.
    after(() => Promise.all(made.map((ms) => withTimeout(ms.close(), 3000, 'close()').catch(() => {}))));

    test('serveForever() binds port 0, ready resolves with the server and its port, it answers, and settles after close()', async () => {
      const ms = make('127.0.0.1', 0);
      assert.equal(ms.server, undefined, 'no server before serveForever()');
      const serving = ms.serveForever();
      const server = await withTimeout(ms.ready, 5000, 'ready');
      assert.equal(ms.server, server, 'server is the bound server');
      assert.equal(server.backend, backend);
      assert.equal(server.address.address, '127.0.0.1');
      assert.equal(server.address.family, 'IPv4');
      assert.ok(Number.isInteger(server.address.port) && server.address.port > 0, `a real port: ${server.address.port}`);
      const port = server.address.port;

      const res = await request(port, req('GET', '/x', [['Connection', 'close']]));
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), `hello /x on ${backend}`);
      const res2 = await request(port, req('GET', '/y', [['Connection', 'close']]));
      assert.equal(res2.body.toString(), `hello /y on ${backend}`);

      await delay(50);
      assert.equal(await state(serving), 'pending', 'serveForever() runs until close()');
      await withTimeout(ms.close(), 3000, 'close()');
      assert.equal(await state(serving), 'resolved', 'serveForever() has settled once close() has resolved');
      assert.equal(await accepts(port), false, 'the port no longer accepts connections');
    });

    test('close() is graceful: a request in progress finishes', async () => {
      const ms = make('127.0.0.1', 0);
      const serving = ms.serveForever();
      const { address } = await withTimeout(ms.ready, 5000, 'ready');
      const c = connect(address.port);
      try {
        await c.connected;
        await c.write(req('GET', '/slow', [['Connection', 'close']]));
        await delay(50); // the application is running
        const closing = ms.close();
        await c.waitClose(3000);
        assert.match(c.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nslow done$/, JSON.stringify(c.text));
        await withTimeout(closing, 3000, 'close()');
        await withTimeout(serving, 3000, 'serveForever()');
      } finally {
        c.destroy();
      }
    });

    test('close() before serveForever() is called: serveForever() binds, stops, and settles', async () => {
      const ms = make('127.0.0.1', 0);
      await withTimeout(ms.close(), 3000, 'close()');
      await withTimeout(ms.serveForever(), 5000, 'serveForever() after close()');
      const server = await withTimeout(ms.ready, 1000, 'ready');
      assert.equal(await accepts(server.address.port), false, 'nothing listens on the port');
    });

    test('close() while serveForever() is binding still stops it', async () => {
      const ms = make('127.0.0.1', 0);
      const serving = ms.serveForever();
      const closing = ms.close(); // before the bind has completed
      assert.equal(ms.server, undefined, 'not bound yet when close() was called');
      await withTimeout(closing, 3000, 'close()');
      await withTimeout(serving, 5000, 'serveForever() to settle');
      const server = await withTimeout(ms.ready, 1000, 'ready');
      assert.equal(await accepts(server.address.port), false, 'nothing listens on the port');
    });

    test('close() while serveForever() is binding: once close() has resolved, the port is free again', { timeout: 15000 }, async () => {
      // As after a close() of a bound server: a new server may take the same port.
      const port = await freePort();
      const first = make('127.0.0.1', port);
      let bound = false;
      first.ready.then(() => (bound = true), () => {});
      const serving = first.serveForever();
      serving.catch(() => {});
      await first.close(); // no withTimeout(): its extra ticks would hide the race
      const boundWhenClosed = bound;
      const second = make('127.0.0.1', port);
      const secondServing = second.serveForever();
      secondServing.catch(() => {});
      try {
        await assert.doesNotReject(withTimeout(second.ready, 5000, 'the second server to bind'), 'the port is free once close() has resolved');
        assert.ok(boundWhenClosed, 'close() resolved before the bind it was to stop had even happened');
      } finally {
        await withTimeout(serving, 5000, 'the first serveForever()').catch(() => {});
        await withTimeout(second.close(), 3000, 'close()').catch(() => {});
      }
    });

    test('a port in use rejects serveForever() (and ready) with TSGI_ERR_LISTEN', async () => {
      const blocker = net.createServer();
      await new Promise((resolve, reject) => {
        blocker.once('error', reject);
        blocker.listen(0, '127.0.0.1', resolve);
      });
      try {
        const port = blocker.address().port;
        const ms = make('127.0.0.1', port);
        await assert.rejects(withTimeout(ms.serveForever(), 5000, 'serveForever()'), {
          name: 'TsgiError',
          code: 'TSGI_ERR_LISTEN',
          message: new RegExp(`127\\.0\\.0\\.1:${port}.*already in use`),
        });
        await assert.rejects(withTimeout(ms.ready, 1000, 'ready'), { code: 'TSGI_ERR_LISTEN' });
        assert.equal(ms.server, undefined);
        await withTimeout(ms.close(), 3000, 'close() after a failed bind');
      } finally {
        await new Promise((resolve) => blocker.close(resolve));
      }
    });

    test('an IPv6 host is bracketed: makeServer("::1", 0, app)', async (t) => {
      if (!IPV6) {
        t.skip('no IPv6 loopback on this machine');
        return;
      }
      const ms = make('::1', 0);
      const serving = ms.serveForever();
      const server = await withTimeout(ms.ready, 5000, 'ready');
      assert.equal(server.address.family, 'IPv6');
      assert.equal(server.address.address, '::1');
      const res = await request(server.address.port, req('GET', '/v6', [['Connection', 'close']]), { host: '::1' });
      assert.equal(res.body.toString(), `hello /v6 on ${backend}`);
      await withTimeout(ms.close(), 3000, 'close()');
      await withTimeout(serving, 3000, 'serveForever()');
    });
  });
}
