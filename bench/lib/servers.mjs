// The servers the bench loads: starting one (tsgi, node:http, a peer, uWSGI or the uwsgi
// floor; behind nginx in the nginx scenario) on 127.0.0.1:0 with its output in a file,
// stopping it by pid, and checking its answer byte for byte.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { current, describeExit, dirs, pinned, tail } from './children.mjs';
import { rawRequest } from './http-check.mjs';
import { errorLogSummary, startNginx, stopNginx } from './nginx.mjs';
import { bunBin, uwsNode } from './peers-install.mjs';
import { BENCH_DIR, HOST, ROOT, nginxBin, settings, which } from './settings.mjs';

export const KIND_LABEL = { tsgi: 'tsgi', peer: 'node-http', hono: '@hono/node-server', 'node-framework': 'frameworks-node', floor: 'uwsgi-floor', uwsgi: 'uWSGI', uws: 'uWebSockets.js', bun: 'Bun' };

/** uWSGI's binary, or undefined. */
export function uwsgiBin() {
  return which('uwsgi') ?? which('uwsgi-core');
}

/** Compiles bench/peers/uwsgi-floor.c into dir (once); returns the binary's path. */
function uwsgiFloor(dir) {
  const bin = path.join(dir, 'uwsgi-floor');
  if (existsSync(bin)) return bin;
  const cc = which('cc') ?? which('gcc');
  if (!cc) throw new Error('no C compiler (cc) to build bench/peers/uwsgi-floor.c');
  const r = spawnSync(cc, ['-std=c11', '-O2', '-Wall', '-o', bin, path.join(BENCH_DIR, 'peers', 'uwsgi-floor.c')], { encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`cc failed building bench/peers/uwsgi-floor.c:\n${r.stderr}`);
  return bin;
}

/**
 * Starts one server on 127.0.0.1:0; resolves its handle once it printed its port. In the
 * nginx scenario the server listens on a unix socket (or a TCP port) in a directory of
 * its own, and nginx is started in front of it: the handle's port is then nginx's.
 */
export async function startServer(server, scenarioName, scenario, cpu, tmp) {
  const logPath = path.join(tmp, `${scenarioName}-${server.name}.stderr.log`);
  let nginxDir;
  let sock;
  if (scenario.viaNginx) {
    nginxDir = mkdtempSync(path.join(os.tmpdir(), 'tsgi-bench-nginx-'));
    dirs.nginx.add(nginxDir);
    // nginx's worker runs as nobody when nginx starts as root: it must be able to reach
    // the socket, and a 0700 directory would stop it whatever the socket's mode.
    chmodSync(nginxDir, 0o755);
    sock = path.join(nginxDir, 'app.sock');
  }
  const appScenario = scenario.peerScenario ?? scenarioName;
  let args;
  let file = process.execPath;
  if (server.kind === 'floor') {
    file = uwsgiFloor(tmp);
    args = [sock];
  } else if (server.kind === 'uwsgi') {
    file = uwsgiBin();
    if (!file) throw new Error('uWSGI is not installed (apt-get install uwsgi-core uwsgi-plugin-python3)');
    args = ['--plugin', 'python3', '--socket', sock, '--chmod-socket=666', '--wsgi-file', 'bench/peers/hello.py', '--disable-logging', '--die-on-term'];
  } else if (server.kind === 'uws') {
    file = uwsNode().node; // a Node that has uWebSockets.js's binary (bench/lib/peers-install.mjs)
    args = ['bench/peers/uws.mjs', '--http', `${HOST}:0`];
  } else if (server.kind === 'bun') {
    file = bunBin();
    args = ['bench/peers/bun.mjs', '--http', `${HOST}:0`];
  } else if (server.kind === 'hono') {
    args = ['bench/peers/hono-node-server.mjs', '--http', `${HOST}:0`, scenario.app];
  } else if (server.kind === 'node-framework') {
    args = ['bench/peers/frameworks-node.mjs', '--http', `${HOST}:0`, scenario.app];
  } else if (!scenario.viaNginx) {
    args =
      server.kind === 'tsgi'
        ? ['bin/tsgi.js', '--http', `${HOST}:0`, '--wsgi-file', scenario.app, ...server.args]
        : ['bench/peers/node-http.mjs', '--http', `${HOST}:0`, '--scenario', appScenario];
  } else if (server.kind === 'tsgi') {
    const listen = server.nginx === 'uwsgi' ? ['--socket', sock] : settings.nginxUpstream === 'unix' ? ['--http', sock] : ['--http', `${HOST}:0`];
    args = ['bin/tsgi.js', ...listen, '--chmod-socket', '--disable-logging', '--wsgi-file', scenario.app];
  } else {
    args = ['bench/peers/node-http.mjs', '--http', settings.nginxUpstream === 'unix' ? sock : `${HOST}:0`, '--scenario', appScenario];
  }
  const fd = openSync(logPath, 'w');
  // nodeArgs: node's own options before the script (the frameworks profile's --cpu-prof).
  if (file === process.execPath && server.nodeArgs) args = [...server.nodeArgs, ...args];
  const [exe, argv] = pinned(cpu, file, args);
  const command = [exe, ...argv].join(' ');
  // stdout and stderr both go to the file: no pipe for the bench to drain while loading.
  const child = spawn(exe, argv, { cwd: ROOT, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_ENV: 'production' } });
  closeSync(fd);
  const handle = { name: server.name, pid: child.pid, child, logPath, command, appExited: undefined, port: undefined, nginx: undefined, nginxDir };
  // Exited: the application server, or nginx in front of it.
  Object.defineProperty(handle, 'exited', { get: () => handle.appExited ?? handle.nginx?.exited });
  handle.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      handle.appExited = { code, signal };
      resolve(handle.appExited);
    });
    child.on('error', (err) => {
      handle.appExited = { code: null, signal: null, error: String(err) };
      resolve(handle.appExited);
    });
  });
  current.servers.add(handle);
  const started = Date.now();
  // tsgi's line (and the floor's): "socket 0 bound to UNIX address PATH (uwsgi ..."; uWSGI's:
  // "uwsgi socket 0 bound to UNIX address PATH fd 3", ready once it spawned its worker.
  const ready = /socket 0 bound to (?:TCP address (?:\[[^\]]+\]|[^\s:]+):(\d+)|UNIX address (\S+))(?: \((?:http|uwsgi)| fd \d)/;
  for (;;) {
    const text = readFileSync(logPath, 'utf8');
    const m = ready.exec(text);
    if (m && (server.kind !== 'uwsgi' || /spawned uWSGI worker/.test(text))) {
      handle.port = m[1] !== undefined ? Number(m[1]) : undefined;
      handle.appAddress = m[2] ?? `${HOST}:${m[1]}`;
      handle.startMillis = Date.now() - started;
      break;
    }
    if (handle.appExited) {
      throw new Error(`exited (${describeExit(handle.appExited)}) before it was ready:\n${tail(logPath)}`);
    }
    if (Date.now() - started > 30000) {
      await stopServer(handle);
      throw new Error(`not ready after 30 s:\n${tail(logPath)}`);
    }
    await sleep(50);
  }
  handle.cpuPids = [handle.pid];
  if (!scenario.viaNginx) return handle;

  if (isSocketPath(handle.appAddress)) {
    try {
      handle.socketMode = (statSync(handle.appAddress).mode & 0o777).toString(8).padStart(4, '0');
    } catch {
      // not a file (abstract socket)
    }
  }
  const upstream =
    server.nginx === 'uwsgi'
      ? { kind: 'uwsgi', socket: sock }
      : { kind: 'http', server: handle.port === undefined ? `unix:${handle.appAddress}` : `${HOST}:${handle.port}` };
  try {
    await startNginx({ bin: nginxBin, dir: nginxDir, upstream, cpu, onSpawn: (n) => (handle.nginx = n) });
  } catch (err) {
    await stopServer(handle);
    throw new Error(err.message);
  }
  handle.appPort = handle.port;
  handle.port = handle.nginx.port;
  handle.command = `${handle.nginx.command}  in front of  ${command}`;
  handle.cpuPids = [handle.pid, handle.nginx.pid, ...handle.nginx.workers];
  handle.startMillis = Date.now() - started;
  return handle;
}

