// The tsgi command: uWSGI's options, one process serving HTTP.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { loadBinding } from './native-binding.js';
import { dropPrivileges } from './privileges.js';
import { describeLoadError, loadApplication } from './loader.js';
import { runMaster } from './master.js';
import { TsgiError } from './errors.js';
import { helpText, normalize, parseArgv, type OptionValues } from './options.js';
import { serve, type Server } from './serve.js';
import { VERSION } from './version.js';

function log(line: string): void {
  process.stderr.write(line + '\n');
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

export async function main(argv: readonly string[]): Promise<number> {
  let values: OptionValues;
  try {
    values = normalize(parseArgv(argv));
  } catch (err) {
    log(`tsgi: ${(err as Error).message} (see tsgi --help)`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.daemonize !== undefined && process.env.TSGI_DAEMONIZED !== '1') return daemonize(values.daemonize as string);
  const logto = (values.logto ?? values.daemonize) as string | undefined;
  if (logto !== undefined) {
    try {
      loadBinding().logTo(logto);
    } catch (err) {
      log(`tsgi: ${(err as Error).message}`);
      return 1;
    }
  }
  if (values.touchReload !== undefined && !(values.master || (values.processes as number) > 1)) {
    log('tsgi: --touch-reload reloads the workers of a master: add --master');
    return 1;
  }
  if (values.stop !== undefined || values.reload !== undefined) {
    return signalPidfile((values.stop ?? values.reload) as string, values.stop !== undefined ? 'SIGINT' : 'SIGHUP');
  }
  const sockets = ['http', 'httpSocket', 'socket', 'uwsgiSocket'].flatMap((k) => (values[k] as string[] | undefined) ?? []);
  if (sockets.length === 0) {
    log('tsgi: no socket given: use --http :9090, --http-socket, --socket or --uwsgi-socket');
    return 1;
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
  log(`*** Starting tsgi ${VERSION} (${values.backend as string} backend, node ${process.version}) ***`);
  if (values.master || (values.processes as number) > 1) {
    if (values.backend !== 'native') {
      log('tsgi: --master and --processes run the native backend: drop --backend js');
      return 1;
    }
    try {
      return await runMaster(values);
    } catch (err) {
      log(`tsgi: ${(err as Error).message}`);
      return 1;
    }
  }
  let server: Server;
  try {
    const limitAs = (values.limitAs as number | undefined) ?? 0;
    if (limitAs > 0) loadBinding().setLimitAs(limitAs * 1024 * 1024);
    const loaded = await loadApplication({
      wsgiFile: values.wsgiFile as string | undefined,
      module: values.module as string | undefined,
      callable: values.callable as string | undefined,
    });
    log(`tsgi: application ${loaded.file} callable '${loaded.callable}' loaded in ${loaded.millis} msecs`);
    const { help: _h, version: _v, chdir: _c, env: _e, wsgiFile: _w, module: _m, callable: _k, uid: _u, gid: _g, logto: _l, daemonize: _d, ...serveOptions } = values;
    server = await serve(loaded.app, serveOptions);
  } catch (err) {
    if (err instanceof TsgiError && err.code === 'TSGI_ERR_APP_LOAD') {
      log(`tsgi: ${describeLoadError(err)}`);
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

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const queue = new SignalQueue((signal) => {
      if (signal === 'SIGQUIT' || (stopping && signal !== 'SIGHUP')) {
        log(`tsgi: ${signal}: stopping now`);
        server.destroy();
        resolveExit(0);
        return;
      }
      if (signal === 'SIGINT' || signal === 'SIGTERM') {
        stopping = true;
        log(`tsgi: ${signal}: stopping gracefully (requests in progress finish)`);
        void server.close().then(() => {
          log('tsgi: goodbye');
          resolveExit(0);
        });
      }
    });
    queue.listen(['SIGINT', 'SIGTERM', 'SIGQUIT']);
  });
}
