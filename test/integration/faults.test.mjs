// Faults and bad input against the native server, as a user runs it: `node bin/tsgi.js`
// as a child process (a crash shows as the child dying), HTTP on 127.0.0.1 and the uwsgi
// protocol on a unix socket, TMPDIR a fresh directory of the test's own. The standard:
// bad input gets the right status (and a log line), everyone else is served on, and
// nothing is lost: temporary files go, sockets close, memory does not grow per request
// or per idle connection. Every process started here is killed by its pid, even on
// failure; every wait is bounded.
//
// FAULTS_SEED=<n> replays the fuzz run of that seed (its seed is printed as a diagnostic).
// When the server dies or a probe fails during the fuzz run, the last inputs sent are
// written to a JSON file named in the failure message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readlinkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, CLI, FIXTURES, delay, withTimeout, waitUntil, parseResponses, responses } from '../helpers.mjs';

const APP = join(FIXTURES, 'faults', 'app.mjs');
const FD_SLACK = 2;

// ---------------------------------------------------------------------------------
// The server as a child process

const children = new Set();
process.on('exit', () => {
  for (const pid of children) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts the CLI with --http 127.0.0.1:0 --socket DIR/s.sock and the faults app.
 * Resolves once it is ready, with { pid, port, sock, dir, tmp, log, exit (undefined
 * while alive, else { code, signal }), stderrTail(), counts, stop(), kill() }.
 */
async function startTsgi(t, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-faults-'));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const sock = join(dir, 's.sock');
  const log = join(dir, 'faults.log');
  writeFileSync(log, '');
  const argv = [CLI, '--http', '127.0.0.1:0', '--socket', sock, '--wsgi-file', APP, '--listen', '1024', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp, FAULTS_LOG: log },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child.pid);
  const srv = {
    pid: child.pid,
    child,
    argv,
    dir,
    tmp,
    sock,
    log,
    port: undefined,
    exit: undefined,
    head: '', // the first 16 KiB of stderr
    tail: '', // the last 64 KiB
    partial: '',
    counts: { refusedHttp: 0, refusedUwsgi: 0, generated: 0, errors: 0 },
    stderrTail() {
      return `${this.head}${this.head.length >= 16384 ? '\n[...]\n' + this.tail : ''}`;
    },
  };
  child.stderr.setEncoding('latin1');
  child.stderr.on('data', (s) => {
    if (srv.head.length < 16384) srv.head += s.slice(0, 16384 - srv.head.length);
    srv.tail = (srv.tail + s).slice(-65536);
    const lines = (srv.partial + s).split('\n');
    srv.partial = lines.pop();
    for (const l of lines) {
      if (/\] refused \d{3} /.test(l)) srv.counts.refusedHttp++;
      else if (/\] refused uwsgi packet: /.test(l)) srv.counts.refusedUwsgi++;
      else if (l.includes('=> generated')) srv.counts.generated++;
      else if (/error in the application|TypeError|RangeError|Assertion|FATAL/.test(l)) srv.counts.errors++;
    }
  });
  srv.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      srv.exit = { code, signal };
      children.delete(child.pid);
      resolve(srv.exit);
    });
  });
  srv.kill = async () => {
    if (srv.exit === undefined) {
      try {
        process.kill(srv.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await withTimeout(srv.exited, 5000, `pid ${srv.pid} to be reaped`).catch(() => {});
  };
  /** SIGTERM; resolves with the exit status (a graceful stop after all the faults). */
  srv.stop = async () => {
    if (srv.exit === undefined) process.kill(srv.pid, 'SIGTERM');
    return withTimeout(srv.exited, 6000, `pid ${srv.pid} to stop on SIGTERM`);
  };
  t.after(async () => {
    await srv.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await waitUntil(
    () => {
      if (srv.exit !== undefined) throw new Error(`tsgi exited ${JSON.stringify(srv.exit)} before it was ready:\n${srv.stderrTail()}`);
      return /tsgi is ready/.test(srv.head);
    },
    15000,
    'tsgi to be ready',
  );
  srv.port = Number(/socket \d+ bound to TCP address 127\.0\.0\.1:(\d+) \(http/.exec(srv.head)[1]);
  return srv;
}

function procFds(pid) {
  const out = [];
  let names;
  try {
    names = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of names) {
    try {
      out.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed while listing
    }
  }
  return out;
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m[1]);
}

function nofileLimit(pid) {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync(`/proc/${pid}/limits`, 'latin1'));
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** The body's temporary files: tsgi-body-* names in TMPDIR, and descriptors into TMPDIR (O_TMPFILE shows "#N (deleted)"). */
function tempLeft(srv) {
  const files = readdirSync(srv.tmp).filter((n) => n.startsWith('tsgi-body'));
  const fds = procFds(srv.pid).filter((target) => target.startsWith(srv.tmp) || /tsgi-body/.test(target));
  return { files, fds };
}

const tempFds = (srv) => tempLeft(srv).fds.length;

// ---------------------------------------------------------------------------------
// Clients

/** A raw connection to { port } (TCP) or { path } (the unix socket). */
function dial(target) {
  const socket = target.path !== undefined ? net.connect({ path: target.path }) : net.connect({ port: target.port, host: '127.0.0.1', noDelay: true });
  const c = { socket, chunks: [], size: 0, closed: false, error: undefined, firstDataAt: undefined };
  c.closedP = new Promise((resolve) => {
    socket.on('close', () => {
      c.closed = true;
      c.closedAt = Date.now();
      resolve();
    });
  });
  c.connected = new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(c));
    socket.once('error', reject);
  });
  c.connected.catch(() => {});
  socket.on('error', (err) => {
    c.error = err;
  });
  socket.on('data', (d) => {
    if (c.firstDataAt === undefined) c.firstDataAt = Date.now();
    c.chunks.push(d);
    c.size += d.length;
  });
  c.data = () => {
    if (c.chunks.length > 1) c.chunks = [Buffer.concat(c.chunks)];
    return c.chunks[0] ?? Buffer.alloc(0);
  };
  /** Resolves true once written, false when the socket is gone; never waits more than ms. */
  c.write = (bytes, ms = 2000) =>
    withTimeout(
      new Promise((resolve) => {
        if (socket.destroyed || !socket.writable) return resolve(false);
        socket.write(bytes, (err) => resolve(!err));
      }),
      ms,
      'a write',
    ).catch(() => false);
  return c;
}

const HTTP = (srv) => ({ port: srv.port });
const UWSGI = (srv) => ({ path: srv.sock });

/** A uwsgi packet (modifier1 0, modifier2 0) with vars, then body. */
function uwsgiPacket(vars, body = Buffer.alloc(0)) {
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
  head.writeUInt16LE(block.length, 1);
  return Buffer.concat([head, block, Buffer.from(body)]);
}

/** What nginx's uwsgi_params sends for METHOD URI. */
function uwsgiRequest(method, uri, body = Buffer.alloc(0)) {
  const q = uri.indexOf('?');
  return uwsgiPacket(
    [
      ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)],
      ['REQUEST_METHOD', method],
      ['CONTENT_TYPE', body.length ? 'application/octet-stream' : ''],
      ['CONTENT_LENGTH', body.length ? String(body.length) : ''],
      ['REQUEST_URI', uri],
      ['PATH_INFO', q < 0 ? uri : uri.slice(0, q)],
      ['DOCUMENT_ROOT', '/srv'],
      ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['REQUEST_SCHEME', 'http'],
      ['REMOTE_ADDR', '192.0.2.1'],
      ['REMOTE_PORT', '40000'],
      ['SERVER_PORT', '80'],
      ['SERVER_NAME', 'fuzz.example'],
      ['HTTP_HOST', 'fuzz.example'],
    ],
    body,
  );
}

