// WebSockets through the node interface: a `ws` application and a Socket.IO application,
// as written for node:http (their http.Server exported instead of listened on), served
// unmodified on both backends, with real clients (ws's WebSocket, socket.io-client): the
// 'upgrade' event gets a real net.Socket, the bytes a client sends right behind its
// handshake reach the application, the upgrade is logged with 101, and plain requests to
// the same server are answered as before.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { FIXTURES, BACKENDS } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { clientFrame, closeOf, openWebSocket, rawWebSocket } from '../lib/websocket-clients.mjs';

const T = { timeout: 60000 };
const DIR = join(FIXTURES, 'websocket');

/** Resolves with what socket.io's ack callback gets for event(args), bounded in time. */
function ack(socket, event, arg) {
  return socket.timeout(10000).emitWithAck(event, arg);
}

function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, resolve));
}

for (const backend of BACKENDS) {
  describe(`WebSockets through the node interface, ${backend} backend`, () => {
    test('a ws application (WebSocketServer({ server })): echo of text and binary, the peer, a close code; plain requests still served', T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'ws-app.mjs')]);
      t.after(() => cli.kill());
      assert.match(cli.stderrText(), /interface node \(auto: an http\.Server\)$/m);
      const port = await cli.port;
      const c = await openWebSocket(`ws://127.0.0.1:${port}/echo`);
      c.send('hello');
      assert.deepEqual(await c.next(), { data: 'hello', binary: false });
      c.send(Buffer.from([0, 1, 2, 255]));
      const bin = await c.next();
      assert.equal(bin.binary, true);
      assert.deepEqual([...bin.data], [0, 1, 2, 255]);
      const big = 'x'.repeat(200000);
      c.send(big);
      assert.equal((await c.next()).data, big);
      c.send('peer');
      assert.equal((await c.next()).data, '127.0.0.1 /echo');
      c.send('close:4001');
      assert.deepEqual(await c.closed, { code: 4001, reason: 'asked' });
      await cli.waitStderr(/GET \/echo => generated 0 bytes in \d+ msecs \(HTTP\/1\.1 101\)/);
      const plain = await request(port, req('GET', '/plain', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(plain.status, 200);
      assert.equal(plain.body.toString(), 'plain GET /plain\n');
    });

    test('frames sent in the same packet as the handshake reach the application (the head handed over)', T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'ws-app.mjs')]);
      t.after(() => cli.kill());
      const early = Buffer.concat([clientFrame(1, 'early'), clientFrame(2, Buffer.from([7, 8]))]);
      const c = await rawWebSocket(await cli.port, '/echo', { after: early });
      t.after(() => c.socket.destroy());
      assert.equal(c.status, 101);
      assert.match(c.head, /\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
      const f1 = await c.frame();
      assert.deepEqual([f1.opcode, f1.masked, f1.payload.toString()], [1, false, 'early']);
      const f2 = await c.frame();
      assert.deepEqual([f2.opcode, [...f2.payload]], [2, [7, 8]]);
      c.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
      const close = await c.frame();
      assert.equal(close.opcode, 8);
      assert.equal(closeOf(close).code, 1000);
      await c.ended;
    });

    test('a path ws does not serve: ws refuses the handshake itself (400), as on node:http', T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'ws-app.mjs')]);
      t.after(() => cli.kill());
      await assert.rejects(openWebSocket(`ws://127.0.0.1:${await cli.port}/elsewhere`), { status: 400 });
    });

    for (const transports of [undefined, ['websocket']]) {
      test(`a Socket.IO application: ${transports ? 'websocket only' : 'polling, then the upgrade to websocket'}; acks and broadcasts`, T, async (t) => {
        const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'socketio-app.mjs')]);
        t.after(() => cli.kill());
        const url = `http://127.0.0.1:${await cli.port}`;
        const a = io(url, { transports, reconnection: false });
        const b = io(url, { transports: ['websocket'], reconnection: false });
        t.after(() => {
          a.close();
          b.close();
        });
        await Promise.all([once(a, 'connect'), once(b, 'connect')]);
        if (transports === undefined) {
          if (a.io.engine.transport.name !== 'websocket') await once(a.io.engine, 'upgrade');
        }
        assert.equal(a.io.engine.transport.name, 'websocket');
        assert.deepEqual(await ack(a, 'echo', { n: 1, s: 'é' }), { n: 1, s: 'é' });
        const heard = once(b, 'heard');
        a.emit('shout', 'to all');
        assert.equal(await heard, 'to all');
        await cli.waitStderr(/GET \/socket\.io\/\?EIO=4&transport=websocket => generated 0 bytes in \d+ msecs \(HTTP\/1\.1 101\)/);
      });
    }
  });
}
