// Helpers for the tests that put a real nginx in front of tsgi (uwsgi_pass): a
// throw-away nginx on a free loopback port with its whole state in a temporary
// directory (test/nginx-core.mjs starts and stops it, for the bench's nginx too), the
// workers of an nginx, and a raw uwsgi client for talking to a uwsgi socket without
// nginx. tsgi's CLI with its bound sockets is helpers.mjs's spawnCli() / startCli().
// Everything is bounded in time and cleans up after itself (processes by pid only).
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil, withTimeout, delay } from './helpers.mjs';
import { findNginx as findNginxBy, findUwsgiParams, killNginx, nginxConf, nginxVersion as versionOf, quitNginx, startNginx as startNginxOnFreePort, workerPids } from './nginx-core.mjs';

export { findUwsgiParams, freePort } from './nginx-core.mjs';

// ---------------------------------------------------------------------------------
// Finding nginx

/** The nginx binary's path, or undefined when there is none (NGINX if set, then PATH, then the usual places). */
export const findNginx = () => findNginxBy('NGINX');

/** "nginx/1.22.1", or undefined. */
export function nginxVersion(bin = findNginx()) {
  const v = bin ? versionOf(bin) : undefined;
  return v === undefined ? undefined : `nginx/${v}`;
}

// ---------------------------------------------------------------------------------
// Temporary directories

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

// ---------------------------------------------------------------------------------
// nginx

const nginxChildren = new Set();
process.on('exit', () => {
  for (const nginx of nginxChildren) killNginx(nginx);
});

/** uwsgi_pass's target: "unix:/path", "unix:@name", "127.0.0.1:PORT". */
export function upstreamOf(upstream) {
  if (typeof upstream === 'number') return `127.0.0.1:${upstream}`;
  if (upstream.startsWith('unix:')) return upstream;
  if (upstream.startsWith('/') || upstream.startsWith('@')) return `unix:${upstream}`;
  return upstream;
}

/**
 * The nginx.conf the tests use (and docs/deploy-nginx.md explains); with user, a "user"
 * directive before it (the user nginx's workers run as when it starts as root).
 */
export function nginxConfig({ dir, port, upstream, user, uwsgiParams = findUwsgiParams(), clientMaxBodySize = '100m', extraLocation = '', extraServer = '', extraHttp = '', extraUpstream = '', errorLogLevel = 'info', pass = 'uwsgi' }) {
  // pass: 'uwsgi' (include uwsgi_params; uwsgi_pass), or 'http' (proxy_pass: the
  // mistake of speaking HTTP to a uwsgi socket).
  const passLines = pass === 'http' ? '            proxy_pass http://tsgi;' : `            include ${uwsgiParams};\n            uwsgi_pass tsgi;`;
  const conf = nginxConf({
    writer: 'test/nginx.mjs',
    dir,
    errorLogLevel,
    workerConnections: 256,
    http: `${extraHttp}
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
`,
  });
  return user === undefined ? conf : `user ${user};\n${conf}`;
}

/**
 * Starts nginx in front of upstream (a unix socket path, "unix:...", "@name",
 * "host:port" or a port number) on a free 127.0.0.1 port, with its config, pid, logs
 * and temp paths in a fresh temp dir; the other options are nginxConfig()'s (user,
 * clientMaxBodySize, extraLocation, extraServer, extraHttp, extraUpstream, errorLogLevel,
 * pass, uwsgiParams). Resolves with { port, dir, pid, conf, errorLog(), workers(), stop() }
 * once the port accepts. stop() sends SIGQUIT (graceful) to this nginx's master, then
 * after 3 s SIGKILL to it and to its workers (by pid), waits for the master to exit and
 * removes the dir; it is safe to call twice.
 */
export async function startNginx({ upstream, timeoutMs = 10000, ...rest }) {
  const bin = findNginx();
  if (!bin) throw new Error('nginx not found (install nginx-light, or set NGINX=/path/to/nginx)');
  const removeDir = (nginx) => rmSync(nginx.dir, { recursive: true, force: true });
  const { nginx, port } = await startNginxOnFreePort({
    bin,
    directory: () => {
      const dir = makeTempDir();
      mkdirSync(join(dir, 'html'));
      return dir;
    },
    config: (dir, p) => nginxConfig({ dir, port: p, upstream, ...rest }),
    timeoutMs,
    graceMs: 3000,
    onSpawn: (n) => {
      nginxChildren.add(n);
      n.exitPromise.then(() => nginxChildren.delete(n));
    },
    failed: removeDir,
  });
  let stopping;
  const stop = () => {
    stopping ??= quitNginx(nginx, 3000).then(() => removeDir(nginx));
    return stopping;
  };
  const { dir, pid, child, errorLog, output, exitPromise } = nginx;
  return { port, dir, conf: join(dir, 'nginx.conf'), pid, child, errorLog, output, stop, exited: exitPromise, workers: () => nginxWorkers(pid) };
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
  for (const pid of workerPids(masterPid)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'latin1');
      const uid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1]); // effective
      const gid = Number(/^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1]);
      const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim();
      out.push({ pid, uid, gid, user: nameOf('/etc/passwd', uid), group: nameOf('/etc/group', gid), args });
    } catch {
      // the process went away while we looked
    }
  }
  return out;
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
