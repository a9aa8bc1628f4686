// The raw socket client of the tests, where the bytes on the wire matter: a connection
// (TCP, or a unix socket) that collects every byte it receives, one request written as
// bytes and its answer read back, and the first response of that answer parsed
// (http-wire.mjs). The HTTP client for plain GETs is http-client.mjs.
import net from 'node:net';
import { parseResponses } from './http-wire.mjs';
import { waitUntil, withTimeout } from './wait.mjs';

/**
 * A raw connection to port on host, or to the unix socket at target.path when target is
 * { path }, that collects every byte it receives.
 * conn.data: a Buffer of all bytes so far; conn.ended: the server closed (FIN or
 * reset); conn.closed: a promise, settled once the socket closed; conn.firstDataAt,
 * conn.closedAt: when the first byte came and when it closed (Date.now());
 * conn.waitFor(pred | string, ms): resolves with data once pred(data) holds;
 * conn.write(bytes): rejects on an error; conn.send(bytes, ms): resolves true once
 * written, false when the socket is gone or after ms, and never rejects.
 */
export function connect(target, { host = '127.0.0.1', paused = false } = {}) {
  const socket = typeof target === 'object' ? net.connect({ path: target.path }) : net.connect({ port: target, host, noDelay: true });
  const conn = {
    socket,
    chunks: [],
    size: 0,
    ended: false,
    error: undefined,
    localPort: undefined,
    firstDataAt: undefined,
    closedAt: undefined,
    get data() {
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      return this.chunks[0] ?? Buffer.alloc(0);
    },
    get text() {
      return this.data.toString('latin1');
    },
    write(bytes) {
      return new Promise((resolve, reject) => {
        socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) => (err ? reject(err) : resolve()));
      });
    },
    send(bytes, ms = 2000) {
      return withTimeout(
        new Promise((resolve) => {
          if (socket.destroyed || !socket.writable) return resolve(false);
          socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (err) => resolve(!err));
        }),
        ms,
        'a write',
      ).catch(() => false);
    },
    /** Resolves with the data once pred(data) is true (a string: once the data holds it). */
    waitFor(pred, ms = 3000, what) {
      const test = typeof pred === 'string' ? (d) => d.includes(pred) : pred;
      const label = what ?? String(pred);
      return waitUntil(
        () => {
          if (test(this.data)) return true;
          if (this.ended) {
            throw new Error(`the connection closed before ${label}; got ${JSON.stringify(this.text.slice(0, 500))}`);
          }
          return false;
        },
        ms,
        label,
      ).then(() => this.data);
    },
    /** Resolves once the server closed the connection. */
    waitClose(ms = 3000) {
      return withTimeout(this.closed, ms, 'the server to close the connection').then(() => this.data);
    },
    destroy() {
      socket.destroy();
    },
  };
  conn.closed = new Promise((resolve) => {
    socket.on('close', () => {
      conn.ended = true;
      conn.closedAt = Date.now();
      resolve();
    });
  });
  conn.connected = new Promise((resolve, reject) => {
    socket.once('connect', () => {
      conn.localPort = socket.localPort;
      resolve(conn);
    });
    socket.once('error', reject);
  });
  // It rejects for whoever awaits it; a connection nobody awaits may fail unnoticed.
  conn.connected.catch(() => {});
  socket.on('error', (err) => {
    conn.error = err;
  });
  socket.on('end', () => {
    conn.ended = true;
  });
  socket.on('data', (chunk) => {
    conn.firstDataAt ??= Date.now();
    conn.chunks.push(chunk);
    conn.size += chunk.length;
  });
  if (paused) socket.pause();
  return conn;
}

/**
 * Writes bytes (a latin-1 string, a Buffer, or a list of them, written one by one)
 * on a fresh connection (to port: connect()'s target) and collects what comes back until the server closes, until
 * until(data) is true, or until timeoutMs. Resolves with
 * { data, text, closed, timedOut, localPort }. The socket is destroyed at the end.
 */
export async function rawRequest(port, bytes, { host = '127.0.0.1', timeoutMs = 3000, until } = {}) {
  const conn = connect(port, { host });
  try {
    await withTimeout(conn.connected, timeoutMs, 'connect');
    for (const piece of Array.isArray(bytes) ? bytes : [bytes]) await conn.write(piece);
    let timedOut = false;
    try {
      await waitUntil(() => conn.ended || (until !== undefined && until(conn.data)), timeoutMs, 'the response');
    } catch {
      timedOut = true;
    }
    const data = conn.data;
    return { data, text: data.toString('latin1'), closed: conn.ended, timedOut, localPort: conn.localPort };
  } finally {
    conn.destroy();
  }
}

/** A predicate for rawRequest's until: true once data holds n complete responses. */
export function responses(n, opts) {
  return (data) => {
    try {
      return parseResponses(data, opts).filter((r) => r.complete && !r.interim).length >= n;
    } catch {
      return false;
    }
  };
}

/** rawRequest() then parseResponse(): the first final response. Throws when none. */
export async function request(port, bytes, opts = {}) {
  const r = await rawRequest(port, bytes, { until: responses(1, { methods: [opts.method ?? 'GET'] }), ...opts });
  const all = parseResponses(r.data, { methods: [opts.method ?? 'GET'], closed: r.closed });
  const res = all.find((x) => !x.interim);
  if (res === undefined) {
    throw new Error(`no response (closed: ${r.closed}, timed out: ${r.timedOut}); got ${JSON.stringify(r.text.slice(0, 300))}`);
  }
  res.closed = r.closed;
  res.wire = r;
  return res;
}
