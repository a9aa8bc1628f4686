// The wire contract between the addon and lib/ cannot drift silently: every number in
// native/wire.h has its twin in lib/addon/wire.ts (kSendAddLength: SEND_ADD_LENGTH) with the
// same value, and back; the scoreboard's buckets and refusal statuses match
// lib/process/metrics.ts; lib refuses an addon of another contract version, saying what to do;
// and the addon refuses settings without a key it reads, naming the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as wire from '../../dist/lib/addon/wire.js';
import { DURATION_BOUNDS, REFUSAL_CODES } from '../../dist/lib/backend/counters.js';
import { checkWireVersion, loadBinding } from '../../dist/lib/addon/binding.js';

const header = readFileSync('native/wire.h', 'utf8').replace(/\/\/.*$/gm, '');

/** kSendAddLength -> SEND_ADD_LENGTH */
const tsName = (cName) => cName.slice(1).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

/** The header's scalar constants (enum entries and constexpr numbers): name -> value. */
function scalars() {
  const out = new Map();
  for (const m of header.matchAll(/\b(k[A-Z][A-Za-z0-9]*)\s*=\s*(-?\d+)\s*[,;}]/g)) out.set(m[1], Number(m[2]));
  return out;
}

/** A constexpr array of the header: its numbers. */
function array(cName) {
  const m = new RegExp(`\\b${cName}\\[\\]\\s*=\\s*\\{([^}]*)\\}`).exec(header);
  assert.ok(m, `${cName} is not in native/wire.h`);
  return m[1].split(',').map((s) => Number(s.trim()));
}

test('native/wire.h holds the contract constants the tests below look for', () => {
  const c = scalars();
  // A reader that found nothing would make the next test pass vacuously.
  for (const name of ['kWireVersion', 'kSendChunked', 'kSendAbort', 'kSendBackpressure', 'kReqUwsgi', 'kReqListenerShift', 'kProtocolUwsgi', 'kSlotBits', 'kFixedArgs']) {
    assert.ok(c.has(name), `${name} not found in native/wire.h`);
  }
  assert.equal(c.get('kSendGone'), -1);
});

test('every constant of native/wire.h is in lib/addon/wire.ts with the same value, and back', () => {
  const c = scalars();
  for (const [cName, value] of c) {
    assert.equal(wire[tsName(cName)], value, `native/wire.h ${cName} = ${value}, lib/addon/wire.ts ${tsName(cName)} = ${wire[tsName(cName)]}`);
  }
  const mirrored = new Set([...c.keys()].map(tsName));
  for (const [name, value] of Object.entries(wire)) {
    if (typeof value !== 'number') continue;
    assert.ok(mirrored.has(name), `lib/addon/wire.ts ${name} has no twin in native/wire.h`);
  }
});

test("the scoreboard's duration buckets and refusal statuses are lib/process/metrics.ts's", () => {
  assert.deepEqual(array('kDurationBoundsUs'), DURATION_BOUNDS.map((s) => Math.round(s * 1e6)));
  assert.deepEqual([...array('kRefusalStatuses').map(String), 'other', 'none'], [...REFUSAL_CODES]);
});

test("the built addon speaks lib's contract version", () => {
  assert.equal(loadBinding().abiVersion, wire.WIRE_VERSION);
});

test('an addon of another contract version is refused with both versions and what to do', () => {
  assert.doesNotThrow(() => checkWireVersion(wire.WIRE_VERSION, 'build/Release/tsgi.node'));
  for (const version of [wire.WIRE_VERSION - 1, wire.WIRE_VERSION + 1, undefined]) {
    assert.throws(
      () => checkWireVersion(version, '/x/tsgi.node'),
      (err) => {
        assert.equal(err.code, 'TSGI_ERR_NATIVE_VERSION');
        assert.match(err.message, new RegExp(`^the native addon /x/tsgi\\.node speaks wire contract version ${version}, and this tsgi speaks version ${wire.WIRE_VERSION}: `));
        assert.match(err.message, /rebuild it \(npm run build in a checkout, npm rebuild tsgi in an installed package\)$/);
        return true;
      },
    );
  }
});

// Every key the addon reads, with a value of the right type.
function fullSettings() {
  return {
    bufferSize: 4096,
    postBuffering: 65536,
    limitPost: 0,
    timeoutMs: 60000,
    tmpDir: '/tmp',
    logging: false,
    log4xx: false,
    log5xx: false,
    logSlow: 0,
    logBig: 0,
    logJson: false,
    manageScriptName: false,
    proxyProtocol: false,
    logFd: 2,
    core: 0,
    serverName: 'localhost',
    scoreboardFd: -1,
    scoreboardSlot: 0,
    scoreboardSlots: 0,
    onRequest: () => {},
    onDrain: () => {},
    onAbort: () => {},
    onUpgrade: () => {},
    onWsMessages: () => {},
    onWsClose: () => {},
    onClose: () => {},
    onLog: null,
    keys: wire.KEYS,
    methods: wire.METHODS,
  };
}

test("the settings above are every key the addon's sources read", () => {
  const sources = ['native/server/settings.cc', 'native/server/server.cc'].map((f) => readFileSync(f, 'utf8')).join('\n');
  const read = [...sources.matchAll(/(?:r->|settings\.)(?:Number|Boolean|String|Function|FunctionOrNull|Strings)\("(\w+)"\)/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(read)].sort(), Object.keys(fullSettings()).sort());
});

test('the native Server requires every setting: a missing or mistyped one is a TypeError naming it', async () => {
  const { Server } = loadBinding();
  for (const key of Object.keys(fullSettings())) {
    const missing = fullSettings();
    delete missing[key];
    assert.throws(
      () => new Server(missing),
      (err) => err instanceof TypeError && err.code === 'TSGI_ERR_NATIVE_SETTINGS' && new RegExp(`setting ${key} but received undefined$`).test(err.message),
      key,
    );
    const mistyped = { ...fullSettings(), [key]: Symbol('wrong') };
    assert.throws(
      () => new Server(mistyped),
      (err) => err instanceof TypeError && err.code === 'TSGI_ERR_NATIVE_SETTINGS' && new RegExp(`setting ${key} but received a symbol$`).test(err.message),
      key,
    );
  }
  assert.throws(() => new Server({ ...fullSettings(), keys: ['HTTP_HOST', 7] }), /setting keys but received a number at index 1$/);
  assert.throws(() => new Server(), /^TypeError: Expected an object of settings for new Server\(\) but received undefined$/);
  // With every key it starts, and closes.
  let closed = 0;
  const server = new Server({ ...fullSettings(), onClose: () => closed++ });
  server.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(closed, 1);
});
