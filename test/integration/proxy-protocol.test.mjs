// --enable-proxy-protocol: a connection to an HTTP socket starts with a PROXY protocol
// header (v1 or v2) whose source becomes REMOTE_ADDR/REMOTE_PORT; LOCAL and UNKNOWN
// keep the real peer; a connection without a valid header is closed unanswered, with a
// line naming the reason, and the server serves on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';

const APP = join(FIXTURES, 'peer-app.mjs');
const SIG = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const REQ = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');

function v2(command, family, block) {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(block.length, 2);
  return Buffer.concat([SIG, head, block]);
}
const inet4 = (src, sport, dst, dport) => {
  const b = Buffer.alloc(12);
  src.split('.').forEach((x, i) => (b[i] = Number(x)));
  dst.split('.').forEach((x, i) => (b[4 + i] = Number(x)));
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
};

/** Writes pieces one by one (a tick apart); resolves with everything read until EOF. */
function exchange(port, pieces) {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve({ text: Buffer.concat(chunks).toString('latin1'), localPort: s.localPort }));
    s.on('error', reject);
    s.setTimeout(5000, () => reject(new Error('no end within 5 s')));
    s.on('connect', async () => {
      for (const p of pieces) {
        s.write(p);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

const body = (text) => text.slice(text.indexOf('\r\n\r\n') + 4);

for (const backend of BACKENDS) test(`${backend}: --enable-proxy-protocol v1 and v2 set REMOTE_ADDR/REMOTE_PORT; LOCAL/UNKNOWN keep the peer; garbage is closed unanswered and logged`, async () => {
  const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--enable-proxy-protocol', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    await cli.waitStderr(/tsgi is ready/);
    const v1 = Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n');
    // Whole, and byte by byte through the header.
    assert.equal(body((await exchange(port, [Buffer.concat([v1, REQ])])).text), '192.0.2.1 56324 http\n');
    assert.equal(body((await exchange(port, [...v1].map((b) => Buffer.from([b])).concat([REQ]))).text), '192.0.2.1 56324 http\n');
    const v6 = Buffer.from('PROXY TCP6 2001:db8:0:0::1 ::1 1 2\r\n');
    assert.equal(body((await exchange(port, [v6, REQ])).text), '2001:db8::1 1 http\n');
    const p2 = v2(1, 0x11, inet4('203.0.113.7', 4242, '127.0.0.1', 80));
    assert.equal(body((await exchange(port, [Buffer.concat([p2, REQ])])).text), '203.0.113.7 4242 http\n');
    assert.equal(body((await exchange(port, [p2.subarray(0, 7), p2.subarray(7), REQ])).text), '203.0.113.7 4242 http\n');
    // LOCAL (a health check) and UNKNOWN: the connection's own peer.
    const local = await exchange(port, [Buffer.concat([v2(0, 0x00, Buffer.alloc(0)), REQ])]);
    assert.equal(body(local.text), `127.0.0.1 ${local.localPort} http\n`);
    const unknown = await exchange(port, [Buffer.from('PROXY UNKNOWN\r\n'), REQ]);
    assert.equal(body(unknown.text), `127.0.0.1 ${unknown.localPort} http\n`);
    // No header: closed with no byte of answer, and the line says why.
    const plain = await exchange(port, [REQ]);
    assert.equal(plain.text, '');
    await cli.waitStderr(/refused: no PROXY protocol header \(--enable-proxy-protocol\): connection closed/);
    const badPort = await exchange(port, [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\n'), REQ]);
    assert.equal(badPort.text, '');
    await cli.waitStderr(/refused: PROXY v1 header: a port is not a decimal from 0 to 65535/);
    // And the server serves on.
    assert.equal(body((await exchange(port, [Buffer.concat([v1, REQ])])).text), '192.0.2.1 56324 http\n');
  } finally {
    await cli.kill();
  }
});

for (const backend of BACKENDS) test(`${backend}: without --enable-proxy-protocol a PROXY header is a bad request, not an address`, async () => {
  const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP]);
  try {
    const port = await cli.port;
    await cli.waitStderr(/tsgi is ready/);
    const r = await exchange(port, [Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n'), REQ]);
    assert.match(r.text, /^HTTP\/1\.1 400 /);
  } finally {
    await cli.kill();
  }
});
