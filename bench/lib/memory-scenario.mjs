// The "memory" scenario of npm run bench (BENCH_SCENARIOS=memory): what a server holds,
// measured as the growth of its resident set (/proc/PID/status VmRSS).
//   idle    a warm-up of BENCH_MEMORY_WARM requests, each on a connection of its own (so
//           that the JavaScript heap has grown to its working size and the allocator's
//           arenas exist: what a server that has served a while looks like), then
//           BENCH_MEMORY_IDLE (10,000) keep-alive connections opened and left idle after
//           one request each: RSS growth per connection; tsgi-native, tsgi-js, node:http,
//           and node:net with no HTTP parser (the floor of any server written in JavaScript).
//   upload  a request with a BENCH_MEMORY_UPLOAD_MB (1,024) MiB body, sent as fast as the
//           server takes it, the peak RSS growth sampled every 10 ms (bench/apps/upload.mjs):
//           once to an application that does not read it (the server's own buffering,
//           against post-buffering: the default 64 KiB, above which a body goes to a
//           temporary file), once to one that reads it 64 KiB at a time (reported: each read
//           is a new Buffer, garbage until the next collection).
//   soak    BENCH_MEMORY_SOAK (1,000,000) requests by wrk (50 connections, 1 s at a time):
//           RSS and open descriptors after the first run that passes a tenth of them,
//           against after the last.
// Targets (the issue's): an idle connection <= 1 KiB (tsgi-native), <= 4 KiB (tsgi-js);
// the upload's growth < 2 x post-buffering; the soak's RSS growth < 5%, no descriptor more.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdCount, nofileLimit, residentBytes } from '../../test/lib/proc.mjs';
import { ROOT } from './settings.mjs';
import { HELLO_PEER, NET_PEER, UPLOAD_PEER } from './hello-peer.mjs';
import { targetsTable } from './targets.mjs';

export const MEMORY_TARGETS = { idleBytes: { 'tsgi-native': 1024, 'tsgi-js': 4096 }, uploadTimesPostBuffering: 2, soakGrowthPct: 5 };
const POST_BUFFERING = 65536;


const UPLOAD_APP = 'bench/apps/upload.mjs';

const SERVERS = [
  { name: 'tsgi-native', args: ['--backend', 'native'] },
  { name: 'tsgi-js', args: ['--backend', 'js'] },
  { name: 'node-http', peer: true },
  // The floor under both: Node's sockets with no HTTP parser (idle and upload only).
  { name: 'node-net', peer: true, net: true },
];
const PEERS = new Set(SERVERS.filter((s) => s.peer).map((s) => s.name));

/** A server started with app; resolves once it says its port. */
function start(server, app, extra = []) {
  return new Promise((resolve, reject) => {
    const args = server.peer
      ? ['-e', server.net ? NET_PEER : app === UPLOAD_APP ? UPLOAD_PEER : HELLO_PEER]
      : [path.join(ROOT, 'bin/tsgi.js'), '--http', '127.0.0.1:0', '--disable-logging', '--post-buffering', String(POST_BUFFERING), ...server.args, ...extra, '--wsgi-file', app];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${server.name} did not bind within 20 s: ${err.slice(-300)}`)), 20000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      err += d;
      const m = /bound to TCP address [^\s:]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, pid: child.pid, port: Number(m[1]), stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${server.name} exited (${code}) before binding: ${err.slice(-300)}`));
    });
  });
}

async function stop(h) {
  if (h.child.exitCode !== null || h.child.signalCode !== null) return;
  const exited = new Promise((r) => h.child.once('exit', r));
  h.child.kill('SIGINT');
  const killer = setTimeout(() => h.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(killer);
}

const HELLO_REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench\r\n\r\n');

/** A connection that sent one request and got its whole (14-byte body) answer; kept open. */
function connectedAfterOne(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(HELLO_REQUEST));
    let got = '';
    s.setEncoding('latin1');
    const onData = (d) => {
      got += d;
      if (got.endsWith('Hello, World!\n')) {
        s.off('data', onData);
        resolve(s);
      }
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

/** n connections, batch at a time, each after one request. */
async function openConnections(port, n, batch = 200) {
  const out = [];
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, () => connectedAfterOne(port)))));
  return out;
}