/** One request on a fresh connection; resolves with { status, body, ms } or rejects after ms. */
async function get(target, bytes, ms = 2000) {
  const started = Date.now();
  const c = dial(target);
  try {
    await withTimeout(c.connected, ms, 'connect');
    await c.write(bytes);
    await waitUntil(() => c.closed || responses(1)(c.data()), ms, 'a response');
    const res = parseResponses(c.data(), { closed: c.closed }).find((r) => !r.interim && r.complete);
    if (res === undefined) throw new Error(`no complete response; got ${JSON.stringify(c.data().toString('latin1').slice(0, 200))}`);
    return { status: res.status, body: res.body.toString('latin1'), ms: Date.now() - started, res };
  } finally {
    c.socket.destroy();
  }
}

const GET_OK = Buffer.from('GET /probe HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n');
const UWSGI_OK = uwsgiRequest('GET', '/probe');

/** A probe: a valid GET over HTTP (and every uwsgi-th one over the unix socket). */
async function probe(srv, { uwsgi = false, ms = 2000 } = {}) {
  const r = await get(uwsgi ? UWSGI(srv) : HTTP(srv), uwsgi ? UWSGI_OK : GET_OK, ms);
  if (r.status !== 200 || r.body !== 'ok\n') throw new Error(`probe answered ${r.status} ${JSON.stringify(r.body)}`);
  return r.ms;
}

/** Probes every `every` ms until stop() is called; collects failures and the slowest. */
function prober(srv, every = 100) {
  const state = { count: 0, failures: [], maxMs: 0, running: true };
  state.done = (async () => {
    while (state.running) {
      const started = Date.now();
      const uwsgi = state.count % 5 === 4;
      try {
        const ms = await probe(srv, { uwsgi });
        state.maxMs = Math.max(state.maxMs, ms);
      } catch (err) {
        state.failures.push(`${new Date().toISOString()} ${uwsgi ? 'uwsgi' : 'http'} probe #${state.count}: ${err.message}`);
      }
      state.count++;
      await delay(Math.max(0, every - (Date.now() - started)));
    }
  })();
  state.stop = async () => {
    state.running = false;
    await state.done;
    return state;
  };
  return state;
}

