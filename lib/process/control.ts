// What the command does to processes besides serving: --daemonize starts itself again
// in the background; --stop and --reload signal the master a pidfile names.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { logMessage as log } from '../logging/log-format.js';

/**
 * --daemonize LOGFILE: the same command again, in a new session (detached), its output
 * to LOGFILE; this process says so and exits 0.
 */
export function daemonize(logfile: string): number {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, TSGI_DAEMONIZED: '1' },
  });
  child.unref();
  log(`tsgi: daemonized as pid ${child.pid}, logging to ${logfile}`);
  return 0;
}

/** --stop and --reload: a signal to the master whose pid a file holds. */
export function signalPidfile(file: string, signal: NodeJS.Signals): number {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch (err) {
    log(`tsgi: cannot read the pidfile ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  if (!Number.isInteger(pid) || pid <= 1) {
    log(`tsgi: the pidfile ${file} holds no pid`);
    return 1;
  }
  try {
    process.kill(pid, signal);
  } catch (err) {
    log(`tsgi: cannot signal pid ${pid} from ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  return 0;
}
