// Shared helpers for tsgi's node tests: a server on an ephemeral loopback port, raw
// TCP clients, a small HTTP/1.1 response parser and the CLI as a child process.
// Everything here is bounded in time and cleans up after itself.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fstatSync, openSync, readSync, readdirSync, readlinkSync, writeFileSync, writeSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serve, validate, checkEnviron } from '../dist/lib/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const CLI = join(ROOT, 'bin', 'tsgi.js');
export const BACKENDS = ['native', 'js'];

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with promise's value, or rejects after ms with a message naming what. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Polls check() every few ms until it returns a truthy value; rejects after ms. */
export async function waitUntil(check, ms = 2000, what = 'a condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}

// ---------------------------------------------------------------------------------
// Servers

// What the servers of startServer() log goes to this process's server log, not to its
// stderr: the conformance tests' applications fail on purpose and their clients are
// refused on purpose, and the stacks and refusal lines belong in the output only when a
// test fails (testFor() in conformance/differences.mjs prints what was logged during a
// failed test). Both streams go to one file, unlinked at once: nothing is left on disk.
const serverLogPath = join(tmpdir(), `tsgi-test-server-log-${process.pid}-${Date.now()}`);
const serverLogFd = openSync(serverLogPath, 'w+', 0o600);
unlinkSync(serverLogPath);
const errorLog = (text) => writeSync(serverLogFd, typeof text === 'string' ? text : Buffer.from(text));

/** Where the server log stands now: serverLogSince(mark) is what was logged after it. */
export const serverLogMark = () => fstatSync(serverLogFd).size;

/** What the servers of startServer() logged (request and refusal lines, application errors) since mark. */
export function serverLogSince(mark) {
  const out = Buffer.alloc(Math.max(0, fstatSync(serverLogFd).size - mark));
  readSync(serverLogFd, out, 0, out.length, mark);
  return out.toString('latin1');
}

/**
 * Starts serve(app, options) on 127.0.0.1:0 (unless options.http says otherwise), its
 * log and error log into the server log (above) unless options say otherwise.
 * close() is graceful for up to 2 s, then destroys; it is safe to call twice.
 */
export async function startServer(app, options = {}) {
  const server = await serve(app, { http: '127.0.0.1:0', disableLogging: true, errorLog, logFd: serverLogFd, ...options });
  let closing;
  const close = () => {
    if (closing === undefined) {
      closing = (async () => {
        const graceful = server.close();
        try {
          await withTimeout(graceful, 2000, 'server.close()');
        } catch {
          server.destroy();
          await withTimeout(graceful, 2000, 'server.close() after destroy()').catch(() => {});
        }
      })();
    }
    return closing;
  };
  return { server, port: server.address.port, close };
}

// ---------------------------------------------------------------------------------
// The conformance suite's applications run inside validate() (docs/spec.md): an
// application of the suite that broke the contract by mistake, or a server that breaks
// it, fails with TSGI_ERR_APP_CONTRACT / TSGI_ERR_SERVER_CONTRACT instead of passing by
// luck. The few tests that break the contract on purpose, to test the server's own
// checks, serve their application unvalidated() (validate() would raise first).

const UNVALIDATED = Symbol('tsgi.test.unvalidated');

/**
 * Every TSGI_ERR_SERVER_CONTRACT raised by validate() inside a server. Most would be
 * swallowed there: the server only logs an error thrown by the body's close(), and
 * ignores a failed pull after the client went away. testFor() (differences.mjs) fails a
 * test during which one was raised.
 */
export const serverBreaches = [];

function recordBreach(err, where) {
  if (err !== null && typeof err === 'object' && err.code === 'TSGI_ERR_SERVER_CONTRACT') {
    serverBreaches.push(`${where}: ${err.message}`);
  }
}

/** The body validate() returned, with the SERVER_CONTRACT errors of the server's calls recorded. */
function watchBody(body) {
  if (Array.isArray(body)) {
    // A list stays a list (the server frames it with Content-Length): only its
    // close(), which validate() attached, is watched.
    const close = body.close;
    const copy = body.slice();
    Object.defineProperty(copy, 'close', {
      enumerable: false,
      value() {
        try {
          return close.call(body);
        } catch (err) {
          recordBreach(err, 'close()');
          throw err;
        }
      },
    });
    return copy;
  }
  let closed = false;
  const watchIterator = (it) => ({
    next() {
      // A pull begun before close() may settle after it (the client went away while the
      // server awaited an async body): validate() reports that as "iterated after close()"
      // although the server did nothing wrong, so only pulls begun after close() count.
      const afterClose = closed;
      let step;
      try {
        step = it.next();
      } catch (err) {
        if (afterClose) recordBreach(err, 'next()');
        throw err;
      }
      if (afterClose && step !== null && typeof step === 'object' && typeof step.then === 'function') {
        return step.catch((err) => {
          recordBreach(err, 'next()');
          throw err;
        });
      }
      return step;
    },
  });
  const watched = {
    close() {
      const wasClosed = closed;
      closed = true;
      try {
        return body.close();
      } catch (err) {
        recordBreach(err, wasClosed ? 'close() again' : 'close()');
        throw err;
      }
    },
  };
  if (typeof body[Symbol.iterator] === 'function') watched[Symbol.iterator] = () => watchIterator(body[Symbol.iterator]());
  else watched[Symbol.asyncIterator] = () => watchIterator(body[Symbol.asyncIterator]());
  return watched;
}

/**
 * Marks app to be served as it is, outside validate(): for a test of the server's own
 * checks (TSGI_ERR_STATUS_INVALID, TSGI_ERR_BODY_TYPE...), which validate() would
 * pre-empt with TSGI_ERR_APP_CONTRACT. routed() still checks its environ (checkEnviron).
 */
export function unvalidated(app) {
  app[UNVALIDATED] = true;
  return app;
}

/**
 * validate(app), with the server's breaches recorded in serverBreaches; app itself when
 * it is marked unvalidated().
 */
export function validated(app) {
  if (app[UNVALIDATED]) return app;
  const checked = validate(app);
  return (environ, startResponse) => {
    let result;
    try {
      result = checked(environ, startResponse);
    } catch (err) {
      recordBreach(err, 'the call');
      throw err;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') return result.then(watchBody);
    return watchBody(result);
  };
}

/**
 * The application of a suite with routes: each request goes to routes.get(PATH_INFO),
 * run inside validate() unless that route is unvalidated() (whose environ is still
 * checked, by checkEnviron).
 */
export function routed(routes) {
  return (environ, startResponse) => {
    const app = routes.get(environ.PATH_INFO);
    if (app === undefined) throw new Error(`no route for ${environ.PATH_INFO}`);
    if (app[UNVALIDATED]) {
      try {
        checkEnviron(environ);
      } catch (err) {
        recordBreach(err, 'checkEnviron()');
        throw err;
      }
    }
    return validated(app)(environ, startResponse);
  };
}

const tempModules = new Set();
process.on('exit', () => {
  for (const file of tempModules) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
});

/**
 * A module, in the temporary directory, whose export `application` is
 * validate(callable of file): for the CLI (--wsgi-file) to load a fixture inside
 * validate(). Removed when the process exits.
 */
export function validatedModule(file, callable = 'application') {
  const out = join(tmpdir(), `tsgi-validated-${process.pid}-${tempModules.size}.mjs`);
  const lib = pathToFileURL(join(ROOT, 'dist', 'lib', 'index.js')).href;
  writeFileSync(
    out,
    `import { validate } from ${JSON.stringify(lib)};\n` +
      `import * as fixture from ${JSON.stringify(pathToFileURL(file).href)};\n` +
      `export const application = validate(fixture[${JSON.stringify(callable)}]);\n`,
  );
  tempModules.add(out);
  return out;
}

// ---------------------------------------------------------------------------------
// Raw TCP clients

/**
 * A raw connection that collects every byte it receives.
 * conn.data: a Buffer of all bytes so far; conn.ended: the server closed (FIN or
 * reset); conn.waitFor(pred | string, ms): resolves with data once pred(data) holds.
 */
export function connect(port, { host = '127.0.0.1', paused = false } = {}) {
  const socket = net.connect({ port, host, noDelay: true });
  const conn = {
    socket,
    chunks: [],
    size: 0,
    ended: false,
    error: undefined,
    localPort: undefined,
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
  socket.on('error', (err) => {
    conn.error = err;
  });
  socket.on('end', () => {
    conn.ended = true;
  });
  socket.on('data', (chunk) => {
    conn.chunks.push(chunk);
    conn.size += chunk.length;
  });
  if (paused) socket.pause();
  return conn;
}

/**
 * Writes bytes (a latin-1 string, a Buffer, or a list of them, written one by one)
 * on a fresh connection and collects what comes back until the server closes, until
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

// ---------------------------------------------------------------------------------
// A small HTTP/1.1 response parser

/** Builds a request: lines joined with CRLF, the head ended with an empty line. */
export function req(method, target, headers = [], body = '', version = 'HTTP/1.1') {
  let head = `${method} ${target} ${version}\r\n`;
  const hasHost = headers.some(([n]) => n.toLowerCase() === 'host');
  if (!hasHost && version === 'HTTP/1.1') head += 'Host: test\r\n';
  for (const [n, v] of headers) head += `${n}: ${v}\r\n`;
  return head + '\r\n' + body;
}

/**
 * Parses one response from buf at offset. Options: method (a HEAD response has no
 * body). Returns { version, status, reason, headers: [[name, value]], header(name),
 * headerAll(name), body: Buffer, raw: Buffer, complete, framing, interim, end }.
 * complete is false when the body is not all there (fewer bytes than
 * Content-Length, a chunked body without its last chunk). Throws on a malformed head.
 */
export function parseResponse(buf, { method = 'GET', offset = 0, closed = true } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n', offset, 'latin1');
  if (headEnd === -1) return undefined;
  const headText = buf.subarray(offset, headEnd).toString('latin1');
  const lines = headText.split('\r\n');
  const m = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(lines[0]);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(lines[0])}`);
  const headers = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line)}`);
    headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  const status = Number(m[2]);
  const res = {
    version: m[1],
    status,
    reason: m[3],
    headers,
    header(name) {
      const l = name.toLowerCase();
      const found = headers.filter(([n]) => n.toLowerCase() === l);
      return found.length === 0 ? undefined : found.map(([, v]) => v).join(', ');
    },
    headerAll(name) {
      const l = name.toLowerCase();
      return headers.filter(([n]) => n.toLowerCase() === l).map(([, v]) => v);
    },
    interim: status >= 100 && status < 200,
    body: Buffer.alloc(0),
    complete: false,
    framing: 'none',
  };
  let pos = headEnd + 4;
  const te = res.header('transfer-encoding');
  const cl = res.header('content-length');
  if (res.interim || status === 204 || status === 304 || method === 'HEAD') {
    res.complete = true;
  } else if (te !== undefined && /(^|,)\s*chunked\s*$/i.test(te)) {
    res.framing = 'chunked';
    const parts = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos, 'latin1');
      if (eol === -1) break;
      const size = parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0], 16);
      if (!Number.isFinite(size)) throw new Error(`malformed chunk size at ${pos}`);
      if (size === 0) {
        // No trailers from tsgi: the last chunk is "0\r\n\r\n".
        if (buf.length >= eol + 4 && buf.subarray(eol + 2, eol + 4).toString('latin1') === '\r\n') {
          pos = eol + 4;
          res.complete = true;
        }
        break;
      }
      if (buf.length < eol + 2 + size + 2) break;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      if (buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') {
        throw new Error('chunk data not followed by CRLF');
      }
      pos = eol + 4 + size;
    }
    res.body = Buffer.concat(parts);
    if (!res.complete) pos = buf.length;
  } else if (cl !== undefined) {
    res.framing = 'content-length';
    const n = Number(cl);
    res.body = buf.subarray(pos, Math.min(buf.length, pos + n));
    res.complete = res.body.length === n;
    pos += res.body.length;
  } else {
    res.framing = 'close';
    res.body = buf.subarray(pos);
    res.complete = closed;
    pos = buf.length;
  }
  res.end = pos;
  res.raw = buf.subarray(offset, pos);
  return res;
}

