// The CLI as a child process, the one way the tests start it: `node bin/tsgi.js ...`, its
// stderr read as it comes, the sockets it says it bound, killed by pid when this process
// exits.
import { spawn } from 'node:child_process';
import { CLI, ROOT } from './project.mjs';
import { waitUntil, withTimeout } from './wait.mjs';

// Every CLI started here and not yet reaped: killed when this process exits (a detached
// one with its whole process group).
const children = new Map(); // child -> detached
process.on('exit', () => {
  for (const [child, detached] of children) {
    try {
      process.kill(detached ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// "tsgi: socket N bound to TCP address HOST:PORT (PROTOCOL, from SPEC)" (or "UNIX address
// PATH"): the single process's line; the master's ends "(PROTOCOL) fd FD" instead. Only
// whole lines (up to their newline) count.
const BOUND = /^tsgi: socket (\d+) bound to (TCP|UNIX) address (.+) \((\w+)(?:, from (.+)\)|\) fd (\d+))(?=\n)/gm;

/** stderr with each whole line that is a JSON message (--log-encoder json) replaced by its text. */
function messagesOf(stderr) {
  return stderr.replace(/^\{.*\}(?=\n)/gm, (line) => {
    try {
      const m = JSON.parse(line);
      return typeof m.msg === 'string' && !m.msg.includes('\n') ? m.msg : line;
    } catch {
      return line;
    }
  });
}

/**
 * Every socket the CLI printed as bound in stderr, in order: [{ index, kind: 'tcp' |
 * 'unix', address, host, port, protocol, spec, fd }]; host and port for TCP sockets
 * only, spec (what was asked for) from the single process's lines, fd from the master's.
 * With --log-encoder json, the same lines as JSON messages.
 */
export function boundSockets(stderr) {
  return [...messagesOf(stderr).matchAll(BOUND)].map(([, index, kind, address, protocol, spec, fd]) => {
    const s = { index: Number(index), kind: kind === 'TCP' ? 'tcp' : 'unix', address, protocol, spec, fd: fd === undefined ? undefined : Number(fd) };
    if (s.kind === 'tcp') {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
      s.host = m[1];
      s.port = Number(m[2]);
    }
    return s;
  });
}

/**
 * Starts `node bin/tsgi.js ...args`. Returns { child, port, sockets, exited, exitInfo,
 * stderrText(), stdoutText(), waitStderr(re, ms), waitExit(ms), signal(sig), kill() }.
 * sockets: boundSockets() of the stderr so far. port is a promise of socket 0's port
 * when it is a TCP HTTP socket ("tsgi: socket 0 bound to TCP address HOST:PORT (http");
 * it rejects if the process exits first or after 15 s (it is not awaited for a server
 * without one). exitInfo: undefined while the child runs, then { code, signal }.
 * kill() sends SIGKILL to this child (by pid) and reaps it. stderrLines: every complete
 * stderr line with the time it arrived ({ line, at }). nofile: run under `ulimit -n
 * nofile` (sh's ulimit, then exec: the pid stays the server's). command: the program
 * and its first arguments, in place of `node bin/tsgi.js` (`npx tsgi` in a project).
 * detached: the child leads a process group of its own (a master and its workers),
 * killed as a group when this process exits. onLine(line): called with each complete
 * stderr line as it comes. exited settles once the child exited and its pipes closed
 * (which a worker that outlives its master holds open); processExited as soon as the
 * child itself exited.
 */
export function spawnCli(args, { cwd = ROOT, env = {}, nofile, command = [process.execPath, CLI], detached = false, onLine } = {}) {
  const argv = [...command.slice(1), ...args];
  const [file, fileArgs] =
    nofile === undefined ? [command[0], argv] : ['/bin/sh', ['-c', `ulimit -n ${nofile} && exec "$0" "$@"`, command[0], ...argv]];
  const child = spawn(file, fileArgs, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  children.set(child, detached);
  let stderr = '';
  let stdout = '';
  let partial = '';
  const stderrLines = [];
  child.stderr.setEncoding('latin1');
  child.stdout.setEncoding('latin1');
  const listeners = new Set();
  child.stderr.on('data', (s) => {
    stderr += s;
    const lines = (partial + s).split('\n');
    partial = lines.pop();
    for (const line of lines) {
      stderrLines.push({ line, at: Date.now() });
      onLine?.(line);
    }
    for (const l of listeners) l();
  });
  child.stdout.on('data', (s) => {
    stdout += s;
  });
  let exitInfo;
  const processExited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const exited = new Promise((resolve) => {
    child.on('close', (code, signal) => {
      children.delete(child);
      exitInfo = { code, signal }; // before the listeners run: they look at it
      resolve(exitInfo);
      for (const l of listeners) l();
    });
  });
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`the CLI printed no bound address within 15 s; stderr:\n${stderr}`));
    }, 15000);
    const check = () => {
      const http0 = boundSockets(stderr).find((s) => s.index === 0 && s.kind === 'tcp' && s.protocol === 'http');
      if (http0 !== undefined) {
        clearTimeout(timer);
        listeners.delete(check);
        resolve(http0.port);
      } else if (exitInfo !== undefined) {
        clearTimeout(timer);
        listeners.delete(check);
        reject(new Error(`the CLI exited (${JSON.stringify(exitInfo)}) before binding; stderr:\n${stderr}`));
      }
    };
    listeners.add(check);
  });
  port.catch(() => {});
  return {
    child,
    port,
    exited,
    processExited,
    get exitInfo() {
      return exitInfo;
    },
    get sockets() {
      return boundSockets(stderr);
    },
    stderrText: () => stderr,
    stderrLines,
    stdoutText: () => stdout,
    /** Resolves once stderr matches re (or holds the string). */
    waitStderr(re, ms = 5000) {
      const test = typeof re === 'string' ? (s) => s.includes(re) : (s) => re.test(s);
      return waitUntil(() => test(stderr), ms, `stderr to match ${re}`).then(() => stderr);
    },
    waitExit(ms = 10000) {
      return withTimeout(exited, ms, `the CLI (pid ${child.pid}) to exit`);
    },
    signal(sig) {
      if (exitInfo === undefined) process.kill(child.pid, sig);
    },
    async kill() {
      if (exitInfo === undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await withTimeout(exited, 5000, 'the killed CLI to be reaped').catch(() => {});
    },
  };
}

/**
 * spawnCli(args, options), then waits for "*** tsgi is ready": resolves with the
 * spawnCli() handle, whose sockets are then every socket it bound. Rejects (after killing
 * the child) when it exits first or is not ready within timeoutMs. For a server that has
 * no TCP HTTP socket 0 too (a unix or uwsgi socket), whose port spawnCli() never sees.
 */
export async function startCli(args, { timeoutMs = 15000, ...options } = {}) {
  const cli = spawnCli(args, options);
  try {
    await waitUntil(
      async () => {
        if (/\*\*\* tsgi is ready/.test(cli.stderrText())) return true;
        if (cli.exitInfo !== undefined) throw new Error(`tsgi exited (${JSON.stringify(cli.exitInfo)}) before it was ready`);
        return false;
      },
      timeoutMs,
      'tsgi to be ready',
    );
  } catch (err) {
    await cli.kill();
    throw new Error(`${err.message}\nstderr:\n${cli.stderrText()}`);
  }
  return cli;
}
