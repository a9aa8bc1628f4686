// --py-autoreload in single-process mode: the tsgi process supervises a child that
// serves (lib/process/single.ts) and starts it again when the application's files
// change (lib/process/autoreload.ts watches them).
import { spawn, type ChildProcess } from 'node:child_process';
import { RESTART_CODE, applicationFile, watchApplication, type Stamp } from './autoreload.js';
import type { Config } from '../config/typed.js';
import { logMessage as log } from '../logging/log-format.js';

/**
 * --py-autoreload in single-process mode: this process does not serve; it runs the same
 * command as a child, passes it the signals, and starts it again when it exits with
 * RESTART_CODE (a file changed) or on SIGHUP. The child exits when this process dies.
 */
export async function superviseAutoreload(argv: readonly string[], cwd: string): Promise<number> {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restart = false;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGHUP'] as const) {
    process.on(s, () => {
      if (s === 'SIGHUP') {
        restart = true;
        child?.kill('SIGTERM');
      } else {
        stopping = true;
        child?.kill(s);
      }
    });
  }
  for (;;) {
    const c = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
      cwd,
      // Its own process group: a terminal's ^C reaches this process, which passes it on once.
      detached: true,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, TSGI_AUTORELOAD_CHILD: '1' },
    });
    child = c;
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
      c.on('exit', (code, signal) => resolveExit({ code, signal }));
      c.on('error', () => resolveExit({ code: 1, signal: null }));
    });
    child = undefined;
    if (!stopping && (code === RESTART_CODE || restart)) {
      restart = false;
      log('tsgi: py-autoreload: starting the application again');
      continue;
    }
    return code ?? (signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 1);
  }
}

/** In an autoreload child whose application failed to load: waits for a change to its files, then exits to be started again. */
export function waitForFix(config: Config, seconds: number, baseline: Map<string, Stamp> | undefined): Promise<number> {
  const file = applicationFile(config);
  if (file === undefined) return Promise.resolve(1);
  return new Promise((resolveExit) => {
    // The watcher's timer does not keep the process alive: this does, until a change.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const w = watchApplication(
      file,
      seconds,
      () => {
        w.stop();
        clearInterval(keepAlive);
        resolveExit(RESTART_CODE);
      },
      baseline,
    );
    log(`tsgi: py-autoreload: waiting for a change to ${file} (or what it imports) to try again`);
  });
}
