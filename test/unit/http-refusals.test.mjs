// The js backend's refusals in the native server's words: lib/protocol/http-refusals.ts against
// the table in native/protocol/http_parser.cc and docs/errors.md; lib/protocol/request-target.ts (the twin
// of SplitTarget) against the request corpus the native parser is held to (test/requests);
// clientErrorRefusal() on the errors node:http's own parser (llhttp) raises.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/project.mjs';
import { clientErrorRefusal, HTTP_REFUSALS } from '../../dist/lib/protocol/http-refusals.js';
import { splitTarget } from '../../dist/lib/protocol/request-target.js';

/** native/protocol/http_parser.cc's kErrors: [[status, reason]] in HttpError order, kNone left out. */
function nativeTable() {
  const src = readFileSync(join(ROOT, 'native', 'protocol', 'http_parser.cc'), 'utf8');
  const table = src.slice(src.indexOf('kErrors[] = {'), src.indexOf('};', src.indexOf('kErrors[] = {')));
  return [...table.matchAll(/\{(\d+), "([^"]*)"\},\s*\/\/ k(\w+)/g)].filter(([, s]) => s !== '0').map(([, status, reason, name]) => [name, Number(status), reason]);
}

const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);

test('HTTP_REFUSALS is native/protocol/http_parser.cc\'s table: the same names, statuses and words', () => {
  const native = nativeTable();
  assert.ok(native.length > 30, `read ${native.length} entries`);
  assert.deepEqual(
    native.map(([name, status, reason]) => [lowerFirst(name), status, reason]),
    Object.entries(HTTP_REFUSALS).map(([key, [status, reason]]) => [key, status, reason]),
  );
});

test('every refusal reason is in docs/errors.md', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  for (const [status, reason] of Object.values(HTTP_REFUSALS)) {
    assert.ok(doc.includes(`| ${status} | \`${reason}\` |`), `"${reason}" (${status}) is missing from docs/errors.md`);
  }
  for (const reason of ['body over limit-post', 'request not complete within http-timeout', 'cannot buffer the request body']) {
    assert.ok(doc.includes(`\`${reason}`), `"${reason}" is missing from docs/errors.md`);
  }
});

describe('splitTarget on the request corpus (test/requests)', () => {
  const corpus = join(ROOT, 'test', 'requests');
  const reasons = new Map(Object.entries(HTTP_REFUSALS).map(([key, [, reason]]) => [reason, key]));
  const targetRefusals = new Set(['target', 'fragment', 'asterisk', 'authority', 'userinfo', 'scheme', 'authorityForm', 'connectTarget', 'connect']);
  /** The method and target of a case's request line, or undefined when it has none to split. */
  const requestLine = (bytes) => /^(?:\r\n)*([^ \r\n]+) ([^ \r\n]+) HTTP\/\d\.\d\r\n/.exec(bytes.toString('latin1'));

  test('valid: every case is accepted, its authority as the native parser finds it', () => {
    let n = 0;
    for (const f of readdirSync(join(corpus, 'valid')).filter((x) => x.endsWith('.json'))) {
      const spec = JSON.parse(readFileSync(join(corpus, 'valid', f), 'latin1'));
      const t = splitTarget(spec.method, spec.target);
      assert.equal(typeof t, 'object', `${f}: ${t}`);
      assert.equal(t.authority, spec.authority, f);
      n++;
    }
    assert.ok(n > 60);
  });

  test('invalid: a case refused for its target is refused for the same reason; the others pass', () => {
    let judged = 0;
    for (const f of readdirSync(join(corpus, 'invalid')).filter((x) => x.endsWith('.json'))) {
      const spec = JSON.parse(readFileSync(join(corpus, 'invalid', f), 'latin1'));
      const key = reasons.get(spec.reason);
      assert.ok(key !== undefined, `${f}: "${spec.reason}" is no reason of HTTP_REFUSALS`);
      const m = requestLine(readFileSync(join(corpus, 'invalid', f.replace(/\.json$/, '.http'))));
      // The version is judged first: a 505 says nothing of the target.
      if (m === null || /HTTP\/(?!1\.[01])/.test(m[0])) continue;
      const t = splitTarget(m[1], m[2]);
      judged++;
      if (!targetRefusals.has(key)) {
        assert.equal(typeof t, 'object', `${f}: ${m[1]} ${m[2]} is refused for "${t}", the corpus says "${spec.reason}"`);
        continue;
      }
      // A CTL in the target is llhttp's to refuse (as "malformed request target").
      if (key === 'target' && /[\x00-\x20\x7f]/.test(m[2])) continue;
      assert.equal(t, key, `${f}: ${m[1]} ${m[2]}`);
    }
    assert.ok(judged >= 120, `${judged} cases judged`);
  });

  test('the parts: path and query as sent, not decoded', () => {
    assert.deepEqual(splitTarget('GET', '/a%20b?x=1?y#'), 'fragment');
    assert.deepEqual(splitTarget('GET', '/a%20b?x=1?y'), { path: '/a%20b', query: 'x=1?y', authority: '' });
    assert.deepEqual(splitTarget('GET', 'http://h:80'), { path: '', query: '', authority: 'h:80' });
    assert.deepEqual(splitTarget('POST', 'HTTPS://[::1]/p?'), { path: '/p', query: '', authority: '[::1]' });
    assert.deepEqual(splitTarget('OPTIONS', '*'), { path: '*', query: '', authority: '' });
  });
});

