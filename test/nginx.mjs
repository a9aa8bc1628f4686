// Helpers for the tests that put a real nginx in front of tsgi (uwsgi_pass):
// finding nginx, a throw-away nginx on a free loopback port with its whole state in a
// temporary directory, tsgi's CLI with its bound sockets parsed from stderr, and a raw
// uwsgi client for talking to a uwsgi socket without nginx.
// Everything is bounded in time and cleans up after itself (processes by pid only).
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, ROOT, waitUntil, withTimeout, delay } from './helpers.mjs';

// ---------------------------------------------------------------------------------
// Finding nginx

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx', '/usr/bin/nginx', '/opt/homebrew/bin/nginx'];

/** The nginx binary's path, or undefined when there is none (PATH, then the usual places). */
export function findNginx() {
  if (process.env.NGINX !== undefined) {
    try {
      accessSync(process.env.NGINX, constants.X_OK);
      return process.env.NGINX;
    } catch {
      return undefined;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const p = join(dir, 'nginx');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  for (const p of CANDIDATES) {
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** "nginx/1.22.1", or undefined. */
export function nginxVersion(bin = findNginx()) {
  if (!bin) return undefined;
  const r = spawnSync(bin, ['-v'], { encoding: 'latin1', timeout: 5000 });
  return /nginx\/[\d.]+/.exec(`${r.stderr}${r.stdout}`)?.[0];
}

const dashE = new Map();
function supportsDashE(bin) {
  if (!dashE.has(bin)) {
    const v = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(nginxVersion(bin) ?? '');
    dashE.set(bin, v !== null && Number(v[1]) * 1e6 + Number(v[2]) * 1e3 + Number(v[3]) >= 1019005);
  }
  return dashE.get(bin);
}

/** The uwsgi_params file nginx ships (Debian: /etc/nginx/uwsgi_params). */
export function findUwsgiParams() {
  for (const p of ['/etc/nginx/uwsgi_params', '/usr/local/etc/nginx/uwsgi_params', '/usr/local/nginx/conf/uwsgi_params', '/opt/homebrew/etc/nginx/uwsgi_params']) {
    try {
      accessSync(p, constants.R_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------
// Temporary directories and ports

/**
 * A fresh directory under the system temp dir, mode 0755 so that nginx's workers
 * (user nobody when nginx starts as root) can reach what is inside it: a 0700
 * directory would make every socket in it unreachable, whatever the socket's mode.
 */
export function makeTempDir(prefix = 'tsgi-nginx-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
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

/** Resolves true once something accepts on 127.0.0.1:port (false on refusal). */
function accepts(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    const done = (v) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(500, () => done(false));
  });
}

// ---------------------------------------------------------------------------------
// nginx

/**
 * SIGKILL to an nginx master and to its workers, each by pid. The workers must be
 * named: a worker whose master was SIGKILLed does not exit (it goes on serving the
 * port, and holds the pipes it inherited).
 */
function killNginx(pid) {
  const workers = nginxWorkers(pid);
  for (const p of [pid, ...workers.map((w) => w.pid)]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const nginxChildren = new Set();
process.on('exit', () => {
  for (const child of nginxChildren) killNginx(child.pid);
});

/** uwsgi_pass's target: "unix:/path", "unix:@name", "127.0.0.1:PORT". */
export function upstreamOf(upstream) {
  if (typeof upstream === 'number') return `127.0.0.1:${upstream}`;
  if (upstream.startsWith('unix:')) return upstream;
  if (upstream.startsWith('/') || upstream.startsWith('@')) return `unix:${upstream}`;
  return upstream;
}

/** The nginx.conf the tests use (and docs/deploy-nginx.md explains). */
export function nginxConfig({ dir, port, upstream, uwsgiParams = findUwsgiParams(), clientMaxBodySize = '100m', extraLocation = '', extraServer = '', extraHttp = '', extraUpstream = '', errorLogLevel = 'info', pass = 'uwsgi' }) {
  // pass: 'uwsgi' (include uwsgi_params; uwsgi_pass), or 'http' (proxy_pass: the
  // mistake of speaking HTTP to a uwsgi socket).
  const passLines = pass === 'http' ? '            proxy_pass http://tsgi;' : `            include ${uwsgiParams};\n            uwsgi_pass tsgi;`;
  return `# Written by test/nginx.mjs; everything nginx writes stays in ${dir}.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log ${errorLogLevel};

events {
    worker_connections 256;
}

http {
    access_log off;
    client_body_temp_path ${dir}/client_body_temp;
    proxy_temp_path ${dir}/proxy_temp;
    fastcgi_temp_path ${dir}/fastcgi_temp;
    uwsgi_temp_path ${dir}/uwsgi_temp;
    scgi_temp_path ${dir}/scgi_temp;
${extraHttp}
    upstream tsgi {
        server ${upstreamOf(upstream)};
${extraUpstream}
    }

    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        client_max_body_size ${clientMaxBodySize};
${extraServer}
        location / {
${passLines}
${extraLocation}
        }
    }
}
`;
}

/**
 * Starts nginx in front of upstream (a unix socket path, "unix:...", "@name",
 * "host:port" or a port number) on a free 127.0.0.1 port, with its config, pid, logs
 * and temp paths in a fresh temp dir; the other options are nginxConfig()'s
 * (clientMaxBodySize, extraLocation, extraServer, extraHttp, extraUpstream, errorLogLevel,
 * pass, uwsgiParams). Resolves with { port, dir, pid, conf, errorLog(), stop() } once the
 * port accepts. stop() sends SIGQUIT (graceful) to this nginx's master, then after 3 s
 * SIGKILL to it and to its workers (by pid), waits for the master to exit and removes
 * the dir; it is safe to call twice.
 */
export async function startNginx({ upstream, timeoutMs = 10000, ...rest }) {
  const bin = findNginx();
  if (!bin) throw new Error('nginx not found (install nginx-light, or set NGINX=/path/to/nginx)');
  let lastError;
  // The free port may be taken between freePort() and nginx's bind: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = makeTempDir();
    const port = await freePort();
    const conf = join(dir, 'nginx.conf');
    mkdirSync(join(dir, 'html'));
    writeFileSync(conf, nginxConfig({ dir, port, upstream, ...rest }));
    // -e (nginx 1.19.5+): even the errors before the config is read go to our log.
    const args = ['-c', conf, '-p', dir, ...(supportsDashE(bin) ? ['-e', join(dir, 'error.log')] : [])];
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    nginxChildren.add(child);
    let output = '';
    child.stdout.setEncoding('latin1').on('data', (s) => (output += s));
    child.stderr.setEncoding('latin1').on('data', (s) => (output += s));
    let exitInfo;
    const exited = new Promise((resolve) => {
      // 'exit', not 'close': a stray worker may hold the stdio pipes open.
      child.on('exit', (code, signal) => {
        exitInfo = { code, signal };
        nginxChildren.delete(child);
        resolve(exitInfo);
      });
      child.on('error', (err) => {
        exitInfo = { code: -1, signal: null, err };
        nginxChildren.delete(child);
        resolve(exitInfo);
      });
    });
    const errorLog = () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'latin1');
      } catch {
        return '';
      }
    };
    let stopping;
    const stop = () => {
      if (stopping === undefined) {
        stopping = (async () => {
          if (exitInfo === undefined) {
            try {
              process.kill(child.pid, 'SIGQUIT');
            } catch {
              // already gone
            }
            try {
              await withTimeout(exited, 3000, `nginx (pid ${child.pid}) to quit`);
            } catch {
              killNginx(child.pid);
              await withTimeout(exited, 3000, `nginx (pid ${child.pid}) to die`).catch(() => {});
            }
          }
          child.stdout.destroy();
          child.stderr.destroy();
          rmSync(dir, { recursive: true, force: true });
        })();
      }
      return stopping;
    };
    try {
      await waitUntil(
        async () => {
          if (exitInfo !== undefined) throw new Error(`nginx exited (${JSON.stringify(exitInfo)}) before accepting: ${output}\n${errorLog()}`);
          return accepts(port);
        },
        timeoutMs,
        `nginx to accept on 127.0.0.1:${port}`,
      );
      return { port, dir, conf, pid: child.pid, child, errorLog, output: () => output, stop, exited };
    } catch (err) {
      lastError = err;
      const log = errorLog() + output;
      await stop();
      if (!/Address already in use/.test(log)) break;
    }
  }
  throw lastError;
}

/** A user or group name from /etc/passwd or /etc/group by its id (the id when unknown). */
function nameOf(file, id) {
  try {
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(id)) return f[0];
    }
  } catch {
    // no such file
  }
  return String(id);
}

/**
 * The worker processes of the nginx master pid (Linux, from /proc, so that no ps is
 * needed): [{ pid, uid, gid, user, group, args }].
 */
export function nginxWorkers(masterPid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'latin1');
      const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(ppid) !== masterPid) continue;
      const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]); // effective
      const gid = Number(/^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1]);
      const args = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
      out.push({ pid: Number(entry), uid, gid, user: nameOf('/etc/passwd', uid), group: nameOf('/etc/group', gid), args });
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------
// tsgi's CLI with its sockets