/**
 * Parses every response in buf, in order. methods: the request methods in order (for
 * HEAD); 1xx responses are included (interim: true) and do not use up a method.
 */
export function parseResponses(buf, { methods = [], closed = true } = {}) {
  const out = [];
  let offset = 0;
  let i = 0;
  while (offset < buf.length) {
    const r = parseResponse(buf, { method: methods[i] ?? 'GET', offset, closed });
    if (r === undefined) break;
    out.push(r);
    if (!r.interim) i++;
    offset = r.end;
    if (!r.complete) break;
  }
  return out;
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

// ---------------------------------------------------------------------------------
// File descriptors (Linux)

/** The open file descriptors of this process, as { fd: target }. */
export function openFds() {
  const out = {};
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      out[fd] = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // closed while listing (the listing's own descriptor)
    }
  }
  return out;
}

export function fdCount() {
  return Object.keys(openFds()).length;
}

// ---------------------------------------------------------------------------------
// The CLI

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// "tsgi: socket N bound to TCP address HOST:PORT (PROTOCOL, from SPEC)" (or "UNIX address
// PATH"): the single process's line; the master's ends "(PROTOCOL) fd FD" instead. Only
// whole lines (up to their newline) count.
const BOUND = /^tsgi: socket (\d+) bound to (TCP|UNIX) address (.+) \((\w+)(?:, from (.+)\)|\) fd (\d+))(?=\n)/gm;