/** The descriptors of the server once it has served one request of each protocol. */
async function baseline(srv) {
  await probe(srv);
  await probe(srv, { uwsgi: true });
  await delay(100);
  return procFds(srv.pid).length;
}

/** Asserts that the server is alive and serving, that its fds came back to base and that no temporary file is left. */
async function assertClean(srv, base, what, ms = 6000) {
  assert.equal(srv.exit, undefined, `${what}: the server died ${JSON.stringify(srv.exit)}:\n${srv.stderrTail()}`);
  await probe(srv);
  await probe(srv, { uwsgi: true });
  let fds = procFds(srv.pid);
  const end = Date.now() + ms;
  while ((fds.length > base + FD_SLACK || tempFds(srv) > 0) && Date.now() < end) {
    await delay(50);
    fds = procFds(srv.pid);
  }
  assert.ok(fds.length <= base + FD_SLACK, `${what}: ${fds.length} fds open, baseline ${base}: ${JSON.stringify(fds)}`);
  const left = tempLeft(srv);
  assert.deepEqual(left, { files: [], fds: [] }, `${what}: temporary files left`);
  assert.equal(srv.exit, undefined, `${what}: the server died ${JSON.stringify(srv.exit)}:\n${srv.stderrTail()}`);
  return fds.length;
}

async function assertStops(srv) {
  const exit = await srv.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM stops the server cleanly:\n${srv.stderrTail()}`);
}

// ---------------------------------------------------------------------------------
// 1. Fuzz

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r, n) => Math.floor(r() * n);
const pick = (r, list) => list[int(r, list.length)];

function chunked(r, body) {
  let out = '';
  let at = 0;
  while (at < body.length) {
    const n = Math.min(body.length - at, 1 + int(r, 900));
    out += `${n.toString(16)}${r() < 0.1 ? ';ext=1' : ''}\r\n${body.slice(at, at + n)}\r\n`;
    at += n;
  }
  return `${out}0\r\n\r\n`;
}

function httpSeed(r) {
  const n = int(r, 3000); // --post-buffering 1024: about two in three spill to a file
  const body = 'b'.repeat(n);
  const get = (p = '/') => `GET ${p} HTTP/1.1\r\nHost: fuzz\r\nUser-Agent: fuzz/1\r\nAccept: */*\r\n\r\n`;
  switch (int(r, 9)) {
    case 0: return get(`/?q=${n}&x=%41%42`);
    case 1: return 'GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n';
    case 2: return `POST /echo HTTP/1.1\r\nHost: fuzz\r\nContent-Type: text/plain\r\nContent-Length: ${n}\r\n\r\n${body}`;
    case 3: return `POST /echo HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(r, body)}`;
    case 4: return get('/a') + `POST /echo HTTP/1.1\r\nHost: fuzz\r\nContent-Length: ${n}\r\n\r\n${body}` + get('/c');
    case 5: return 'HEAD / HTTP/1.1\r\nHost: fuzz\r\n\r\n';
    case 6: return get('/slow?tag=fuzz');
    case 7: return `POST /echo HTTP/1.1\r\nHost: fuzz\r\nExpect: 100-continue\r\nContent-Length: ${n}\r\n\r\n${body}`;
    default: return `OPTIONS * HTTP/1.1\r\nHost: fuzz\r\nCookie: a=1\r\nCookie: b=2\r\nX_Under: y\r\n\r\n`;
  }
}

function uwsgiSeed(r) {
  const n = int(r, 3000);
  switch (int(r, 3)) {
    case 0: return uwsgiRequest('GET', `/u?q=${n}`);
    case 1: return uwsgiRequest('POST', '/echo', Buffer.alloc(n, 0x62));
    default: return uwsgiRequest('GET', '/slow?tag=fuzz-uwsgi');
  }
}

const TOKENS = ['\r\n', '\n', '\r', ':', ' ', '\0', '\r\n\r\n', 'Transfer-Encoding: chunked\r\n', 'Content-Length: 99999\r\n', 'Content-Length: 5\r\n', 'Host: x\r\n', '\t', '%', '0\r\n\r\n', 'ffffffffffffffff\r\n', '\xff\xfe'];

function mutate(r, buf) {
  let b = Buffer.from(buf);
  const rounds = 1 + int(r, 3);
  for (let i = 0; i < rounds; i++) {
    const at = b.length === 0 ? 0 : int(r, b.length);
    switch (int(r, 7)) {
      case 0: // flip bits
        if (b.length) b[at] ^= 1 << int(r, 8);
        break;
      case 1: { // insert random bytes
        const ins = Buffer.alloc(1 + int(r, 8));
        for (let j = 0; j < ins.length; j++) ins[j] = int(r, 256);
        b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        break;
      }
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(r, 16)))]);
        break;
      case 3: { // duplicate a range
        const len = 1 + int(r, 64);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: // an interesting token
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(r, TOKENS), 'latin1'), b.subarray(at)]);
        break;
      default: // an interesting byte
        if (b.length) b[at] = pick(r, [0x00, 0xff, 0x0d, 0x0a, 0x20, 0x3a, 0x7f, 0x80, 0x30]);
    }
  }
  return b;
}

function garbage(r) {
  const b = Buffer.alloc(1 + int(r, 2048));
  if (r() < 0.5) {
    for (let j = 0; j < b.length; j++) b[j] = int(r, 256);
  } else {
    for (let j = 0; j < b.length; j++) b[j] = 0x20 + int(r, 95);
    if (r() < 0.5) return Buffer.concat([b, Buffer.from('\r\n\r\n')]);
  }
  return b;
}

/** One fuzz connection. Records its input in ring before it sends a byte. */
async function fuzzConnection(r, srv, ring, stats) {
  const uwsgi = r() < 0.35;
  const kind = r();
  let bytes;
  if (kind < 0.2) bytes = garbage(r);
  else {
    bytes = Buffer.from(uwsgi ? uwsgiSeed(r) : httpSeed(r), 'latin1');
    if (kind < 0.85) bytes = mutate(r, bytes);
  }
  const cuts = [];
  for (let k = int(r, 6); k > 0; k--) cuts.push(int(r, bytes.length + 1));
  cuts.sort((a, b) => a - b);
  const pieces = [];
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > prev) pieces.push(bytes.subarray(prev, cut));
    prev = Math.max(prev, cut);
  }
  const delays = pieces.map(() => (r() < 0.5 ? 0 : int(r, 15)));
  const ending = pick(r, ['read', 'read', 'end', 'destroy', 'rst']);
  const stopAt = ending === 'destroy' || ending === 'rst' ? int(r, pieces.length + 1) : pieces.length;
  ring.push({ proto: uwsgi ? 'uwsgi' : 'http', ending, stopAt, delays, pieces: pieces.map((p) => p.toString('base64')) });
  if (ring.length > 300) ring.shift();

  const c = dial(uwsgi ? UWSGI(srv) : HTTP(srv));
  try {
    await withTimeout(c.connected, 2000, 'connect');
  } catch (err) {
    stats.connectFailures.push(err.message);
    c.socket.destroy();
    return;
  }
  stats.connections++;
  for (let i = 0; i < stopAt && !c.closed; i++) {
    if (delays[i]) await delay(delays[i]);
    if (!(await c.write(pieces[i]))) break;
  }
  if (ending === 'rst') {
    if (!c.closed) c.socket.resetAndDestroy();
  } else if (ending === 'destroy') {
    c.socket.destroy();
  } else {
    if (ending === 'end') c.socket.end();
    await waitUntil(() => c.closed || responses(1)(c.data()), 300, 'x').catch(() => {});
    c.socket.destroy();
  }
  const data = c.data();
  if (data.length > 0) {
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(data.subarray(0, 16).toString('latin1'));
    const key = `${uwsgi ? 'uwsgi' : 'http'} ${m ? m[1] : 'malformed'}`;
    stats.statuses[key] = (stats.statuses[key] ?? 0) + 1;
    const allowed = uwsgi ? ['200'] : ['100', '200', '400', '408', '413', '431', '501', '505'];
    if (!m || !allowed.includes(m[1])) {
      stats.unexpected.push({ proto: uwsgi ? 'uwsgi' : 'http', answer: data.subarray(0, 300).toString('latin1'), input: bytes.toString('base64') });
    }
    if (!uwsgi && m && m[1] >= '400') {
      // Pipelined inputs may hold a refusal after 100 Continue or a 200.
      stats.refusalsSeen++;
    } else if (!uwsgi && /\r\nHTTP\/1\.1 (4|5)\d\d /.test(data.toString('latin1'))) {
      stats.refusalsSeen++;
    }
  }
}

