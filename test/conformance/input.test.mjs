// wsgi.input: every way of reading it, for bodies in memory and in a temporary file
// (post-buffering 1024), sent with Content-Length and chunked. Every application runs
// inside validate() (validated() in ../lib/contract.mjs).
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { readdirSync } from 'node:fs';
import { validated } from '../lib/contract.mjs';
import { BACKENDS } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { request, rawRequest, responses, connect } from '../lib/raw-client.mjs';
import { req, parseResponses } from '../lib/http-wire.mjs';
import { openFds, fdCount } from '../lib/proc.mjs';
import { waitUntil, delay } from '../lib/wait.mjs';
import { backendSuite } from './suite.mjs';

const POST_BUFFERING = 1024;

// A small body (kept in memory) and a large one (past post-buffering: a temporary
// file), each with short lines, an empty line, every byte value, and no final newline.
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 10));
const SMALL = Buffer.concat([Buffer.from('first line\nsecond, longer line\n\n', 'latin1'), ALL_BYTES, Buffer.from('\nlast line without newline', 'latin1')]);
const LARGE = Buffer.concat([
  ...Array.from({ length: 60 }, (_, i) => Buffer.from(`line ${i} ${'x'.repeat(i * 3)}\n`, 'latin1')),
  Buffer.from('\n\n', 'latin1'),
  ALL_BYTES,
  Buffer.from('\n', 'latin1'),
  Buffer.alloc(10000, 0x61), // a line longer than any internal read block
  Buffer.from('\n', 'latin1'),
  ...Array.from({ length: 40 }, (_, i) => Buffer.from(`tail ${i}\n`, 'latin1')),
  Buffer.from('no newline at the end', 'latin1'),
]);

/** The lines of buf as Python's readline() gives them: each "\n" included. */
function linesOf(buf, max = Infinity) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    let end = nl === -1 ? buf.length : nl + 1;
    if (end - pos > max) end = pos + max;
    out.push(buf.subarray(pos, end));
    pos = end;
  }
  return out;
}

const chunksOf = (buf, n) => {
  const out = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
};

// How the application reads, by PATH_INFO: each returns the list of what the reads
// returned, the final empty read included.
const READERS = {
  '/read': (input) => [input.read(), input.read()],
  '/read-n': (input) => {
    const out = [];
    for (let i = 0; i < 100000; i++) {
      const c = input.read(7);
      out.push(c);
      if (c.length === 0) break;
    }
    return out;
  },
  '/read-neg': (input) => [input.read(-1), input.read(-1)],
  '/read-big': (input) => [input.read(10 * 1024 * 1024), input.read(1)],
  '/readline': (input) => {
    const out = [];
    for (let i = 0; i < 100000; i++) {
      const l = input.readline();
      out.push(l);
      if (l.length === 0) break;
    }
    return out;
  },
  '/readline-n': (input) => {
    const out = [];
    for (let i = 0; i < 100000; i++) {
      const l = input.readline(5);
      out.push(l);
      if (l.length === 0) break;
    }
    return out;
  },
  '/readlines': (input) => [...input.readlines(), input.read()],
  '/readlines-hint': (input) => {
    const first = input.readlines(20);
    return [Buffer.from(`${first.length}`), ...first, ...input.readlines(), input.readline()];
  },
  '/iter': (input) => {
    const out = [];
    for (const line of input) out.push(line);
    out.push(input.read());
    return out;
  },
  '/async-iter': async (input) => {
    const out = [];
    for await (const chunk of input) out.push(chunk);
    out.push(input.read());
    return out;
  },
};

/** What each reader must return for body. */
function expected(path, body) {
  const empty = Buffer.alloc(0);
  switch (path) {
    case '/read':
    case '/read-neg':
      return [body, empty];
    case '/read-big':
      return [body, empty];
    case '/read-n':
      return [...chunksOf(body, 7), empty];
    case '/readline':
    case '/iter':
      return [...linesOf(body), empty];
    case '/readline-n':
      return [...linesOf(body, 5), empty];
    case '/readlines':
      return [...linesOf(body), empty];
    case '/readlines-hint': {
      const lines = linesOf(body);
      let total = 0;
      let n = 0;
      while (n < lines.length && total < 20) total += lines[n++].length;
      return [Buffer.from(`${n}`), ...lines, empty];
    }
    default:
      throw new Error(path);
  }
}

