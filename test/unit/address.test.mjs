// lib/config/address.ts (socket addresses as uWSGI writes them) and lib/protocol/address.ts (resolved, shown).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTcpAddress } from '../../dist/lib/config/address.js';
import { resolveHost, formatAddress } from '../../dist/lib/protocol/address.js';

const bad = { name: 'TsgiError', code: 'TSGI_ERR_ADDRESS_INVALID' };

describe('parseTcpAddress', () => {
  test('IPv4, names, every interface, IPv6 in brackets', () => {
    const cases = [
      [':9090', '0.0.0.0', 9090],
      ['*:9090', '0.0.0.0', 9090],
      ['127.0.0.1:9090', '127.0.0.1', 9090],
      ['127.0.0.1:0', '127.0.0.1', 0],
      ['0.0.0.0:65535', '0.0.0.0', 65535],
      ['localhost:8080', 'localhost', 8080],
      ['[::1]:9090', '::1', 9090],
      ['[::]:0', '::', 0],
      ['[fe80::1]:80', 'fe80::1', 80],
      [':00080', '0.0.0.0', 80],
    ];
    for (const [spec, host, port] of cases) {
      assert.deepEqual(parseTcpAddress(spec), { kind: 'tcp', host, port, spec }, spec);
    }
  });

  test('malformed addresses are refused with a clear message', () => {
    for (const spec of ['9090', '', ':', '127.0.0.1:', '::1:80', '::1', '[::1]80', '[::1]', '[::1', '[127.0.0.1]:80', '[nothost]:80', ':65536', ':123456', ':-1', ':abc', ':80x', ':8 0']) {
      assert.throws(() => parseTcpAddress(spec), { ...bad, message: new RegExp(JSON.stringify(spec).replace(/[[\]\\^$.*+?()|{}]/g, '\\$&')) }, JSON.stringify(spec));
    }
  });

  test('the message names the option', () => {
    assert.throws(() => parseTcpAddress('nope', 'http-socket'), { ...bad, message: /http-socket/ });
    assert.throws(() => parseTcpAddress('nope'), { ...bad, message: /for http\b/ });
    assert.throws(() => parseTcpAddress('::1:80'), { ...bad, message: /brackets/ });
    assert.throws(() => parseTcpAddress(':70000'), { ...bad, message: /0 to 65535/ });
  });
});

describe('resolveHost', () => {
  test('numeric addresses pass through', async () => {
    assert.equal(await resolveHost('127.0.0.1'), '127.0.0.1');
    assert.equal(await resolveHost('0.0.0.0'), '0.0.0.0');
    assert.equal(await resolveHost('::1'), '::1');
    assert.equal(await resolveHost('::'), '::');
  });

  test('localhost resolves to a loopback address', { timeout: 10000 }, async () => {
    assert.match(await resolveHost('localhost'), /^(127\.\d+\.\d+\.\d+|::1)$/);
  });

  test('an unknown name rejects', { timeout: 10000 }, async () => {
    await assert.rejects(resolveHost('no-such-host.invalid'));
  });
});

describe('formatAddress', () => {
  test('IPv6 in brackets, IPv4 plain', () => {
    assert.equal(formatAddress('127.0.0.1', 9090), '127.0.0.1:9090');
    assert.equal(formatAddress('::1', 9090), '[::1]:9090');
    assert.equal(formatAddress('::', 0), '[::]:0');
  });
});