function writeRepro(srv, seed, ring, stats) {
  const file = join(tmpdir(), `tsgi-faults-repro-${process.pid}-${seed}.json`);
  writeFileSync(
    file,
    JSON.stringify({ seed, argv: srv.argv.slice(1), exit: srv.exit, stderrTail: srv.tail, stats, lastInputs: ring }, null, 1),
  );
  return file;
}

test('fuzz: random garbage and mutated requests over HTTP and uwsgi, 20 clients, 8 s; the server stays up, probes all get 200, fds and temp files come back', { timeout: 40000 }, async (t) => {
  const seed = process.env.FAULTS_SEED ? Number(process.env.FAULTS_SEED) : (Date.now() ^ (process.pid << 8)) >>> 0;
  t.diagnostic(`fuzz seed ${seed} (FAULTS_SEED=${seed} replays it)`);
  const srv = await startTsgi(t, ['--post-buffering', '1024', '--http-timeout', '2', '--buffer-size', '4096']);
  const base = await baseline(srv);
  const rss0 = rssKiB(srv.pid);
  const ring = [];
  const stats = { connections: 0, statuses: {}, unexpected: [], connectFailures: [], refusalsSeen: 0 };
  const DURATION = 8000;
  const MAX_CONNECTIONS = 20000;
  const until = Date.now() + DURATION;
  const probes = prober(srv, 100);
  const workers = Array.from({ length: 20 }, (_, w) => {
    const r = mulberry32((seed + Math.imul(w + 1, 0x9e3779b1)) >>> 0);
    return (async () => {
      while (Date.now() < until && stats.connections < MAX_CONNECTIONS && srv.exit === undefined) {
        await fuzzConnection(r, srv, ring, stats);
      }
    })();
  });
  await Promise.all(workers);
  const probed = await probes.stop();
  const died = srv.exit;
  let repro;
  if (died !== undefined || probed.failures.length > 0 || stats.unexpected.length > 0) repro = writeRepro(srv, seed, ring, stats);
  t.diagnostic(`fuzz: ${stats.connections} connections, statuses ${JSON.stringify(stats.statuses)}; ${probed.count} probes, slowest ${probed.maxMs} ms; refusal log lines: ${srv.counts.refusedHttp} http, ${srv.counts.refusedUwsgi} uwsgi`);
  assert.equal(died, undefined, `the server died during the fuzz run (${JSON.stringify(died)}); inputs in ${repro}; stderr:\n${srv.tail}`);
  assert.deepEqual(probed.failures, [], `every probe gets 200 (repro: ${repro})`);
  assert.deepEqual(stats.connectFailures, [], 'every fuzz client connects');
  assert.deepEqual(stats.unexpected, [], `only the refusal statuses (and 200) come back (repro: ${repro})`);
  assert.ok(stats.connections > 200, `a real run: ${stats.connections} connections`);
  assert.ok(probed.count >= 40, `probes ran throughout: ${probed.count}`);
  // Every 4xx a client saw has its log line (more lines is fine: a client that reset
  // before reading its answer was still refused).
  await delay(200);
  assert.ok(srv.counts.refusedHttp >= stats.refusalsSeen, `one "refused" log line per refusal: ${srv.counts.refusedHttp} lines, ${stats.refusalsSeen} refusals seen`);
  assert.ok(srv.counts.refusedUwsgi > 0, 'malformed uwsgi packets are logged');
  const fds = await assertClean(srv, base, 'after the fuzz run');
  t.diagnostic(`fds: baseline ${base}, after ${fds}; RSS ${rss0} KiB -> ${rssKiB(srv.pid)} KiB`);
  await assertStops(srv);
});

