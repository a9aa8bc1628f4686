// nginx for bench/run.mjs's "nginx" scenario: finding it, a throw-away configuration in
// a temporary directory (everything nginx writes stays there), starting it pinned to a
// CPU, waiting until it accepts, and stopping it by pid (SIGQUIT, then SIGKILL).
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { childPids } from './cpu.mjs';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];

function executable(p) {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The nginx binary: BENCH_NGINX if set (empty: none), else PATH, else the usual places; undefined when none. */
export function findNginx() {
  const env = process.env.BENCH_NGINX;
  if (env !== undefined) return env !== '' && executable(env) ? env : undefined;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    if (executable(path.join(dir, 'nginx'))) return path.join(dir, 'nginx');
  }
  return CANDIDATES.find(executable);
}

/** "1.22.1", or undefined. */
export function nginxVersion(bin) {
  const r = spawnSync(bin, ['-v'], { encoding: 'latin1', timeout: 5000 });
  return /nginx\/([\d.]+)/.exec(`${r.stderr}${r.stdout}`)?.[1];
}

/** The uwsgi_params file nginx ships, or undefined (then the config holds the same lines). */
export function findUwsgiParams() {
  return ['/etc/nginx/uwsgi_params', '/usr/local/etc/nginx/uwsgi_params', '/usr/local/nginx/conf/uwsgi_params', '/opt/homebrew/etc/nginx/uwsgi_params'].find((p) => {
    try {
      accessSync(p, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// What nginx's uwsgi_params holds, for an nginx installed without it.
const UWSGI_PARAMS_INLINE = [
  'QUERY_STRING $query_string',
  'REQUEST_METHOD $request_method',
  'CONTENT_TYPE $content_type',
  'CONTENT_LENGTH $content_length',
  'REQUEST_URI $request_uri',
  'PATH_INFO $document_uri',
  'DOCUMENT_ROOT $document_root',
  'SERVER_PROTOCOL $server_protocol',
  'REQUEST_SCHEME $scheme',
  'HTTPS $https if_not_empty',
  'REMOTE_ADDR $remote_addr',
  'REMOTE_PORT $remote_port',
  'SERVER_PORT $server_port',
  'SERVER_NAME $server_name',
  'HTTP_HOST $host',
]
  .map((l) => `            uwsgi_param ${l};`)
  .join('\n');

/**
 * nginx.conf for one peer. upstream: { kind: 'uwsgi', socket } (uwsgi_pass to a unix
 * socket, a new upstream connection per request: nginx keeps none open for uwsgi) or
 * { kind: 'http', server } (proxy_pass to "unix:/path" or "127.0.0.1:PORT", with 64 idle
 * upstream connections kept open).
 */
export function nginxConfig({ dir, port, upstream, uwsgiParams = findUwsgiParams() }) {
  const location =
    upstream.kind === 'uwsgi'
      ? `        location / {
${uwsgiParams ? `            include ${uwsgiParams};` : UWSGI_PARAMS_INLINE}
            uwsgi_pass unix:${upstream.socket};
        }`
      : `        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }`;
  const upstreamBlock =
    upstream.kind === 'http'
      ? `    upstream app {
        server ${upstream.server};
        keepalive 64;
    }
`
      : '';
  return `# Written by bench/lib/nginx.mjs for npm run bench; everything nginx writes stays in ${dir}.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path ${dir}/client_body_temp;
    proxy_temp_path ${dir}/proxy_temp;
    fastcgi_temp_path ${dir}/fastcgi_temp;
    uwsgi_temp_path ${dir}/uwsgi_temp;
    scgi_temp_path ${dir}/scgi_temp;
    # The load generators keep their connections for the whole run; nginx's default
    # (1000 requests, then close) would make them reconnect every few milliseconds.
    keepalive_requests 1000000;

${upstreamBlock}    server {
        listen 127.0.0.1:${port};
${location}
    }
}
`;
}

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves true once something accepts on 127.0.0.1:port. */
function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = (v) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Writes dir/nginx.conf and starts nginx (pinned with taskset when cpu is a number),
 * its stdout and stderr going to dir/nginx.out. Resolves a handle once it accepts on
 * its port: { pid, port, workers, command, conf, exited, exitPromise }. Throws with the
 * error log's tail when nginx exits or does not accept within 10 s (a port taken
 * meanwhile is tried again with another one, up to 3 times).
 */
export async function startNginx({ bin, dir, upstream, cpu, version, onSpawn }) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = nginxConfig({ dir, port, upstream });
    writeFileSync(path.join(dir, 'nginx.conf'), conf);
    // -e (nginx >= 1.19.5): the error log from the very start, not the compiled-in path.
    const [maj, min, pat] = (version ?? '0.0.0').split('.').map(Number);
    const early = maj > 1 || (maj === 1 && (min > 19 || (min === 19 && pat >= 5))) ? ['-e', path.join(dir, 'error.log')] : [];
    const args = ['-p', `${dir}/`, '-c', path.join(dir, 'nginx.conf'), ...early];
    const [file, argv] = cpu === undefined ? [bin, args] : ['taskset', ['-c', String(cpu), bin, ...args]];
    const fd = openSync(path.join(dir, 'nginx.out'), 'w');
    const child = spawn(file, argv, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const handle = { pid: child.pid, port, workers: [], command: [file, ...argv].join(' '), conf, exited: undefined, dir };
    handle.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        handle.exited = { who: 'nginx', code, signal };
        resolve(handle.exited);
      });
      child.on('error', (err) => {
        handle.exited = { who: 'nginx', code: null, signal: null, error: String(err) };
        resolve(handle.exited);
      });
    });
    onSpawn?.(handle);
    const started = Date.now();
    let up = false;
    while (!handle.exited && Date.now() - started < 10000) {
      if (await accepts(port)) {
        up = true;
        break;
      }
      await sleep(50);
    }
    const log = () => `${readText(path.join(dir, 'nginx.out'))}${readText(path.join(dir, 'error.log'))}`.trim().split('\n').slice(-15).map((l) => `    | ${l}`).join('\n');
    if (!up) {
      const exited = handle.exited;
      if (!exited) await stopNginx(handle);
      if (exited && attempt < 3 && /Address already in use/.test(readText(path.join(dir, 'error.log')))) continue;
      throw new Error(`nginx ${exited ? `exited (code ${exited.code}, signal ${exited.signal})` : 'did not accept within 10 s'}:\n${log()}`);
    }
    // Its worker(s): children of the master, which counts their CPU time too.
    for (let i = 0; i < 40 && handle.workers.length === 0; i++) {
      handle.workers = childPids(handle.pid);
      if (handle.workers.length === 0) await sleep(25);
    }
    handle.startMillis = Date.now() - started;
    return handle;
  }
}

