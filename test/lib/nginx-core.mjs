// The nginx that the tests (test/lib/nginx.mjs) and the bench (bench/lib/nginx.mjs) both
// run: finding it and its uwsgi_params, the frame of a throw-away nginx.conf with
// everything nginx writes in one directory, starting it on a free 127.0.0.1 port (another
// port when that one was taken meanwhile) and waiting until it accepts, and stopping it
// by pid: SIGQUIT, then SIGKILL to the master and to its workers.
// Only node: modules, so that the bench can use it without the tests' helpers (which
// load dist/) and their exit handlers. What each caller adds (the tests' options and
// cleanup, the bench's CPU pinning and keepalive settings) stays in its own module.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { accepts, freePort } from './ports.mjs';
import { processTable, sigkill } from './proc.mjs';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];
const UWSGI_PARAMS = ['/etc/nginx/uwsgi_params', '/usr/local/etc/nginx/uwsgi_params', '/usr/local/nginx/conf/uwsgi_params', '/opt/homebrew/etc/nginx/uwsgi_params'];

function accessible(p, mode) {
  try {
    accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}
const executable = (p) => accessible(p, constants.X_OK);

/**
 * The nginx binary: process.env[envVar] when that is set (undefined when it is not an
 * executable, e.g. empty), else the first nginx on PATH, else the usual places; undefined
 * when there is none.
 */
export function findNginx(envVar) {
  const env = process.env[envVar];
  if (env !== undefined) return executable(env) ? env : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (executable(path.join(dir, 'nginx'))) return path.join(dir, 'nginx');
  }
  return CANDIDATES.find(executable);
}

const versions = new Map();
/** "1.22.1" (from nginx -v, asked once per binary), or undefined. */
export function nginxVersion(bin) {
  if (!versions.has(bin)) {
    const r = spawnSync(bin, ['-v'], { encoding: 'latin1', timeout: 5000 });
    versions.set(bin, /nginx\/([\d.]+)/.exec(`${r.stderr}${r.stdout}`)?.[1]);
  }
  return versions.get(bin);
}

/** The uwsgi_params file nginx ships (Debian: /etc/nginx/uwsgi_params), or undefined. */
export function findUwsgiParams() {
  return UWSGI_PARAMS.find((p) => accessible(p, constants.R_OK));
}

/**
 * An nginx.conf that keeps everything nginx writes in dir (pid, error log, temp paths):
 * one master, one worker, no access log; writer names who wrote it (its first line),
 * http is the rest of the http block (upstreams, the server), after the temp paths.
 */
export function nginxConf({ writer, dir, errorLogLevel, workerConnections, http }) {
  return `# Written by ${writer}; everything nginx writes stays in ${dir}.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${errorLogLevel};

events {
    worker_connections ${workerConnections};
}

http {
    access_log off;
    client_body_temp_path ${dir}/client_body_temp;
    proxy_temp_path ${dir}/proxy_temp;
    fastcgi_temp_path ${dir}/fastcgi_temp;
    uwsgi_temp_path ${dir}/uwsgi_temp;
    scgi_temp_path ${dir}/scgi_temp;
${http}}
`;
}

function readText(file, encoding = 'latin1') {
  try {
    return readFileSync(file, encoding);
  } catch {
    return '';
  }
}

/** The pids of the processes whose parent is pid (Linux /proc): an nginx master's workers. */
export function workerPids(pid) {
  return [...processTable()].filter(([, p]) => p.ppid === pid).map(([child]) => child);
}

/**
 * SIGKILL to an nginx master and to its workers, each by pid. The workers must be
 * named: a worker whose master was SIGKILLed does not exit (it goes on serving the
 * port, and holds the pipes it inherited).
 */
export function killNginx(nginx) {
  sigkill([nginx.pid, ...workerPids(nginx.pid)]);
}

/** Resolves true when promise settles within ms, false after ms (the timer cleared either way). */
async function within(promise, ms) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts nginx (-p dir/ -c dir/nginx.conf, and -e dir/error.log from nginx 1.19.5 on:
 * the errors before the config is read go to that log too), after launcher when there
 * is one (['taskset', '-c', '1']). Its stdout and stderr go to dir/outFile, or without
 * outFile to pipes collected in output(). Returns { child, pid, dir, command, output(),
 * errorLog(), exited (undefined while it runs, then { who, code, signal } or
 * { who, code, signal, error }), exitPromise }.
 */