/**
 * Every socket the CLI printed as bound in stderr, in order: [{ index, kind: 'tcp' |
 * 'unix', address, host, port, protocol, spec, fd }]; host and port for TCP sockets
 * only, spec (what was asked for) from the single process's lines, fd from the master's.
 */
export function boundSockets(stderr) {
  return [...stderr.matchAll(BOUND)].map(([, index, kind, address, protocol, spec, fd]) => {
    const s = { index: Number(index), kind: kind === 'TCP' ? 'tcp' : 'unix', address, protocol, spec, fd: fd === undefined ? undefined : Number(fd) };
    if (s.kind === 'tcp') {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
      s.host = m[1];
      s.port = Number(m[2]);
    }
    return s;
  });
}

/**
 * Starts `node bin/tsgi.js ...args`. Returns { child, port, sockets, exited, exitInfo,
 * stderrText(), stdoutText(), waitStderr(re, ms), waitExit(ms), signal(sig), kill() }.
 * sockets: boundSockets() of the stderr so far. port is a promise of socket 0's port
 * when it is a TCP HTTP socket ("tsgi: socket 0 bound to TCP address HOST:PORT (http");
 * it rejects if the process exits first or after 15 s (it is not awaited for a server
 * without one). exitInfo: undefined while the child runs, then { code, signal }.
 * kill() sends SIGKILL to this child (by pid) and reaps it. stderrLines: every complete
 * stderr line with the time it arrived ({ line, at }). nofile: run under `ulimit -n
 * nofile` (sh's ulimit, then exec: the pid stays the server's). command: the program
 * and its first arguments, in place of `node bin/tsgi.js` (`npx tsgi` in a project).
 */
