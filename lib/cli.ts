// The tsgi command: uWSGI's options, one process serving HTTP.
import { loadApplication } from './loader.js';
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

export async function main(argv: readonly string[]): Promise<number> {
  let values: OptionValues;
  try {
    values = normalize(parseArgv(argv));
  } catch (err) {
    log(`tsgi: ${(err as Error).message}`);
    log('tsgi: see tsgi --help');
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
  const sockets = [...((values.http as string[]) ?? []), ...((values.httpSocket as string[]) ?? [])];
  if (sockets.length === 0) {
    log('tsgi: no socket given: use --http :9090 (or --http-socket)');
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
  let server: Server;
  try {
    const loaded = await loadApplication({
      wsgiFile: values.wsgiFile as string | undefined,
      module: values.module as string | undefined,
      callable: values.callable as string | undefined,
    });
    log(`tsgi: application ${loaded.file} callable '${loaded.callable}' loaded in ${loaded.millis} msecs`);
    const { help: _h, version: _v, chdir: _c, env: _e, wsgiFile: _w, module: _m, callable: _k, ...serveOptions } = values;
    server = await serve(loaded.app, serveOptions);
  } catch (err) {
    if (err instanceof TsgiError) {
      log(`tsgi: ${err.message}`);
    } else {
      log(`tsgi: ${(err as Error).stack ?? String(err)}`);
    }
    return 1;
  }
  for (const [i, a] of server.addresses.entries()) {
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
