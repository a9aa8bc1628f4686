// WebSocket clients for the tests: ws's own WebSocket (a real client, as an application's
// users have), with its messages and its close awaited in order, and a raw one that writes
// the handshake and frames byte by byte, for what a library client will not send.
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const LIMIT_MS = 10000;

function bounded(promise, what, ms = LIMIT_MS) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Opens url with ws's WebSocket. Resolves to { ws, next(), closed, send(data) } once open:
 * next() is the next message ({ data: string | Buffer, binary }), closed resolves with
 * { code, reason } (both bounded in time). Rejects with the handshake's refusal
 * (ws's 'unexpected-response': { status }).
 */
export function openWebSocket(url, options = {}) {
  const ws = new WebSocket(url, options.protocols, { handshakeTimeout: LIMIT_MS, ...options });
  const queue = [];
  const takers = [];
  ws.on('message', (data, binary) => {
    const m = { data: binary ? data : data.toString(), binary };
    const take = takers.shift();
    if (take) take(m);
    else queue.push(m);
  });
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return bounded(
    new Promise((resolve, reject) => {
      ws.once('open', () =>
        resolve({
          ws,
          next: () => bounded(queue.length > 0 ? Promise.resolve(queue.shift()) : new Promise((r) => takers.push(r)), `a message from ${url}`),
          closed: bounded(closed, `the close of ${url}`),
          send: (data) => ws.send(data),
        }),
      );
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers }));
        res.resume();
        ws.terminate();
      });
      ws.once('error', reject);
    }),
    `the handshake of ${url}`,
  );
}

/** A client frame (masked, RFC 6455 §5.2): fin, opcode, payload; rsv: the RSV bits (0-7). */
export function clientFrame(opcode, payload, { fin = true, rsv = 0, mask = true } = {}) {
  const data = Buffer.from(payload);
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = randomBytes(4);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** The first frame in buf from a server: { frame: { fin, rsv, opcode, masked, payload }, used }, or undefined while incomplete. */
export function takeFrame(buf) {
  if (buf.length < 2) return undefined;
  const b0 = buf[0];
  const b1 = buf[1];
  let len = b1 & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  if (b1 & 0x80) off += 4; // a server never masks: the tests check masked is false
  if (buf.length < off + len) return undefined;
  return { frame: { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, masked: (b1 & 0x80) !== 0, payload: buf.subarray(off, off + len) }, used: off + len };
}

/** A close frame's code and reason. */
export function closeOf(frame) {
  return frame.payload.length >= 2 ? { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString() } : { code: 1005, reason: '' };
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/**
 * A raw client: connects to 127.0.0.1:port, writes the opening handshake for path (with
 * `after` in the same write), and resolves once the 101 head is in to { status, head,
 * frame(), frames(n), write(buf), ended, socket }. frame() is the next frame the server
 * sent; ended resolves when the server closed the connection.
 */
export function rawWebSocket(port, path = '/', { after = Buffer.alloc(0), headers = [] } = {}) {
  const socket = connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  let waiter;
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {});
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    waiter?.();
  });
  socket.on('end', () => waiter?.());
  const waitFor = (test, what) =>
    bounded(
      new Promise((resolve, reject) => {
        const look = () => {
          const r = test();
          if (r !== undefined) {
            waiter = undefined;
            resolve(r);
          } else if (socket.readableEnded || socket.destroyed) {
            waiter = undefined;
            reject(new Error(`${what}: the server closed the connection`));
          }
        };
        waiter = look;
        look();
      }),
      what,
    );
  const request = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', ...headers.map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  socket.write(Buffer.concat([Buffer.from(request), after]));
  return waitFor(() => {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = buf.subarray(0, end).toString('latin1');
    buf = buf.subarray(end + 4);
    return head;
  }, 'the handshake answer').then((head) => ({
    status: Number(head.split(' ')[1]),
    head,
    socket,
    ended,
    write: (b) => socket.write(b),
    frame: () =>
      waitFor(() => {
        const t = takeFrame(buf);
        if (t === undefined) return undefined;
        buf = buf.subarray(t.used);
        return t.frame;
      }, 'a frame'),
  }));
}
