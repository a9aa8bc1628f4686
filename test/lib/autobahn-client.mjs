// Autobahn|Python as a WebSocket client for the tests (test/lib/autobahn-client.py, on
// Debian's python3-autobahn, which .ci/run installs): a plan of cases in, what the client
// saw of each out. The Python is Debian's own (/usr/bin/python3, where the package
// installs), not whichever python3 is first on PATH.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './project.mjs';

const SCRIPT = join(ROOT, 'test', 'lib', 'autobahn-client.py');
const CANDIDATES = ['/usr/bin/python3', '/usr/local/bin/python3'];

let found;
/** A python3 that imports autobahn: { python, version }, or undefined (asked once). */
export function autobahnPython() {
  if (found === undefined) {
    found = null;
    for (const python of CANDIDATES) {
      const r = spawnSync(python, ['-c', 'import autobahn; print(autobahn.__version__)'], { encoding: 'utf8', timeout: 10000 });
      if (r.status === 0) {
        found = { python, version: r.stdout.trim() };
        break;
      }
    }
  }
  return found ?? undefined;
}

/** Why there is no client here (apt-get install python3-autobahn), or false. */
export const autobahnMissing = () => autobahnPython() === undefined && `no python3 that imports autobahn among ${CANDIDATES.join(', ')} (apt-get install -y python3-autobahn)`;

/**
 * Runs the client on url with cases (the plan's, see autobahn-client.py; a step's data is
 * given as a Buffer or a string and sent as base64); greeting: the server sends a message
 * first. Resolves with the reports, one per case in order; rejects when the client fails
 * or is not done within timeoutMs (it is then killed by pid).
 */
export function runAutobahnClient(url, cases, { greeting = false, timeoutMs = 40000 } = {}) {
  const b64 = (d) => Buffer.from(d).toString('base64');
  const plan = {
    url,
    greeting,
    timeout: Math.floor(timeoutMs / 2000),
    cases: cases.map(({ name, autoFragmentSize = 0, steps }) => ({
      name,
      autoFragmentSize,
      steps: steps.map((s) => ('data' in s ? { ...s, data: b64(s.data) } : 'ping' in s ? { ping: b64(s.ping) } : s)),
    })),
  };
  const python = autobahnPython();
  if (python === undefined) throw new Error(autobahnMissing());
  // Not under the sanitized run's LD_PRELOAD of libasan: that is for tsgi's addon.
  const { LD_PRELOAD: _preload, ...env } = process.env;
  const child = spawn(python.python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (stderr += s));
  child.stdin.end(JSON.stringify(plan));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the autobahn client was not done within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`the autobahn client exited with ${code ?? signal}; stderr:\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}