// What llhttp raises, from a real node:http server, turned into the native server's words.
describe('clientErrorRefusal on llhttp\'s errors', () => {
  const judge = (m, t) => {
    const r = splitTarget(m, t);
    return typeof r === 'string' ? r : undefined;
  };
  const cases = [
    ['this is not http\r\n\r\n', false, 'requestLine'],
    ['GET / HTTP/1.1 \r\nHost: a\r\n\r\n', false, 'requestLine'],
    ['GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', false, 'target'],
    ['GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n', false, 'authorityForm'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n', false, 'obsFold'],
    ['GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n', false, 'bareLf'],
    ['GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n', false, 'bareCr'],
    ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', false, 'spaceBeforeColon'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX@A: b\r\n\r\n', false, 'fieldName'],
    ['GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', false, 'fieldValue'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\n', false, 'contentLength'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', false, 'contentLengths'],
    ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', false, 'contentLengthAndTe'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', true, 'chunkSize'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a b\r\nhello\r\n0\r\n\r\n', true, 'chunkExtension'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX0\r\n\r\n', true, 'chunkDataEnd'],
    ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A : b\r\n\r\n', true, 'trailer'],
  ];
  test(`${cases.length} malformed requests`, async (t) => {
    const seen = [];
    const server = http.createServer({ requireHostHeader: false }, (req) => req.resume());
    server.on('clientError', (err, socket) => {
      seen.push(err);
      socket.destroy();
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const problems = [];
    for (const [bytes, inBody, want] of cases) {
      const before = seen.length;
      await new Promise((resolve) => {
        const s = net.connect(server.address().port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
        s.on('close', resolve);
        s.on('error', () => {});
      });
      const err = seen[before];
      if (err === undefined) {
        problems.push(`${JSON.stringify(bytes)}: node:http raised nothing`);
        continue;
      }
      const got = clientErrorRefusal(err, inBody, judge);
      if (got !== HTTP_REFUSALS[want]) problems.push(`${JSON.stringify(bytes)}: ${err.code} (${err.reason}) -> ${got}, want ${HTTP_REFUSALS[want]}`);
    }
    assert.deepEqual(problems, []);
  });
  test('an error it does not know keeps its code in the line', () => {
    assert.deepEqual(clientErrorRefusal({ code: 'HPE_SOMETHING_NEW' }, false, judge), [400, 'malformed request (HPE_SOMETHING_NEW)']);
    assert.deepEqual(clientErrorRefusal({ code: 'HPE_SOMETHING_NEW' }, true, judge), [400, 'malformed chunked body (HPE_SOMETHING_NEW)']);
  });
});
