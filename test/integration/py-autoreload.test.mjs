// --py-autoreload in single-process mode, as a user runs it: a changed module restarts
// the child that serves, a broken one waits for a fix, SIGTERM stops both.
//
// Every process started here is stopped by pid (its children too), every temp dir removed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { freePort } from '../lib/ports.mjs';
import { descendantsOf } from '../lib/proc.mjs';
import { alive, killTree, stop, get } from '../lib/cli-runs.mjs';

const T = { timeout: 60000 };

describe('--py-autoreload in single-process mode', () => {
  test('a changed module restarts the serving child; a broken one waits for a fix; SIGTERM stops both', T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-autoreload-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'app.ts'), "import { message } from './message.js';\nexport function application(_e: unknown, start: (s: string, h: [string, string][]) => void) {\n  start('200 OK', [['Content-Type', 'text/plain']]);\n  return [message];\n}\n");
    const setMessage = (text) => writeFileSync(join(dir, 'message.ts'), `export const message: string = ${JSON.stringify(text)};\n`);
    setMessage('one');
    const port = await freePort();
    const cli = spawnCli(['--http', `127.0.0.1:${port}`, '--py-autoreload', '1', '--disable-logging', '--wsgi-file', join(dir, 'app.ts')]);
    t.after(async () => {
      for (const p of descendantsOf(cli.child.pid)) killTree(p);
      await cli.kill();
    });
    await cli.port;
    const body = async () => {
      try {
        return (await get(port)).body.toString();
      } catch {
        return undefined; // between two children
      }
    };
    assert.equal(await body(), 'one');
    assert.match(cli.stderrText(), /py-autoreload 1: a child process serves/);
    assert.match(cli.stderrText(), /py-autoreload: watching 2 files every 1 s/);
    const firstChild = Number(/ready in single-process mode \(pid: (\d+)\)/.exec(cli.stderrText())[1]);
    assert.notEqual(firstChild, cli.child.pid);

    setMessage('the second message');
    await waitUntil(async () => (await body()) === 'the second message', 15000, 'the restarted child to answer');
    assert.match(cli.stderrText(), /py-autoreload: .*message\.ts changed: restarting/);
    assert.match(cli.stderrText(), /py-autoreload: starting the application again/);
    assert.ok(!alive(firstChild), 'the first child is gone');

    writeFileSync(join(dir, 'message.ts'), 'export const message: string = ;\n');
    await cli.waitStderr(/waiting for a change to .*app\.ts \(or what it imports\) to try again/, 15000);
    setMessage('fixed');
    await waitUntil(async () => (await body()) === 'fixed', 15000, 'the fixed application to answer').catch((err) => {
      throw new Error(`${err.message}\n${cli.stderrText()}`);
    });

    const children = descendantsOf(cli.child.pid);
    assert.deepEqual(await stop(cli), { code: 0, signal: null }, cli.stderrText());
    await waitUntil(() => children.every((p) => !alive(p)), 5000, 'the child to exit with its parent');
  });
});
