// tsgi behind a real proxy: HAProxy sending the PROXY protocol (send-proxy,
// send-proxy-v2) to --enable-proxy-protocol, HAProxy in mode http with option
// forwardfor, and nginx with proxy_set_header X-Forwarded-For/-Proto, to
// --forwarded-allow-ips. Each on loopback, on both backends, stopped by pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { spawnCli } from '../lib/cli.mjs';
import { request } from '../lib/raw-client.mjs';
import { findHaproxy, startHaproxy } from '../lib/haproxy.mjs';
import { findNginx, startNginx } from '../lib/nginx.mjs';

const APP = join(FIXTURES, 'peer-app.mjs');
const noHaproxy = findHaproxy() === undefined && 'haproxy is not installed (apt-get install -y haproxy)';
const noNginx = findNginx() === undefined && 'nginx is not installed';

/** GET / through port with extra header lines; resolves with the body and the client's own port. */
async function get(port, headers = '') {
  const res = await request(port, `GET / HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`, { timeoutMs: 5000 });
  return { status: res.status, body: res.body.toString('latin1'), localPort: res.wire.localPort };
}

async function tsgi(backend, args) {
  const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, ...args]);
  await cli.port;
  await cli.waitStderr(/tsgi is ready/);
  return cli;
}

for (const backend of BACKENDS) {
  for (const server of ['send-proxy', 'send-proxy-v2']) {
    test(`${backend}: HAProxy ${server} -> --enable-proxy-protocol: REMOTE_ADDR/PORT are the client's`, { skip: noHaproxy }, async () => {
      const cli = await tsgi(backend, ['--enable-proxy-protocol']);
      const proxy = await startHaproxy({ backendPort: await cli.port, mode: 'tcp', server });
      try {
        for (let i = 0; i < 3; i++) {
          const r = await get(proxy.port);
          assert.equal(r.status, 200);
          // HAProxy's own connection to tsgi has another port: this one is the client's.
          assert.equal(r.body, `127.0.0.1 ${r.localPort} http\n`);
        }
        // A client that skips the proxy is refused unanswered.
        const direct = await get(await cli.port).catch((e) => e);
        assert.ok(direct instanceof Error || direct.status === 0 || Number.isNaN(direct.status), `direct: ${JSON.stringify(direct)}`);
        await cli.waitStderr(/refused: no PROXY protocol header/);
      } finally {
        await proxy.stop();
        await cli.kill();
      }
    });
  }

  test(`${backend}: HAProxy mode http, option forwardfor -> --forwarded-allow-ips 127.0.0.1: REMOTE_ADDR from X-Forwarded-For`, { skip: noHaproxy }, async () => {
    const trusted = await tsgi(backend, ['--forwarded-allow-ips', '127.0.0.1']);
    const untrusted = await tsgi(backend, []);
    const p1 = await startHaproxy({ backendPort: await trusted.port, mode: 'http', extra: '    option forwardfor' });
    const p2 = await startHaproxy({ backendPort: await untrusted.port, mode: 'http', extra: '    option forwardfor' });
    try {
      // The client's own X-Forwarded-For and HAProxy's (127.0.0.1): the rightmost
      // untrusted one is the client as far as the trusted proxy knows.
      const a = await get(p1.port, 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n');
      assert.equal(a.body.split(' ')[0], '203.0.113.9');
      assert.equal(a.body.split(' ')[2], 'https\n');
      // Without the option the headers change nothing.
      const b = await get(p2.port, 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n');
      assert.equal(b.body.split(' ')[0], '127.0.0.1');
      assert.equal(b.body.split(' ')[2], 'http\n');
    } finally {
      await p1.stop();
      await p2.stop();
      await trusted.kill();
      await untrusted.kill();
    }
  });

  test(`${backend}: nginx proxy_pass with $proxy_add_x_forwarded_for -> --forwarded-allow-ips 127.0.0.1`, { skip: noNginx }, async () => {
    const cli = await tsgi(backend, ['--forwarded-allow-ips', '127.0.0.1,::1']);
    const nginx = await startNginx({
      upstream: await cli.port,
      pass: 'http',
      extraLocation: '            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n            proxy_set_header X-Forwarded-Proto https;',
    });
    try {
      const r = await get(nginx.port, 'X-Forwarded-For: 198.51.100.4\r\n');
      assert.equal(r.status, 200);
      // "198.51.100.4, 127.0.0.1": nginx appended the client it saw (127.0.0.1, trusted).
      assert.equal(r.body.split(' ')[0], '198.51.100.4');
      assert.equal(r.body.split(' ')[2], 'https\n');
      // Straight to tsgi (a trusted peer too, here): a spoofed header from a trusted
      // address is believed, which is why the list names only the proxies.
      const direct = await get(await cli.port, 'X-Forwarded-For: 192.0.2.1\r\n');
      assert.equal(direct.body.split(' ')[0], '192.0.2.1');
    } finally {
      await nginx.stop();
      await cli.kill();
    }
  });
}
