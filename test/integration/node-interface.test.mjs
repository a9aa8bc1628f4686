// The node interface (fromNodeListener) with plain node:http listeners, on both
// backends: what an application sees of node:http's objects and events (backpressure
// and 'drain', 'finish' and 'close', 'aborted' when the client goes away, destroy()),
// and how tsgi frames what node:http would have framed itself.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { startCli } from '../lib/cli.mjs';
import { connect, request } from '../lib/raw-client.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { fromNodeListener } from '../../dist/lib/index.js';
import { uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';

const T = { timeout: 30000 };
const STATIC_FILE = join(FIXTURES, 'frameworks', 'static', 'hello.txt');
const PIECE = Buffer.alloc(16384, 'x');
const BIG = 32 * 1024 * 1024; // past what loopback's socket buffers hold

for (const backend of BACKENDS) {
  describe(`node interface (--backend ${backend})`, () => {
    const seen = {}; // what the listeners observed, by route
    let server;

    const routes = {
      '/events'(q, s) {
        const log = (seen.events = []);
        s.on('finish', () => log.push(`finish writableFinished=${s.writableFinished}`));
        s.on('close', () => log.push('res close'));
        q.on('end', () => log.push('req end'));
        q.on('close', () => log.push('req close'));
        s.end('done\n');
      },
      '/events-async'(q, s) {
        const log = (seen.eventsAsync = []);
        s.on('finish', () => log.push('finish'));
        s.on('close', () => log.push('res close'));
        setTimeout(() => {
          s.write('one ');
          setTimeout(() => s.end('two\n'), 5);
        }, 5);
      },
      '/backpressure'(q, s) {
        const state = (seen.backpressure = { writes: 0, refused: 0, drains: 0, written: 0, needDrain: false, ended: false });
        s.setHeader('Content-Type', 'application/octet-stream');
        const pump = () => {
          while (state.written < BIG) {
            state.writes++;
            state.written += PIECE.length;
            if (!s.write(PIECE)) {
              state.refused++;
              state.needDrain = s.writableNeedDrain;
              s.once('drain', () => {
                state.drains++;
                pump();
              });
              return;
            }
          }
          state.ended = true;
          s.end();
        };
        pump();
      },
      '/hang'(q, s) {
        const log = (seen.hang = []);
        q.on('aborted', () => log.push(`req aborted (aborted=${q.aborted})`));
        q.on('close', () => log.push('req close'));
        s.on('close', () => log.push(`res close (writableEnded=${s.writableEnded}, destroyed=${s.destroyed})`));
        q.socket.on('close', () => log.push('socket close'));
        if (q.url.endsWith('?started')) s.write('started\n');
      },
      '/destroy'(q, s) {
        if (q.url.endsWith('?midway')) {
          s.write('a beginning\n');
          setTimeout(() => s.destroy(), 5);
        } else {
          s.destroy();
        }
      },
      '/hop-by-hop'(q, s) {
        s.setHeader('Connection', 'close');
        s.setHeader('Keep-Alive', 'timeout=1');
        s.setHeader('Transfer-Encoding', 'chunked');
        s.setHeader('X-Kept', 'yes');
        s.write('framed ');
        s.end('by tsgi\n');
      },
      '/head'(q, s) {
        s.setHeader('Content-Type', 'text/plain');
        s.end('five!');
      },
      '/write-head'(q, s) {
        s.writeHead(299, 'Custom Reason', [['X-Twice', '1'], ['X-Twice', '2'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
        s.end(Buffer.from('68c3a96c6c6f', 'hex').toString('latin1'), 'latin1');
      },
      '/encodings'(q, s) {
        s.write('68656c6c6f20', 'hex');
        s.write('d29ybGQ=', 'base64');
        s.end(' \u00e9', 'latin1');
      },
      '/pipe'(q, s) {
        s.setHeader('Content-Type', 'text/plain');
        createReadStream(STATIC_FILE).pipe(s);
      },
      '/request'(q, s) {
        s.setHeader('Content-Type', 'application/json');
        s.end(
          JSON.stringify({
            method: q.method,
            url: q.url,
            httpVersion: q.httpVersion,
            rawHeaders: q.rawHeaders,
            headers: q.headers,
            remoteAddress: q.socket.remoteAddress,
            remotePortIsNumber: Number.isInteger(q.socket.remotePort) && q.socket.remotePort > 0,
            localPort: q.socket.localPort,
            encrypted: q.socket.encrypted ?? null,
            same: q.socket === s.socket && q.connection === q.socket,
            instances: q instanceof http.IncomingMessage && s instanceof http.ServerResponse,
          }),
        );
      },
      '/body'(q, s) {
        const parts = [];
        q.on('data', (d) => parts.push(d));
        q.on('end', () => s.end(`${Buffer.concat(parts).length} ${q.complete}\n`));
      },
      '/throws'() {
        throw new Error('thrown by the listener on purpose');
      },
      // start_response does not test the node interface's headers again (VALIDATED_HEADERS):
      // node refuses these, each way a header reaches the head.
      '/bad-headers'(q, s) {
        const tries = [
          () => s.setHeader('X-Bad', 'a\u0001b'),
          () => s.setHeader('Bad Name', 'v'),
          () => s.setHeader('X-Bad', 'caf\u20ac'),
          () => s.appendHeader('X-Bad', ['ok', 'a\u007fb']),
          () => s.writeHead(200, { 'X-Bad': 'a\u007fb' }),
          () => s.writeHead(200, [['X-Bad', 'a\rb']]),
          () => s.writeHead(200, ['Bad:Name', 'v']),
        ];
        const codes = tries.map((t) => {
          try {
            t();
            return 'accepted';
          } catch (err) {
            return err.code;
          }
        });
        s.writeHead(200, { 'Content-Type': 'text/plain' });
        s.end(codes.join(' ') + '\n');
      },
    };

    before(async () => {
      const app = fromNodeListener((q, s) => routes[q.url.split('?')[0]](q, s));
      server = await startServer(app, { backend, socket: '127.0.0.1:0' });
      server.port = server.server.addresses.find((a) => a.protocol === 'http').port; // the first bound is the uwsgi socket
    });
    after(() => server.close());

    const get = (path, opts = {}) => request(server.port, req(opts.method ?? 'GET', path, opts.headers ?? [], opts.body ?? ''), { method: opts.method });

    test('a response ended at once: finish (writableFinished), then close; the unread request ends and closes', T, async () => {
      const r = await get('/events');
      assert.equal(r.body.toString(), 'done\n');
      await waitUntil(() => seen.events.length === 4, 2000, 'the four events');
      const at = (e) => seen.events.indexOf(e);
      assert.ok(at('finish writableFinished=true') < at('res close'), `finish before close: ${JSON.stringify(seen.events)}`);
      assert.ok(at('req end') < at('req close'), `end before close: ${JSON.stringify(seen.events)}`);
      assert.deepEqual([...seen.events].sort(), ['finish writableFinished=true', 'req close', 'req end', 'res close']);
    });

    test('a request body nobody read: it ends and closes after the response, unread', T, async () => {
      seen.events = undefined;
      const r = await get('/events', { method: 'POST', headers: [['Content-Length', '200000']], body: 'z'.repeat(200000) });
      assert.equal(r.body.toString(), 'done\n');
      await waitUntil(() => seen.events?.length === 4, 2000, `the four events; got ${JSON.stringify(seen.events)}`);
      assert.deepEqual([...seen.events].sort(), ['finish writableFinished=true', 'req close', 'req end', 'res close']);
    });

    test('a response written over time: chunked, finish once, then close', T, async () => {
      const r = await get('/events-async');
      assert.equal(r.framing, 'chunked');
      assert.equal(r.body.toString(), 'one two\n');
      await waitUntil(() => seen.eventsAsync.length === 2, 2000, 'finish and close');
      assert.deepEqual(seen.eventsAsync, ['finish', 'res close']);
    });

    test('write() returns false past the high-water mark while the client does not read, and drain follows once tsgi took the data', T, async () => {
      const conn = connect(server.port, { paused: true });
      try {
        await conn.connected;
        await conn.write(req('GET', '/backpressure'));
        await waitUntil(() => seen.backpressure?.refused >= 1, 5000, 'a refused write');
        // The client reads nothing: the application is held back, far from the end.
        await new Promise((r) => setTimeout(r, 200));
        const held = seen.backpressure.written;
        assert.ok(held < BIG, `the application was held back (${held} of ${BIG} bytes written)`);
        assert.equal(seen.backpressure.needDrain, true, 'writableNeedDrain after a refused write');
        conn.socket.resume();
        await conn.waitFor((d) => {
          const res = parseResponse(d, { closed: false });
          return res !== undefined && res.complete;
        }, 20000, 'the whole body');
        const res = parseResponse(conn.data, { closed: false });
        assert.equal(res.body.length, BIG);
        assert.ok(res.body.every((b) => b === 0x78), 'every byte as written');
        assert.ok(seen.backpressure.drains >= 1 && seen.backpressure.drains === seen.backpressure.refused, JSON.stringify(seen.backpressure));
        assert.equal(seen.backpressure.ended, true);
      } finally {
        conn.destroy();
      }
    });

    for (const [when, path, expected] of [
      ['before the response began', '/hang', []],
      ['after the response began', '/hang?started', ['started\n']],
    ]) {
      test(`the client goes away ${when}: req 'aborted' and 'close', res 'close', the socket's 'close'`, T, async () => {
        seen.hang = undefined;
        const conn = connect(server.port);
        await conn.connected;
        await conn.write(req('GET', path));
        await waitUntil(() => seen.hang !== undefined, 2000, 'the request');
        if (expected.length > 0) await conn.waitFor(expected[0]);
        conn.destroy();
        await waitUntil(() => seen.hang.length === 4, 3000, `four events; got ${JSON.stringify(seen.hang)}`);
        assert.deepEqual([...seen.hang].sort(), ['req aborted (aborted=true)', 'req close', 'res close (writableEnded=false, destroyed=true)', 'socket close']);
      });
    }

    test('res.destroy() before the response began: 500, as an application error', T, async () => {
      const r = await get('/destroy');
      assert.equal(r.status, 500);
      assert.equal(r.body.toString(), 'Internal Server Error\n');
    });

    test('res.destroy() after the response began: the connection is cut, the body left incomplete', T, async () => {
      const conn = connect(server.port);
      try {
        await conn.connected;
        await conn.write(req('GET', '/destroy?midway'));
        await conn.waitClose(3000);
        const res = parseResponse(conn.data, { closed: true });
        assert.equal(res.status, 200);
        assert.equal(res.framing, 'chunked');
        assert.equal(res.complete, false);
        assert.equal(res.body.toString(), 'a beginning\n');
      } finally {
        conn.destroy();
      }
    });

    test('hop-by-hop headers the application set are left to tsgi, which frames the response itself', T, async () => {
      const r = await get('/hop-by-hop');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'framed by tsgi\n');
      assert.equal(r.header('x-kept'), 'yes');
      assert.equal(r.header('keep-alive'), undefined, 'neither backend sends one (the js backend closes idle connections itself, not by keepAliveTimeout)');
      assert.equal(r.closed, false, 'the connection stays open (the Connection: close the application set is dropped)');
      assert.equal(r.framing, 'chunked');
    });

    test("HEAD: no body, and the Content-Length the GET would have (node:http would send none)", T, async () => {
      const r = await get('/head', { method: 'HEAD' });
      assert.equal(r.status, 200);
      assert.equal(r.header('content-length'), '5');
      assert.equal(r.wire.data.toString('latin1').endsWith('\r\n\r\n'), true);
    });

    test('writeHead(status, reason, [[name, value]...]): the reason, repeated headers and Set-Cookie kept apart, a latin1 body', T, async () => {
      const r = await get('/write-head');
      assert.equal(`${r.status} ${r.reason}`, '299 Custom Reason');
      assert.deepEqual(r.headerAll('x-twice'), ['1', '2']);
      assert.deepEqual(r.headerAll('set-cookie'), ['a=1', 'b=2']);
      assert.equal(r.framing, 'chunked', 'writeHead() before end(data): no length, as node:http frames it');
      assert.deepEqual([...r.body], [0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f], 'each latin1 character one byte, not re-encoded as UTF-8');
    });

    test('strings in other encodings (hex, base64, latin1) become their bytes', T, async () => {
      const r = await get('/encodings');
      assert.deepEqual(r.body, Buffer.from('hello world \xe9', 'latin1'));
    });

    test('a file piped into the response', T, async () => {
      const r = await get('/pipe');
      assert.deepEqual(r.body, readFileSync(STATIC_FILE));
    });

    test('the request: method, raw url, version, lower-cased rawHeaders, the peer', T, async () => {
      const r = await get('/request?x=%41', { headers: [['X-Custom_Name', 'dropped'], ['X-Custom-Name', 'v'], ['Accept', 'a'], ['Accept', 'b']] });
      const got = JSON.parse(r.body);
      assert.equal(got.method, 'GET');
      assert.equal(got.url, '/request?x=%41');
      assert.equal(got.httpVersion, '1.1');
      assert.deepEqual(got.rawHeaders, ['host', 'test', 'x-custom-name', 'v', 'accept', 'a, b']);
      assert.deepEqual(got.headers, { host: 'test', 'x-custom-name': 'v', accept: 'a, b' });
      assert.equal(got.remoteAddress, '127.0.0.1');
      assert.equal(got.remotePortIsNumber, true);
      assert.equal(got.localPort, server.port);
      assert.equal(got.encrypted, null);
      assert.equal(got.same, true);
      assert.equal(got.instances, true);
    });

    test("over uwsgi: the front end's word for the peer and the scheme (HTTPS=on: socket.encrypted)", T, async () => {
      const uwsgi = server.server.addresses.find((a) => a.protocol === 'uwsgi');
      const vars = nginxLikeVars({ uri: '/request?via=nginx', headers: [['Host', 'example.org'], ['X-Forwarded-For', '198.51.100.7']] }).map(([k, v]) =>
        k === 'REMOTE_ADDR' ? [k, '203.0.113.9'] : k === 'REMOTE_PORT' ? [k, '51234'] : [k, v],
      );
      vars.push(['HTTPS', 'on']);
      const r = parseResponse((await uwsgiRequest(uwsgi.port, vars)).data, { closed: true });
      const got = JSON.parse(r.body);
      assert.equal(got.url, '/request?via=nginx');
      assert.equal(got.remoteAddress, '203.0.113.9');
      assert.equal(got.encrypted, true);
      assert.deepEqual(got.headers, { host: 'example.org', 'x-forwarded-for': '198.51.100.7' });
    });

    test('the request body streams from wsgi.input (in memory, and from the temporary file past post-buffering)', T, async () => {
      for (const n of [0, 10, 200_000]) {
        const r = await get('/body', { method: 'POST', headers: [['Content-Length', String(n)]], body: 'y'.repeat(n) });
        assert.equal(r.body.toString(), `${n} true\n`);
      }
    });

    test("header names and values node refuses are refused (node's checks stand for start_response's), and nothing of them is sent", T, async () => {
      const r = await get('/bad-headers');
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'ERR_INVALID_CHAR ERR_INVALID_HTTP_TOKEN ERR_INVALID_CHAR ERR_INVALID_CHAR ERR_INVALID_CHAR ERR_INVALID_CHAR ERR_INVALID_HTTP_TOKEN\n');
      assert.ok(!r.wire.text.toLowerCase().includes('x-bad'), r.wire.text);
    });

    test('a listener that throws: 500, and the server serves on', T, async () => {
      const r = await get('/throws');
      assert.equal(r.status, 500);
      assert.equal((await get('/events')).status, 200);
    });
  });
}

test('res.destroy() before the response began: the log says so, with the request, and the server serves on (CLI, both backends)', T, async () => {
  for (const backend of BACKENDS) {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(FIXTURES, 'frameworks', 'destroy-app.mjs')]);
    try {
      const port = cli.sockets.find((s) => s.protocol === 'http').port;
      const r = await request(port, req('GET', '/destroy'));
      assert.equal(r.status, 500);
      await waitUntil(() => /the application destroyed the response to GET \/destroy before it was complete/.test(cli.stderrText()), 3000, `the log line; stderr:\n${cli.stderrText()}`);
      assert.match(cli.stderrText(), /tsgi: error in the application during GET \/destroy:\nTsgiError: the application destroyed the response/);
      assert.equal((await request(port, req('GET', '/'))).body.toString(), 'alive\n');
    } finally {
      cli.signal('SIGTERM');
      await cli.waitExit(5000).catch(() => cli.kill());
    }
  }
});
