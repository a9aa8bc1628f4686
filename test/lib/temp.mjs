// What the tests leave on disk on purpose: a temporary directory nginx's workers can
// reach, and a stale unix socket file.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delay, waitUntil, withTimeout } from './wait.mjs';

/**
 * A fresh directory under the system temp dir, mode 0755 so that nginx's workers
 * (user nobody when nginx starts as root) can reach what is inside it: a 0700
 * directory would make every socket in it unreachable, whatever the socket's mode.
 */
export function makeTempDir(prefix = 'tsgi-nginx-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/**
 * Leaves a stale socket file at path: a child process listens on it and is
 * SIGKILLed, so nobody unlinks it. Resolves once the child is gone.
 */
export async function makeStaleSocket(path) {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('close', resolve));
  try {
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (s) => (out += s));
    await waitUntil(() => out.includes('listening'), 5000, 'the socket-holding child to listen');
  } finally {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await withTimeout(exited, 5000, 'the socket-holding child to die').catch(() => {});
  }
  await delay(10);
}

