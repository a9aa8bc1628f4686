// RFC 6455 conformance of tsgi's WebSockets, case by case in the Autobahn test suite's
// categories (the suite itself is a Python package this machine cannot install; its
// numbers are given where a case is one of its): framing (1), pings and pongs (2),
// reserved bits (3), opcodes (4), fragmentation (5), UTF-8 (6), close handling (7),
// limits (9: --websocket-max-size). A raw client writes the frames byte by byte to a
// WSGI application that echoes through environ['tsgi.websocket'], and reads the server's
// frames: never masked, the message echoed whole, or a close frame with the code the RFC
// requires. Both backends (the frames are ws's on both; the connection is handed over
// natively on one).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURES, BACKENDS } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { clientFrame as f, closeOf, rawWebSocket } from '../lib/websocket-clients.mjs';
import { residentBytes } from '../lib/proc.mjs';

const T = { timeout: 30000 };
const APP = join(FIXTURES, 'websocket', 'wsgi-app.mjs');
const MAX_KIB = 64;
const MAX = MAX_KIB * 1024;
const TEXT = 1;
const BINARY = 2;
const CONT = 0;
const CLOSE = 8;
const PING = 9;
const PONG = 10;

const closePayload = (code, reason = Buffer.alloc(0)) => Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);

for (const backend of BACKENDS) {
  describe(`RFC 6455, ${backend} backend`, () => {
    let cli;
    let port;
    before(async () => {
      cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--websocket-max-size', String(MAX_KIB), '--disable-logging', '--wsgi-file', APP]);
      port = await cli.port;
    });
    after(() => cli?.kill());

    /** A connection past its greeting; every frame read from it is checked unmasked. */
    async function open(t) {
      const c = await rawWebSocket(port, '/ws');
      t.after(() => c.socket.destroy());
      assert.equal(c.status, 101);
      const next = c.frame;
      c.frame = async () => {
        const fr = await next();
        assert.equal(fr.masked, false, 'a server frame is never masked (§5.1)');
        return fr;
      };
      const hello = await c.frame();
      assert.equal(hello.payload.toString(), 'hello -');
      return c;
    }
    /** The next frame is the echo of a whole message. */
    async function echoed(c, opcode, payload) {
      const fr = await c.frame();
      assert.equal(fr.fin, true);
      assert.equal(fr.opcode, opcode);
      assert.equal(fr.rsv, 0);
      assert.ok(Buffer.from(payload).equals(fr.payload), `the echo of ${Buffer.from(payload).length} bytes`);
    }
    /** The next frame is a close with code; then the server ends the connection. */
    async function closed(c, code) {
      let fr = await c.frame();
      while (fr.opcode === PONG) fr = await c.frame();
      assert.equal(fr.opcode, CLOSE, 'a close frame');
      assert.equal(closeOf(fr).code, code);
      c.write(f(CLOSE, fr.payload.subarray(0, 2)));
      await c.ended;
    }

    describe('1 framing: payload lengths in each encoding (7-bit, 16-bit, 64-bit)', () => {
      for (const n of [0, 125, 126, 127, 128, 65535, 65536]) {
        test(`text and binary of ${n} bytes (1.1, 1.2)`, T, async (t) => {
          const c = await open(t);
          const text = 'x'.repeat(n);
          c.write(f(TEXT, text));
          await echoed(c, TEXT, text);
          const bin = Buffer.alloc(n, 0xfe);
          c.write(f(BINARY, bin));
          await echoed(c, BINARY, bin);
        });
      }
      test('frames written one byte at a time', T, async (t) => {
        const c = await open(t);
        const bytes = Buffer.concat([f(TEXT, 'slow'), f(BINARY, Buffer.alloc(300, 3))]);
        for (const b of bytes) c.write(Buffer.from([b]));
        await echoed(c, TEXT, 'slow');
        await echoed(c, BINARY, Buffer.alloc(300, 3));
      });
      test('an unmasked client frame: 1002 (§5.1)', T, async (t) => {
        const c = await open(t);
        c.write(f(TEXT, 'bare', { mask: false }));
        await closed(c, 1002);
      });
    });

    describe('2 pings and pongs', () => {
      test('a ping gets a pong with its payload, empty or of 125 bytes (2.1, 2.2, 2.4); ten pings, ten pongs (2.9)', T, async (t) => {
        const c = await open(t);
        for (const p of [Buffer.alloc(0), Buffer.from('hello'), Buffer.alloc(125, 0xaa)]) {
          c.write(f(PING, p));
          const pong = await c.frame();
          assert.equal(pong.opcode, PONG);
          assert.ok(pong.payload.equals(p));
        }
        for (let i = 0; i < 10; i++) c.write(f(PING, `p${i}`));
        for (let i = 0; i < 10; i++) assert.equal((await c.frame()).payload.toString(), `p${i}`);
      });
      test('an unsolicited pong is ignored (2.7)', T, async (t) => {
        const c = await open(t);
        c.write(f(PONG, 'unasked'));
        c.write(f(TEXT, 'after'));
        await echoed(c, TEXT, 'after');
      });
      // The native server answers a ping only while what waits for the peer is under 64
      // KiB (RFC 6455 §5.5.3 lets it answer only the latest). ws, on the js backend,
      // answers every one, and what a peer that reads nothing does not take piles up.
      test('64 MiB of pings from a client that reads none of the pongs: the server\'s memory stays bounded, and it serves on', { ...T, skip: backend !== 'native' && 'ws answers every ping' }, async (t) => {
        const c = await open(t);
        c.socket.pause();
        const before = residentBytes(cli.child.pid);
        const ping = f(PING, Buffer.alloc(125, 0x70));
        const batch = Buffer.concat(Array.from({ length: 4096 }, () => ping)); // 524 KiB
        for (let sent = 0; sent < 64 * 1024 * 1024; sent += batch.length) {
          if (!c.socket.write(batch)) await new Promise((resolve) => c.socket.once('drain', resolve));
        }
        await new Promise((resolve) => c.socket.write(Buffer.alloc(0), resolve));
        const grown = residentBytes(cli.child.pid) - before;
        assert.ok(grown < 16 * 1024 * 1024, `RSS grew ${(grown / 1048576).toFixed(1)} MiB`);
        c.socket.resume();
        c.write(f(TEXT, 'still here'));
        let fr = await c.frame();
        while (fr.opcode === PONG) fr = await c.frame();
        assert.equal(fr.opcode, TEXT);
        assert.equal(fr.payload.toString(), 'still here');
      });
      test('a ping of 126 bytes: 1002 (2.5, a control frame carries at most 125)', T, async (t) => {
        const c = await open(t);
        c.write(f(PING, Buffer.alloc(126)));
        await closed(c, 1002);
      });
    });

    describe('3 reserved bits: set without an extension, 1002', () => {
      for (const rsv of [1, 2, 3, 4, 5, 6, 7]) {
        test(`RSV ${rsv} on a text frame (3.${rsv})`, T, async (t) => {
          const c = await open(t);
          c.write(f(TEXT, 'rsv', { rsv }));
          await closed(c, 1002);
        });
      }
      test('RSV on a ping', T, async (t) => {
        const c = await open(t);
        c.write(f(PING, 'rsv', { rsv: 4 }));
        await closed(c, 1002);
      });
    });

    describe('4 opcodes: reserved ones, 1002', () => {
      for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
        test(`opcode ${op} (4.${op < 8 ? 1 : 2}.${op < 8 ? op - 2 : op - 10})`, T, async (t) => {
          const c = await open(t);
          c.write(f(op, 'reserved'));
          await closed(c, 1002);
        });
      }
    });

    describe('5 fragmentation', () => {
      test('a text message in three fragments is one message (5.3-5.5); the same as one binary message cut at every byte', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(TEXT, 'frag', { fin: false }), f(CONT, 'men', { fin: false }), f(CONT, 'ted')]));
        await echoed(c, TEXT, 'fragmented');
        const bytes = [1, 2, 3, 4, 5];
        c.write(Buffer.concat(bytes.map((b, i) => f(i === 0 ? BINARY : CONT, Buffer.from([b]), { fin: i === bytes.length - 1 }))));
        await echoed(c, BINARY, Buffer.from(bytes));
      });
      test('a ping between fragments is answered at once, the message after (5.6-5.9)', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(TEXT, 'one ', { fin: false }), f(PING, 'inside'), f(CONT, 'two')]));
        const pong = await c.frame();
        assert.equal(pong.opcode, PONG);
        assert.equal(pong.payload.toString(), 'inside');
        await echoed(c, TEXT, 'one two');
      });
      test('a fragmented ping: 1002 (5.1, 5.2)', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(PING, 'a', { fin: false }), f(CONT, 'b')]));
        await closed(c, 1002);
      });
      test('a continuation with no message to continue: 1002 (5.9-5.12)', T, async (t) => {
        const c = await open(t);
        c.write(f(CONT, 'orphan'));
        await closed(c, 1002);
      });
      test('a new text frame inside a fragmented message: 1002 (5.18)', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(TEXT, 'a', { fin: false }), f(TEXT, 'b')]));
        await closed(c, 1002);
      });
    });

    describe('6 UTF-8 of text messages', () => {
      const valid = ['κόσμε', 'a\u0000b', '\u{10ffff}', '\u{1f600} 😀', '﻿bom', '\ud7ff\ue000'];
      for (const s of valid) {
        test(`valid: ${JSON.stringify(s)} echoed, whole and cut inside a code point (6.2, 6.4)`, T, async (t) => {
          const c = await open(t);
          const b = Buffer.from(s);
          c.write(f(TEXT, b));
          await echoed(c, TEXT, b);
          const cut = Math.max(1, b.length - 1);
          c.write(Buffer.concat([f(TEXT, b.subarray(0, cut), { fin: false }), f(CONT, b.subarray(cut))]));
          await echoed(c, TEXT, b);
        });
      }
      const invalid = [
        ['a lone continuation byte', [0x80]],
        ['an overlong "/"', [0xc0, 0xaf]],
        ['an overlong NUL in three bytes', [0xe0, 0x80, 0x80]],
        ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
        ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
        ['0xFE', [0xfe]],
        ['a truncated sequence at the end', [0x61, 0xe2, 0x82]],
      ];
      for (const [what, bytes] of invalid) {
        test(`invalid: ${what}: 1007 (6.3, 6.6-6.21)`, T, async (t) => {
          const c = await open(t);
          c.write(f(TEXT, Buffer.from(bytes)));
          await closed(c, 1007);
        });
      }
      test('invalid in the first fragment of a message: 1007 once the message is complete (6.4.1: ws judges whole messages, what Autobahn calls non-strict)', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(TEXT, Buffer.from([0xce, 0xba, 0xed, 0xa0, 0x80]), { fin: false }), f(CONT, 'rest')]));
        await closed(c, 1007);
      });
      test('a binary message is not UTF-8 checked', T, async (t) => {
        const c = await open(t);
        c.write(f(BINARY, Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80])));
        await echoed(c, BINARY, Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]));
      });
    });

    describe('7 close handling', () => {
      test('a close with 1000 and a reason is answered with the same, then the server ends the connection (7.1.1, 7.3.4)', T, async (t) => {
        const c = await open(t);
        c.write(f(CLOSE, closePayload(1000, 'done')));
        const fr = await c.frame();
        assert.equal(fr.opcode, CLOSE);
        assert.deepEqual(closeOf(fr), { code: 1000, reason: 'done' });
        await c.ended;
      });
      test('an empty close is answered with an empty close (7.3.1)', T, async (t) => {
        const c = await open(t);
        c.write(f(CLOSE, Buffer.alloc(0)));
        const fr = await c.frame();
        assert.equal(fr.opcode, CLOSE);
        assert.equal(fr.payload.length, 0);
        await c.ended;
      });
      test('a close of one byte: 1002 (7.3.2)', T, async (t) => {
        const c = await open(t);
        c.write(f(CLOSE, Buffer.from([0x03])));
        await closed(c, 1002);
      });
      for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
        test(`close code ${code} is valid: answered with it (7.7)`, T, async (t) => {
          const c = await open(t);
          c.write(f(CLOSE, closePayload(code)));
          const fr = await c.frame();
          assert.equal(closeOf(fr).code, code);
          await c.ended;
        });
      }
      for (const code of [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535]) {
        test(`close code ${code} is not for the wire: 1002 (7.9)`, T, async (t) => {
          const c = await open(t);
          c.write(f(CLOSE, closePayload(code)));
          await closed(c, 1002);
        });
      }
      test('a close reason that is not UTF-8: 1007 (7.5.1)', T, async (t) => {
        const c = await open(t);
        c.write(f(CLOSE, closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xed, 0xa0, 0x80]))));
        await closed(c, 1007);
      });
      test('frames after the close are ignored (7.1.2-7.1.5)', T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(CLOSE, closePayload(1000)), f(TEXT, 'late'), f(PING, 'late')]));
        const fr = await c.frame();
        assert.equal(fr.opcode, CLOSE);
        await c.ended;
      });
    });

    describe(`9 limits: --websocket-max-size ${MAX_KIB} (KiB)`, () => {
      test(`a message of ${MAX} bytes is taken, whole and in 64 fragments (9.1, 9.2)`, T, async (t) => {
        const c = await open(t);
        const big = Buffer.alloc(MAX, 0x61);
        c.write(f(TEXT, big));
        await echoed(c, TEXT, big);
        const parts = [];
        for (let i = 0; i < 64; i++) parts.push(f(i === 0 ? BINARY : CONT, big.subarray(i * 1024, (i + 1) * 1024), { fin: i === 63 }));
        c.write(Buffer.concat(parts));
        await echoed(c, BINARY, big);
      });
      test(`one byte more in one frame: 1009`, T, async (t) => {
        const c = await open(t);
        c.write(f(BINARY, Buffer.alloc(MAX + 1)));
        await closed(c, 1009);
      });
      test(`one byte more over fragments each under the limit: 1009`, T, async (t) => {
        const c = await open(t);
        c.write(Buffer.concat([f(TEXT, Buffer.alloc(MAX, 0x61), { fin: false }), f(CONT, 'b')]));
        await closed(c, 1009);
      });
    });
  });
}
