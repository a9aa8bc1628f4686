// WebSockets of a WSGI application (environ['tsgi.websocket']: handshake, receive, send,
// close, async iteration) and of a Hono application (upgradeWebSocket from 'tsgi/hono'),
// on both backends, with ws's WebSocket as the client: subprotocols, text and binary,
// the close codes both ways, a refused upgrade as an ordinary response, a bad handshake
// answered 400 with the reason, --websocket-max-size (1009), and what a request that
// offers another protocol sees.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, BACKENDS } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { rawRequest, request, responses } from '../lib/raw-client.mjs';
import { parseResponses, req } from '../lib/http-wire.mjs';
import { clientFrame, closeOf, openWebSocket, rawWebSocket } from '../lib/websocket-clients.mjs';
import { connect } from 'node:net';
import { FLOOD_MESSAGES } from '../fixtures/websocket/wsgi-app.mjs';

const T = { timeout: 60000 };
const DIR = join(FIXTURES, 'websocket');
const HANDSHAKE = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
];

for (const backend of BACKENDS) {
  describe(`tsgi.websocket (a WSGI application), ${backend} backend`, () => {
    const start = (...args) => startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'wsgi-app.mjs'), ...args]);

    test('handshake with a subprotocol, echo of text and binary, a message read with receive(), the close the application asks for', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`, { protocols: ['x', 'chat'] });
      assert.equal(c.ws.protocol, 'chat');
      assert.equal((await c.next()).data, 'hello chat');
      c.send('é ü 😀');
      assert.deepEqual(await c.next(), { data: 'é ü 😀', binary: false });
      c.send(Buffer.from([0xff, 0, 0x80]));
      assert.deepEqual([...(await c.next()).data], [0xff, 0, 0x80]);
      c.send('size');
      c.send(Buffer.alloc(70000, 1));
      assert.equal((await c.next()).data, '70000');
      c.send('close');
      assert.deepEqual(await c.closed, { code: 4000, reason: 'bye' });
      await cli.waitStderr(/websocket closed with 4000/);
    });

    test('a typed array of wider elements or a DataView is sent as its bytes, a binary message', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`);
      assert.equal((await c.next()).data, 'hello -');
      c.send('views');
      const u16 = await c.next();
      assert.equal(u16.binary, true);
      assert.deepEqual([...u16.data], [0x41, 0x42, 0x43, 0x44]);
      assert.deepEqual([...(await c.next()).data], [2, 3]);
      assert.deepEqual([...(await c.next()).data], [...new Uint8Array(new Float32Array([1]).buffer)]);
      c.send('close');
      assert.equal((await c.closed).code, 4000);
    });

    test('the client closes: the iteration ends, closed says 1001; no subprotocol offered, none chosen', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`);
      assert.equal((await c.next()).data, 'hello -');
      c.ws.close(1001, 'leaving');
      assert.equal((await c.closed).code, 1001);
      await cli.waitStderr(/websocket closed with 1001/);
    });

    test('a refused upgrade is an ordinary response (426); a request offering another protocol has tsgi.upgrade but no tsgi.websocket', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const port = await cli.port;
      await assert.rejects(openWebSocket(`ws://127.0.0.1:${port}/refuse`), { status: 426 });
      // Two requests on one connection: a refused upgrade leaves it as HTTP (the native
      // server keeps it; node:http gave its socket up, so the js backend closes it).
      const refused = req('GET', '/refuse', [...HANDSHAKE, ['Sec-WebSocket-Version', '13']]);
      const r = await rawRequest(port, [refused + req('GET', '/after', [['Connection', 'close']])], { timeoutMs: 10000, until: responses(backend === 'native' ? 2 : 1) });
      const answers = parseResponses(r.data, { closed: r.closed });
      assert.equal(answers[0].status, 426);
      assert.equal(answers[0].body.toString(), 'not here\n');
      if (backend === 'native') assert.equal(answers[1].body.toString(), 'plain /after upgrade=false websocket=false\n');
      const h2c = await request(port, req('GET', '/other', [['Upgrade', 'h2c'], ['Connection', 'Upgrade, HTTP2-Settings'], ['HTTP2-Settings', 'AAMAAABkAAQAAP__']]), { timeoutMs: 10000 });
      assert.equal(h2c.body.toString(), 'plain /other upgrade=true websocket=false\n');
      const http10 = await request(port, req('GET', '/old', [...HANDSHAKE], '', 'HTTP/1.0'), { timeoutMs: 10000 });
      assert.equal(http10.body.toString(), 'plain /old upgrade=false websocket=false\n');
    });

    test('a bad handshake (Sec-WebSocket-Version 12, no key, a subprotocol not offered): 400 with the reason, and a log line', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const port = await cli.port;
      const v12 = await request(port, req('GET', '/ws', [...HANDSHAKE, ['Sec-WebSocket-Version', '12'], ['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(v12.status, 400);
      assert.equal(v12.body.toString(), 'Bad Request: missing or unsupported Sec-WebSocket-Version (13)\n');
      const nokey = await request(port, req('GET', '/ws', [['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Version', '13']]), { timeoutMs: 10000 });
      assert.equal(nokey.status, 400);
      assert.match(nokey.body.toString(), /Sec-WebSocket-Key/);
      await cli.waitStderr(/GET \/ws: 400 Bad Request: missing or unsupported Sec-WebSocket-Version \(13\)/);
    });

    test('the client goes away before the application takes the connection: handshake() rejects with TSGI_ERR_UPGRADE, the server serves on', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const port = await cli.port;
      const s = connect(port, '127.0.0.1', () => s.write(req('GET', '/late', [...HANDSHAKE, ['Sec-WebSocket-Version', '13']])));
      s.on('error', () => {});
      setTimeout(() => s.destroy(), 50);
      await cli.waitStderr(/late handshake: TSGI_ERR_UPGRADE: tsgi\.upgrade\(\) during GET \/late: the client went away/);
      assert.doesNotMatch(cli.stderrText(), /error in the application/);
      const c = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
      assert.equal((await c.next()).data, 'hello -');
      c.ws.close();
      await c.closed;
    });

    test('300 messages sent with the handshake, in one write, to an application that reads none for 300 ms: each is echoed, in order', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const frames = Array.from({ length: 300 }, (_, i) => clientFrame(1, `m${i}`));
      const c = await rawWebSocket(await cli.port, '/later', { after: Buffer.concat(frames) });
      t.after(() => c.socket.destroy());
      assert.equal(c.status, 101);
      for (let i = 0; i < 300; i++) {
        const fr = await c.frame();
        assert.equal(fr.opcode, 1);
        assert.equal(fr.payload.toString(), `m${i}`);
      }
    });

    test('an application that sends 48 MiB to a client that reads nothing for 500 ms is held back (its sends wait), and every message arrives, in order', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const c = await rawWebSocket(await cli.port, '/flood');
      t.after(() => c.socket.destroy());
      c.socket.pause();
      await new Promise((resolve) => setTimeout(resolve, 500));
      c.socket.resume();
      for (let i = 0; i < FLOOD_MESSAGES; i++) {
        const fr = await c.frame();
        assert.equal(fr.payload.length, 65536);
        assert.ok(fr.payload.subarray(0, 8).toString().startsWith(`m${i}.`), `message ${i} in its place`);
      }
      const last = (await c.frame()).payload.toString();
      assert.match(last, /^flooded \d+$/);
      assert.ok(Number(last.split(' ')[1]) > 0, `some sends waited for the output to drain (${last})`);
    });

    test('the application closes while 200 messages wait unread (its queue paused reading): the client\'s answer is read at once, closed says 4000', T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const messages = Array.from({ length: 200 }, (_, i) => clientFrame(1, `m${i}`.padEnd(1024, '.')));
      const c = await rawWebSocket(await cli.port, '/kick', { after: Buffer.concat(messages) });
      t.after(() => c.socket.destroy());
      const fr = await c.frame();
      assert.equal(fr.opcode, 8);
      assert.deepEqual(closeOf(fr), { code: 4000, reason: 'kicked' });
      const answeredAt = Date.now();
      c.write(clientFrame(8, Buffer.from([0x0f, 0xa0])));
      await cli.waitStderr(/kick closed with 4000/, 3000);
      assert.ok(Date.now() - answeredAt < 3000);
      await c.ended;
    });

    test("ws.raw: code written for ws's WebSocket (its 'message' and 'close' events, send with { binary }) works", T, async (t) => {
      const cli = await start();
      t.after(() => cli.kill());
      const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/raw`);
      c.send('hi');
      assert.deepEqual(await c.next(), { data: 'raw hi', binary: false });
      c.send(Buffer.from([1, 2, 3]));
      assert.deepEqual([...(await c.next()).data], [1, 2, 3]);
      c.ws.close(1000);
      assert.equal((await c.closed).code, 1000);
      await cli.waitStderr(/raw close 1000/);
    });

    test('--websocket-max-size 1 (KiB): a message of 1024 bytes is taken, one of 1025 closes the connection with 1009', T, async (t) => {
      const cli = await start('--websocket-max-size', '1');
      t.after(() => cli.kill());
      const c = await openWebSocket(`ws://127.0.0.1:${await cli.port}/ws`);
      await c.next();
      c.send('a'.repeat(1024));
      assert.equal((await c.next()).data.length, 1024);
      c.send('a'.repeat(1025));
      assert.equal((await c.closed).code, 1009);
      await cli.waitStderr(/websocket closed with 1009/);
    });
  });

  describe(`upgradeWebSocket from 'tsgi/hono' (a Hono application), ${backend} backend`, () => {
    test('onOpen, onMessage with text and binary, the close asked for, onClose; plain routes; a bad handshake is 400', T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, 'hono-app.mjs')]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const c = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
      assert.equal((await c.next()).data, 'welcome /ws');
      c.send('text');
      assert.deepEqual(await c.next(), { data: 'text', binary: false });
      c.send(Buffer.from([1, 2, 250]));
      const bin = await c.next();
      assert.equal(bin.binary, true);
      assert.deepEqual([...bin.data], [1, 2, 250]);
      c.send('close');
      assert.deepEqual(await c.closed, { code: 4001, reason: 'bye' });
      await cli.waitStderr(/hono websocket closed with 4001/);
      const plain = await request(port, req('GET', '/', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(plain.body.toString(), 'hono plain\n');
      const bad = await request(port, req('GET', '/ws', [...HANDSHAKE, ['Sec-WebSocket-Version', '7'], ['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(bad.status, 400);
      assert.match(bad.body.toString(), /Sec-WebSocket-Version/);
      const c2 = await openWebSocket(`ws://127.0.0.1:${port}/ws`);
      assert.equal((await c2.next()).data, 'welcome /ws');
      c2.ws.close(1000);
      assert.equal((await c2.closed).code, 1000);
      await cli.waitStderr(/hono websocket closed with 1000/);
    });
  });
}
