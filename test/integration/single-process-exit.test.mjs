// The end of a single process (no --master) after its stop, on both backends: it exits
// with its code after "goodbye" though the application still holds handles open (a
// timer, a server, a client socket: Node's loop alone would never end), what it wrote to
// stdout still goes out to a reader that is slow, and an exit that blocks (an 'exit'
// listener that never returns, as Node's own exit-time deadlock does) is ended 3 s later
// by the addon's watchdog thread (lib/process/end-process.ts). Every process started here
// is killed by its pid, even on failure; every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';
import { delay, withTimeout } from '../lib/wait.mjs';

const HOLDS = join(FIXTURES, 'single-process', 'holds-handles.mjs');
// The master's fixture serves alone here just as well: its 'exit' listener blocks for good.
const HANGS = join(FIXTURES, 'master', 'hangs-at-exit.mjs');
const NOT_EXITED = /tsgi: the process has not exited 3 s after its stop: ending it \(exit code 0\)/;

async function serving(t, backend, app) {
  const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', app]);
  t.after(() => cli.kill());
  const port = await cli.port;
  await cli.waitStderr(/\*\*\* tsgi is ready/);
  return { cli, port };
}

for (const backend of BACKENDS) {
  for (const signal of ['SIGTERM', 'SIGQUIT']) {
    test(`${backend}: ${signal} to a single process whose application holds a timer, a server and a socket open: it exits 0 after its goodbye`, { timeout: 20000 }, async (t) => {
      const { cli, port } = await serving(t, backend, HOLDS);
      assert.equal((await httpGet(port, '/')).status, 200);
      const sentAt = Date.now();
      cli.signal(signal);
      const exit = await cli.waitExit(5000);
      const tookMs = Date.now() - sentAt;
      t.diagnostic(`exited ${tookMs} ms after ${signal}`);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.match(cli.stderrText(), signal === 'SIGTERM' ? /tsgi: goodbye\n/ : /tsgi: SIGQUIT: stopping now\n/);
      assert.doesNotMatch(cli.stderrText(), NOT_EXITED, 'ended by process.exit(), not by the watchdog');
      assert.ok(tookMs < 2500, `exits at once (${tookMs} ms)`);
    });
  }

  test(`${backend}: what the application wrote to stdout reaches a reader that was slow before the single process exits`, { timeout: 20000 }, async (t) => {
    const { cli, port } = await serving(t, backend, HOLDS);
    const BYTES = 1 << 20; // 16 times a pipe's 64 KiB: most of it waits in the process
    cli.child.stdout.pause();
    assert.equal((await httpGet(port, `/stdout?bytes=${BYTES}`)).status, 200);
    cli.signal('SIGTERM');
    await cli.waitStderr(/tsgi: goodbye\n/);
    await delay(300); // the reader is slow: the process waits for it
    assert.equal(cli.exitInfo, undefined, 'still draining its stdout');
    cli.child.stdout.resume();
    const exit = await cli.waitExit(5000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(cli.stdoutText().length, BYTES, 'every byte written to stdout came out');
  });

  test(`${backend}: a single process whose exit blocks (an 'exit' listener that never returns) is ended 3 s after its goodbye, with its code and a line that says so`, { timeout: 20000 }, async (t) => {
    const { cli, port } = await serving(t, backend, HANGS);
    assert.equal((await httpGet(port, '/')).status, 200);
    cli.signal('SIGTERM');
    await cli.waitStderr(/tsgi: goodbye\n/);
    const goodbyeAt = Date.now();
    const exit = await withTimeout(cli.exited, 8000, 'the watchdog to end the process');
    const tookMs = Date.now() - goodbyeAt;
    t.diagnostic(`exited ${tookMs} ms after its goodbye; stderr tail: ${JSON.stringify(cli.stderrText().slice(-200))}`);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(cli.stderrText(), new RegExp(`tsgi: goodbye\\n${NOT_EXITED.source}\\n$`));
    assert.ok(tookMs >= 2500 && tookMs < 6000, `ended about 3 s after its goodbye (${tookMs} ms)`);
  });
}
