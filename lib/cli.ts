// The tsgi command: uWSGI's options (from the command line, the environment and config
// files: lib/config/config.ts), one process serving, or a master and its workers.
import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { RESTART_CODE, applicationFile, snapshot, watchApplication, type Stamp, type Watcher } from './process/autoreload.js';
import { ConfigError, renderShowConfig, resolveConfig, type Config } from './config/config.js';
import { chooseBackend, loadBinding, type BackendName } from './addon/binding.js';
import { dropPrivileges } from './base/privileges.js';
import { describeLoadError, loadApplication } from './load/loader.js';
import { resolveInterface } from './interfaces/index.js';
import { parseStaticMaps } from './contract/static-map.js';
import { runMaster } from './process/master.js';
import { TsgiError } from './base/errors.js';
import { USAGE, helpText, type OptionValues } from './config/options.js';
import { serve } from './serve.js';
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
function waitForFix(values: OptionValues, seconds: number, baseline: Map<string, Stamp> | undefined): Promise<number> {
  const file = applicationFile(values);
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

function logConfig(config: Config): void {
  for (const line of [...config.warnings, ...config.notes]) log(`tsgi: ${line}`);
  if (config.showConfig === 'log') process.stderr.write(renderShowConfig(config));
}

export async function main(argv: readonly string[]): Promise<number> {
  const startCwd = process.cwd();
  // A child of --py-autoreload: its parent said the warnings already.
  const autoreloadChild = process.env.TSGI_AUTORELOAD_CHILD === '1';
  let config: Config;
  try {
    config = resolveConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.lines) log(`tsgi: ${line}${err.fromCommandLine ? ' (see tsgi --help)' : ''}`);
    } else {
      log(`tsgi: ${(err as Error).message} (see tsgi --help)`);
    }
    return 1;
  }
  const values = config.values;
  if (values.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.dryRun) {
    for (const line of config.warnings) log(`tsgi: ${line}`);
    if (config.showConfig === 'print') process.stdout.write(renderShowConfig(config));
    return 0;
  }
  if (values.daemonize !== undefined && process.env.TSGI_DAEMONIZED !== '1') {
    logConfig(config);
    return daemonize(values.daemonize as string);
  }
  setMessageEncoder(values.logEncoder as string | undefined);
  try {
    // Checked here, so that a bad format or logger stops the start with its reason.
    if (values.logformat !== undefined) compileLogFormat(values.logformat as string);
    openLogs(values, loadBinding, { all: true, requests: false });
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    return 1;
  }
  if (!autoreloadChild) logConfig(config);
  if (values.touchReload !== undefined && !(values.master || (values.processes as number) > 1)) {
    log('tsgi: --touch-reload reloads the workers of a master: add --master');
    return 1;
  }
  if (values.stop !== undefined || values.reload !== undefined) {
    return signalPidfile((values.stop ?? values.reload) as string, values.stop !== undefined ? 'SIGINT' : 'SIGHUP');
  }
  const sockets = ['http', 'httpSocket', 'socket', 'uwsgiSocket'].flatMap((k) => (values[k] as string[] | undefined) ?? []);
  if (sockets.length === 0) {
    if (argv.length === 0) {
      // Nothing at all: how to call it, rather than what is missing.
      for (const line of USAGE) log(line);
      log('tsgi --help lists every option.');
    } else {
      log('tsgi: no socket given: use --http :9090, --http-socket, --socket or --uwsgi-socket');
    }
    return 1;
  }
  const masterMode = values.master === true || (values.processes as number) > 1;
  const autoreload = (values.pyAutoreload as number | undefined) ?? 0;
  if (autoreload > 0 && !masterMode && !autoreloadChild) {
    log(`tsgi: py-autoreload ${autoreload}: a child process serves, and starts again when the application's files change`);
    return superviseAutoreload(argv, startCwd);
  }
  if (autoreloadChild) {
    // Exit with the parent, even when it was SIGKILLed.
    process.on('disconnect', () => process.exit(1));
    process.channel?.unref();
  }
  for (const kv of (values.env as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    process.env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (values.chdir) {
    try {
      process.chdir(values.chdir as string);
    } catch (err) {
      log(`tsgi: cannot chdir to ${values.chdir as string}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return 1;
    }
  }
  // Checked once here (after chdir: relative directories are the application's), so
  // that a bad map stops the start with its reason instead of each worker's.
  try {
    parseStaticMaps((values.staticMap as string[] | undefined) ?? []);
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    return 1;
  }
  if (masterMode && values.backend === 'js') {
    log('tsgi: --master and --processes run the native backend: drop --backend js');
    return 1;
  }
  let backend: BackendName;
  try {
    backend = chooseBackend(masterMode ? 'native' : (values.backend as string), (line) => log(`tsgi: ${line}`));
  } catch (err) {
    log(`tsgi: ${masterMode ? '--master and --processes run the native backend' : '--backend native'}: ${(err as Error).message}`);
    return 1;
  }
  values.backend = backend;
  log(`*** Starting tsgi ${VERSION} (${backend} backend, node ${process.version}) ***`);
  if (masterMode) {
    let watcher: Watcher | undefined;
    if (autoreload > 0) {
      const file = applicationFile(values);
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
      return await runMaster(values);
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
    const file = applicationFile(values);
    if (file !== undefined) baseline = snapshot(file);
  }
  try {
    const limitAs = (values.limitAs as number | undefined) ?? 0;
    if (limitAs > 0) loadBinding().setLimitAs(limitAs * 1024 * 1024);
    ops = await ProcessOps.start(values);
    const loaded = await loadApplication({
      wsgiFile: values.wsgiFile as string | undefined,
      module: values.module as string | undefined,
      callable: values.callable as string | undefined,
    });
    const served = await resolveInterface(loaded.app, values.interface as string, loaded.file);
    log(`tsgi: application ${loaded.file} callable '${loaded.callable}' loaded in ${loaded.millis} msecs, interface ${served.description}`);
    appFile = loaded.file;
    const { help: _h, version: _v, chdir: _c, env: _e, wsgiFile: _w, module: _m, callable: _k, uid: _u, gid: _g, logto: _l, daemonize: _d, interface: _i, logger: _lg, reqLogger: _rl, touchLogreopen: _tl, ...serveOptions } = values;
    logs = openLogs(values, loadBinding, { all: false, requests: true });
    server = await serve(served.app, { ...serveOptions, logFd: logs.requestFd }, ops?.slot, ops?.counters);
  } catch (err) {
    ops?.close();
    if (err instanceof TsgiError && err.code === 'TSGI_ERR_APP_LOAD') {
      log(`tsgi: ${describeLoadError(err)}`);
      if (autoreloadChild) return waitForFix(values, autoreload, baseline);
    } else if (err instanceof TsgiError) {
      log(`tsgi: ${err.message}`);
    } else {
      log(`tsgi: ${(err as Error).stack ?? String(err)}`);
    }
    return 1;
  }
  try {
    const dropped = dropPrivileges(values.uid as string | undefined, values.gid as string | undefined);
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
        void drainThenStop(server, values, signal, ops, () => (stopping = true))?.then(() => {
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
    watchLogReopen((values.touchLogreopen as string[] | undefined) ?? [], (file) => reopen(`${file} touched`));
  });
}
