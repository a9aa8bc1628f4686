// The CLI run as the integration tests of config files and seeds run it
// (test/integration/seeds-*.test.mjs, config-files-cli.test.mjs, py-autoreload.test.mjs):
// stopped by SIGTERM with its process tree killed by pid if it does not exit, a GET on
// its port, and a run to its failure with the lines it prints.
import assert from 'node:assert/strict';
import { spawnCli } from './cli.mjs';
import { request } from './raw-client.mjs';
import { req } from './http-wire.mjs';
import { descendantsOf, procStat } from './proc.mjs';

/** Whether pid is a live process (a zombie is not). */
export const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return procStat(pid)?.state !== 'Z';
  } catch {
    return false;
  }
};

/** SIGKILL to pid and its descendants, each by pid. */
export function killTree(pid) {
  for (const p of [pid, ...descendantsOf(pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** SIGTERM, then the exit code (SIGKILL to the tree after 10 s). */
export async function stop(cli) {
  const pids = [cli.child.pid, ...descendantsOf(cli.child.pid)];
  cli.signal('SIGTERM');
  try {
    return await cli.waitExit(10000);
  } catch {
    for (const p of pids) killTree(p);
    await cli.kill();
    return { code: null, signal: 'SIGKILL' };
  }
}

/** GET path on port (HTTP, Connection: close). */
export const get = (port, path = '/') => request(port, req('GET', path, [['Connection', 'close']]), { timeoutMs: 10000 });

/** Runs the CLI to its failure: exit 1 within a few seconds, and the lines on stderr. */
export async function failsWith(t, args, patterns, opts) {
  const cli = spawnCli(args, opts);
  t.after(() => cli.kill());
  const { code, signal } = await cli.waitExit(8000);
  const stderr = Buffer.from(cli.stderrText(), 'latin1').toString('utf8');
  assert.equal(signal, null, stderr);
  assert.equal(code, 1, `exit code 1: ${stderr}`);
  const lines = stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, patterns.length, `${patterns.length} line(s) on stderr: ${JSON.stringify(stderr)}`);
  patterns.forEach((p, i) => (typeof p === 'string' ? assert.equal(lines[i], p) : assert.match(lines[i], p)));
  assert.equal(cli.stdoutText(), '', 'nothing on stdout');
  return stderr;
}
