// serve() in this process on an ephemeral loopback port, for the tests that need no CLI:
// its log goes to one server log (below), read back by mark.
import { fstatSync, openSync, readSync, writeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../dist/lib/index.js';
import { withTimeout } from './wait.mjs';

// What the servers of startServer() log goes to this process's server log, not to its
// stderr: the conformance tests' applications fail on purpose and their clients are
// refused on purpose, and the stacks and refusal lines belong in the output only when a
// test fails (testFor() in conformance/differences.mjs prints what was logged during a
// failed test). Both streams go to one file, unlinked at once: nothing is left on disk.
const serverLogPath = join(tmpdir(), `tsgi-test-server-log-${process.pid}-${Date.now()}`);
const serverLogFd = openSync(serverLogPath, 'w+', 0o600);
unlinkSync(serverLogPath);
const errorLog = (text) => writeSync(serverLogFd, typeof text === 'string' ? text : Buffer.from(text));

/** Where the server log stands now: serverLogSince(mark) is what was logged after it. */
export const serverLogMark = () => fstatSync(serverLogFd).size;

/** What the servers of startServer() logged (request and refusal lines, application errors) since mark. */
export function serverLogSince(mark) {
  const out = Buffer.alloc(Math.max(0, fstatSync(serverLogFd).size - mark));
  readSync(serverLogFd, out, 0, out.length, mark);
  return out.toString('latin1');
}

/**
 * Starts serve(app, options) on 127.0.0.1:0 (unless options.http says otherwise), its
 * log and error log into the server log (above) unless options say otherwise.
 * close() is graceful for up to 2 s, then destroys; it is safe to call twice.
 */
export async function startServer(app, options = {}) {
  const server = await serve(app, { http: '127.0.0.1:0', disableLogging: true, errorLog, logFd: serverLogFd, ...options });
  let closing;
  const close = () => {
    if (closing === undefined) {
      closing = (async () => {
        const graceful = server.close();
        try {
          await withTimeout(graceful, 2000, 'server.close()');
        } catch {
          server.destroy();
          await withTimeout(graceful, 2000, 'server.close() after destroy()').catch(() => {});
        }
      })();
    }
    return closing;
  };
  return { server, port: server.address.port, close };
}
