// The fuzz run of test/integration/faults-fuzz.test.mjs: a seeded generator, well-formed
// HTTP and uwsgi inputs with the status each must get, mutations and garbage, and one
// fuzz connection (split, delayed, ended in one of five ways) with what it saw counted.
// When the run fails, writeRepro() puts its last inputs in a JSON file.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP, UWSGI, dial } from './faults-clients.mjs';
import { responses } from './raw-client.mjs';
import { nginxLikePacket, uwsgiPacket } from './uwsgi-client.mjs';
import { delay, waitUntil, withTimeout } from './wait.mjs';

export function mulberry32(seed) {
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

export function chunked(r, body) {
  let out = '';
  let at = 0;
  while (at < body.length) {
    const n = Math.min(body.length - at, 1 + int(r, 900));
    out += `${n.toString(16)}${r() < 0.1 ? ';ext=1' : ''}\r\n${body.slice(at, at + n)}\r\n`;
    at += n;
  }
  return `${out}0\r\n\r\n`;
}

/** A well-formed HTTP input and the status it must get (as the first final answer): [text, status]. */
export function httpSeed(r) {
  const n = int(r, 3000); // --post-buffering 1024: about two in three spill to a file
  const body = 'b'.repeat(n);
  const get = (p = '/') => `GET ${p} HTTP/1.1\r\nHost: fuzz\r\nUser-Agent: fuzz/1\r\nAccept: */*\r\n\r\n`;
  switch (int(r, 14)) {
    case 0: return [get(`/?q=${n}&x=%41%42`), 200];
    case 1: return ['GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', 200];
    case 2: return [`POST /echo HTTP/1.1\r\nHost: fuzz\r\nContent-Type: text/plain\r\nContent-Length: ${n}\r\n\r\n${body}`, 200];
    case 3: return [`POST /echo HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(r, body)}`, 200];
    case 4: return [get('/a') + `POST /echo HTTP/1.1\r\nHost: fuzz\r\nContent-Length: ${n}\r\n\r\n${body}` + get('/c'), 200];
    case 5: return ['HEAD / HTTP/1.1\r\nHost: fuzz\r\n\r\n', 200];
    case 6: return [get('/slow?tag=fuzz'), 200];
    case 7: return [`POST /echo HTTP/1.1\r\nHost: fuzz\r\nExpect: 100-continue\r\nContent-Length: ${n}\r\n\r\n${body}`, 200];
    case 8: return [`OPTIONS * HTTP/1.1\r\nHost: fuzz\r\nCookie: a=1\r\nCookie: b=2\r\nX_Under: y\r\n\r\n`, 200];
    case 9: return [get(`/big?tag=fuzz&kib=${64 + int(r, 512)}`), 200]; // the write path, with backpressure
    case 10: return [`POST /echo HTTP/1.1\r\nHost: fuzz\r\nContent-Length: 50000000\r\n\r\n${body}`, 413]; // --limit-post 10000000
    case 11: return [`GET / HTTP/1.1\r\nHost: fuzz\r\nX-Big: ${'h'.repeat(4200)}\r\n\r\n`, 431]; // --buffer-size 4096
    case 12: return [`POST /echo HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${chunked(r, body)}`, 501];
    default: return [`GET / HTTP/2.0\r\nHost: fuzz\r\n\r\n`, 505];
  }
}

/** A well-formed uwsgi packet and its status (undefined: closed without an answer). */
export function uwsgiSeed(r) {
  const n = int(r, 3000);
  switch (int(r, 5)) {
    case 0: return [nginxLikePacket('GET', `/u?q=${n}`), 200];
    case 1: return [nginxLikePacket('POST', '/echo', Buffer.alloc(n, 0x62)), 200];
    case 2: return [nginxLikePacket('GET', `/big?tag=fuzz-uwsgi&kib=${64 + int(r, 512)}`), 200];
    case 3: return [uwsgiPacket([['REQUEST_METHOD', 'GET'], ['HTTP_X_BIG', 'v'.repeat(4200)]]), undefined]; // over buffer-size: refused
    default: return [nginxLikePacket('GET', '/slow?tag=fuzz-uwsgi'), 200];
  }
}

const TOKENS = ['\r\n', '\n', '\r', ':', ' ', '\0', '\r\n\r\n', 'Transfer-Encoding: chunked\r\n', 'Content-Length: 99999\r\n', 'Content-Length: 5\r\n', 'Host: x\r\n', '\t', '%', '0\r\n\r\n', 'ffffffffffffffff\r\n', '\xff\xfe'];

export function mutate(r, buf) {
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

export function garbage(r) {
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
export async function fuzzConnection(r, srv, ring, stats, worker, seq) {
  const uwsgi = r() < 0.35;
  const kind = r();
  let bytes;
  let expect;
  if (kind < 0.2) bytes = garbage(r);
  else {
    [bytes, expect] = uwsgi ? uwsgiSeed(r) : httpSeed(r);
    bytes = Buffer.from(bytes, 'latin1');
    if (kind < 0.85) bytes = mutate(r, bytes);
  }
  // Unmutated: split or not, it must get its status.
  const valid = kind >= 0.85 && expect !== undefined;
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
  let ending = pick(r, ['read', 'read', 'end', 'destroy', 'rst']);
  if (uwsgi && ending === 'rst') ending = 'destroy'; // unix sockets have no reset
  const stopAt = ending === 'destroy' || ending === 'rst' ? int(r, pieces.length + 1) : pieces.length;
  ring.push({ worker, seq, at: Date.now(), proto: uwsgi ? 'uwsgi' : 'http', valid, expect, ending, stopAt, delays, pieces: pieces.map((p) => p.toString('base64')) });
  if (ring.length > 3000) ring.shift();

  const c = dial(uwsgi ? UWSGI(srv) : HTTP(srv));
  try {
    await withTimeout(c.connected, 2000, 'connect');
  } catch (err) {
    stats.connectFailures.push(err.message);
    c.socket.destroy();
    return;
  }
  stats.connections++;
  for (let i = 0; i < stopAt && !c.ended; i++) {
    if (delays[i]) await delay(delays[i]);
    if (!(await c.send(pieces[i]))) break;
  }
  if (ending === 'rst') {
    if (!c.ended) c.socket.resetAndDestroy();
  } else if (ending === 'destroy') {
    c.socket.destroy();
  } else if (ending === 'end') {
    c.socket.end(); // a half-closed client counts as gone: no answer is owed
    await waitUntil(() => c.ended, 300, 'x').catch(() => {});
    c.socket.destroy();
  } else {
    const final = (d) => /(^|\r\n)HTTP\/1\.1 [2-5]\d\d /.test(d.toString('latin1'));
    await waitUntil(() => c.ended || (valid ? final(c.data) : responses(1)(c.data)), valid ? 1000 : 300, 'x').catch(() => {});
    c.socket.destroy();
    if (valid) {
      stats.validSent++;
      const text = c.data.toString('latin1');
      const status = /(?:^|\r\n)HTTP\/1\.1 ([2-5]\d\d) /.exec(text)?.[1];
      if (status !== String(expect)) {
        stats.validUnanswered.push({
          worker,
          seq,
          at: Date.now(),
          proto: uwsgi ? 'uwsgi' : 'http',
          expect,
          answer: status === undefined ? `no answer within 1 s (${c.ended ? 'closed' : 'open'}): ${JSON.stringify(text.slice(0, 100))}` : text.split('\r\n')[0],
          pieces: pieces.map((p) => p.toString('latin1')),
          delays,
        });
      }
    }
  }
  const data = c.data;
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

export function writeRepro(srv, seed, ring, stats) {
  const file = join(tmpdir(), `tsgi-faults-repro-${process.pid}-${seed}.json`);
  writeFileSync(
    file,
    JSON.stringify({ seed, argv: srv.argv.slice(1), exit: srv.exit, stderrTail: srv.tail, stats, lastInputs: ring }, null, 1),
  );
  return file;
}