/** A unix socket path (not host:port)? */
export function isSocketPath(address) {
  return typeof address === 'string' && address.startsWith('/');
}

/**
 * SIGTERM by pid, SIGKILL after 5 s; waits until the child is reaped. In front of it,
 * nginx is stopped first (SIGQUIT, SIGKILL after 5 s), its error log read and its
 * directory removed.
 */
export async function stopServer(handle) {
  let front;
  if (handle.nginx) front = await stopNginx(handle.nginx);
  const app = await stopApp(handle);
  if (handle.nginxDir) {
    handle.nginxLog = errorLogSummary(handle.nginxDir);
    if (settings.keepLogs && dirs.tmp) {
      for (const f of ['error.log', 'nginx.conf']) {
        try {
          copyFileSync(path.join(handle.nginxDir, f), path.join(dirs.tmp, `nginx-${handle.name}.${f}`));
        } catch {
          // not written
        }
      }
    }
    rmSync(handle.nginxDir, { recursive: true, force: true });
    dirs.nginx.delete(handle.nginxDir);
  }
  current.servers.delete(handle);
  if (!front) return app;
  return {
    how: `nginx ${front.how}${front.exit ? ` -> ${describeExit(front.exit)}` : ''}${front.millis !== undefined ? ` in ${front.millis} ms` : ''}; app ${app.how}`,
    exit: app.exit,
    millis: app.millis,
    nginx: front,
  };
}

