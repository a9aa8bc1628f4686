// HTTP/1.1 on the wire: HEAD, Expect: 100-continue, keep-alive, pipelining, HTTP/1.0.
// The application runs inside validate() (validated() in ../lib/contract.mjs).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { validated } from '../lib/contract.mjs';
import { BACKENDS } from '../lib/project.mjs';
import { request, rawRequest, responses, connect } from '../lib/raw-client.mjs';
import { req, parseResponses } from '../lib/http-wire.mjs';
import { delay } from '../lib/wait.mjs';
import { backendSuite } from './suite.mjs';

function app(environ, startResponse) {
  const path = environ.PATH_INFO;
  if (path === '/list') {
    startResponse('200 OK', [['Content-Type', 'text/plain'], ['X-Kind', 'list']]);
    return ['hello ', 'world'];
  }
  if (path === '/echo') {
    const body = Buffer.from(environ['wsgi.input'].read());
    startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
    return [`${environ.REQUEST_METHOD} ${body.length}:`, body];
  }
  if (path === '/port') {
    startResponse('200 OK', []);
    return [environ.REMOTE_PORT];
  }
  if (path.startsWith('/delay/')) {
    const ms = Number(path.slice(7));
    return (async () => {
      await delay(ms);
      startResponse('200 OK', []);
      return [`delayed ${ms}`];
    })();
  }
  if (path === '/async-gen') {
    startResponse('200 OK', []);
    return (async function* () {
      yield 'streamed ';
      await delay(5);
      yield 'body';
    })();
  }
  startResponse('200 OK', []);
  return [`path ${path}`];
}

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv } = backendSuite(backend, validated(app));

    test('HEAD: the headers of the GET, no body', async () => {
      const get = await request(srv.port, req('GET', '/list', [['Connection', 'close']]));
      // HEAD then GET on one connection: the GET's response must follow the HEAD's head
      // immediately, which proves the HEAD response carried no body bytes.
      const r = await rawRequest(srv.port, req('HEAD', '/list') + req('GET', '/list', [['Connection', 'close']]), {
        until: responses(2, { methods: ['HEAD', 'GET'] }),
      });
      const [head, after] = parseResponses(r.data, { methods: ['HEAD', 'GET'] });
      assert.equal(head.status, 200);
      assert.equal(head.header('content-length'), '11', 'the Content-Length of the would-be body');
      assert.equal(head.header('content-type'), get.header('content-type'));
      assert.equal(head.header('x-kind'), 'list');
      assert.equal(head.header('transfer-encoding'), undefined);
      assert.ok(after, `a second response right after the HEAD head: ${JSON.stringify(r.text)}`);
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[^]*?\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      assert.equal(after.body.toString(), 'hello world');
    });

    test('HEAD: a streamed body sends no body bytes either', async () => {
      const r = await rawRequest(srv.port, req('HEAD', '/async-gen') + req('GET', '/list', [['Connection', 'close']]), {
        until: responses(2, { methods: ['HEAD', 'GET'] }),
      });
      const all = parseResponses(r.data, { methods: ['HEAD', 'GET'] });
      assert.equal(all.length, 2, JSON.stringify(r.text));
      assert.equal(all[0].status, 200);
      assert.equal(all[1].body.toString(), 'hello world', JSON.stringify(r.text));
    });

    test('Expect: 100-continue: "100 Continue" comes before the body is sent', async () => {
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('POST', '/echo', [['Content-Length', '5'], ['Expect', '100-continue'], ['Connection', 'close']]));
        const data = await c.waitFor('\r\n\r\n', 3000, 'the 100 Continue');
        assert.equal(data.toString('latin1'), 'HTTP/1.1 100 Continue\r\n\r\n');
        await c.write('hello');
        await c.waitClose(3000);
        const all = parseResponses(c.data);
        assert.equal(all.length, 2);
        assert.equal(all[0].status, 100);
        assert.equal(all[1].status, 200);
        assert.equal(all[1].body.toString(), 'POST 5:hello');
      } finally {
        c.destroy();
      }
    });

    test('keep-alive: two requests on one connection', async () => {
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write(req('GET', '/port'));
        await c.waitFor(responses(1), 3000, 'the first response');
        const first = parseResponses(c.data)[0];
        assert.equal(first.header('connection') ?? 'keep-alive', 'keep-alive');
        assert.equal(first.body.toString(), String(c.localPort));
        assert.equal(c.ended, false, 'the connection stays open');
        await c.write(req('POST', '/echo', [['Content-Length', '3']], 'abc'));
        await c.waitFor(responses(2), 3000, 'the second response');
        const second = parseResponses(c.data)[1];
        assert.equal(second.body.toString(), 'POST 3:abc');
        assert.equal(c.ended, false);
      } finally {
        c.destroy();
      }
    });

    test('keep-alive: "Connection: close" from the client closes after the response', async () => {
      const r = await rawRequest(srv.port, req('GET', '/list', [['Connection', 'close']]) + req('GET', '/never'), { timeoutMs: 3000 });
      assert.ok(r.closed, 'the server closes the connection');
      const all = parseResponses(r.data);
      assert.equal(all.length, 1, 'the request after "Connection: close" is not answered');
      assert.equal(all[0].header('connection'), 'close');
    });

    test('pipelining: three requests written at once get three responses in order', async () => {
      const bytes = req('GET', '/one') + req('POST', '/echo', [['Content-Length', '4']], 'two!') + req('GET', '/three', [['Connection', 'close']]);
      const r = await rawRequest(srv.port, bytes, { until: responses(3) });
      const all = parseResponses(r.data);
      assert.deepEqual(
        all.map((x) => x.body.toString()),
        ['path /one', 'POST 4:two!', 'path /three'],
      );
    });

    test('pipelining: responses stay in order when an async application answers them out of order', async () => {
      const bytes = req('GET', '/delay/80') + req('GET', '/delay/5') + req('GET', '/async-gen') + req('GET', '/delay/30', [['Connection', 'close']]);
      const r = await rawRequest(srv.port, bytes, { until: responses(4) });
      const all = parseResponses(r.data);
      assert.deepEqual(
        all.map((x) => x.body.toString()),
        ['delayed 80', 'delayed 5', 'streamed body', 'delayed 30'],
      );
    });

    test('pipelining: requests split across writes at odd places', async () => {
      const bytes = Buffer.from(req('GET', '/a') + req('POST', '/echo', [['Content-Length', '6']], 'abcdef') + req('GET', '/b', [['Connection', 'close']]), 'latin1');
      const pieces = [];
      for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
      const c = connect(srv.port);
      try {
        await c.connected;
        for (const p of pieces) {
          await c.write(p);
          await delay(1);
        }
        await c.waitFor(responses(3), 3000, 'three responses');
        assert.deepEqual(
          parseResponses(c.data).map((x) => x.body.toString()),
          ['path /a', 'POST 6:abcdef', 'path /b'],
        );
      } finally {
        c.destroy();
      }
    });

    test('HTTP/1.0: the connection closes after the response', async () => {
      const r = await rawRequest(srv.port, 'GET /list HTTP/1.0\r\n\r\nGET /never HTTP/1.0\r\n\r\n', { timeoutMs: 3000 });
      assert.ok(r.closed, 'the server closes the connection');
      const all = parseResponses(r.data);
      assert.equal(all.length, 1);
      assert.equal(all[0].version, 'HTTP/1.1');
      assert.equal(all[0].body.toString(), 'hello world');
      assert.equal(all[0].header('content-length'), '11');
      assert.notEqual(all[0].header('connection'), 'keep-alive');
    });

    test('HTTP/1.0: "Connection: keep-alive" keeps the connection', async () => {
      const c = connect(srv.port);
      try {
        await c.connected;
        await c.write('GET /list HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
        await c.waitFor(responses(1), 3000, 'the first response');
        const first = parseResponses(c.data)[0];
        assert.equal(first.body.toString(), 'hello world');
        assert.match(first.header('connection') ?? '', /keep-alive/i);
        await delay(30);
        assert.equal(c.ended, false, 'the connection stays open');
        await c.write('GET /port HTTP/1.0\r\n\r\n');
        await c.waitClose(3000);
        const all = parseResponses(c.data);
        assert.equal(all.length, 2);
        assert.equal(all[1].body.toString(), String(c.localPort));
      } finally {
        c.destroy();
      }
    });
  });
}
