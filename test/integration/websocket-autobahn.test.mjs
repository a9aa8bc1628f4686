// tsgi's WebSockets against an independent RFC 6455 implementation: Autobahn|Python's
// client (Debian's python3-autobahn; test/lib/autobahn-client.py), in place of the
// Autobahn test suite itself (wstest is Python 2, and this machine reaches no Python
// package registry). On both backends, on the three interfaces (a `ws` application on an
// exported http.Server, environ['tsgi.websocket'], Hono's upgradeWebSocket from
// 'tsgi/hono'), each case on a connection of its own, asserted from what the client
// reports: the echo of text and binary messages of every length encoding up to 1 MiB, a
// message the client fragments, multi-byte UTF-8, ping and pong, the closing handshake
// both ways (the client's 1000 with a reason, the application's own code), a message
// over the limit closed with 1009, invalid UTF-8 in a text message closed with 1007.
// "wasClean" is Autobahn's: the closing handshake done both ways and the TCP connection
// then ended by the server (RFC 6455 §7.1.1), within its time.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FIXTURES, BACKENDS } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { autobahnMissing, runAutobahnClient } from '../lib/autobahn-client.mjs';

const DIR = join(FIXTURES, 'websocket');
// Without python3-autobahn (.ci/run installs it) the file is skipped, saying so.
const MAX = 1024 * 1024; // --websocket-max-size 1024 (KiB); ws-app.mjs's own maxPayload

