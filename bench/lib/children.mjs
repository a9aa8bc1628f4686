// What the bench starts and must not leave behind: the load generators and servers now
// running (killed by pid when the bench is interrupted or exits), its temporary
// directories (removed), a command run to its end, and a command pinned to a CPU.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { killNginx } from './nginx.mjs';
import { say } from './report.mjs';
import { ROOT, settings } from './settings.mjs';

// The servers' stderr files (the logging one's grows by hundreds of MiB) in dirs.tmp:
// removed at the end, also when the bench fails or is interrupted, unless
// BENCH_KEEP_LOGS=1. dirs.nginx: the nginx scenario's per-server directories (config,
// sockets, nginx's logs and temp paths): each is removed when its server stops, and here
// if the bench is interrupted.
export const dirs = { tmp: undefined, nginx: new Set() };

export function removeTmp() {
  if (dirs.tmp && !settings.keepLogs) rmSync(dirs.tmp, { recursive: true, force: true });
  dirs.tmp = undefined;
  for (const d of dirs.nginx) rmSync(d, { recursive: true, force: true });
  dirs.nginx.clear();
}

// Children to clean up if the bench itself is interrupted.
export const current = { servers: new Set(), loaders: new Set() };
export function killChildren() {
  for (const c of current.loaders) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  for (const s of current.servers) {
    if (s.nginx) killNginx(s.nginx);
    if (s.appExited) continue;
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    say(`\nbench: ${signal}: stopping`);
    killChildren();
    removeTmp();
    process.exit(130);
  });
}
process.on('exit', killChildren);

export function pinned(cpu, file, args) {
  return cpu === undefined ? [file, args] : ['taskset', ['-c', String(cpu), file, ...args]];
}

/** Runs a command to its end; resolves { code, signal, stdout, stderr }. */
export function runToEnd(file, args, { env, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    current.loaders.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(bench: killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      stderr += String(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current.loaders.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// The servers' stderr files (the logging one's grows by hundreds of MiB): removed at the

export function describeExit(e) {
  if (!e) return 'running';
  const who = e.who ? `${e.who}: ` : '';
  if (e.error) return who + e.error;
  return who + (e.signal ? `signal ${e.signal}` : `exit code ${e.code}`);
}

export function tail(file, lines = 15) {
  try {
    // Only the end of the file: the logging server's can be hundreds of MiB.
    const size = statSync(file).size;
    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    closeSync(fd);
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .map((l) => `    | ${l}`)
      .join('\n');
  } catch {
    return '    | (no output)';
  }
}
