// validate(app) (lib/contract/validate.ts) through a real server on both backends: a
// correct application gets the response it gets alone, framing included; a broken one a
// 500 without internals, with the validator's message in the log.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validate } from '../../dist/lib/index.js';
import { BACKENDS, ROOT } from '../lib/project.mjs';
import { startServer } from '../lib/server.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { delay } from '../lib/wait.mjs';

/** Every body of the cases below, as a function of startResponse. */
const CORRECT = {
  '/list': (sr) => (sr('200 OK', [['Content-Type', 'text/plain']]), ['hello ', 'world']),
  '/big-list': (sr) => (sr('200 OK', []), [Buffer.alloc(40000, 0x61), Buffer.alloc(40000, 0x62), 'c'.repeat(40000)]),
  '/generator': (sr) =>
    (function* () {
      sr('200 OK', [['X-Gen', '1']]);
      yield 'one ';
      yield 'two';
    })(),
  '/async': (sr) =>
    (async function* () {
      sr('200 OK', []);
      yield 'a';
      await delay(2);
      yield 'b';
    })(),
  '/length': (sr) => (sr('200 OK', [['Content-Length', '5']]), ['hel', 'lo']),
  '/empty': (sr) => (sr('204 No Content', []), []),
};

const BROKEN = {
  'a status without a reason': (sr) => (sr('200', [['X-Secret', 'SECRET']]), ['x']),
  'a hop-by-hop header': (sr) => (sr('200 OK', [['Connection', 'SECRET']]), ['x']),
  'a header value with CRLF': (sr) => (sr('200 OK', [['X-A', 'SECRET\r\nX-B: 1']]), ['x']),
  'a bare string body': (sr) => (sr('200 OK', []), 'SECRET body'),
  'a number chunk': (sr) => (sr('200 OK', []), [42]),
  'a chunk before startResponse': () => ['SECRET early'],
  'startResponse twice': (sr) => (sr('200 OK', []), sr('201 Created', [['X-Secret', 'SECRET']]), ['x']),
};

const route = (table) => (environ, startResponse) => table[environ.PATH_INFO](startResponse);

function assertNoInternals(res, label) {
  const body = res.body.toString('latin1');
  assert.equal(body, 'Internal Server Error\n', label);
  for (const leak of [/TSGI_ERR/, /TsgiError/, /contract/i, /SECRET/, /\bat\s+\S+\s*\(/, /\/work\//, /node:/]) {
    assert.doesNotMatch(res.raw.toString('latin1'), leak, `${label}: the response leaks ${leak}`);
  }
}

for (const backend of BACKENDS) {
  describe(`validate() with a real server (${backend})`, () => {
    const servers = [];
    after(() => Promise.all(servers.map((s) => s.close())));
    const start = async (app) => {
      const s = await startServer(app, { backend });
      servers.push(s);
      return s;
    };
    const get = (port, path, method = 'GET') => request(port, req(method, path, [['Connection', 'close']]), { method });

    test('validate(app) of a correct application serves 200', async () => {
      const s = await start(validate(route(CORRECT)));
      const res = await get(s.port, '/list');
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'hello world');
      const res2 = await get(s.port, '/async');
      assert.equal(res2.status, 200);
      assert.equal(res2.body.toString(), 'ab');
    });

    test('validate(app) of a correct application: the response app alone gets, framing included', async () => {
      const plain = await start(route(CORRECT));
      const checked = await start(validate(route(CORRECT)));
      for (const path of Object.keys(CORRECT)) {
        for (const method of ['GET', 'HEAD']) {
          const a = await get(plain.port, path, method);
          const b = await get(checked.port, path, method);
          assert.equal(b.status, a.status, `${method} ${path}: status`);
          assert.deepEqual(b.headers, a.headers, `${method} ${path}: the same headers (framing included)`);
          assert.ok(b.body.equals(a.body), `${method} ${path}: the same body`);
        }
      }
    });

    test('validate(app) of a broken application: a 500 without internals, and the server serves on', async () => {
      const s = await start(validate((environ, startResponse) => (environ.PATH_INFO === '/ok' ? CORRECT['/list'](startResponse) : BROKEN[decodeURIComponent(environ.QUERY_STRING)](startResponse))));
      for (const label of Object.keys(BROKEN)) {
        const res = await get(s.port, `/broken?${encodeURIComponent(label)}`);
        assert.equal(res.status, 500, `${label}: ${res.raw.toString('latin1')}`);
        assert.ok(res.complete, `${label}: a complete response`);
        assertNoInternals(res, label);
      }
      const ok = await get(s.port, '/ok');
      assert.equal(ok.body.toString(), 'hello world');
    });

    test("validate(app) of a broken application: the validator's message reaches the log", async (t) => {
      const file = join(tmpdir(), `tsgi-validate-test-${process.pid}-${backend}.mjs`);
      const lib = pathToFileURL(join(ROOT, 'dist', 'lib', 'index.js')).href;
      writeFileSync(
        file,
        `import { validate } from ${JSON.stringify(lib)};\n` +
          `export const application = validate((environ, startResponse) => {\n` +
          `  startResponse('200 OK', [['Connection', 'close']]);\n` +
          `  return ['x'];\n` +
          `});\n`,
      );
      t.after(() => unlinkSync(file));
      const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--disable-logging', '--wsgi-file', file]);
      t.after(() => cli.kill());
      const port = await cli.port;
      const res = await request(port, req('GET', '/hop?x=1', [['Connection', 'close']]));
      assert.equal(res.status, 500);
      assertNoInternals(res, 'hop-by-hop');
      const stderr = await cli.waitStderr(/hop-by-hop header Connection/);
      assert.match(stderr, /GET \/hop\?x=1/, 'the log names the request');
      assert.match(stderr, /TsgiError: The application broke the contract: the hop-by-hop header Connection is the server's to set/);
    });
  });
}
