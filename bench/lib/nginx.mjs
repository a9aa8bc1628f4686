// nginx for bench/run.mjs's "nginx" scenario: a throw-away configuration in a temporary
// directory (everything nginx writes stays there), nginx pinned to a CPU, its workers'
// pids (their CPU time counts), stopping it by pid and summing up its error log. Finding
// nginx, starting it until it accepts and stopping it (SIGQUIT, then SIGKILL) are
// test/lib/nginx-core.mjs's, which the tests' nginx uses too.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findNginx as findNginxBy, findUwsgiParams, nginxConf, quitNginx, startNginx as startNginxOnFreePort, workerPids } from '../../test/lib/nginx-core.mjs';
import { procStat, sigkill } from '../../test/lib/proc.mjs';

export { findUwsgiParams, nginxVersion } from '../../test/lib/nginx-core.mjs';

/** The nginx binary: BENCH_NGINX if set (empty: none), else PATH, else the usual places; undefined when none. */
export const findNginx = () => findNginxBy('BENCH_NGINX');

// What nginx's uwsgi_params holds, for an nginx installed without it.
const UWSGI_PARAMS_INLINE = [
  'QUERY_STRING $query_string',
  'REQUEST_METHOD $request_method',
  'CONTENT_TYPE $content_type',
  'CONTENT_LENGTH $content_length',
  'REQUEST_URI $request_uri',
  'PATH_INFO $document_uri',
  'DOCUMENT_ROOT $document_root',
  'SERVER_PROTOCOL $server_protocol',
  'REQUEST_SCHEME $scheme',
  'HTTPS $https if_not_empty',
  'REMOTE_ADDR $remote_addr',
  'REMOTE_PORT $remote_port',
  'SERVER_PORT $server_port',
  'SERVER_NAME $server_name',
  'HTTP_HOST $host',
]
  .map((l) => `            uwsgi_param ${l};`)
  .join('\n');

/**
 * nginx.conf for one peer. upstream: { kind: 'uwsgi', socket } (uwsgi_pass to a unix
 * socket, a new upstream connection per request: nginx keeps none open for uwsgi) or
 * { kind: 'http', server } (proxy_pass to "unix:/path" or "127.0.0.1:PORT", with 64 idle
 * upstream connections kept open), or { kind: 'return' } (no upstream: nginx answers the
 * hello application's body itself, for the peers scenario).
 */
export function nginxConfig({ dir, port, upstream, uwsgiParams = findUwsgiParams() }) {
  const location =
    upstream.kind === 'return'
      ? `        location / {
            default_type text/plain;
            return 200 "Hello, World!\\n";
        }`
      : upstream.kind === 'uwsgi'
      ? `        location / {
${uwsgiParams ? `            include ${uwsgiParams};` : UWSGI_PARAMS_INLINE}
            uwsgi_pass unix:${upstream.socket};
        }`
      : `        location / {
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }`;
  const upstreamBlock =
    upstream.kind === 'http'
      ? `    upstream app {
        server ${upstream.server};
        keepalive 64;
    }
`
      : '';
  return nginxConf({
    writer: 'bench/lib/nginx.mjs for npm run bench',
    dir,
    errorLogLevel: 'warn',
    // The peers scenario's hello at 1,000 client connections (nginx answers them itself).
    workerConnections: upstream.kind === 'return' ? 4096 : 1024,
    http: `    # The load generators keep their connections for the whole run; nginx's default
    # (1000 requests, then close) would make them reconnect every few milliseconds.
    keepalive_requests 1000000;

${upstreamBlock}    server {
        listen 127.0.0.1:${port};
${location}
    }
`,
  });
}

function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Writes dir/nginx.conf and starts nginx (pinned with taskset when cpu is a number),
 * its stdout and stderr going to dir/nginx.out. Resolves a handle once it accepts on
 * its port: { pid, port, workers, command, conf, exited, exitPromise }. Throws with the
 * error log's tail when nginx exits or does not accept within 10 s (a port taken
 * meanwhile is tried again with another one, up to 3 times).
 */
export async function startNginx({ bin, dir, upstream, cpu, onSpawn }) {
  let conf;
  let started;
  const { nginx: handle } = await startNginxOnFreePort({
    bin,
    directory: () => dir,
    config: (d, port) => (conf = nginxConfig({ dir: d, port, upstream })),
    launcher: cpu === undefined ? [] : ['taskset', '-c', String(cpu)],
    outFile: 'nginx.out',
    graceMs: 5000,
    onSpawn: (nginx, port) => {
      started = Date.now();
      onSpawn?.(Object.assign(nginx, { port, workers: [], conf }));
    },
  });
  // Its worker(s): children of the master, which counts their CPU time too.
  for (let i = 0; i < 40 && handle.workers.length === 0; i++) {
    handle.workers = workerPids(handle.pid);
    if (handle.workers.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  handle.startMillis = Date.now() - started;
  return handle;
}

/** SIGQUIT (graceful) by pid, SIGKILL to master and workers after 5 s; waits for the master. */
export async function stopNginx(handle) {
  if (handle.exited) return { how: 'already exited', exit: handle.exited };
  const t0 = Date.now();
  const how = (await quitNginx(handle, 5000)) === 'SIGKILL' ? 'SIGKILL (SIGQUIT ignored for 5 s)' : 'SIGQUIT';
  // A graceful master exits after its workers; a worker whose master was killed lives
  // on: kill those still there, by pid (if that pid is still an nginx).
  sigkill(handle.workers.filter(isNginx));
  return { how, exit: handle.exited, millis: Date.now() - t0 };
}

function isNginx(pid) {
  return procStat(pid)?.comm === 'nginx';
}

/** Kills nginx and its workers at once (the bench is being interrupted). */
export function killNginx(handle) {
  sigkill([...(handle.exited ? [] : [handle.pid]), ...handle.workers.filter(isNginx)]);
}

/** The error log's lines, counted by level, and the first few. */
export function errorLogSummary(dir) {
  const text = readText(path.join(dir, 'error.log'));
  const lines = text.split('\n').filter(Boolean);
  const byLevel = {};
  for (const l of lines) {
    const level = /\[(\w+)\]/.exec(l)?.[1] ?? 'other';
    byLevel[level] = (byLevel[level] ?? 0) + 1;
  }
  return { lines: lines.length, byLevel, first: lines.slice(0, 10), stdout: readText(path.join(dir, 'nginx.out')).trim() || undefined };
}
