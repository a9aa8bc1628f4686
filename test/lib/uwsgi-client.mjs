// A raw uwsgi client: what nginx's uwsgi_pass writes, without nginx. A packet, the vars
// nginx sends, and one exchange on a unix socket (a path, or "@name": a Linux abstract
// socket) or a 127.0.0.1 port, read until the server closes.
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import { withTimeout } from './wait.mjs';

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
 * The packet nginx sends for METHOD URI with body (nginxLikeVars(): Content-Type and
 * Content-Length when there is a body), the body after it.
 */
export function nginxLikePacket(method, uri, body = Buffer.alloc(0)) {
  const sized = body.length > 0;
  return uwsgiPacket(nginxLikeVars({ method, uri, contentType: sized ? 'application/octet-stream' : '', contentLength: sized ? String(body.length) : '' }), body);
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
