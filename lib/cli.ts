// The tsgi command: uWSGI's options (from the command line, the environment and config
// files: lib/config/config.ts), checked, then handed to what runs them: one process
// serving (lib/single-process.ts), or a master and its workers (lib/process/master.ts).
import { ConfigError, renderShowConfig, resolveConfig, type Config } from './config/config.js';
import { USAGE, helpText } from './config/options.js';
import { chooseBackend, loadBinding, type BackendName } from './addon/binding.js';
import { VERSION } from './base/package.js';
import { parseStaticMaps } from './contract/static-map.js';
import { compileLogFormat, logMessage as log, setMessageEncoder } from './logging/log-format.js';
import { openLogs } from './logging/log-files.js';
import { superviseAutoreload } from './process/autoreload-supervisor.js';
import { daemonize, signalPidfile } from './process/control.js';
import { runMaster } from './process/run-master.js';
import { runSingleProcess } from './single-process.js';

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
  return masterMode ? runMaster(values, autoreload) : runSingleProcess(values, autoreloadChild, autoreload);
}
