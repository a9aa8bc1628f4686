// lib/protocol/forwarded.ts: --forwarded-allow-ips parsing and what X-Forwarded-For/-Proto do
// to the environ of a trusted peer, and do not do to anyone else's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwardedTrust } from '../../dist/lib/protocol/forwarded.js';

const env = (peer, xff, proto) => ({
  REMOTE_ADDR: peer,
  'wsgi.url_scheme': 'http',
  REQUEST_SCHEME: 'http',
  ...(xff !== undefined ? { HTTP_X_FORWARDED_FOR: xff } : {}),
  ...(proto !== undefined ? { HTTP_X_FORWARDED_PROTO: proto } : {}),
});

const CASES = [
  // [allow, peer, X-Forwarded-For, X-Forwarded-Proto, REMOTE_ADDR, scheme]
  ['127.0.0.1', '127.0.0.1', '203.0.113.9', 'https', '203.0.113.9', 'https'],
  ['127.0.0.1', '10.0.0.1', '203.0.113.9', 'https', '10.0.0.1', 'http'], // untrusted peer
  ['127.0.0.1', '127.0.0.1', '198.51.100.1, 203.0.113.9', undefined, '203.0.113.9', 'http'], // rightmost
  ['127.0.0.1,10.0.0.0/8', '127.0.0.1', '198.51.100.1, 203.0.113.9, 10.1.2.3', undefined, '203.0.113.9', 'http'], // trusted hops skipped
  ['127.0.0.1,10.0.0.0/8', '127.0.0.1', '10.0.0.5, 10.1.2.3', undefined, '10.0.0.5', 'http'], // all trusted: the leftmost
  ['127.0.0.1', '127.0.0.1', 'garbage, 203.0.113.9', undefined, '203.0.113.9', 'http'],
  ['127.0.0.1', '127.0.0.1', '203.0.113.9, garbage', undefined, '127.0.0.1', 'http'], // garbage nearest: nothing believed
  ['::1', '::1', '2001:db8::7', 'HTTPS', '2001:db8::7', 'https'],
  ['fd00::/8', 'fd12::1', '2001:db8::7', undefined, '2001:db8::7', 'http'],
  ['fd00::/8', 'fe80::1', '2001:db8::7', undefined, 'fe80::1', 'http'],
  ['127.0.0.0/8', '::ffff:127.0.0.2', '203.0.113.9', undefined, '203.0.113.9', 'http'], // v4-mapped peer
  ['*', '192.0.2.200', '203.0.113.9', 'http', '203.0.113.9', 'http'],
  ['127.0.0.1', '127.0.0.1', undefined, 'gopher', '127.0.0.1', 'http'], // unknown scheme ignored
  ['127.0.0.1', '127.0.0.1', undefined, 'http, https', '127.0.0.1', 'https'], // the last value
];

for (const [allow, peer, xff, proto, addr, scheme] of CASES) {
  test(`allow ${allow}, peer ${peer}, X-Forwarded-For ${xff}, -Proto ${proto} -> ${addr} ${scheme}`, () => {
    const e = env(peer, xff, proto);
    ForwardedTrust.parse(allow).apply(e);
    assert.equal(e.REMOTE_ADDR, addr);
    assert.equal(e['wsgi.url_scheme'], scheme);
    assert.equal(e.REQUEST_SCHEME, scheme);
  });
}

test('a bad entry is refused, naming it', () => {
  for (const bad of ['localhost', '10.0.0.0/33', '::1/129', '1.2.3.4/8/8', '', '10.0.0.0/x']) {
    assert.throws(() => ForwardedTrust.parse(bad), (err) => err.code === 'TSGI_ERR_OPTION_INVALID' && err.message.includes(`received "${bad}"`) && err.message.includes('forwarded-allow-ips'));
  }
});