async function stopApp(handle) {
  if (handle.appExited) return { how: 'already exited', exit: handle.appExited };
  const t0 = Date.now();
  try {
    process.kill(handle.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  let how = 'SIGTERM';
  const graceful = await Promise.race([handle.exitPromise, sleep(5000).then(() => undefined)]);
  if (!graceful) {
    how = 'SIGKILL (SIGTERM ignored for 5 s)';
    try {
      process.kill(handle.pid, 'SIGKILL');
    } catch {
      // gone
    }
    await Promise.race([handle.exitPromise, sleep(5000)]);
  }
  return { how, exit: handle.appExited, millis: Date.now() - t0 };
}

/** The raw request a scenario makes. */
function requestFor(scenario, port) {
  return {
    host: HOST,
    port,
    method: scenario.method,
    path: '/',
    headers: scenario.bodyBytes ? { 'Content-Type': 'application/octet-stream' } : {},
    body: scenario.bodyBytes ? 'x'.repeat(scenario.bodyBytes) : undefined,
  };
}

/** Checks one answer; returns a list of problems (empty when it is right). */
export function checkResponse(scenario, res) {
  const problems = [];
  const get = (n) => res.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  if (res.status !== 200) problems.push(`status ${res.status} ${res.reason} (expected 200)`);
  if (!res.body.equals(scenario.expect.body)) {
    const shown = res.body.length > 80 ? `${res.body.length} bytes starting ${JSON.stringify(res.body.subarray(0, 40).toString('latin1'))}` : JSON.stringify(res.body.toString('latin1'));
    problems.push(`body ${shown} (expected ${scenario.expect.body.length} bytes${scenario.expect.body.length <= 80 ? ` ${JSON.stringify(scenario.expect.body.toString())}` : ''})`);
  }
  const ct = get('content-type') ?? '';
  if (ct.split(';')[0].trim().toLowerCase() !== scenario.expect.contentType) problems.push(`Content-Type ${JSON.stringify(ct)} (expected ${scenario.expect.contentType})`);
  if (scenario.expect.contentLength !== undefined && get('content-length') !== scenario.expect.contentLength) {
    problems.push(`Content-Length ${JSON.stringify(get('content-length'))} (expected ${scenario.expect.contentLength})`);
  }
  return problems;
}

/** Waits until the server answers, then checks the answer. */
export async function verify(handle, scenario, { retryMs }) {
  const deadline = Date.now() + retryMs;
  let lastErr;
  for (;;) {
    try {
      const res = await rawRequest({ ...requestFor(scenario, handle.port), timeoutMs: 10000 });
      const problems = checkResponse(scenario, res);
      return {
        ok: problems.length === 0,
        problems,
        statusLine: res.statusLine,
        headers: res.headers,
        headBytes: res.headBytes,
        bodyBytes: res.body.length,
        chunked: res.chunked,
        chunks: res.chunks,
      };
    } catch (err) {
      lastErr = err;
      if (handle.exited || Date.now() > deadline) {
        return { ok: false, problems: [`no answer: ${err.message}${handle.exited ? ` (server ${describeExit(handle.exited)})` : ''}`] };
      }
      await sleep(100);
    }
  }
}
