// A throw-away HAProxy for the tests: its config in a fresh temp dir, listening on a
// free 127.0.0.1 port, in the foreground (-db), stopped by pid. HAProxy is Debian's
// haproxy package (.ci/run installs it).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accepts, freePort } from './ports.mjs';

const CANDIDATES = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'];

/** The haproxy binary, or undefined. */
export function findHaproxy() {
  return CANDIDATES.find((p) => spawnSync(p, ['-v'], { timeout: 5000 }).status === 0);
}

/**
 * Starts haproxy with one frontend on a free port that passes to 127.0.0.1:backendPort;
 * mode 'tcp' or 'http'; server: what follows "server tsgi 127.0.0.1:PORT" (send-proxy,
 * send-proxy-v2); extra: lines for the backend (option forwardfor). Resolves with
 * { port, stop(), output() } once the port accepts; stop() kills it by pid (SIGTERM, a
 * hard stop; SIGKILL after 3 s) and removes the directory.
 */
export async function startHaproxy({ backendPort, mode = 'tcp', server = '', extra = '' }) {
  const bin = findHaproxy();
  if (!bin) throw new Error('haproxy not found (apt-get install -y haproxy)');
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-haproxy-'));
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `# written by test/lib/haproxy.mjs
global
    maxconn 256

defaults
    mode ${mode}
    timeout connect 5s
    timeout client 10s
    timeout server 10s

frontend in
    bind 127.0.0.1:${port}
    default_backend tsgi

backend tsgi
${extra}
    server tsgi 127.0.0.1:${backendPort} ${server}
`,
  );
  const child = spawn(bin, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('close', r));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, stop, output: () => out };
}
