// One process serving (no --master): it loads the application, serves it through
// serveConfig() on either backend, answers the signals as uWSGI's single process does (SIGINT
// and SIGTERM drain, SIGQUIT stops now, SIGUSR2 reopens the logs) and, as the child of
// --py-autoreload's supervisor (lib/process/autoreload-supervisor.ts), exits to be
// started again when the application's files change. After its stop the process ends
// (lib/process/end-process.ts), within EXIT_LINGER_MS whatever the application still
// holds open.
import { loadBinding, type BackendName } from './addon/binding.js';
import type { Server } from './backend/backend.js';
import { TsgiError } from './base/errors.js';
import { dropPrivileges } from './base/privileges.js';
import type { Config } from './config/typed.js';
import { resolveInterface } from './interfaces/index.js';
import { describeLoadError, loadApplication } from './load/loader.js';
import { openLogs, type LogFiles } from './logging/log-files.js';
import { watchTouch } from './base/touch.js';
import { logMessage as log } from './logging/log-format.js';
import { RESTART_CODE, applicationFile, snapshot, watchApplication, type Stamp } from './process/autoreload.js';
import { waitForFix } from './process/autoreload-supervisor.js';
import { drainThenStop, ProcessOps } from './process/process-ops.js';
import { EXIT_LINGER_MS, endProcess } from './process/end-process.js';
import { SignalQueue } from './process/signals.js';
import { serveConfig } from './serve.js';

/**
 * Serves until a signal stops it, then ends the process (endProcess); resolves with the
 * exit code only when it cannot serve. backend: the one the CLI
 * chose (and said); autoreload: --py-autoreload's seconds, when this process is its
 * supervisor's child (0 otherwise).
 */
export async function runSingleProcess(config: Config, backend: BackendName, autoreloadChild: boolean, autoreload: number): Promise<number> {
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
  // The code to exit with, and how long the application may keep the process after the
  // stop (lib/process/end-process.ts). A signal after the goodbye ends that wait.
  let ended = false;
  const { code, lingerMs } = await new Promise<{ code: number; lingerMs: number }>((resolve) => {
    const resolveExit = (code: number, lingerMs: number) => {
      ended = true;
      resolve({ code, lingerMs });
    };
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
          const done = () => resolveExit(RESTART_CODE, 0);
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
    const queue = new SignalQueue((signal) => {
      if (signal === 'SIGUSR2') {
        logs.reopen('SIGUSR2', log);
        return;
      }
      if (ended) {
        if (signal !== 'SIGHUP') {
          log(`tsgi: ${signal}: exiting now`);
          void endProcess(code, 0);
        }
        return;
      }
      if (signal === 'SIGQUIT' || (stopping && signal !== 'SIGHUP')) {
        log(`tsgi: ${signal}: stopping now`);
        ops?.close();
        server.destroy();
        resolveExit(0, 0);
        return;
      }
      if (signal === 'SIGINT' || signal === 'SIGTERM') {
        void drainThenStop(server, config, signal, ops, () => (stopping = true))?.then(() => {
          ops?.close();
          log('tsgi: goodbye');
          resolveExit(0, EXIT_LINGER_MS);
        });
      }
    });
    queue.listen(['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2']);
    watchTouch(config.touchLogreopen, (file) => logs.reopen(`${file} touched`, log));
    // Ready only once the signals are ours: a SIGTERM sent as soon as this line is read
    // was the default one (the process killed) while the line came before them.
    log(`*** tsgi is ready in single-process mode (pid: ${process.pid}) ***`);
    ops?.ready();
  });
  return endProcess(code, lingerMs);
}