const BOUND = /^tsgi: socket (\d+) bound to (TCP|UNIX) address (.+) \((http|uwsgi), from (.+)\)$/gm;

const tsgiChildren = new Set();
process.on('exit', () => {
  for (const child of tsgiChildren) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `node bin/tsgi.js ...args` (like helpers.mjs spawnCli, without its wait for
 * a TCP HTTP socket, which a unix-socket-only server never prints). Returns { child,
 * stderrText(), stdoutText(), waitStderr(re, ms), waitExit(ms), signal(sig), kill() };
 * kill() sends SIGKILL to this child (by pid) and reaps it.
 */
export function spawnTsgi(args, { cwd = ROOT, env = {} } = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  tsgiChildren.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('latin1').on('data', (s) => (stderr += s));
  child.stdout.setEncoding('latin1').on('data', (s) => (stdout += s));
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      tsgiChildren.delete(child);
      resolve(exitInfo);
    });
  });
  return {
    child,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    stderrText: () => stderr,
    stdoutText: () => stdout,
    waitStderr(re, ms = 5000) {
      const test = typeof re === 'string' ? (s) => s.includes(re) : (s) => re.test(s);
      return waitUntil(() => test(stderr), ms, `stderr to match ${re}`).then(() => stderr);
    },
    waitExit(ms = 10000) {
      return withTimeout(exited, ms, `tsgi (pid ${child.pid}) to exit`);
    },
    signal(sig) {
      if (exitInfo === undefined) process.kill(child.pid, sig);
    },
    async kill() {
      if (exitInfo === undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await withTimeout(exited, 5000, 'the killed tsgi to be reaped').catch(() => {});
    },
  };
}

