// The end of a single process (no --master) after its stop, on both backends
// (lib/process/end-process.ts): after a graceful stop the application's own cleanup (its
// SIGTERM listener, 'beforeExit') runs and the process exits when the loop runs dry; an
// application that keeps the loop alive for good (a timer, a server, a client socket) is
// given 3 s, then the process exits with its code; SIGQUIT, or a signal after the goodbye,
// exits at once; what it wrote to stdout still goes out to a reader that is slow; the
// request log keeps the lines of requests served just before; and an exit that blocks (an
// 'exit' listener that never returns, as Node's own exit-time deadlock does) is ended 3 s
// later by the addon's watchdog thread. Every process started here is killed by its pid,
// even on failure; every wait is bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { httpGet } from '../lib/http-client.mjs';
import { delay, withTimeout } from '../lib/wait.mjs';

const HOLDS = join(FIXTURES, 'single-process', 'holds-handles.mjs');
const CLEANS_UP = join(FIXTURES, 'single-process', 'cleans-up.mjs');
// The master's fixture serves alone here just as well: its 'exit' listener blocks for good.
const HANGS = join(FIXTURES, 'master', 'hangs-at-exit.mjs');
const LINGERED = /tsgi: the application still holds the process 3 s after the stop \(a timer, a pool, a socket\): exiting\n/;
const WATCHDOG = /tsgi: the process is still exiting 3 s after its 'exit' event: ending it \(exit code 0\)\n/;

async function serving(t, backend, app, extra = []) {
  const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', ...extra, '--wsgi-file', app]);
  t.after(() => cli.kill());
  const port = await cli.port;
  await cli.waitStderr(/\*\*\* tsgi is ready/);
  return { cli, port };
}

/** Signals cli, waits for text on stderr; resolves with when it came. */
async function stopped(cli, signal, text) {
  cli.signal(signal);
  await cli.waitStderr(text, 8000);
  return Date.now();
}

/**
 * Serves app, answers a GET, then signal; waits for text (the goodbye) and the exit, which
 * must be code 0. Resolves with the handle and the ms from text to the exit.
 */
async function stopAfterOne(t, backend, app, signal, text) {
  const { cli, port } = await serving(t, backend, app);
  assert.equal((await httpGet(port, '/')).status, 200);
  const at = await stopped(cli, signal, text);
  const exit = await withTimeout(cli.exited, 8000, 'the process to exit');
  const tookMs = Date.now() - at;
  t.diagnostic(`exited ${tookMs} ms after ${text}; stderr tail: ${JSON.stringify(cli.stderrText().slice(-200))}`);
  assert.deepEqual(exit, { code: 0, signal: null });
  return { cli, tookMs };
}

