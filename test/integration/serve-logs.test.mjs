// serve()'s errorLog and logFd: a program that embeds tsgi sends the application's errors
// (and wsgi.errors) and the request and refusal lines where it wants them, and nothing
// reaches its stderr. The test suites' in-process servers use this to stay quiet in a
// passing run (serverLogSince() in ../lib/server.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, BACKENDS } from '../lib/project.mjs';
import { withTimeout } from '../lib/wait.mjs';

// The embedding program: a server whose application writes to wsgi.errors and throws on
// /boom, one request it serves, one it throws on and one it refuses, then it prints what
// each log received as JSON on stdout.
const PROGRAM = `
import { openSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { serve } from ${JSON.stringify(join(ROOT, 'dist', 'lib', 'index.js'))};

const dir = mkdtempSync(join(tmpdir(), 'tsgi-serve-logs-'));
const logFile = join(dir, 'requests.log');
const errors = [];
const server = await serve(
  (environ, startResponse) => {
    environ['wsgi.errors'].write('a line to wsgi.errors\\n');
    if (environ.PATH_INFO === '/boom') throw new Error('boom in the application');
    startResponse('200 OK', []);
    return ['ok'];
  },
  { backend: process.argv[1], http: '127.0.0.1:0', errorLog: (t) => errors.push(String(t)), logFd: openSync(logFile, 'a') },
);
const send = (bytes) =>
  new Promise((resolve) => {
    const c = net.connect(server.address.port, '127.0.0.1', () => c.end(bytes));
    let got = '';
    c.on('data', (d) => (got += d));
    c.on('close', () => resolve(got.split('\\r\\n')[0]));
  });
const statuses = [];
statuses.push(await send('GET /fine HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n'));
statuses.push(await send('GET /boom HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n'));
statuses.push(await send('this is not http\\r\\n\\r\\n'));
await server.close();
process.stdout.write(JSON.stringify({ statuses, errors: errors.join(''), log: readFileSync(logFile, 'utf8') }));
rmSync(dir, { recursive: true, force: true });
`;

for (const backend of BACKENDS) {
  test(`serve() with errorLog and logFd: the errors and the log lines go there, nothing to stderr (${backend} backend)`, { timeout: 30000 }, async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', PROGRAM, backend], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await withTimeout(new Promise((resolve) => child.on('close', resolve)), 20000, 'the program to end');
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '', 'nothing on stderr');
    const { statuses, errors, log } = JSON.parse(stdout);
    assert.deepEqual(statuses, ['HTTP/1.1 200 OK', 'HTTP/1.1 500 Internal Server Error', 'HTTP/1.1 400 Bad Request']);
    assert.match(errors, /^a line to wsgi\.errors\na line to wsgi\.errors\ntsgi: error in the application during GET \/boom:\nError: boom in the application\n    at /);
    const lines = log.trimEnd().split('\n');
    assert.equal(lines.length, 3, log);
    assert.match(lines[0], /\] GET \/fine => generated 2 bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
    assert.match(lines[1], /\] GET \/boom => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 500\)/);
    assert.match(lines[2], /refused 400 Bad Request: malformed request/);
  });
}