/**
 * Starts `node bin/tsgi.js ...args` and waits for "tsgi is ready". Resolves with the
 * spawnTsgi() handle plus sockets: [{ index, kind: 'tcp' | 'unix', address, host,
 * port, protocol, spec }] in the order they were bound. Rejects (after killing the
 * child) when it exits first or is not ready within timeoutMs.
 */
export async function startTsgi(args, { timeoutMs = 15000, cwd, env } = {}) {
  const cli = spawnTsgi(args, { cwd, env });
  try {
    await waitUntil(
      async () => {
        if (/\*\*\* tsgi is ready/.test(cli.stderrText())) return true;
        if (cli.exitInfo !== undefined) throw new Error(`tsgi exited (${JSON.stringify(cli.exitInfo)}) before it was ready`);
        return false;
      },
      timeoutMs,
      'tsgi to be ready',
    );
  } catch (err) {
    await cli.kill();
    throw new Error(`${err.message}\nstderr:\n${cli.stderrText()}`);
  }
  const sockets = [...cli.stderrText().matchAll(BOUND)].map(([, index, kind, address, protocol, spec]) => {
    const s = { index: Number(index), kind: kind === 'TCP' ? 'tcp' : 'unix', address, protocol, spec };
    if (s.kind === 'tcp') {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
      s.host = m[1];
      s.port = Number(m[2]);
    }
    return s;
  });
  return Object.assign(cli, { sockets });
}

// ---------------------------------------------------------------------------------
// A raw uwsgi client (what nginx's uwsgi_pass writes, without nginx)