async function idleCase(ctx, server, { idle, warm }) {
  const h = await start(server, 'bench/apps/hello.mjs');
  try {
    for (let done = 0; done < warm; done += 200) for (const s of await openConnections(h.port, Math.min(200, warm - done))) s.destroy();
    await sleep(1000);
    const before = residentBytes(h.pid);
    const fdsBefore = fdCount(h.pid);
    const socks = await openConnections(h.port, idle);
    await sleep(1000);
    const after = residentBytes(h.pid);
    const fdsAfter = fdCount(h.pid);
    for (const s of socks) s.destroy();
    if (fdsAfter - fdsBefore < idle) throw new Error(`holds ${fdsAfter - fdsBefore} descriptors more, not ${idle}: the connections did not stay open`);
    const perConnection = (after - before) / idle;
    ctx.say(`    idle ${server.name.padEnd(12)} RSS ${(before / 1024).toFixed(0)} -> ${(after / 1024).toFixed(0)} KiB with ${idle} idle keep-alive connections: ${perConnection.toFixed(0)} bytes each`);
    return { server: server.name, connections: idle, warm, rssBefore: before, rssAfter: after, bytesPerConnection: perConnection };
  } finally {
    await stop(h);
  }
}

/** One request to path with a body of `bytes`; resolves with the answer and the peak RSS seen. */
function upload(port, pid, path, bytes) {
  return new Promise((resolve, reject) => {
    const piece = Buffer.alloc(1 << 20, 0x61);
    const s = net.connect(port, '127.0.0.1');
    let peak = residentBytes(pid);
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, residentBytes(pid));
      } catch {
        // the server went away: the answer (or its absence) says so
      }
    }, 10);
    let sent = 0;
    let got = '';
    const pump = () => {
      while (sent < bytes) {
        const n = Math.min(piece.length, bytes - sent);
        sent += n;
        if (!s.write(n === piece.length ? piece : piece.subarray(0, n))) return void s.once('drain', pump);
      }
    };
    s.on('connect', () => {
      s.write(`POST ${path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`);
      pump();
    });
    s.setEncoding('latin1');
    s.on('data', (d) => (got += d));
    s.on('end', () => {
      clearInterval(sampler);
      resolve({ answer: got, peak });
    });
    s.on('error', (err) => {
      clearInterval(sampler);
      reject(err);
    });
  });
}

async function uploadCase(ctx, server, { mib }) {
  const h = await start(server, UPLOAD_APP);
  try {
    // A warm-up: a body over post-buffering, so that the temporary file's path is taken once.
    await upload(h.port, h.pid, '/read', 4 << 20);
    await sleep(500);
    const bytes = mib * 1024 * 1024;
    const out = { server: server.name, bytes, postBuffering: POST_BUFFERING };
    for (const [path, key] of [['/length', 'unread'], ['/read', 'read']]) {
      const before = residentBytes(h.pid);
      const t0 = performance.now();
      const { answer, peak } = await upload(h.port, h.pid, path, bytes);
      const seconds = (performance.now() - t0) / 1000;
      if (!answer.startsWith('HTTP/1.1 200') || answer.split('\r\n\r\n')[1] !== `${bytes}\n`) throw new Error(`answered POST ${path} wrongly: ${answer.slice(0, 200)}`);
      out[key] = { seconds, rssBefore: before, rssPeak: peak, growth: peak - before };
      ctx.say(`    upload ${server.name.padEnd(12)} ${mib} MiB to ${path.padEnd(7)} in ${seconds.toFixed(1)} s: RSS ${(before / 1024).toFixed(0)} KiB, peak +${((peak - before) / 1024).toFixed(0)} KiB (post-buffering ${POST_BUFFERING / 1024} KiB)`);
      await sleep(500);
    }
    return out;
  } finally {
    await stop(h);
  }
}

async function soakCase(ctx, server, { total }) {
  const h = await start(server, 'bench/apps/hello.mjs');
  try {
    const url = `http://127.0.0.1:${h.port}/`;
    let done = 0;
    let first;
    let errors = 0;
    while (done < total) {
      const r = await ctx.runWrk(url, { bodyBytes: 0 }, 1, undefined, { connections: 50 });
      if (!r.ok) throw new Error(r.error);
      done += r.requests;
      errors += r.errors + r.non2xx;
      if (first === undefined && done >= total / 10) {
        await sleep(300);
        first = { requests: done, rss: residentBytes(h.pid), fds: fdCount(h.pid) };
      }
    }
    await sleep(300);
    const last = { requests: done, rss: residentBytes(h.pid), fds: fdCount(h.pid) };
    const growthPct = (100 * (last.rss - first.rss)) / first.rss;
    ctx.say(
      `    soak ${server.name.padEnd(12)} ${done} requests (${errors} errors): RSS ${(first.rss / 1024).toFixed(0)} KiB after ${first.requests}, ${(last.rss / 1024).toFixed(0)} KiB after ${last.requests} (${growthPct >= 0 ? '+' : ''}${growthPct.toFixed(1)}%); descriptors ${first.fds} -> ${last.fds}`,
    );
    return { server: server.name, requests: done, errors, first, last, growthPct };
  } finally {
    await stop(h);
  }
}