async function readerApp(environ, startResponse) {
  const reader = READERS[environ.PATH_INFO];
  const input = environ['wsgi.input'];
  const got = await reader(input);
  const out = got.map((c) => ({ u8: c instanceof Uint8Array, data: Buffer.from(c).toString('latin1') }));
  startResponse('200 OK', [['Content-Type', 'application/json']]);
  return [JSON.stringify({ length: environ.CONTENT_LENGTH, out })];
}

function upload(path, body, framing) {
  if (framing === 'content-length') {
    return Buffer.concat([Buffer.from(req('POST', path, [['Connection', 'close'], ['Content-Length', String(body.length)]]), 'latin1'), body]);
  }
  const parts = [Buffer.from(req('POST', path, [['Connection', 'close'], ['Transfer-Encoding', 'chunked']]), 'latin1')];
  for (const c of chunksOf(body, 1000)) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

for (const backend of BACKENDS) {
  describe(backend, () => {
    const { test, srv } = backendSuite(backend, validated(readerApp), { postBuffering: POST_BUFFERING });

    const modes = {
      'read()': '/read',
      'read(n) repeatedly': '/read-n',
      'read(-1)': '/read-neg',
      'read(n) with n past the end': '/read-big',
      'readline()': '/readline',
      'readline(n)': '/readline-n',
      'readlines()': '/readlines',
      'readlines(hint)': '/readlines-hint',
      'for (const line of input)': '/iter',
      'for await (const chunk of input)': '/async-iter',
    };
    for (const [label, path] of Object.entries(modes)) {
      test(`wsgi.input: ${label}`, async () => {
        for (const [size, body] of [['small', SMALL], ['large', LARGE]]) {
          for (const framing of ['content-length', 'chunked']) {
            const what = `${size} body, ${framing}`;
            const res = await request(srv.port, upload(path, body, framing), { timeoutMs: 5000 });
            assert.equal(res.status, 200, `${what}: ${res.raw.toString('latin1').slice(0, 300)}`);
            const { length, out } = JSON.parse(res.body.toString('utf8'));
            assert.equal(length, String(body.length), `${what}: CONTENT_LENGTH`);
            assert.ok(out.every((c) => c.u8), `${what}: every read returns a Uint8Array`);
            const got = out.map((c) => Buffer.from(c.data, 'latin1'));
            if (path === '/async-iter') {
              // Chunks of any size: together, the body; then an empty read.
              assert.deepEqual(Buffer.concat(got), body, `${what}: the chunks make the body`);
              assert.ok(got.slice(0, -1).every((c) => c.length > 0), `${what}: no empty chunk before the end`);
              assert.equal(got.at(-1).length, 0, `${what}: empty at the end`);
            } else {
              const want = expected(path, body);
              assert.equal(got.length, want.length, `${what}: number of reads`);
              for (let i = 0; i < want.length; i++) {
                assert.ok(got[i].equals(want[i]), `${what}: read ${i}: got ${JSON.stringify(got[i].toString('latin1').slice(0, 80))} (${got[i].length} bytes), want ${JSON.stringify(want[i].toString('latin1').slice(0, 80))} (${want[i].length} bytes)`);
              }
            }
          }
        }
      });
    }

    test('wsgi.input: no read goes past CONTENT_LENGTH into a pipelined request', async () => {
      const s = await startServer(
        validated((environ, startResponse) => {
          const input = environ['wsgi.input'];
          const seen = [input.readline(), input.read(100000), input.read(), input.readline(), input.readlines()].map((c) =>
            Array.isArray(c) ? c.length : Buffer.from(c).toString('latin1'),
          );
          startResponse('200 OK', [['Content-Type', 'application/json']]);
          return [JSON.stringify({ path: environ.PATH_INFO, seen })];
        }),
        { backend, postBuffering: POST_BUFFERING },
      );
      try {
        for (const body of ['hello', 'A'.repeat(3000)]) {
          const bytes =
            req('POST', '/first', [['Content-Length', String(body.length)]], body) +
            req('POST', '/second', [['Content-Length', '4']], 'NEXT') +
            req('GET', '/third', [['Connection', 'close']]);
          const r = await rawRequest(s.port, bytes, { until: responses(3) });
          const rs = parseResponses(r.data);
          assert.equal(rs.length, 3, r.text);
          const [a, b, c] = rs.map((x) => JSON.parse(x.body.toString('utf8')));
          assert.deepEqual(a, { path: '/first', seen: [body, '', '', '', 0] });
          assert.deepEqual(b, { path: '/second', seen: ['NEXT', '', '', '', 0] });
          assert.deepEqual(c, { path: '/third', seen: ['', '', '', '', 0] });
        }
      } finally {
        await s.close();
      }
    });

    test('wsgi.input: a body over post-buffering is in an unlinked temporary file, released after the request', async () => {
      const tmp = os.tmpdir();
      const deletedInTmp = () => Object.values(openFds()).filter((l) => l.startsWith(tmp) && l.endsWith('(deleted)'));
      const ours = () => readdirSync(tmp).filter((n) => n.startsWith(`tsgi-body-${process.pid}-`));
      const during = [];
      const s = await startServer(
        validated((environ, startResponse) => {
          during.push(deletedInTmp().length);
          const n = environ['wsgi.input'].read().length;
          startResponse('200 OK', []);
          return [String(n)];
        }),
        { backend, postBuffering: POST_BUFFERING },
      );
      try {
        const baseFds = fdCount();
        const baseDeleted = deletedInTmp().length;
        for (let i = 0; i < 5; i++) {
          const res = await request(s.port, upload('/big', LARGE, i % 2 ? 'chunked' : 'content-length'));
          assert.equal(res.body.toString(), String(LARGE.length));
        }
        assert.ok(
          during.every((n) => n === baseDeleted + 1),
          `the application saw ${JSON.stringify(during)} unlinked files in ${tmp} (${baseDeleted} before): one per request expected`,
        );
        assert.deepEqual(ours(), [], `no tsgi-body-${process.pid}-* file may remain in ${tmp}`);
        await waitUntil(() => fdCount() <= baseFds && deletedInTmp().length === baseDeleted, 2000, 'the descriptors to be released').catch(() => {});
        assert.equal(deletedInTmp().length, baseDeleted, 'every temporary file is closed');
        assert.ok(fdCount() <= baseFds, `open descriptors: ${fdCount()} after, ${baseFds} before: ${JSON.stringify(openFds())}`);
      } finally {
        await s.close();
      }
    });

    test('wsgi.input: a temporary file is released when the client leaves mid-upload', async () => {
      const tmp = os.tmpdir();
      const deletedInTmp = () => Object.values(openFds()).filter((l) => l.startsWith(tmp) && l.endsWith('(deleted)'));
      let called = 0;
      const s = await startServer(
        validated((environ, startResponse) => {
          called++;
          startResponse('200 OK', []);
          return ['x'];
        }),
        { backend, postBuffering: POST_BUFFERING },
      );
      try {
        const baseFds = fdCount();
        const baseDeleted = deletedInTmp().length;
        const c = connect(s.port);
        await c.connected;
        await c.write(Buffer.concat([Buffer.from(req('POST', '/up', [['Content-Length', String(LARGE.length)]]), 'latin1'), LARGE.subarray(0, 5000)]));
        await waitUntil(() => deletedInTmp().length > baseDeleted, 2000, 'the body to go to a temporary file');
        c.destroy();
        await waitUntil(() => deletedInTmp().length === baseDeleted && fdCount() <= baseFds, 2000, 'the descriptors to be released').catch(() => {});
        assert.equal(deletedInTmp().length, baseDeleted, 'the temporary file is closed');
        assert.ok(fdCount() <= baseFds, `open descriptors: ${fdCount()} after, ${baseFds} before`);
        assert.equal(called, 0, 'the application is not called for an unfinished body');
      } finally {
        await s.close();
      }
    });

    test('wsgi.input: reading after the request ended throws TSGI_ERR_INPUT_CLOSED', async () => {
      let input;
      const s = await startServer(
        validated((environ, startResponse) => {
          input = environ['wsgi.input'];
          startResponse('200 OK', []);
          return ['done'];
        }),
        { backend },
      );
      try {
        const res = await request(s.port, req('POST', '/', [['Connection', 'close'], ['Content-Length', '3']], 'abc'));
        assert.equal(res.status, 200);
        await delay(20);
        assert.throws(() => input.read(), { code: 'TSGI_ERR_INPUT_CLOSED' });
      } finally {
        await s.close();
      }
    });
  });
}