export function spawnCli(args, { cwd = ROOT, env = {}, nofile, command = [process.execPath, CLI] } = {}) {
  const argv = [...command.slice(1), ...args];
  const [file, fileArgs] =
    nofile === undefined ? [command[0], argv] : ['/bin/sh', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, command[0], ...argv]];
  const child = spawn(file, fileArgs, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  let stdout = '';
  let partial = '';
  const stderrLines = [];
  child.stderr.setEncoding('latin1');
  child.stdout.setEncoding('latin1');
  const listeners = new Set();
  child.stderr.on('data', (s) => {
    stderr += s;
    const lines = (partial + s).split('\n');
    partial = lines.pop();
    for (const line of lines) stderrLines.push({ line, at: Date.now() });
    for (const l of listeners) l();
  });
  child.stdout.on('data', (s) => {
    stdout += s;
  });
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      exitInfo = { code, signal }; // before the listeners run: they look at it
      resolve(exitInfo);
      for (const l of listeners) l();
    });
  });
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`the CLI printed no bound address within 15 s; stderr:\n${stderr}`));
    }, 15000);
    const check = () => {
      const http0 = boundSockets(stderr).find((s) => s.index === 0 && s.kind === 'tcp' && s.protocol === 'http');
      if (http0 !== undefined) {
        clearTimeout(timer);
        listeners.delete(check);
        resolve(http0.port);
      } else if (exitInfo !== undefined) {
        clearTimeout(timer);
        listeners.delete(check);
        reject(new Error(`the CLI exited (${JSON.stringify(exitInfo)}) before binding; stderr:\n${stderr}`));
      }
    };
    listeners.add(check);
  });
  port.catch(() => {});
  return {
    child,
    port,
    exited,
    get exitInfo() {
      return exitInfo;
    },
    get sockets() {
      return boundSockets(stderr);
    },
    stderrText: () => stderr,
    stderrLines,
    stdoutText: () => stdout,
    /** Resolves once stderr matches re (or holds the string). */
    waitStderr(re, ms = 5000) {
      const test = typeof re === 'string' ? (s) => s.includes(re) : (s) => re.test(s);
      return waitUntil(() => test(stderr), ms, `stderr to match ${re}`).then(() => stderr);
    },
    waitExit(ms = 10000) {
      return withTimeout(exited, ms, `the CLI (pid ${child.pid}) to exit`);
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
      await withTimeout(exited, 5000, 'the killed CLI to be reaped').catch(() => {});
    },
  };
}