export function spawnNginx({ bin, dir, launcher = [], outFile }) {
  const [maj, min, pat] = (nginxVersion(bin) ?? '0.0.0').split('.').map(Number);
  const early = maj > 1 || (maj === 1 && (min > 19 || (min === 19 && pat >= 5))) ? ['-e', path.join(dir, 'error.log')] : [];
  const args = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), ...early];
  const [file, argv] = launcher.length === 0 ? [bin, args] : [launcher[0], [...launcher.slice(1), bin, ...args]];
  const fd = outFile === undefined ? undefined : openSync(path.join(dir, outFile), 'w');
  const child = spawn(file, argv, { stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd] });
  if (fd !== undefined) closeSync(fd);
  let output = '';
  child.stdout?.setEncoding('latin1').on('data', (s) => (output += s));
  child.stderr?.setEncoding('latin1').on('data', (s) => (output += s));
  const nginx = {
    child,
    pid: child.pid,
    dir,
    command: [file, ...argv].join(' '),
    exited: undefined,
    output: () => (fd === undefined ? output : readText(path.join(dir, outFile))),
    errorLog: () => readText(path.join(dir, 'error.log')),
  };
  nginx.exitPromise = new Promise((resolve) => {
    // 'exit', not 'close': a stray worker may hold the stdio pipes open.
    child.on('exit', (code, signal) => resolve((nginx.exited = { who: 'nginx', code, signal })));
    child.on('error', (err) => resolve((nginx.exited = { who: 'nginx', code: null, signal: null, error: String(err) })));
  });
  return nginx;
}

/**
 * Stops nginx: SIGQUIT (graceful) to its master by pid; after graceMs, SIGKILL to the
 * master and its workers; waits up to graceMs more for the master. Resolves 'SIGQUIT' or
 * 'SIGKILL' (what stopped it), or undefined when it had exited already.
 */
export async function quitNginx(nginx, graceMs) {
  let how;
  if (nginx.exited === undefined) {
    try {
      process.kill(nginx.pid, 'SIGQUIT');
    } catch {
      // already gone
    }
    how = 'SIGQUIT';
    if (!(await within(nginx.exitPromise, graceMs))) {
      how = 'SIGKILL';
      killNginx(nginx);
      await within(nginx.exitPromise, graceMs);
    }
  }
  nginx.child.stdout?.destroy();
  nginx.child.stderr?.destroy();
  return how;
}

/**
 * Starts nginx on a free 127.0.0.1 port and resolves { nginx, port } once it accepts
 * there. Each try: dir = directory() (the same one each time, or a fresh one), config
 * (dir, port) written to dir/nginx.conf, spawnNginx({ bin, dir, launcher, outFile }),
 * onSpawn(nginx, port) at once. When nginx exits, or does not accept within timeoutMs,
 * it is stopped (quitNginx, graceMs) and failed(nginx) awaited; when its error log says
 * its port was taken meanwhile it is tried again with another one (3 tries in all), else
 * this rejects with the tail of its output and error log.
 */
export async function startNginx({ bin, directory, config, launcher, outFile, timeoutMs = 10000, graceMs, onSpawn, failed }) {
  for (let attempt = 1; ; attempt++) {
    const dir = directory();
    const port = await freePort();
    writeFileSync(path.join(dir, 'nginx.conf'), config(dir, port));
    const nginx = spawnNginx({ bin, dir, launcher, outFile });
    onSpawn?.(nginx, port);
    const end = Date.now() + timeoutMs;
    while (nginx.exited === undefined && Date.now() < end) {
      if (await accepts(port)) return { nginx, port };
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const { exited } = nginx;
    const log = `${nginx.output()}${nginx.errorLog()}`;
    await quitNginx(nginx, graceMs);
    await failed?.(nginx);
    if (attempt < 3 && /Address already in use/.test(log)) continue;
    const tail = log.trim().split('\n').slice(-15).map((l) => `    | ${l}`).join('\n');
    throw new Error(`nginx ${exited ? `exited (code ${exited.code}, signal ${exited.signal})` : `did not accept within ${timeoutMs / 1000} s`}:\n${tail}`);
  }
}
