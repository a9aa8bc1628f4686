#!/usr/bin/env node
// The websocket scenario's load generator: CONNECTIONS raw WebSocket connections to
// 127.0.0.1:PORT, each sending a small text message (masked, as a client must) and
// sending the next as soon as the echo is in (one message in flight per connection).
// Raw frames, not a client library, so that the client costs little next to the
// server. After WARMUP seconds it counts the echoes for SECONDS seconds, and the CPU
// time the server process SERVER_PID used meanwhile (/proc/PID/stat), and prints one
// JSON line: { messages, seconds, serverCpuSeconds, connections, errors }.
//
//   node bench/lib/websocket-client.mjs PORT PATH CONNECTIONS SECONDS WARMUP BYTES SERVER_PID
import net from 'node:net';
import { procStat } from '../../test/lib/proc.mjs';
import { execSync } from 'node:child_process';

const [port, path, connections, seconds, warmup, bytes, serverPid] = process.argv.slice(2);
const n = Number(connections);
const size = Number(bytes);
if (size > 125) throw new Error('BYTES: at most 125 (one-byte length)');
const HZ = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
const payload = Buffer.alloc(size, 0x61);
for (let i = 0; i < size; i++) payload[i] ^= key[i & 3];
const frame = Buffer.concat([Buffer.from([0x81, 0x80 | size]), key, payload]);
const reply = 2 + size;
const handshake = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

let count = 0;
let errors = 0;
let open = 0;
const sockets = [];
await new Promise((resolve, reject) => {
  for (let i = 0; i < n; i++) {
    const s = net.connect(Number(port), '127.0.0.1');
    s.setNoDelay(true);
    sockets.push(s);
    let upgraded = false;
    let head = Buffer.alloc(0);
    let pending = 0;
    s.on('connect', () => s.write(handshake));
    s.on('error', () => errors++);
    s.on('data', (d) => {
      if (!upgraded) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) {
          reject(new Error(`no 101: ${head.subarray(0, 200).toString()}`));
          return;
        }
        upgraded = true;
        pending = head.length - end - 4;
        if (++open === n) resolve();
        s.write(frame);
        return;
      }
      pending += d.length;
      while (pending >= reply) {
        pending -= reply;
        count++;
        s.write(frame);
      }
    });
  }
});
await new Promise((r) => setTimeout(r, Number(warmup) * 1000));
const c0 = count;
const t0 = process.hrtime.bigint();
const cpu0 = procStat(serverPid).ticks;
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const c1 = count;
const t1 = process.hrtime.bigint();
const cpu1 = procStat(serverPid).ticks;
for (const s of sockets) s.destroy();
process.stdout.write(JSON.stringify({ messages: c1 - c0, seconds: Number(t1 - t0) / 1e9, serverCpuSeconds: (cpu1 - cpu0) / HZ, connections: n, errors }) + '\n');
process.exit(0);