for (const backend of BACKENDS) {
  test(`${backend}: SIGTERM to a single process whose application cleans up on SIGTERM and at beforeExit: both run, and the process exits 0 when its loop is empty`, { timeout: 20000 }, async (t) => {
    const { cli, tookMs } = await stopAfterOne(t, backend, CLEANS_UP, 'SIGTERM', /tsgi: goodbye\n/);
    assert.match(cli.stderrText(), /tsgi: goodbye\n(.*\n)*app: pool closed\n(.*\n)*app: flushed at beforeExit\n/);
    assert.doesNotMatch(cli.stderrText(), LINGERED);
    assert.ok(tookMs < 2500, `the loop ran dry, no linger (${tookMs} ms)`);
  });

  test(`${backend}: SIGTERM to a single process whose application holds a timer, a server and a socket open: it exits 0 3 s after its goodbye, with a line that says why`, { timeout: 20000 }, async (t) => {
    const { cli, tookMs } = await stopAfterOne(t, backend, HOLDS, 'SIGTERM', /tsgi: goodbye\n/);
    assert.match(cli.stderrText(), new RegExp(`tsgi: goodbye\\n${LINGERED.source}$`));
    assert.doesNotMatch(cli.stderrText(), WATCHDOG, 'ended by process.exit(), not by the watchdog');
    assert.ok(tookMs >= 2500 && tookMs < 6000, `about 3 s (${tookMs} ms)`);
  });

  test(`${backend}: a second SIGTERM after the goodbye ends the wait for the application at once`, { timeout: 20000 }, async (t) => {
    const { cli } = await serving(t, backend, HOLDS);
    await stopped(cli, 'SIGTERM', /tsgi: goodbye\n/);
    const againAt = await stopped(cli, 'SIGTERM', /tsgi: SIGTERM: exiting now\n/);
    const exit = await cli.waitExit(5000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - againAt < 2000, `exits at once (${Date.now() - againAt} ms)`);
    assert.doesNotMatch(cli.stderrText(), LINGERED);
  });

  test(`${backend}: SIGQUIT to a single process whose application holds handles open: it exits 0 at once, and the request served just before is in the log`, { timeout: 20000 }, async (t) => {
    const { cli, port } = await serving(t, backend, HOLDS);
    assert.equal((await httpGet(port, '/just-before')).status, 200);
    const quitAt = await stopped(cli, 'SIGQUIT', /tsgi: SIGQUIT: stopping now\n/);
    const exit = await cli.waitExit(5000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - quitAt < 2000, `exits at once (${Date.now() - quitAt} ms)`);
    assert.match(cli.stderrText(), /GET \/just-before => generated 3 bytes/);
  });

  test(`${backend}: what the application wrote to stdout reaches a reader that was slow before the single process exits`, { timeout: 20000 }, async (t) => {
    const { cli, port } = await serving(t, backend, HOLDS);
    const BYTES = 1 << 20; // 16 times a pipe's 64 KiB: most of it waits in the process
    cli.child.stdout.pause();
    assert.equal((await httpGet(port, `/stdout?bytes=${BYTES}`)).status, 200);
    await stopped(cli, 'SIGQUIT', /tsgi: SIGQUIT: stopping now\n/);
    await delay(300); // the reader is slow: the process waits for it
    assert.equal(cli.exitInfo, undefined, 'still draining its stdout');
    cli.child.stdout.resume();
    const exit = await cli.waitExit(5000);
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(cli.stdoutText().length, BYTES, 'every byte written to stdout came out');
  });

  test(`${backend}: a single process whose exit blocks (an 'exit' listener that never returns) is ended 3 s after its goodbye, with its code and a line that says so`, { timeout: 20000 }, async (t) => {
    const { cli, tookMs } = await stopAfterOne(t, backend, HANGS, 'SIGTERM', /tsgi: goodbye\n/);
    assert.match(cli.stderrText(), new RegExp(`tsgi: goodbye\\n${WATCHDOG.source}$`));
    assert.ok(tookMs >= 2500 && tookMs < 6000, `ended about 3 s after its goodbye (${tookMs} ms)`);
  });

  test(`${backend}: with --log-encoder json, the watchdog's line is a JSON message dated when it is written, about 3 s after the goodbye's`, { timeout: 20000 }, async (t) => {
    const { cli, port } = await serving(t, backend, HANGS, ['--log-encoder', 'json']);
    assert.equal((await httpGet(port, '/')).status, 200);
    cli.signal('SIGTERM');
    const exit = await withTimeout(cli.exited, 10000, 'the process to exit');
    assert.deepEqual(exit, { code: 0, signal: null });
    const lines = cli.stderrLines.filter((l) => l.line.startsWith('{"time"')).map((l) => ({ ...JSON.parse(l.line), at: l.at }));
    const goodbye = lines.find((m) => m.msg === 'tsgi: goodbye');
    const watchdog = lines.at(-1);
    assert.ok(goodbye, 'the goodbye is a JSON message');
    assert.match(watchdog.msg, /^tsgi: the process is still exiting 3 s after its 'exit' event: ending it \(exit code 0\)$/);
    // Its time is when it came (it was made 3 s before), as the goodbye's is.
    const dated = Date.parse(watchdog.time) - watchdog.at;
    const apart = Date.parse(watchdog.time) - Date.parse(goodbye.time);
    t.diagnostic(`the watchdog's line dated ${dated} ms from when it came, ${apart} ms after the goodbye's`);
    assert.ok(Math.abs(dated) < 500, `the watchdog's line is dated ${dated} ms from when it came`);
    assert.ok(apart >= 2500 && apart < 6000, `about 3 s after the goodbye's (${apart} ms)`);
  });
}