/** A uwsgi packet: modifier1 0, the vars block, modifier2 0; the body follows it. */
export function uwsgiPacket(vars, body = Buffer.alloc(0)) {
  const parts = [];
  for (const [k, v] of vars) {
    const kb = Buffer.from(k, 'latin1');
    const vb = Buffer.from(v, 'latin1');
    const kl = Buffer.alloc(2);
    kl.writeUInt16LE(kb.length);
    const vl = Buffer.alloc(2);
    vl.writeUInt16LE(vb.length);
    parts.push(kl, kb, vl, vb);
  }
  const block = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt8(0, 0);
  head.writeUInt16LE(block.length, 1);
  head.writeUInt8(0, 3);
  return Buffer.concat([head, block, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}

/** The vars nginx sends for a simple request (Debian's uwsgi_params, in order). */
export function nginxLikeVars({ method = 'GET', uri = '/', contentType = '', contentLength = '', headers = [['Host', 'localhost']] } = {}) {
  const q = uri.indexOf('?');
  const path = q === -1 ? uri : uri.slice(0, q);
  return [
    ['QUERY_STRING', q === -1 ? '' : uri.slice(q + 1)],
    ['REQUEST_METHOD', method],
    ['CONTENT_TYPE', contentType],
    ['CONTENT_LENGTH', contentLength],
    ['REQUEST_URI', uri],
    ['PATH_INFO', decodeURIComponent(path)],
    ['DOCUMENT_ROOT', '/usr/share/nginx/html'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['REQUEST_SCHEME', 'http'],
    ['REMOTE_ADDR', '127.0.0.1'],
    ['REMOTE_PORT', '40000'],
    ['SERVER_PORT', '80'],
    ['SERVER_NAME', 'localhost'],
    ...headers.map(([n, v]) => [`HTTP_${n.toUpperCase().replace(/-/g, '_')}`, v]),
  ];
}

/**
 * Writes bytes (a Buffer, a latin-1 string, or a list of them, written in order) to a
 * unix socket path ("@name": a Linux abstract socket) or a 127.0.0.1 TCP port, and
 * collects the answer until the server closes or timeoutMs passes. Resolves with
 * { data, text, closed, timedOut, error }.
 */
// Node 20 connects to an abstract socket with the whole sockaddr_un (the name padded
// with NULs), which is another name than the exact-length one uWSGI, socat and tsgi
// bind: python3's socket module connects to the exact name.
const ABSTRACT_CLIENT = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(float(sys.argv[2]))
s.connect("\\0" + sys.argv[1])
s.sendall(sys.stdin.buffer.read())
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.buffer.write(out)
`;

function abstractExchange(name, bytes, timeoutMs) {
  const input = Buffer.concat((Array.isArray(bytes) ? bytes : [bytes]).map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
  const r = spawnSync('python3', ['-c', ABSTRACT_CLIENT, name.slice(1), String(timeoutMs / 1000)], { input, timeout: timeoutMs + 2000 });
  const data = r.stdout ?? Buffer.alloc(0);
  return { data, text: data.toString('latin1'), closed: r.status === 0, timedOut: r.status !== 0, error: r.status === 0 ? undefined : new Error(String(r.stderr)) };
}

export async function rawExchange(target, bytes, { timeoutMs = 5000 } = {}) {
  if (typeof target === 'string' && target.startsWith('@')) return abstractExchange(target, bytes, timeoutMs);
  const opts = typeof target === 'number' ? { port: target, host: '127.0.0.1' } : { path: target.startsWith('@') ? `\0${target.slice(1)}` : target };
  const socket = net.connect(opts);
  const chunks = [];
  let closed = false;
  let error;
  socket.on('data', (c) => chunks.push(c));
  const done = new Promise((resolve) => socket.on('close', () => ((closed = true), resolve())));
  socket.on('error', (err) => (error = err));
  try {
    await withTimeout(new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject))), timeoutMs, `a connection to ${target}`);
    for (const piece of Array.isArray(bytes) ? bytes : [bytes]) {
      await new Promise((resolve) => socket.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece, () => resolve()));
    }
    let timedOut = false;
    await withTimeout(done, timeoutMs, 'the server to close').catch(() => (timedOut = true));
    const data = Buffer.concat(chunks);
    return { data, text: data.toString('latin1'), closed, timedOut, error };
  } finally {
    socket.destroy();
  }
}

/**
 * Sends one uwsgi packet (plus body) to a unix socket path ("@name": abstract) or a
 * TCP port, and collects the answer until the server closes (uwsgi responses are
 * close-delimited). Resolves as rawExchange() does.
 */
export function uwsgiRequest(target, vars, body, opts) {
  return rawExchange(target, uwsgiPacket(vars, body ?? Buffer.alloc(0)), opts);
}

// ---------------------------------------------------------------------------------
// Stale and live unix sockets

/**
 * Leaves a stale socket file at path: a child process listens on it and is
 * SIGKILLed, so nobody unlinks it. Resolves once the child is gone.
 */
export async function makeStaleSocket(path) {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('listening'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('close', resolve));
  try {
    let out = '';
    child.stdout.setEncoding('latin1').on('data', (s) => (out += s));
    await waitUntil(() => out.includes('listening'), 5000, 'the socket-holding child to listen');
  } finally {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await withTimeout(exited, 5000, 'the socket-holding child to die').catch(() => {});
  }
  await delay(10);
}
