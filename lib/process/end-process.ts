// The end of a process that served alone (lib/single-process.ts), after its stop. After a
// graceful stop (SIGTERM, SIGINT) the application may go on for EXIT_LINGER_MS: its own
// SIGTERM listener closing a pool, a 'beforeExit' flush, anything the loop still runs.
// The process then exits as Node's do, when the loop runs dry, or, when something of the
// application's keeps the loop alive for good (an interval timer, a database pool, a
// client's socket), by process.exit() once the linger is over, as uWSGI's process ends
// after its goodbye: before, such an application kept the process alive after "goodbye"
// until the process manager's SIGKILL. SIGQUIT ("stop now") and --py-autoreload's restart
// linger for nothing. Before process.exit(), what stdout and stderr still hold goes out
// (writes to a pipe are asynchronous in Node; a reader that does not read gets
// STDIO_DRAIN_MS). Exiting is bounded too, however it comes: the 'exit' listeners and the
// exit handlers run on the main thread, and one that blocks (an application's, or Node's
// own exit-time deadlock, nodejs/node#54918) would hang the process; the first 'exit'
// listener arms the addon's watchdog thread (native/process/exit_watchdog.cc), which ends
// the process EXIT_GRACE_MS later with the same code. A worker's exit is bounded by its
// master instead (lib/process/worker-process.ts).
import type { Writable } from 'node:stream';
import { loadBinding } from '../addon/binding.js';
import { logMessage, messageLine } from '../protocol/request-log.js';

/** After a graceful stop, how long the application's own work may keep the process. */
export const EXIT_LINGER_MS = 3000;
/** How long what stdout and stderr hold may take to go out before process.exit(). */
export const STDIO_DRAIN_MS = 1000;
/** From the 'exit' event to the watchdog's _exit(). */
export const EXIT_GRACE_MS = 3000;

let watching = false; // the 'exit' listener that arms the watchdog is there

/** Resolves once stream holds nothing unwritten, or at deadline. */
async function drained(stream: Writable, deadline: number): Promise<void> {
  const ignore = () => {}; // a reader gone (EPIPE) while we wait is no reason to crash now
  stream.on('error', ignore);
  // 'drain' comes only after a write() that returned false: poll what is left instead.
  while (stream.writableLength > 0 && !stream.destroyed && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  stream.off('error', ignore);
}

function armWatchdog(code: number): void {
  let binding;
  try {
    binding = loadBinding();
  } catch {
    return; // no addon (the js backend without a build): the exit is unbounded, as Node's is
  }
  // Written by the watchdog's thread if it fires, EXIT_GRACE_MS from here: dated then.
  const text = `tsgi: the process is still exiting ${EXIT_GRACE_MS / 1000} s after its 'exit' event: ending it (exit code ${code})`;
  const line = messageLine(text, new Date(Date.now() + EXIT_GRACE_MS));
  if (!binding.exitWatchdog(EXIT_GRACE_MS, code, line)) process.stderr.write(messageLine("tsgi: cannot start the exit's watchdog thread: the exit is unbounded"));
}

async function exitNow(code: number): Promise<never> {
  const deadline = Date.now() + STDIO_DRAIN_MS;
  await Promise.all([drained(process.stdout, deadline), drained(process.stderr, deadline)]);
  process.exit(code);
}

/**
 * Ends this process with code: at once (lingerMs 0), or when the loop runs dry, lingerMs
 * at most; bounded by the watchdog from the 'exit' event on. Never settles.
 */
export function endProcess(code: number, lingerMs: number): Promise<never> {
  process.exitCode = code;
  if (!watching) {
    watching = true;
    process.prependOnceListener('exit', (exitCode) => armWatchdog(typeof exitCode === 'number' ? exitCode : code));
  }
  if (lingerMs <= 0) return exitNow(code);
  setTimeout(() => {
    logMessage(`tsgi: the application still holds the process ${lingerMs / 1000} s after the stop (a timer, a pool, a socket): exiting`);
    void exitNow(code);
  }, lingerMs).unref();
  return new Promise<never>(() => {});
}