// Each interface's echo application (the fixtures the other WebSocket tests use): where
// it listens, what it sends first, how it is asked to close itself, and what it logs of
// each connection's end (log: a pattern whose first group is what each line says;
// closed: what it says of a connection closed normally, or undefined when it logs only
// the failed ones; failed: what it says of the two the server failed, 1009 and 1007).
// The node interface's limit is the application's own (ws-app.mjs's maxPayload, 1 MiB),
// the others' --websocket-max-size. The client answers a server's close with 1000
// (Autobahn echoes no code unless asked), so the applications log 1000 for their own
// close too. Hono's onClose says 1006 for a connection ws failed (ws reads no close frame
// after it failed one), as on @hono/node-server; tsgi.websocket's closed says the code.
const INTERFACES = [
  { name: 'node (a ws application)', app: 'ws-app.mjs', iface: 'node', path: '/echo', greeting: undefined, serverClose: ['close:4000', 4000, 'asked'], log: /^ws-app: (\w+): /gm, closed: undefined, failed: ['WS_ERR_INVALID_UTF8', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'] },
  { name: "wsgi (environ['tsgi.websocket'])", app: 'wsgi-app.mjs', iface: 'wsgi', path: '/ws', greeting: 'hello -', serverClose: ['close', 4000, 'bye'], log: /^websocket closed with (\d+)$/gm, closed: '1000', failed: ['1007', '1009'] },
  { name: "fetch (Hono's upgradeWebSocket from 'tsgi/hono')", app: 'hono-app.mjs', iface: 'fetch', path: '/ws', greeting: 'welcome /ws', serverClose: ['close', 4001, 'bye'], log: /^hono websocket closed with (\d+)$/gm, closed: '1000', failed: ['1006', '1006'] },
];

const SIZES = [0, 125, 126, 65535, 65536, MAX];
const made = new Map();
/** n bytes of f(i), made once. */
function bytesOf(n, f) {
  const key = `${n} ${f}`;
  if (!made.has(key)) made.set(key, Buffer.from(Array.from({ length: n }, (_, i) => f(i))));
  return made.get(key);
}
/** n bytes of printable ASCII, not all alike. */
const textOf = (n) => bytesOf(n, (i) => 0x21 + ((i * 7) % 94));
/** n bytes of every value. */
const binaryOf = (n) => bytesOf(n, (i) => (i * 31 + 7) & 0xff);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
/** Multi-byte UTF-8 of 2, 3 and 4 bytes, NUL, the last code point, the edges of the surrogates. */
const UTF8 = ['κόσμε', 'a\u0000b', '€ ह 𐍈', '\u{1f600}\u{1f680}', '\u{10ffff}', '\ud7ff\ue000\uffff', 'ﬁ\u0301'];
// A text message whose fragments (of 1000 bytes) end inside code points, and a binary one;
// neither a multiple of its fragment size (Autobahn then ends the message with an empty
// fragment, one frame more).
const FRAGMENTED = [
  ['text', Buffer.from('ab κόσμε € 😀 '.repeat(3999)), 1000, ' (cut inside code points)'],
  ['binary', binaryOf(100000), 4096, ''],
];
const INVALID_UTF8 = Buffer.from([0x68, 0x69, 0xce, 0xba, 0xed, 0xa0, 0x80]); // "hi", κ, then a UTF-16 surrogate (ED A0 80)

const send = (kind, data) => ({ send: kind, data });
const RECEIVE = { receive: true };
const CLOSE_1000 = { close: 1000, reason: 'done' };

/** The cases for one interface: { name, autoFragmentSize?, steps, check(report) }. */
function casesFor({ serverClose: [trigger, code, reason] }) {
  const echoed = (got, binary, data, what) => {
    assert.ok(got !== undefined, `${what}: no reply`);
    assert.equal(got.kind, 'message', what);
    assert.equal(got.binary, binary, `${what}: ${binary ? 'binary' : 'text'}`);
    assert.equal(got.length, data.length, `${what}: length`);
    assert.equal(got.sha256, sha256(data), `${what}: the bytes`);
  };
  const closedCleanly = (r, remoteCode, remoteReason) => {
    assert.deepEqual(
      { wasClean: r.close.wasClean, code: r.close.code, remoteCode: r.close.remoteCode, remoteReason: r.close.remoteReason, notCleanReason: r.close.notCleanReason },
      { wasClean: true, code: remoteCode, remoteCode, remoteReason, notCleanReason: null },
    );
  };
  const cases = [];
  for (const n of SIZES) {
    cases.push({
      name: `text and binary messages of ${n} bytes echoed`,
      steps: [send('text', textOf(n)), RECEIVE, send('binary', binaryOf(n)), RECEIVE, CLOSE_1000],
      check(r) {
        echoed(r.received[0], false, textOf(n), 'the text');
        echoed(r.received[1], true, binaryOf(n), 'the binary');
        closedCleanly(r, 1000, 'done');
      },
    });
  }
  for (const [kind, data, size, what] of FRAGMENTED) {
    cases.push({
      name: `a ${kind} message of ${data.length} bytes sent in fragments of ${size} bytes${what} comes back whole`,
      autoFragmentSize: size,
      steps: [send(kind, data), RECEIVE, CLOSE_1000],
      check(r) {
        assert.equal(r.framesOut, Math.ceil(data.length / size), 'the client sent it in fragments');
        echoed(r.received[0], kind === 'binary', data, 'the echo');
        closedCleanly(r, 1000, 'done');
      },
    });
  }
  cases.push(
    {
      name: `UTF-8 text: ${UTF8.map((s) => JSON.stringify(s)).join(', ')} echoed`,
      steps: [...UTF8.flatMap((s) => [send('text', s), RECEIVE]), CLOSE_1000],
      check(r) {
        assert.deepEqual(
          r.received.map((m) => [m.binary, Buffer.from(m.base64, 'base64').toString()]),
          UTF8.map((s) => [false, s]),
        );
        closedCleanly(r, 1000, 'done');
      },
    },
    {
      name: 'pings (of 0, 12 and 125 bytes) answered by pongs with their payloads',
      steps: [{ ping: '' }, RECEIVE, { ping: 'ping payload' }, RECEIVE, { ping: binaryOf(125) }, RECEIVE, CLOSE_1000],
      check(r) {
        assert.deepEqual(r.received, [
          { kind: 'pong', base64: '' },
          { kind: 'pong', base64: Buffer.from('ping payload').toString('base64') },
          { kind: 'pong', base64: binaryOf(125).toString('base64') },
        ]);
        closedCleanly(r, 1000, 'done');
      },
    },
    {
      name: "the client's close (1000, 'done') answered with the same: the closing handshake, the server ends the connection",
      steps: [CLOSE_1000],
      check(r) {
        assert.deepEqual(r.received, []);
        closedCleanly(r, 1000, 'done');
      },
    },
    {
      name: `a message of ${MAX + 1} bytes (one over the limit) closed with 1009`,
      steps: [send('binary', binaryOf(MAX + 1))],
      check(r) {
        assert.deepEqual(r.received, [], 'nothing echoed');
        assert.equal(r.close.remoteCode, 1009);
        assert.equal(r.close.wasClean, true, `clean: ${r.close.notCleanReason}`);
      },
    },
    {
      name: `the application's close (${code}, '${reason}') seen by the client with its code and reason`,
      steps: [send('text', trigger)],
      check(r) {
        assert.deepEqual(r.received, []);
        closedCleanly(r, code, reason);
      },
    },
    {
      name: 'invalid UTF-8 in a text message (a UTF-16 surrogate, ED A0 80) closed with 1007',
      steps: [send('text', INVALID_UTF8)],
      check(r) {
        assert.deepEqual(r.received, [], 'nothing echoed');
        assert.equal(r.close.remoteCode, 1007);
        assert.equal(r.close.wasClean, true, `clean: ${r.close.notCleanReason}`);
      },
    },
  );
  return cases;
}

for (const backend of BACKENDS) {
  for (const i of INTERFACES) {
    describe(`Autobahn|Python's client, ${backend} backend, ${i.name}`, { skip: autobahnMissing() }, () => {
      const cases = casesFor(i);
      let cli;
      let reports;
      before(async () => {
        cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--websocket-max-size', String(MAX / 1024), '--disable-logging', '--wsgi-file', join(DIR, i.app)]);
        assert.match(cli.stderrText(), new RegExp(`interface ${i.iface} `));
        reports = await runAutobahnClient(`ws://127.0.0.1:${await cli.port}${i.path}`, cases, { greeting: i.greeting !== undefined });
      });
      after(() => cli?.kill());

      for (const [n, c] of cases.entries()) {
        test(c.name, () => {
          const r = reports[n];
          assert.equal(r.name, c.name);
          assert.equal(r.error, null, `the client: ${r.error}`);
          if (i.greeting !== undefined) assert.equal(r.greeting, i.greeting);
          try {
            c.check(r);
          } catch (err) {
            err.message += `\nthe client's report: ${JSON.stringify(r)}`;
            throw err;
          }
        });
      }
      const expected = [...(i.closed === undefined ? [] : Array(cases.length - i.failed.length).fill(i.closed)), ...i.failed].sort();
      const seen = i.closed === undefined ? `the application's ws reported the two connections it failed: ${i.failed.join(', ')}` : `the application saw each connection end: ${expected.length - i.failed.length} times ${i.closed}, and ${i.failed.join(', ')} for the two the server failed`;
      test(seen, async () => {
        const said = () => [...cli.stderrText().matchAll(i.log)].map((m) => m[1]).sort();
        await waitUntil(() => said().length >= expected.length, 5000, 'the application to log each end').catch(() => {});
        assert.deepEqual(said(), expected, cli.stderrText());
      });
    });
  }
}
