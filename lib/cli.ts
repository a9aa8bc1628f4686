// The tsgi command: uWSGI's options (from the command line, the environment and config
// files: lib/config/config.ts), one process serving, or a master and its workers.
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { RESTART_CODE, applicationFile, snapshot, watchApplication, type Stamp, type Watcher } from './process/autoreload.js';
import { ConfigError, renderShowConfig, resolveConfig, type ResolvedConfig } from './config/config.js';
import type { Config } from './config/typed.js';
import { hasSockets, masterMode as isMasterMode } from './config/derived.js';
import { chooseBackend, loadBinding, type BackendName } from './addon/binding.js';
import { dropPrivileges } from './base/privileges.js';
import { describeLoadError, loadApplication } from './load/loader.js';
import { resolveInterface } from './interfaces/index.js';
import { parseStaticMaps } from './contract/static-map.js';
import { runMaster } from './process/master.js';
import { TsgiError } from './base/errors.js';
import { USAGE, helpText } from './config/options.js';
import { serveConfig } from './serve.js';
import type { Server } from './backend/backend.js';
import { drainThenStop, ProcessOps } from './process/process-ops.js';
import { VERSION } from './base/package.js';
import { compileLogFormat, messageLine, setMessageEncoder } from './logging/log-format.js';
import { openLogs, watchLogReopen, type LogFiles } from './logging/log-files.js';

function log(line: string): void {
  process.stderr.write(messageLine(line));
}

/** Signals only queue; one dispatcher handles them in order (gunicorn's arbiter). */
class SignalQueue {
  private readonly queue: NodeJS.Signals[] = [];
  private scheduled = false;
  constructor(private readonly dispatch: (signal: NodeJS.Signals) => void) {}
  listen(signals: NodeJS.Signals[]): void {
    for (const s of signals) {
      process.on(s, () => {
        this.queue.push(s);
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.drain());
        }
      });
    }
  }
  private drain(): void {
    this.scheduled = false;
    while (this.queue.length > 0) this.dispatch(this.queue.shift()!);
  }
}

/**
 * --daemonize LOGFILE: the same command again, in a new session (detached), its output
 * to LOGFILE; this process says so and exits 0.
 */