/** SIGQUIT (graceful) by pid, SIGKILL to master and workers after 5 s; waits for the master. */
export async function stopNginx(handle) {
  if (handle.exited) return { how: 'already exited', exit: handle.exited };
  const t0 = Date.now();
  const kill = (pid, sig) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  };
  kill(handle.pid, 'SIGQUIT');
  let how = 'SIGQUIT';
  if (!(await Promise.race([handle.exitPromise, sleep(5000).then(() => undefined)]))) {
    how = 'SIGKILL (SIGQUIT ignored for 5 s)';
    kill(handle.pid, 'SIGKILL');
    await Promise.race([handle.exitPromise, sleep(5000)]);
  }
  // A graceful master exits after its workers; a worker whose master was killed lives
  // on: kill those still there, by pid (if that pid is still an nginx).
  for (const w of handle.workers) {
    if (isNginx(w)) kill(w, 'SIGKILL');
  }
  return { how, exit: handle.exited, millis: Date.now() - t0 };
}

function isNginx(pid) {
  return readText(`/proc/${pid}/comm`).trim() === 'nginx';
}

/** Kills nginx and its workers at once (the bench is being interrupted). */
export function killNginx(handle) {
  for (const pid of [handle.pid, ...handle.workers]) {
    if (pid === handle.pid ? handle.exited : !isNginx(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** The error log's lines, counted by level, and the first few. */
export function errorLogSummary(dir) {
  const text = readText(path.join(dir, 'error.log'));
  const lines = text.split('\n').filter(Boolean);
  const byLevel = {};
  for (const l of lines) {
    const level = /\[(\w+)\]/.exec(l)?.[1] ?? 'other';
    byLevel[level] = (byLevel[level] ?? 0) + 1;
  }
  return { lines: lines.length, byLevel, first: lines.slice(0, 10), stdout: readText(path.join(dir, 'nginx.out')).trim() || undefined };
}