/** Runs the three parts; ctx: run.mjs's (say, fail, note, runWrk). */
export async function runMemory(ctx, { idle, warm, uploadMiB, soak }) {
  const room = nofileLimit(process.pid) - 200;
  if (room < idle) {
    ctx.note(`memory: ulimit -n allows ${room + 200} descriptors: ${Math.max(room, 100)} idle connections instead of ${idle}`);
    idle = Math.max(room, 100);
  }
  const sc = { idle: [], upload: [], soak: [] };
  for (const server of SERVERS) {
    try {
      sc.idle.push(await idleCase(ctx, server, { idle, warm }));
    } catch (err) {
      ctx.fail(`memory/idle ${server.name}: ${err.message}`);
    }
  }
  // node:http too, reading the body as it streams in: the floor of the js backend.
  for (const server of SERVERS) {
    try {
      sc.upload.push(await uploadCase(ctx, server, { mib: uploadMiB }));
    } catch (err) {
      ctx.fail(`memory/upload ${server.name}: ${err.message}`);
    }
  }
  if (ctx.wrkPath) {
    // node:http too: its own growth over the same soak is the floor the js backend,
    // built on it, stands on.
    for (const server of SERVERS.filter((s) => !s.net)) {
      try {
        sc.soak.push(await soakCase(ctx, server, { total: soak }));
      } catch (err) {
        ctx.fail(`memory/soak ${server.name}: ${err.message}`);
      }
    }
  } else {
    ctx.note('memory: the soak needs wrk, which is not installed: skipped');
  }
  sc.targets = memoryTargets(sc);
  return sc;
}

/** Each target with the run's figure and verdict (met undefined: not measured). */
export function memoryTargets(sc) {
  const out = [];
  for (const [server, limit] of Object.entries(MEMORY_TARGETS.idleBytes)) {
    const r = sc.idle.find((x) => x.server === server);
    out.push({ what: `idle keep-alive connection, ${server}`, target: `<= ${limit} bytes`, figure: r && `${r.bytesPerConnection.toFixed(0)} bytes`, met: r && r.bytesPerConnection <= limit });
  }
  for (const r of sc.upload.filter((x) => !PEERS.has(x.server))) {
    const limit = MEMORY_TARGETS.uploadTimesPostBuffering * r.postBuffering;
    out.push({
      what: `${r.bytes / 1048576} MiB upload, ${r.server}: peak RSS growth (not read; read 64 KiB at a time)`,
      target: `< ${limit / 1024} KiB`,
      figure: `${(r.unread.growth / 1024).toFixed(0)} KiB (${(r.read.growth / 1024).toFixed(0)} KiB)`,
      met: r.unread.growth < limit,
    });
  }
  for (const r of sc.soak.filter((x) => !PEERS.has(x.server))) {
    out.push({
      what: `${r.requests} requests, ${r.server}: RSS growth, descriptors`,
      target: `< ${MEMORY_TARGETS.soakGrowthPct}%, none more`,
      figure: `${r.growthPct.toFixed(1)}%, ${r.first.fds} -> ${r.last.fds}`,
      met: r.growthPct < MEMORY_TARGETS.soakGrowthPct && r.last.fds <= r.first.fds && r.errors === 0,
    });
  }
  return out;
}

export function reportMemory(ctx, sc) {
  ctx.say('');
  ctx.say('memory — RSS growth (VmRSS): idle keep-alive connections after a warm-up, a large upload, a soak');
  targetsTable(ctx, sc.targets);
  const peer = sc.idle.find((r) => r.server === 'node-http');
  if (peer) ctx.say(`  node:http alone, same warm-up: ${peer.bytesPerConnection.toFixed(0)} bytes per idle keep-alive connection`);
  const uploadPeer = sc.upload.find((r) => r.server === 'node-http');
  if (uploadPeer) ctx.say(`  node:http alone, same upload read as it streams: peak RSS +${(uploadPeer.unread.growth / 1024).toFixed(0)} KiB`);
  const net = sc.idle.find((r) => r.server === 'node-net');
  if (net) ctx.say(`  node:net alone (no HTTP parser), same warm-up: ${net.bytesPerConnection.toFixed(0)} bytes per idle keep-alive connection`);
  const netUpload = sc.upload.find((r) => r.server === 'node-net');
  if (netUpload) ctx.say(`  node:net alone, same upload counted as it streams: peak RSS +${(netUpload.unread.growth / 1024).toFixed(0)} KiB`);
  const soakPeer = sc.soak.find((r) => r.server === 'node-http');
  if (soakPeer) ctx.say(`  node:http alone, same soak: RSS ${soakPeer.growthPct >= 0 ? '+' : ''}${soakPeer.growthPct.toFixed(1)}% over ${soakPeer.requests} requests`);
}
