// The server of test/integration/faults-*.test.mjs: the CLI (cli.mjs's startCli()) with
// --http 127.0.0.1:0 --socket DIR/s.sock and the faults application, TMPDIR a fresh
// directory of its own; its stderr lines counted by kind; and the checks every fault
// ends with: the server alive and serving, its descriptors back to the baseline, no
// temporary file left, a clean stop on SIGTERM. The application writes what it hears
// (the signal, close()) to the file in FAULTS_LOG, read by waitLog().
//
// The standard every fault is held to: bad input gets the right status (and a log
// line), everyone else is served on, and nothing is lost: temporary files go, sockets
// close, memory does not grow per request or per idle connection.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, FIXTURES } from './project.mjs';
import { startCli } from './cli.mjs';
import { cleanupClients, probe } from './faults-clients.mjs';
import { fdCount, openFds, residentBytes } from './proc.mjs';
import { delay, waitUntil } from './wait.mjs';

const APP = join(FIXTURES, 'faults', 'app.mjs');
const FD_SLACK = 2;
// Under AddressSanitizer (npm test's second pass preloads libasan and names the
// sanitized addon) memory figures mean nothing: the RSS bounds are reported, not held.
export const SANITIZED = /asan/.test(process.env.LD_PRELOAD ?? '') || process.env.TSGI_NATIVE_ADDON !== undefined;

/** The resident set of pid in KiB. */
export const rssKiB = (pid) => residentBytes(pid) / 1024;

/**
 * Starts the CLI with --http 127.0.0.1:0 --socket DIR/s.sock and the faults app.
 * Resolves once it is ready, with { cli, pid, port, sock, dir, tmp, log, argv, exit
 * (undefined while alive, else { code, signal }), exited, head (the first 16 KiB of
 * stderr), tail (the last 64 KiB), stderrTail(), counts, other, stop(), kill() }. The
 * test's after-hook ends the clients and the server and removes the directory.
 */
export async function startTsgi(t, args = [], { env = {}, nofile } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-faults-'));
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const sock = join(dir, 's.sock');
  const log = join(dir, 'faults.log');
  writeFileSync(log, '');
  const cliArgs = ['--backend', 'native', '--http', '127.0.0.1:0', '--socket', sock, '--wsgi-file', APP, '--listen', '1024', ...args];
  const counts = { refusedHttp: 0, refusedUwsgi: 0, generated: 0, acceptFailures: 0 };
  const other = []; // the first lines that are neither a request's, a refusal's nor the startup's
  const onLine = (l) => {
    if (/\] refused \d{3} /.test(l)) counts.refusedHttp++;
    else if (/\] refused uwsgi packet: /.test(l)) counts.refusedUwsgi++;
    else if (/^\[pid: \d+\|app: \d+\|req: \d+\/\d+\] .* => generated /.test(l)) counts.generated++;
    else if (/^tsgi: accept\(\) on socket \d+: /.test(l)) counts.acceptFailures++;
    else if (!/^(\*\*\* .* \*\*\*|tsgi: (application .* loaded|socket \d+ bound|SIGTERM: stopping|goodbye).*)$/.test(l) && other.length < 20) other.push(l);
  };
  let cli;
  t.after(async () => {
    await cleanupClients();
    await cli?.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  cli = await startCli(cliArgs, { env: { TMPDIR: tmp, FAULTS_LOG: log, ...env }, nofile, onLine });
  return {
    cli,
    pid: cli.child.pid,
    port: cli.sockets.find((s) => s.kind === 'tcp' && s.protocol === 'http').port,
    argv: [CLI, ...cliArgs],
    dir,
    tmp,
    sock,
    log,
    counts,
    other,
    exited: cli.exited,
    get exit() {
      return cli.exitInfo;
    },
    get head() {
      return cli.stderrText().slice(0, 16384);
    },
    get tail() {
      return cli.stderrText().slice(-65536);
    },
    stderrTail() {
      return `${this.head}${this.head.length >= 16384 ? '\n[...]\n' + this.tail : ''}`;
    },
    kill: () => cli.kill(),
    /** SIGTERM; resolves with the exit status (a graceful stop after all the faults). */
    stop() {
      cli.signal('SIGTERM');
      return cli.waitExit(6000);
    },
  };
}

/** The body's temporary files: tsgi-body-* names in TMPDIR, and descriptors into TMPDIR (O_TMPFILE shows "#N (deleted)"). */
export function tempLeft(srv) {
  const files = readdirSync(srv.tmp).filter((n) => n.startsWith('tsgi-body'));
  const fds = Object.values(openFds(srv.pid)).filter((target) => target.startsWith(srv.tmp) || /tsgi-body/.test(target));
  return { files, fds };
}

export const tempFds = (srv) => tempLeft(srv).fds.length;

/** The descriptors of the server once it has served one request of each protocol. */
export async function baseline(srv) {
  await probe(srv);
  await probe(srv, { uwsgi: true });
  await delay(100);
  return fdCount(srv.pid);
}

/** Asserts that the server is alive and serving, that its fds came back to base and that no temporary file is left. */
export async function assertClean(srv, base, what, ms = 6000) {
  assert.equal(srv.exit, undefined, `${what}: the server died ${JSON.stringify(srv.exit)}:\n${srv.stderrTail()}`);
  await probe(srv);
  await probe(srv, { uwsgi: true });
  let fds = Object.values(openFds(srv.pid));
  const end = Date.now() + ms;
  while ((fds.length > base + FD_SLACK || tempFds(srv) > 0) && Date.now() < end) {
    await delay(50);
    fds = Object.values(openFds(srv.pid));
  }
  assert.ok(fds.length <= base + FD_SLACK, `${what}: ${fds.length} fds open, baseline ${base}: ${JSON.stringify(fds)}`);
  const left = tempLeft(srv);
  assert.deepEqual(left, { files: [], fds: [] }, `${what}: temporary files left`);
  assert.equal(srv.exit, undefined, `${what}: the server died ${JSON.stringify(srv.exit)}:\n${srv.stderrTail()}`);
  assert.deepEqual(srv.other, [], `${what}: nothing but request and refusal lines on the server's stderr`);
  return fds.length;
}

export async function assertStops(srv) {
  const exit = await srv.stop();
  assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM stops the server cleanly:\n${srv.stderrTail()}`);
}

/** Reads the faults log until it has every line in want (strings or regexps). */
export async function waitLog(srv, want, ms = 3000) {
  let text = '';
  try {
    await waitUntil(() => {
      text = readFileSync(srv.log, 'latin1');
      return want.every((w) => (typeof w === 'string' ? text.split('\n').includes(w) : w.test(text)));
    }, ms, `the faults log to hold ${want.join(', ')}`);
  } catch (err) {
    throw new Error(`${err.message}; it holds ${JSON.stringify(text)}; stderr:\n${srv.tail}`);
  }
  return text;
}
