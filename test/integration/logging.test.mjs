// Logs operators can use: --logformat with uWSGI's %(...) variables, --log-encoder json,
// --log-x-forwarded-for, --log-4xx/--log-5xx/--log-slow/--log-big with
// --disable-logging, --logger and --req-logger file:PATH apart, and the reopening of
// the files on SIGUSR2 and --touch-logreopen that logrotate needs. Each check reads the
// lines a real server wrote (its stderr or its files) for requests sent on real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { rawRequest } from '../lib/raw-client.mjs';
import { req, parseResponse } from '../lib/http-wire.mjs';
import { boundSockets, spawnCli, startCli } from '../lib/cli.mjs';
import { waitUntil } from '../lib/wait.mjs';
import { startMaster, killAll, assertAllGone } from '../lib/master.mjs';
import { uwsgiRequest } from '../lib/uwsgi-client.mjs';

const APP = join(FIXTURES, 'log-app.mjs');

/** The lines a file holds (none when it does not exist). */
const fileLines = (path) => (existsSync(path) ? readFileSync(path, 'latin1').split('\n').filter((l) => l !== '') : []);

/** The stderr lines that are neither the server's messages nor its banner. */
const requestLines = (cli) =>
  cli
    .stderrText()
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('tsgi:') && !l.startsWith('***') && !l.startsWith('{"time"'));

/** One request on its own connection: its response parsed, and the raw head's size. */
async function send(port, bytes) {
  const r = await rawRequest(port, bytes, { until: (d) => parseResponse(d)?.complete === true });
  const res = parseResponse(r.data);
  const headBytes = r.data.indexOf('\r\n\r\n') + 4;
  return { res, headBytes, bodyBytes: res.body.length, localPort: r.localPort };
}

const tempDir = () => mkdtempSync(join(tmpdir(), 'tsgi-logging-'));

