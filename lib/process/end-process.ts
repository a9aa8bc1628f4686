// The end of a process that served alone (lib/single-process.ts), after its stop: it exits
// with process.exit(), as uWSGI's process ends after its goodbye, not when Node's loop runs
// dry: what the application keeps open (an interval timer, a database pool, a client's
// socket) would otherwise keep the process alive for good after "goodbye", until the
// process manager's SIGKILL. What stdout and stderr still hold goes out first (writes to a
// pipe are asynchronous in Node; a reader that does not read gets STDIO_DRAIN_MS). Then
// the exit itself is bounded: process.exit() runs the 'exit' listeners and the exit
// handlers, and one that blocks (an application's, or Node's own exit-time deadlock,
// nodejs/node#54918) would hang the process; the addon's watchdog thread
// (native/process/exit_watchdog.cc) ends it EXIT_GRACE_MS later with the same code.
// A worker's exit is bounded by its master instead (lib/process/worker-process.ts).
import type { Writable } from 'node:stream';
import { loadBinding } from '../addon/binding.js';
import { messageLine } from '../protocol/request-log.js';

/** How long what stdout and stderr hold may take to go out. */
export const STDIO_DRAIN_MS = 1000;
/** From process.exit() to the watchdog's _exit(). */
export const EXIT_GRACE_MS = 3000;

function drained(stream: Writable, deadline: number): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
    function done() {
      clearTimeout(timer);
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    }
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** Ends this process with code: stdout and stderr drained, then process.exit(), bounded. */
export async function endProcess(code: number): Promise<never> {
  const deadline = Date.now() + STDIO_DRAIN_MS;
  await Promise.all([drained(process.stdout, deadline), drained(process.stderr, deadline)]);
  try {
    loadBinding().exitWatchdog(EXIT_GRACE_MS, code, messageLine(`tsgi: the process has not exited ${EXIT_GRACE_MS / 1000} s after its stop: ending it (exit code ${code})`));
  } catch {
    // no addon (the js backend without a build): the exit is unbounded, as Node's is
  }
  process.exit(code);
}
