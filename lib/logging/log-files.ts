// The log files: --logto / --logger file:PATH (every line: this process's stdout and
// stderr become the file) and --req-logger file:PATH (the request log alone, on a
// descriptor of its own), and their reopening on SIGUSR2 or --touch-logreopen, so that
// logrotate can rename a file and have the next lines go to a new one at the path.
// Each process opens its files itself by path (a worker too), and reopens them itself
// when told: the descriptor keeps its number (dup2), so nothing that writes to it needs
// to know.
import { TsgiError } from '../base/errors.js';
import type { NativeBinding } from '../addon/binding.js';
import type { Config } from '../config/typed.js';

/** The path of a logger spec ("file:PATH"); anything else is refused with the reason. */
export function loggerPath(option: string, spec: string): string {
  if (spec.startsWith('file:') && spec.length > 5) return spec.slice(5);
  const kind = spec.split(':')[0]!;
  const why =
    kind === 'syslog' || kind === 'rsyslog'
      ? `${kind} is not supported: Node has no unix datagram socket for /dev/log; log to stderr (journald keeps it) or to file:PATH`
      : `"${spec}" is not a logger tsgi has: use file:PATH`;
  throw new TsgiError('TSGI_ERR_OPTION_INVALID', `--${option} ${why}`);
}

export interface LogFiles {
  /** Where the request log goes: the --req-logger file's descriptor, or 2. */
  readonly requestFd: number;
  /**
   * Opens every file again at its path, in place, and says so through say:
   * "tsgi: WHY: log files reopened", or WHY and the reason it failed.
   */
  reopen(why: string, say: (line: string) => void): void;
}

/** The paths the options name; throws (TSGI_ERR_OPTION_INVALID) on a logger tsgi has not. */
export function logPaths(config: Config): { all?: string; requests?: string } {
  const { logger, reqLogger } = config;
  const all = logger !== undefined ? loggerPath('logger', logger) : (config.logto ?? config.daemonize);
  const requests = reqLogger !== undefined ? loggerPath('req-logger', reqLogger) : undefined;
  return { ...(all !== undefined ? { all } : {}), ...(requests !== undefined ? { requests } : {}) };
}

/**
 * Opens the files the options name, in this process: which.all, --logto/--logger as
 * stdout and stderr (a worker inherits them from its master); which.requests, the
 * --req-logger file (the processes that serve). reopen() reopens what this process uses.
 * addon: the native addon, loaded only when a file is named.
 */
export function openLogs(config: Config, addon: () => NativeBinding, which: { all: boolean; requests: boolean }): LogFiles {
  const paths = logPaths(config);
  if (!which.requests) delete paths.requests;
  // The addon opens and reopens the files; without a file to open it is not needed (the
  // js backend may run without it).
  if (paths.all !== undefined && which.all) addon().logTo(paths.all);
  const requestFd = paths.requests !== undefined ? addon().openLog(paths.requests) : 2;
  return {
    requestFd,
    reopen(why, say) {
      try {
        if (paths.all !== undefined) addon().logTo(paths.all);
        if (paths.requests !== undefined) addon().reopenLog(paths.requests, requestFd);
        say(`tsgi: ${why}: log files reopened`);
      } catch (err) {
        say(`tsgi: ${why}: ${(err as Error).message}`);
      }
    },
  };
}