for (const backend of BACKENDS) {
  test(`--logformat: each %(...) variable shows the request sent (${backend} backend)`, { timeout: 30000 }, async () => {
    const vars = ['addr', 'method', 'uri', 'proto', 'status', 'size', 'rsize', 'hsize', 'headers', 'msecs', 'micros', 'host', 'referer', 'uagent', 'cl', 'pid', 'wid', 'core', 'var.QUERY_STRING', 'var.HTTP_X_TRACE', 'time', 'epoch', 'ltime', 'ctime', 'user', 'secs'];
    const format = vars.map((v) => `${v}=%(${v})`).join('|');
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--logformat', format]);
    try {
      const port = cli.sockets[0].port;
      const before = Math.floor(Date.now() / 1000);
      const body = 'abcdefg';
      const sent = await send(
        port,
        req('POST', '/status/201?q=1&r=2', [['Host', 'example.test'], ['Referer', 'http://ref.test/p'], ['User-Agent', 'probe/1.0'], ['X-Trace', 'tr-42'], ['Content-Length', String(body.length)], ['Connection', 'close']], body),
      );
      const after = Math.ceil(Date.now() / 1000);
      assert.equal(sent.res.status, 201);
      await waitUntil(() => requestLines(cli).length >= 1, 3000, 'the request line');
      const lines = requestLines(cli);
      assert.equal(lines.length, 1, cli.stderrText());
      const got = Object.fromEntries(lines[0].split('|').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      assert.deepEqual(Object.keys(got), vars);
      assert.equal(got.addr, '127.0.0.1');
      assert.equal(got.method, 'POST');
      assert.equal(got.uri, '/status/201?q=1&r=2');
      assert.equal(got.proto, 'HTTP/1.1');
      assert.equal(got.status, '201');
      assert.equal(got.rsize, String(sent.bodyBytes));
      assert.equal(got.rsize, String('status 201\n'.length));
      if (backend === 'native') assert.equal(got.hsize, String(sent.headBytes)); // node:http's own head is not counted byte for byte
      assert.equal(Number(got.size), Number(got.rsize) + Number(got.hsize));
      assert.ok(Number(got.headers) >= 1, got.headers);
      assert.ok(Number(got.msecs) >= 0 && Number(got.msecs) < 3000, got.msecs);
      assert.ok(Number(got.micros) >= Number(got.msecs) * 1000 && Number(got.micros) < (Number(got.msecs) + 1) * 1000, `${got.micros} vs ${got.msecs}`);
      assert.equal(Number(got.secs), Number(got.micros) / 1e6);
      assert.equal(got.host, 'example.test');
      assert.equal(got.referer, 'http://ref.test/p');
      assert.equal(got.uagent, 'probe/1.0');
      assert.equal(got.cl, String(body.length));
      assert.equal(got.pid, String(cli.child.pid));
      assert.equal(got.wid, '1');
      assert.equal(got.core, '0');
      assert.equal(got['var.QUERY_STRING'], 'q=1&r=2');
      assert.equal(got['var.HTTP_X_TRACE'], 'tr-42');
      assert.ok(Number(got.time) >= before && Number(got.time) <= after, got.time);
      assert.ok(Number(got.epoch) >= Number(got.time) && Number(got.epoch) <= after, got.epoch);
      assert.match(got.ltime, /^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$/);
      assert.match(got.ctime, /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
      assert.equal(got.user, '');
    } finally {
      await cli.kill();
    }
  });

  test(`--logformat over uwsgi: the values are what the front end sent (${backend} backend)`, { timeout: 30000 }, async () => {
    const dir = tempDir();
    const socket = join(dir, 'app.sock');
    const cli = await startCli(['--backend', backend, '--uwsgi-socket', socket, '--wsgi-file', APP, '--logformat', '%(addr)|%(method)|%(uri)|%(proto)|%(host)|%(status)|%(var.HTTPS)|%(cl)']);
    try {
      const vars = [
        ['REQUEST_METHOD', 'PUT'],
        ['REQUEST_URI', '/status/202?a=b'],
        ['PATH_INFO', '/status/202'],
        ['QUERY_STRING', 'a=b'],
        ['SERVER_PROTOCOL', 'HTTP/2.0'],
        ['REMOTE_ADDR', '198.51.100.7'],
        ['REMOTE_PORT', '40000'],
        ['SERVER_NAME', 'front'],
        ['SERVER_PORT', '443'],
        ['HTTP_HOST', 'front.test'],
        ['HTTPS', 'on'],
        ['CONTENT_LENGTH', '3'],
      ];
      const r = await uwsgiRequest(socket, vars, 'xyz');
      assert.match(r.data.toString('latin1'), /^HTTP\/2\.0 202 |^HTTP\/1\.1 202 /);
      await waitUntil(() => requestLines(cli).length >= 1, 3000, 'the request line');
      assert.deepEqual(requestLines(cli), ['198.51.100.7|PUT|/status/202?a=b|HTTP/2.0|front.test|202|on|3']);
    } finally {
      await cli.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`--logformat: a value cannot forge a line: control bytes are written \\xHH (${backend} backend)`, { timeout: 30000 }, async () => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--logformat', '[%(uagent)] %(uri)']);
    try {
      // HTTP lets a tab through in a header value, and a backslash in the target.
      await send(cli.sockets[0].port, req('GET', '/a\\b', [['User-Agent', 'x\ty'], ['Connection', 'close']]));
      await waitUntil(() => requestLines(cli).length >= 1, 3000, 'the request line');
      assert.deepEqual(requestLines(cli), ['[x\\x09y] /a\\x5cb']);
    } finally {
      await cli.kill();
    }
  });

  test(`--log-encoder json: one object per request with fixed keys, server messages as {"time","msg"} (${backend} backend)`, { timeout: 30000 }, async () => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--log-encoder', 'json']);
    try {
      const port = cli.sockets[0].port; // its bound line is a JSON message too (test/lib/cli.mjs)
      const sent = await send(port, req('GET', '/status/404?x="q"', [['Host', 'h.test'], ['User-Agent', 'agent "quoted" \\ back'], ['Referer', 'r'], ['Connection', 'close']]));
      await waitUntil(() => /"uri"/.test(cli.stderrText()), 3000, 'the request line');
      const lines = cli.stderrText().trimEnd().split('\n');
      const objects = lines.map((l) => JSON.parse(l)); // every line, messages too
      const requests = objects.filter((o) => 'uri' in o);
      assert.equal(requests.length, 1);
      const r = requests[0];
      assert.deepEqual(Object.keys(r), ['time', 'pid', 'wid', 'addr', 'method', 'uri', 'proto', 'status', 'size', 'rsize', 'hsize', 'msecs', 'host', 'referer', 'uagent']);
      assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 10000);
      assert.equal(r.pid, cli.child.pid);
      assert.equal(r.wid, 1);
      assert.equal(r.addr, '127.0.0.1');
      assert.equal(r.method, 'GET');
      assert.equal(r.uri, '/status/404?x="q"');
      assert.equal(r.proto, 'HTTP/1.1');
      assert.equal(r.status, 404);
      assert.equal(r.rsize, sent.bodyBytes);
      if (backend === 'native') assert.equal(r.hsize, sent.headBytes);
      assert.equal(r.size, r.rsize + r.hsize);
      assert.equal(typeof r.msecs, 'number');
      assert.equal(r.host, 'h.test');
      assert.equal(r.referer, 'r');
      assert.equal(r.uagent, 'agent "quoted" \\ back');
      const messages = objects.filter((o) => !('uri' in o));
      assert.ok(messages.some((m) => /^\*\*\* tsgi is ready/.test(m.msg)), lines.join('\n'));
      for (const m of messages) assert.deepEqual(Object.keys(m), ['time', 'msg']);
      // A refused request's line is JSON too.
      await rawRequest(port, 'this is not http\r\n\r\n');
      await waitUntil(() => /refused 400/.test(cli.stderrText()), 3000, 'the refusal line');
      const refusal = cli.stderrText().trimEnd().split('\n').map((l) => JSON.parse(l)).find((o) => /refused 400/.test(o.msg ?? ''));
      assert.equal(refusal.pid, cli.child.pid);
      assert.match(refusal.addr, /^127\.0\.0\.1:\d+$/);
      assert.match(refusal.msg, /^refused 400 Bad Request: /);
    } finally {
      await cli.kill();
    }
  });

  test(`--log-encoder json with --logformat: each %(x) is key x, numbers as numbers (${backend} backend)`, { timeout: 30000 }, async () => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--log-encoder', 'json', '--logformat', '%(method) %(status) "%(var.HTTP_X_ID)" %(cl)']);
    try {
      await send(cli.sockets[0].port, req('GET', '/', [['X-Id', 'a\tb\n'.slice(0, 3)], ['Connection', 'close']]));
      await waitUntil(() => /"method"/.test(cli.stderrText()), 3000, 'the request line');
      const line = cli.stderrText().split('\n').find((l) => l.includes('"method"'));
      assert.deepEqual(JSON.parse(line), { method: 'GET', status: 200, 'var.HTTP_X_ID': 'a\tb', cl: 0 });
    } finally {
      await cli.kill();
    }
  });

  test(`--log-x-forwarded-for: the address is the header's, REMOTE_ADDR without one (${backend} backend)`, { timeout: 30000 }, async () => {
    const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--log-x-forwarded-for']);
    try {
      const port = cli.sockets[0].port;
      await send(port, req('GET', '/one', [['X-Forwarded-For', '203.0.113.9, 10.0.0.1'], ['Connection', 'close']]));
      await waitUntil(() => requestLines(cli).length >= 1, 3000, 'the first line');
      await send(port, req('GET', '/two', [['Connection', 'close']]));
      await waitUntil(() => requestLines(cli).length >= 2, 3000, 'the second line');
      const [one, two] = requestLines(cli);
      assert.match(one, /^\[pid: \d+\|app: 0\|req: 1\/1\] 203\.0\.113\.9, 10\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} \[.{24}\] GET \/one => generated 6 bytes in \d+ msecs \(HTTP\/1\.1 200\) \d+ headers in \d+ bytes \(1 switches on core 0\)$/);
      assert.match(two, /\] 127\.0\.0\.1 \(\) \{.* GET \/two => /);
    } finally {
      await cli.kill();
    }
  });

  // Each filter alone with --disable-logging: exactly the request it names is logged.
  const FILTERS = [
    [['--log-4xx'], '/status/404'],
    [['--log-5xx'], '/status/503'],
    [['--log-slow', '250'], '/sleep/400'],
    [['--log-big', '5000'], '/big/6000'],
    [[], undefined],
  ];
  for (const [flags, logged] of FILTERS) {
    test(`--disable-logging ${flags.join(' ') || 'alone'}: ${logged ?? 'no request'} logged, the others not (${backend} backend)`, { timeout: 30000 }, async () => {
      const cli = await startCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging', ...flags]);
      try {
        const port = cli.sockets[0].port;
        for (const path of ['/', '/status/404', '/status/503', '/sleep/400', '/big/6000', '/status/302']) {
          await send(port, req('GET', path, [['Connection', 'close']]));
        }
        // A last request the filters let through marks the end: the lines before it are all in.
        await send(port, req('GET', '/status/599', [['Connection', 'close']]));
        if (flags[0] === '--log-5xx') {
          await waitUntil(() => requestLines(cli).some((l) => l.includes('/status/599')), 3000, 'the last line');
        } else {
          await new Promise((r) => setTimeout(r, 300)); // the native server writes its lines within 50 ms
        }
        const uris = requestLines(cli).map((l) => / (GET \S+) => /.exec(l)?.[1]);
        const expected = logged === undefined ? [] : [`GET ${logged}`];
        if (flags[0] === '--log-5xx') expected.push('GET /status/599');
        assert.deepEqual(uris, expected, cli.stderrText());
      } finally {
        await cli.kill();
      }
    });
  }

  test(`--logger and --req-logger: the server's messages and the request lines in their own files (${backend} backend)`, { timeout: 30000 }, async () => {
    const dir = tempDir();
    const all = join(dir, 'server.log');
    const requests = join(dir, 'requests.log');
    const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--logger', `file:${all}`, '--req-logger', `file:${requests}`]);
    try {
      await waitUntil(() => fileLines(all).some((l) => l.startsWith('*** tsgi is ready')), 10000, 'the ready line in the server log');
      const port = boundSockets(readFileSync(all, 'latin1'))[0].port;
      await send(port, req('GET', '/req-one', [['Connection', 'close']]));
      await rawRequest(port, 'this is not http\r\n\r\n');
      await waitUntil(() => fileLines(requests).length >= 2, 3000, 'two lines in the request log');
      const reqLines = fileLines(requests);
      assert.equal(reqLines.length, 2, reqLines.join('\n'));
      assert.match(reqLines[0], /\] GET \/req-one => generated 6 bytes/);
      assert.match(reqLines[1], /refused 400 Bad Request/);
      const serverLines = fileLines(all);
      assert.ok(serverLines.every((l) => !l.includes('/req-one') && !l.includes('refused')), serverLines.join('\n'));
      assert.equal(cli.stderrText(), '');
    } finally {
      await cli.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const how of ['SIGUSR2', '--touch-logreopen']) {
    test(`logrotate (${how}): rename, reopen: the old file holds the earlier lines, a new one at the path the next, none lost (${backend} backend)`, { timeout: 30000 }, async () => {
      const dir = tempDir();
      const all = join(dir, 'server.log');
      const requests = join(dir, 'requests.log');
      const touch = join(dir, 'reopen');
      writeFileSync(touch, '');
      const extra = how === 'SIGUSR2' ? [] : ['--touch-logreopen', touch];
      const cli = spawnCli(['--backend', backend, '--http', '127.0.0.1:0', '--wsgi-file', APP, '--logger', `file:${all}`, '--req-logger', `file:${requests}`, ...extra]);
      try {
        await waitUntil(() => fileLines(all).some((l) => l.startsWith('*** tsgi is ready')), 10000, 'the ready line');
        const port = boundSockets(readFileSync(all, 'latin1'))[0].port;
        for (let i = 0; i < 3; i++) await send(port, req('GET', `/before/${i}`));
        await waitUntil(() => fileLines(requests).length === 3, 3000, 'three lines');
        renameSync(requests, requests + '.1');
        renameSync(all, all + '.1');
        if (how === 'SIGUSR2') {
          cli.signal('SIGUSR2');
        } else {
          const later = new Date(Date.now() + 2000);
          utimesSync(touch, later, later);
        }
        await waitUntil(() => fileLines(all).some((l) => /log files reopened/.test(l)), 5000, 'the reopened line in the new server log');
        for (let i = 0; i < 3; i++) await send(port, req('GET', `/after/${i}`));
        await waitUntil(() => fileLines(requests).length === 3, 3000, 'three lines in the new file');
        const uri = (l) => / GET (\S+) => /.exec(l)[1];
        assert.deepEqual(fileLines(requests + '.1').map(uri), ['/before/0', '/before/1', '/before/2']);
        assert.deepEqual(fileLines(requests).map(uri), ['/after/0', '/after/1', '/after/2']);
        assert.ok(fileLines(all + '.1').some((l) => l.startsWith('*** tsgi is ready')));
      } finally {
        await cli.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}

test('--logformat: a request the client abandons is logged with its environ (native backend)', { timeout: 30000 }, async () => {
  const cli = await startCli(['--backend', 'native', '--http', '127.0.0.1:0', '--wsgi-file', APP, '--logformat', '%(method) %(uri) %(status) %(var.HTTP_X_ID)']);
  try {
    const port = cli.sockets[0].port;
    // The client goes away after 150 ms; the application answers after 600.
    const r = await rawRequest(port, req('GET', '/sleep/600', [['X-Id', 'gone-1']]), { timeoutMs: 150 });
    assert.equal(r.data.length, 0);
    await waitUntil(() => requestLines(cli).length >= 1, 3000, 'the abandoned request\'s line');
    assert.deepEqual(requestLines(cli), ['GET /sleep/600 0 gone-1']);
  } finally {
    await cli.kill();
  }
});

test('master mode: SIGUSR2 reopens the master\'s log and each worker\'s request log', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const all = join(dir, 'server.log');
  const requests = join(dir, 'requests.log');
  let m;
  try {
    m = await readyMasterToFile(['--logger', `file:${all}`, '--req-logger', `file:${requests}`, '--logformat', '%(wid) %(uri)'], all);
    const uris = async (prefix, n) => {
      for (let i = 0; i < n; i++) await send(m.portNumber, req('GET', `/${prefix}/${i}`, [['Connection', 'close']]));
    };
    await uris('before', 4);
    await waitUntil(() => fileLines(requests).length === 4, 3000, 'four lines');
    renameSync(requests, requests + '.1');
    renameSync(all, all + '.1');
    process.kill(m.pid, 'SIGUSR2');
    // The master's line, then each worker's, in the new server log.
    await waitUntil(() => fileLines(all).filter((l) => /: log files reopened$/.test(l)).length === 3, 5000, 'three reopened lines');
    await uris('after', 4);
    await waitUntil(() => fileLines(requests).length === 4, 3000, 'four lines in the new file');
    // Two workers write the file, each its own lines in order: sorted, the set is checked.
    assert.deepEqual(fileLines(requests + '.1').map((l) => l.split(' ')[1]).sort(), ['/before/0', '/before/1', '/before/2', '/before/3']);
    assert.deepEqual(fileLines(requests).map((l) => l.split(' ')[1]).sort(), ['/after/0', '/after/1', '/after/2', '/after/3']);
    for (const l of [...fileLines(requests), ...fileLines(requests + '.1')]) assert.match(l, /^[12] /);
    process.kill(m.pid, 'SIGINT');
    await m.exit;
    await assertAllGone(m);
  } finally {
    await killAll(m);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** startMaster(), ready, whose log goes to a file: its port and workers are read there. */
async function readyMasterToFile(args, file) {
  const m = startMaster(args);
  await waitUntil(() => fileLines(file).filter((l) => / ready: application /.test(l)).length >= 2, 10000, 'two ready workers');
  m.portNumber = boundSockets(readFileSync(file, 'latin1'))[0].port;
  return m;
}

test('--logger syslog and an unknown %(...) variable are refused at start, with the reason', { timeout: 30000 }, async () => {
  const syslog = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', APP, '--logger', 'syslog']);
  assert.equal((await syslog.waitExit()).code, 1);
  assert.match(syslog.stderrText(), /--logger syslog is not supported: .*file:PATH/);
  const unknown = spawnCli(['--http', '127.0.0.1:0', '--wsgi-file', APP, '--logformat', '%(method) %(nosuch)']);
  assert.equal((await unknown.waitExit()).code, 1);
  assert.match(unknown.stderrText(), /--logformat: unknown variable %\(nosuch\)/);
});
