// The tsgi command: uWSGI's options (from the command line, the environment and config
// files: lib/config/config.ts), checked, then handed to what runs them: one process
// serving (lib/single-process.ts), or a master and its workers (lib/process/master.ts).
import { ConfigError, renderShowConfig, resolveConfig, type ResolvedConfig } from './config/config.js';
import { hasSockets, masterMode as isMasterMode } from './config/derived.js';
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
    // Exit with the parent, even when it was SIGKILLed, and before this line too.
    process.on('disconnect', () => process.exit(1));
    if (!process.connected) process.exit(1);
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
  return masterMode ? runMaster(config, autoreload) : runSingleProcess(config, backend, autoreloadChild, autoreload);
}