/**
 * spawnCli(args, { cwd, env }), then waits for "*** tsgi is ready": resolves with the
 * spawnCli() handle, whose sockets are then every socket it bound. Rejects (after killing
 * the child) when it exits first or is not ready within timeoutMs. For a server that has
 * no TCP HTTP socket 0 too (a unix or uwsgi socket), whose port spawnCli() never sees.
 */
export async function startCli(args, { timeoutMs = 15000, cwd, env } = {}) {
  const cli = spawnCli(args, { cwd, env });
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
  return cli;
}

// ---------------------------------------------------------------------------------
// Requests the server refuses (with REFUSAL_LIMITS), shared by the conformance suite
// and the log-line checks: [test name, pieces written one by one, status, options].

export const REFUSAL_LIMITS = { bufferSize: 1024, limitPost: 100, httpTimeout: 1 };

export const REFUSALS = [
  // [test name, bytes (a list of pieces, written one by one), status, the reason its log
  // line names (docs/errors.md), options]
  ['refusal: a malformed request line -> 400', ['this is not http\r\n\r\n'], 400, 'malformed request line'],
  ['refusal: a request line with two spaces -> 400', ['GET  / HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'malformed request line'],
  ['refusal: a head over buffer-size -> 431', [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`], 431, 'request head over buffer-size'],
  ['refusal: Content-Length over limit-post -> 413 before the body is sent', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n'], 413, 'body over limit-post'],
  [
    'refusal: Content-Length over limit-post with Expect: 100-continue -> 413, no 100 Continue',
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n'],
    413,
    'body over limit-post',
  ],
  [
    'refusal: a chunked body over limit-post -> 413',
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', `40\r\n${'x'.repeat(64)}\r\n`, `40\r\n${'y'.repeat(64)}\r\n0\r\n\r\n`],
    413,
    'body over limit-post',
  ],
  ['refusal: Transfer-Encoding: gzip, chunked -> 501', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n'], 501, 'unsupported transfer coding'],
  ['refusal: Transfer-Encoding: gzip (not ending in chunked) -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc'], 400, 'last transfer coding is not chunked'],
  ['refusal: HTTP/1.0 with Transfer-Encoding: chunked -> 400', ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'], 400, 'Transfer-Encoding in HTTP/1.0'],
  ['refusal: an HTTP/2.0 request line -> 505', ['GET / HTTP/2.0\r\nHost: a\r\n\r\n'], 505, 'unsupported HTTP version'],
  ['refusal: Content-Length with Transfer-Encoding -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'], 400, 'Content-Length with Transfer-Encoding'],
  ['refusal: two different Content-Lengths -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'], 400, 'differing Content-Lengths'],
  ['refusal: obs-fold -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n'], 400, 'obsolete line folding'],
  ['refusal: a bare LF -> 400', ['GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'], 400, 'bare LF'],
  ['refusal: whitespace before a colon -> 400', ['GET / HTTP/1.1\r\nHost : a\r\n\r\n'], 400, 'whitespace before colon'],
  ['refusal: HTTP/1.1 without Host -> 400', ['GET / HTTP/1.1\r\nX-A: b\r\n\r\n'], 400, 'missing Host header'],
  ['refusal: two Host headers -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'], 400, 'more than one Host header'],
  ['refusal: a NUL in a field value -> 400', ['GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n'], 400, 'invalid character in a field value'],
  ['refusal: a malformed Content-Length -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\nhello'], 400, 'malformed Content-Length'],
  ['refusal: a fragment in the request target -> 400', ['GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'fragment in the request target'],
  ['refusal: a fragment after the query -> 400', ['GET /?page=1#x HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'fragment in the request target'],
  ['refusal: * with a method other than OPTIONS -> 400', ['GET * HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'asterisk-form target with a method other than OPTIONS'],
  ['refusal: an absolute-form target with an invalid authority -> 400', ['PUT s://]ufd/: HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n'], 400, 'invalid authority in the request target'],
  ['refusal: an absolute-form target with userinfo -> 400', ['GET http://user:pw@a.example/ HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'userinfo in the request target'],
  ['refusal: an absolute-form target with a scheme other than http(s) -> 400', ['GET ftp://a.example/f HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'absolute-form target with a scheme other than http or https'],
  ['refusal: an authority-form target with GET -> 400', ['GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'authority-form target with a method other than CONNECT'],
  ['refusal: CONNECT -> 501', ['CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n'], 501, 'CONNECT is not supported'],
  ['refusal: CONNECT with a path -> 400', ['CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n'], 400, 'CONNECT without an authority-form target'],
  ['refusal: a malformed chunk size -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', 'zz\r\nhello\r\n0\r\n\r\n'], 400, 'malformed chunk size'],
  ['refusal: chunk data without its CRLF -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', '5\r\nhelloX0\r\n\r\n'], 400, 'no CRLF after chunk data'],
  ['refusal: a malformed trailer field -> 400', ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', '0\r\nX-A : b\r\n\r\n'], 400, 'malformed trailer field'],
  ['refusal: a head not complete within http-timeout -> 408', ['GET / HTTP/1.1\r\nHost: a\r\nX-Half: '], 408, 'request not complete within http-timeout', { slow: true }],
  [
    'refusal: a body that makes no progress for http-timeout -> 408',
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n', 'only some'],
    408,
    'request not complete within http-timeout',
    { slow: true },
  ],
];