// ---------------------------------------------------------------------------------
// 2. Abrupt disconnects at every stage

/** Reads the faults log until it has every line in want (strings or regexps). */
async function waitLog(srv, want, ms = 3000) {
  let text = '';
  try {
    await waitUntil(() => {
      text = readFileSync(srv.log, 'latin1');
      return want.every((w) => (typeof w === 'string' ? text.split('\n').includes(w) : w.test(text)));
    }, ms, `the faults log to hold ${want.join(', ')}`);
  } catch (err) {
    throw new Error(`${err.message}; it holds ${JSON.stringify(text)}; stderr:\n${srv.tail}`);
  }
  return text;
}

function cut(c, how) {
  if (how === 'rst') c.socket.resetAndDestroy();
  else c.socket.destroy();
}

test('abrupt disconnects at every stage: mid-head, mid-body (memory, file; Content-Length, chunked; HTTP, uwsgi), while the app runs, mid-response', { timeout: 60000 }, async (t) => {
  const srv = await startTsgi(t, ['--post-buffering', '1024', '--http-timeout', '5']);
  const base = await baseline(srv);
  const timings = [];

  const stages = [];
  const stage = (name, fn) => stages.push([name, fn]);

  for (const how of ['close', 'rst']) {
    stage(`mid-head over HTTP (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write('GET /never HTTP/1.1\r\nHost: a\r\nX-Half: yes\r\nX-Ha');
      await delay(50);
      cut(c, how);
    });
    stage(`mid-head over uwsgi (${how})`, async () => {
      const c = dial(UWSGI(srv));
      await c.connected;
      const p = uwsgiRequest('GET', '/never');
      await c.write(p.subarray(0, 20));
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, Content-Length below post-buffering (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 800\r\n\r\n${'x'.repeat(400)}`);
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, Content-Length above post-buffering: a temporary file (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write(`POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(50000)}`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the body to spill into a temporary file');
      cut(c, how);
    });
    stage(`mid-body, chunked below post-buffering (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n${'x'.repeat(256)}\r\n10\r\nxxxx`);
      await delay(50);
      cut(c, how);
    });
    stage(`mid-body, chunked above post-buffering: a temporary file (${how})`, async () => {
      const c = dial(HTTP(srv));
      await c.connected;
      let body = '';
      for (let i = 0; i < 5; i++) body += `3e8\r\n${'y'.repeat(1000)}\r\n`;
      await c.write(`POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}3e8\r\nyyy`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the chunked body to spill into a temporary file');
      cut(c, how);
    });
    stage(`mid-body over uwsgi, above post-buffering (${how})`, async () => {
      const c = dial(UWSGI(srv));
      await c.connected;
      const p = uwsgiRequest('POST', '/echo', Buffer.alloc(100000, 0x7a));
      await c.write(p.subarray(0, p.length - 50000));
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the uwsgi body to spill into a temporary file');
      cut(c, how);
    });
    stage(`while the app runs, GET over HTTP (${how}): tsgi.signal fires, close() runs`, async () => {
      const tag = `run-http-${how}`;
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write(`GET /slow?tag=${tag} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await delay(50);
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    stage(`while the app runs with a body in a temporary file (${how}): the file goes`, async () => {
      const tag = `run-file-${how}`;
      const c = dial(HTTP(srv));
      await c.connected;
      await c.write(`POST /slow?tag=${tag} HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${'f'.repeat(5000)}`);
      await waitUntil(() => tempFds(srv) > 0, 2000, 'the body in a temporary file');
      await delay(50);
      assert.equal(c.size, 0, 'no answer yet: the app is still running');
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    stage(`while the app runs, over uwsgi (${how}): tsgi.signal fires, close() runs`, async () => {
      const tag = `run-uwsgi-${how}`;
      const c = dial(UWSGI(srv));
      await c.connected;
      await c.write(uwsgiRequest('POST', `/slow?tag=${tag}`, Buffer.alloc(3000, 0x75)));
      await delay(50);
      cut(c, how);
      await waitLog(srv, [`abort ${tag}`, `close ${tag}`]);
    });
    for (const proto of ['http', 'uwsgi']) {
      stage(`mid-response of a large streamed body over ${proto}, after 100 KiB (${how}): close() runs, the body stops`, async () => {
        const tag = `big-${proto}-${how}`;
        const c = dial(proto === 'http' ? HTTP(srv) : UWSGI(srv));
        await c.connected;
        await c.write(proto === 'http' ? `GET /big?tag=${tag}&kib=65536 HTTP/1.1\r\nHost: a\r\n\r\n` : uwsgiRequest('GET', `/big?tag=${tag}&kib=65536`));
        await waitUntil(() => c.size >= 100 * 1024 || c.closed, 3000, '100 KiB of the response');
        assert.match(c.data().subarray(0, 20).toString('latin1'), /^HTTP\/1\.1 200 /);
        cut(c, how);
        const log = await waitLog(srv, [`abort ${tag}`, new RegExp(`^close ${tag} sent=\\d+$`, 'm')]);
        const sent = Number(new RegExp(`^close ${tag} sent=(\\d+)$`, 'm').exec(log)[1]);
        // Backpressure: the app is not pulled much past what the socket took.
        assert.ok(sent < 16 * 1024 * 1024, `the body stopped when the client went away (${sent} bytes pulled)`);
      });
    }
  }

  for (const [name, fn] of stages) {
    const started = Date.now();
    try {
      await fn();
      await assertClean(srv, base, name);
    } catch (err) {
      err.message = `${name}: ${err.message}`;
      throw err;
    }
    timings.push(`${name}: ${Date.now() - started} ms`);
  }
  t.diagnostic(`${stages.length} stages; fds back to ${procFds(srv.pid).length} (baseline ${base}) after each`);
  const log = readFileSync(srv.log, 'latin1').trim().split('\n');
  // close() exactly once per request the app saw.
  const closes = log.filter((l) => l.startsWith('close '));
  assert.equal(new Set(closes.map((l) => l.split(' ')[1])).size, closes.length, `close() once per request: ${JSON.stringify(log)}`);
  await assertStops(srv);
});

// ---------------------------------------------------------------------------------
// 3. Slowloris

test('slowloris: 200 connections trickling a head byte per 200 ms get 408 (or a close) 2-4 s after their first byte; others are served throughout', { timeout: 30000 }, async (t) => {
  const srv = await startTsgi(t, ['--http-timeout', '2']);
  const base = await baseline(srv);
  const N = 200;
  const head = Buffer.from(`GET /slow-loris HTTP/1.1\r\nHost: a\r\nUser-Agent: ${'s'.repeat(200)}\r\n\r\n`);
  const conns = [];
  for (let i = 0; i < N; i++) conns.push(dial(HTTP(srv)));
  await withTimeout(Promise.all(conns.map((c) => c.connected)), 5000, `${N} connections`);
  await waitUntil(() => procFds(srv.pid).length >= base + N, 3000, 'the server to accept them all');
  const probes = prober(srv, 100);
  for (const c of conns) {
    c.sent = 0;
    c.firstByteAt = undefined;
  }
  // One byte per connection per 200 ms, until the server answers or closes.
  const started = Date.now();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      let active = 0;
      for (const c of conns) {
        if (c.closed || c.size > 0 || c.sent >= head.length) continue;
        active++;
        if (c.firstByteAt === undefined) c.firstByteAt = Date.now();
        c.socket.write(head.subarray(c.sent, c.sent + 1));
        c.sent++;
      }
      if (active === 0 || Date.now() - started > 8000) {
        clearInterval(timer);
        resolve();
      }
    }, 200);
  });
  await waitUntil(() => conns.every((c) => c.closed), 4000, 'the server to close every slow connection').catch(() => {});
  const probed = await probes.stop();
  const late = [];
  const statuses = {};
  const waits = [];
  for (const c of conns) {
    const answerAt = c.firstDataAt ?? c.closedAt;
    const text = c.data().toString('latin1');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? (c.closed ? 'closed' : 'open');
    statuses[status] = (statuses[status] ?? 0) + 1;
    const waited = answerAt === undefined ? Infinity : answerAt - c.firstByteAt;
    waits.push(waited);
    if (!(waited >= 1800 && waited <= 4000)) late.push(`${status} after ${waited} ms (${c.sent} bytes sent)`);
    c.socket.destroy();
  }
  waits.sort((a, b) => a - b);
  t.diagnostic(`slowloris: ${JSON.stringify(statuses)}; first byte to answer: min ${waits[0]} ms, median ${waits[N >> 1]} ms, max ${waits[N - 1]} ms; ${probed.count} probes, slowest ${probed.maxMs} ms; ${srv.counts.refusedHttp} "refused" lines`);
  assert.deepEqual(probed.failures, [], 'a normal client is served throughout');
  assert.ok(probed.maxMs < 1000, `probes stay fast (slowest ${probed.maxMs} ms)`);
  assert.deepEqual(late, [], 'every slow connection gets its 408 or close 2-4 s after its first byte');
  assert.equal(statuses['408'], N, `every slow connection gets a 408: ${JSON.stringify(statuses)}`);
  await delay(200);
  assert.equal(srv.counts.refusedHttp, N, 'one "refused 408" log line each');
  const fds = await assertClean(srv, base, 'after slowloris');
  t.diagnostic(`fds: baseline ${base}, with ${N} slow connections ${base + N}+, after ${fds}`);
  await assertStops(srv);
});

// ---------------------------------------------------------------------------------
// 4. Many idle keep-alive connections

test('1000 idle keep-alive connections: a new request is still served quickly; RSS per idle connection is small', { timeout: 40000 }, async (t) => {
  const srv = await startTsgi(t, ['--disable-logging']);
  const base = await baseline(srv);
  const ownFds = readdirSync('/proc/self/fd').length;
  const room = Math.min(nofileLimit(srv.pid) - base, nofileLimit(process.pid) - ownFds) - 100;
  const N = Math.max(50, Math.min(1000, room));
  t.diagnostic(`ulimit -n: server ${nofileLimit(srv.pid)}, test ${nofileLimit(process.pid)}; using ${N} idle connections`);
  // Warm up the server's request path (and its JavaScript heap) first.
  const warm = [];
  for (let i = 0; i < 10; i++) warm.push((async () => { for (let k = 0; k < 100; k++) await probe(srv); })());
  await Promise.all(warm);
  await delay(300);
  const rssBefore = rssKiB(srv.pid);
  const conns = [];
  const req = Buffer.from('GET /idle HTTP/1.1\r\nHost: idle\r\n\r\n');
  for (let i = 0; i < N; i += 100) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 100); k++) {
      const c = dial(HTTP(srv));
      conns.push(c);
      batch.push(c.connected.then(() => c.write(req)));
    }
    await withTimeout(Promise.all(batch), 5000, 'a batch of connections');
  }
  await waitUntil(() => conns.every((c) => responses(1)(c.data())), 10000, `${N} responses`);
  assert.ok(conns.every((c) => !c.closed), 'the connections stay open (keep-alive)');
  await delay(300);
  const fdsOpen = procFds(srv.pid).length;
  const rssAfter = rssKiB(srv.pid);
  const started = Date.now();
  const ms = await probe(srv, { ms: 2000 });
  const uwsgiMs = await probe(srv, { uwsgi: true, ms: 2000 });
  const growth = rssAfter - rssBefore;
  t.diagnostic(`idle: RSS ${rssBefore} KiB -> ${rssAfter} KiB with ${N} idle keep-alive connections: +${growth} KiB, ${((growth * 1024) / N).toFixed(0)} bytes per connection; fds ${base} -> ${fdsOpen}; a new request took ${ms} ms (uwsgi ${uwsgiMs} ms)`);
  assert.ok(fdsOpen >= base + N, `the server holds the ${N} connections (${fdsOpen} fds)`);
  assert.ok(Date.now() - started < 1000, 'a new request is served quickly');
  assert.ok(growth < (64 * 1024 * N) / 1000, `RSS grows less than 64 MiB per 1000 idle connections (+${growth} KiB for ${N})`);
  for (const c of conns) c.socket.destroy();
  await assertClean(srv, base, 'after the idle connections closed');
  await assertStops(srv);
});

// ---------------------------------------------------------------------------------
// 5. Memory soak

/** count keep-alive POSTs of body over conns connections; resolves with the requests done. */
async function postMany(srv, count, conns, body) {
  const request = Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: soak\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
  const expect = `${body.length}\n`;
  let issued = 0;
  let done = 0;
  const one = (c) =>
    new Promise((resolve, reject) => {
      let buf = Buffer.alloc(0);
      const next = () => {
        if (issued >= count) {
          c.socket.off('data', onData);
          resolve();
          return;
        }
        issued++;
        c.socket.write(request);
      };
      const onData = (d) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const m = /\r\nContent-Length: (\d+)/i.exec(head);
          if (!head.startsWith('HTTP/1.1 200 ') || !m) {
            reject(new Error(`unexpected response ${JSON.stringify(head)}`));
            return;
          }
          const total = end + 4 + Number(m[1]);
          if (buf.length < total) return;
          const got = buf.subarray(end + 4, total).toString('latin1');
          if (got !== expect) {
            reject(new Error(`unexpected body ${JSON.stringify(got)}`));
            return;
          }
          buf = buf.subarray(total);
          done++;
          next();
        }
      };
      c.socket.on('data', onData);
      c.closedP.then(() => reject(new Error(`the server closed a keep-alive connection after ${done} requests`)));
      next();
    });
  await Promise.all(conns.map(one));
  return done;
}

test('memory soak: 2 x 50,000 keep-alive POSTs of 4 KiB on 20 connections; RSS does not grow per request', { timeout: 60000 }, async (t) => {
  const srv = await startTsgi(t, []);
  const base = await baseline(srv);
  const conns = Array.from({ length: 20 }, () => dial(HTTP(srv)));
  await withTimeout(Promise.all(conns.map((c) => c.connected)), 5000, 'connections');
  for (const c of conns) c.socket.removeAllListeners('data');
  const body = Buffer.alloc(4096, 0x71);
  const rss0 = rssKiB(srv.pid);
  let started = Date.now();
  const first = await withTimeout(postMany(srv, 50000, conns, body), 25000, 'the first 50,000 requests');
  const ms1 = Date.now() - started;
  await delay(500);
  const rss1 = rssKiB(srv.pid);
  started = Date.now();
  const second = await withTimeout(postMany(srv, 50000, conns, body), 25000, 'the second 50,000 requests');
  const ms2 = Date.now() - started;
  await delay(500);
  const rss2 = rssKiB(srv.pid);
  t.diagnostic(`soak: RSS ${rss0} KiB at start, ${rss1} KiB after 50,000 (${ms1} ms, ${Math.round(first / (ms1 / 1000))} req/s), ${rss2} KiB after 100,000 (${ms2} ms); second batch ${rss2 - rss1 >= 0 ? '+' : ''}${rss2 - rss1} KiB`);
  assert.equal(first, 50000);
  assert.equal(second, 50000);
  assert.ok(rss2 - rss1 < 16 * 1024, `RSS after 100,000 requests (${rss2} KiB) is within 16 MiB of RSS after 50,000 (${rss1} KiB)`);
  for (const c of conns) c.socket.destroy();
  await assertClean(srv, base, 'after the soak');
  await delay(200);
  assert.ok(srv.counts.generated >= 100000, `a log line per request (${srv.counts.generated})`);
  await assertStops(srv);
});

// ---------------------------------------------------------------------------------
// 6. Pipelined garbage

test('pipelined garbage: a valid request then garbage on one connection gets the 200, then the 400, then the close', { timeout: 20000 }, async (t) => {
  const srv = await startTsgi(t, []);
  const base = await baseline(srv);
  const cases = [
    ['sync app, one write', ['GET /first HTTP/1.1\r\nHost: a\r\n\r\nthis is \x01 not http\r\n\r\n']],
    ['sync app, garbage in a later write', ['GET /first HTTP/1.1\r\nHost: a\r\n\r\n', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n']],
    ['async app (200 ms), one write', ['GET /slow?tag=pipe HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n']],
    ['a body, then a bad request line', ['POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET  / HTTP/1.1\r\nHost: a\r\n\r\n']],
    ['keep-alive, then a huge garbage line', ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'X'.repeat(10000)]],
  ];
  for (const [name, pieces] of cases) {
    const refusedBefore = srv.counts.refusedHttp;
    const c = dial(HTTP(srv));
    await c.connected;
    for (const p of pieces) {
      await c.write(Buffer.from(p, 'latin1'));
      await delay(30);
    }
    await withTimeout(c.closedP, 4000, `${name}: the server to close the connection`).catch((err) => {
      throw new Error(`${err.message}; got ${JSON.stringify(c.data().toString('latin1'))}`);
    });
    const all = parseResponses(c.data(), { closed: true });
    assert.ok(all.length === 2 && all[0].status === 200 && (all[1].status === 400 || (name.includes('huge') && all[1].status === 431)), `${name}: ${JSON.stringify(c.data().toString('latin1'))}`);
    assert.ok(all.every((r) => r.complete), `${name}: complete responses`);
    assert.equal(all[1].header('connection'), 'close', `${name}: the refusal closes`);
    assert.equal(c.data().length, all[1].end, `${name}: nothing after the refusal`);
    await waitUntil(() => srv.counts.refusedHttp === refusedBefore + 1, 2000, `${name}: one "refused" line`);
    c.socket.destroy();
  }
  await assertClean(srv, base, 'after pipelined garbage');
  await assertStops(srv);
});
