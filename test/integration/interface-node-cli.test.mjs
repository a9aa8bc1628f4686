// --interface node through the CLI: the module's own export of Express, Koa and Fastify
// (not wrapped by fromNodeListener) is found, recognised by --interface auto and said so
// in the start-up line, on both backends; a plain listener needs --interface node; a
// wrong choice stops at load with a hint.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, BACKENDS } from '../lib/project.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { spawnCli, startCli } from '../lib/cli.mjs';

const T = { timeout: 60000 };
const DIR = join(FIXTURES, 'frameworks');

const AUTO = [
  ['express-app.mjs', 'an Express or connect application'],
  ['koa-app.mjs', 'a Koa application'],
  ['fastify-app.mjs', 'a Fastify instance'],
];

async function hello(cli) {
  return request(await cli.port, req('GET', '/hello?name=cli', [['Connection', 'close']]), { timeoutMs: 10000 });
}

for (const backend of BACKENDS) {
  describe(`--interface node on the CLI, ${backend} backend`, () => {
    for (const [file, what] of AUTO) {
      test(`${file}: --callable app is served through the node interface, auto says why`, T, async (t) => {
        const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', join(DIR, file), '--callable', 'app']);
        t.after(() => cli.kill());
        assert.match(cli.stderrText(), new RegExp(`callable 'app' loaded in \\d+ msecs, interface node \\(auto: ${what}\\)$`, 'm'));
        const res = await hello(cli);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), 'hello cli\n');
      });
    }

    test('a plain (req, res) listener with --interface node', T, async (t) => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--interface', 'node', '--wsgi-file', join(DIR, 'plain-listener.mjs')]);
      t.after(() => cli.kill());
      assert.match(cli.stderrText(), /callable 'default' loaded in \d+ msecs, interface node$/m);
      const res = await request(await cli.port, req('GET', '/x?y=1', [['Connection', 'close']]), { timeoutMs: 10000 });
      assert.equal(res.status, 200);
      assert.equal(res.body.toString(), 'listener GET /x?y=1\n');
    });
  });
}

test('--interface wsgi on a Koa application: exit 1 at load, did you mean --interface node?', T, async (t) => {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--interface', 'wsgi', '--wsgi-file', join(DIR, 'koa-app.mjs'), '--callable', 'app']);
  t.after(() => cli.kill());
  const { code } = await cli.waitExit(15000);
  assert.equal(code, 1);
  assert.match(cli.stderrText(), /it is a Koa application, not a function \(environ, startResponse\): did you mean --interface node\?/);
});

test('--interface node on a Hono application: exit 1 at load, did you mean --interface fetch?', T, async (t) => {
  const cli = spawnCli(['--http', '127.0.0.1:0', '--interface', 'node', '--wsgi-file', join(DIR, 'hono-app.mjs')]);
  t.after(() => cli.kill());
  const { code } = await cli.waitExit(15000);
  assert.equal(code, 1);
  assert.match(cli.stderrText(), /did you mean --interface fetch\?/);
});