function daemonize(logfile: string): number {
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
function signalPidfile(file: string, signal: NodeJS.Signals): number {
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

/**
 * --py-autoreload in single-process mode: this process does not serve; it runs the same
 * command as a child, passes it the signals, and starts it again when it exits with
 * RESTART_CODE (a file changed) or on SIGHUP. The child exits when this process dies.
 */
async function superviseAutoreload(argv: readonly string[], cwd: string): Promise<number> {
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
function waitForFix(config: Config, seconds: number, baseline: Map<string, Stamp> | undefined): Promise<number> {
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

function logConfig(resolved: ResolvedConfig): void {
  for (const line of [...resolved.warnings, ...resolved.notes]) log(`tsgi: ${line}`);
  if (resolved.showConfig === 'log') process.stderr.write(renderShowConfig(resolved));
}

export async function main(argv: readonly string[]): Promise<number> {
  const startCwd = process.cwd();
  // A child of --py-autoreload: its parent said the warnings already.
  const autoreloadChild = process.env.TSGI_AUTORELOAD_CHILD === '1';
  let resolved: ResolvedConfig;
  try {
    resolved = resolveConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) log(`tsgi: ${line}${err.fromCommandLine ? ' (see tsgi --help)' : ''}`);
    } else {
      log(`tsgi: ${(err as Error).message} (see tsgi --help)`);
    }
    return 1;
  }
  const { config } = resolved;
  if (config.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (config.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (config.dryRun) {
    for (const line of resolved.warnings) log(`tsgi: ${line}`);
    if (resolved.showConfig === 'print') process.stdout.write(renderShowConfig(resolved));
    return 0;
  }
  if (config.daemonize !== undefined && process.env.TSGI_DAEMONIZED !== '1') {
    logConfig(resolved);
    return daemonize(config.daemonize);
  }
  setMessageEncoder(config.logEncoder);
  try {
    // Checked here, so that a bad format or logger stops the start with its reason.
    if (config.logformat !== undefined) compileLogFormat(config.logformat);
    openLogs(config, loadBinding, { all: true, requests: false });
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    return 1;
  }
  if (!autoreloadChild) logConfig(resolved);
  const masterMode = isMasterMode(config);
  if (config.touchReload.length > 0 && !masterMode) {
    log('tsgi: --touch-reload reloads the workers of a master: add --master');
    return 1;
  }
  if (config.stop !== undefined) return signalPidfile(config.stop, 'SIGINT');
  if (config.reload !== undefined) return signalPidfile(config.reload, 'SIGHUP');
  if (!hasSockets(config)) {
    if (argv.length === 0) {
      // Nothing at all: how to call it, rather than what is missing.
      for (const line of USAGE) log(line);
      log('tsgi --help lists every option.');
    } else {
      log('tsgi: no socket given: use --http :9090, --http-socket, --socket or --uwsgi-socket');
    }
    return 1;
  }
  const autoreload = config.pyAutoreload;
  if (autoreload > 0 && !masterMode && !autoreloadChild) {
    log(`tsgi: py-autoreload ${autoreload}: a child process serves, and starts again when the application's files change`);
    return superviseAutoreload(argv, startCwd);
  }
  if (autoreloadChild) {
    // Exit with the parent, even when it was SIGKILLed.
    process.on('disconnect', () => process.exit(1));
    process.channel?.unref();
  }
  for (const kv of config.env) {
    const eq = kv.indexOf('=');
    process.env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (config.chdir !== undefined) {
    try {
      process.chdir(config.chdir);
    } catch (err) {
      log(`tsgi: cannot chdir to ${config.chdir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 1;
    }
  }
  // Checked once here (after chdir: relative directories are the application's), so
  // that a bad map stops the start with its reason instead of each worker's.
  try {
    parseStaticMaps(config.staticMap);
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    return 1;
  }
  if (masterMode && config.backend === 'js') {
    log('tsgi: --master and --processes run the native backend: drop --backend js');
    return 1;
  }
  let backend: BackendName;
  try {
    backend = chooseBackend(masterMode ? 'native' : config.backend, (line) => log(`tsgi: ${line}`));
  } catch (err) {
    log(`tsgi: ${masterMode ? '--master and --processes run the native backend' : '--backend native'}: ${(err as Error).message}`);
    return 1;
  }
  log(`*** Starting tsgi ${VERSION} (${backend} backend, node ${process.version}) ***`);
  if (masterMode) {
    let watcher: Watcher | undefined;
    if (autoreload > 0) {
      const file = applicationFile(config);
      if (file !== undefined) {
        watcher = watchApplication(file, autoreload, (changed) => {
          log(`tsgi: py-autoreload: ${changed} changed: graceful chain reload`);
          watcher!.rescan();
          // The master handles SIGHUP once it has started (before, SIGHUP would kill it).
          if (process.listenerCount('SIGHUP') > 0) process.kill(process.pid, 'SIGHUP');
        });
        log(`tsgi: py-autoreload: watching ${watcher.count} file${watcher.count === 1 ? '' : 's'} every ${autoreload} s (the application and the modules it imports)`);
      }
    }
    try {
      return await runMaster(config);
    } catch (err) {
      log(`tsgi: ${(err as Error).message}`);
      return 1;
    } finally {
      watcher?.stop();
    }
  }
  let server: Server;
  let appFile: string;
  let ops: ProcessOps | undefined;
  let logs: LogFiles;
  // The application's files before it loads: a change made while it loads is seen.
  let baseline: Map<string, Stamp> | undefined;
  if (autoreloadChild && autoreload > 0) {
    const file = applicationFile(config);
    if (file !== undefined) baseline = snapshot(file);
  }
  try {
    if (config.limitAs > 0) loadBinding().setLimitAs(config.limitAs * 1024 * 1024);
    ops = await ProcessOps.start(config, backend);
    const loaded = await loadApplication({ wsgiFile: config.wsgiFile, module: config.module, callable: config.callable });
    const served = await resolveInterface(loaded.app, config.interface, loaded.file);
    log(`tsgi: application ${loaded.file} callable '${loaded.callable}' loaded in ${loaded.millis} msecs, interface ${served.description}`);
    appFile = loaded.file;
    logs = openLogs(config, loadBinding, { all: false, requests: true });
    server = await serveConfig(served.app, config, { backend, logFd: logs.requestFd, slot: ops?.slot, counters: ops?.counters });
  } catch (err) {
    ops?.close();
    if (err instanceof TsgiError && err.code === 'TSGI_ERR_APP_LOAD') {
      log(`tsgi: ${describeLoadError(err)}`);
      if (autoreloadChild) return waitForFix(config, autoreload, baseline);
    } else if (err instanceof TsgiError) {
      log(`tsgi: ${err.message}`);
    } else {
      log(`tsgi: ${(err as Error).stack ?? String(err)}`);
    }
    return 1;
  }
  try {
    const dropped = dropPrivileges(config.uid, config.gid);
    if (dropped) log(`tsgi: privileges dropped to ${dropped}`);
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    server.destroy();
    return 1;
  }
  for (const [i, a] of server.addresses.entries()) {
    if (a.family === 'unix') {
      log(`tsgi: socket ${i} bound to UNIX address ${a.address} (${a.protocol}, from ${a.spec})`);
      continue;
    }
    const shown = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    log(`tsgi: socket ${i} bound to TCP address ${shown} (${a.protocol}, from ${a.spec})`);
  }
  log(`*** tsgi is ready in single-process mode (pid: ${process.pid}) ***`);
  ops?.ready();

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    if (autoreloadChild && autoreload > 0) {
      const w = watchApplication(
        appFile,
        autoreload,
        (changed) => {
          if (stopping) return;
          stopping = true;
          w.stop();
          log(`tsgi: py-autoreload: ${changed} changed: restarting (requests in progress finish)`);
          const done = () => resolveExit(RESTART_CODE);
          const timer = setTimeout(() => {
            server.destroy();
            done();
          }, 5000);
          void server.close().then(() => {
            clearTimeout(timer);
            done();
          });
        },
        baseline,
      );
      log(`tsgi: py-autoreload: watching ${w.count} file${w.count === 1 ? '' : 's'} every ${autoreload} s (the application and the modules it imports)`);
    }
    let reopenLogs: (why: string) => void = () => {};
    const queue = new SignalQueue((signal) => {
      if (signal === 'SIGUSR2') {
        reopenLogs('SIGUSR2');
        return;
      }
      if (signal === 'SIGQUIT' || (stopping && signal !== 'SIGHUP')) {
        log(`tsgi: ${signal}: stopping now`);
        server.destroy();
        resolveExit(0);
        return;
      }
      if (signal === 'SIGINT' || signal === 'SIGTERM') {
        void drainThenStop(server, config, signal, ops, () => (stopping = true))?.then(() => {
          ops?.close();
          log('tsgi: goodbye');
          resolveExit(0);
        });
      }
    });
    queue.listen(['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2']);
    const reopen = (why: string) => {
      try {
        logs.reopen();
        log(`tsgi: ${why}: log files reopened`);
      } catch (err) {
        log(`tsgi: ${why}: ${(err as Error).message}`);
      }
    };
    reopenLogs = reopen;
    watchLogReopen(config.touchLogreopen, (file) => reopen(`${file} touched`));
  });
}
