// The tests' nginx in front of tsgi (uwsgi_pass): a throw-away nginx on a free loopback
// port with its whole state in a temporary directory (test/lib/nginx-core.mjs starts and
// stops it, for the bench's nginx too), and the workers of an nginx. The uwsgi client
// without nginx is test/lib/uwsgi-client.mjs; tsgi's CLI is test/lib/cli.mjs's.
// Everything is bounded in time and cleans up after itself (processes by pid only).
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findNginx as findNginxBy, findUwsgiParams, killNginx, nginxConf, nginxVersion as versionOf, quitNginx, startNginx as startNginxOnFreePort, workerPids } from './nginx-core.mjs';
import { cmdline, procStatus } from './proc.mjs';
import { makeTempDir } from './temp.mjs';

export { findUwsgiParams } from './nginx-core.mjs';

// ---------------------------------------------------------------------------------
// Finding nginx

/** The nginx binary's path, or undefined when there is none (NGINX if set, then PATH, then the usual places). */
export const findNginx = () => findNginxBy('NGINX');

/** "nginx/1.22.1", or undefined. */
export function nginxVersion(bin = findNginx()) {
  const v = bin ? versionOf(bin) : undefined;
  return v === undefined ? undefined : `nginx/${v}`;
}

// ---------------------------------------------------------------------------------
// nginx

const nginxChildren = new Set();
process.on('exit', () => {
  for (const nginx of nginxChildren) killNginx(nginx);
});

/** uwsgi_pass's target: "unix:/path", "unix:@name", "127.0.0.1:PORT". */
export function upstreamOf(upstream) {
  if (typeof upstream === 'number') return `127.0.0.1:${upstream}`;
  if (upstream.startsWith('unix:')) return upstream;
  if (upstream.startsWith('/') || upstream.startsWith('@')) return `unix:${upstream}`;
  return upstream;
}

/**
 * The nginx.conf the tests use (and docs/deploy-nginx.md explains); with user, a "user"
 * directive before it (the user nginx's workers run as when it starts as root).
 */
export function nginxConfig({ dir, port, upstream, user, uwsgiParams = findUwsgiParams(), clientMaxBodySize = '100m', extraLocation = '', extraServer = '', extraHttp = '', extraUpstream = '', errorLogLevel = 'info', pass = 'uwsgi' }) {
  // pass: 'uwsgi' (include uwsgi_params; uwsgi_pass), or 'http' (proxy_pass: the
  // mistake of speaking HTTP to a uwsgi socket).
  const passLines = pass === 'http' ? '            proxy_pass http://tsgi;' : `            include ${uwsgiParams};\n            uwsgi_pass tsgi;`;
  const conf = nginxConf({
    writer: 'test/lib/nginx.mjs',
    dir,
    errorLogLevel,
    workerConnections: 256,
    http: `${extraHttp}
    upstream tsgi {
        server ${upstreamOf(upstream)};
${extraUpstream}
    }

    server {
        listen 127.0.0.1:${port};
        server_name localhost;
        client_max_body_size ${clientMaxBodySize};
${extraServer}
        location / {
${passLines}
${extraLocation}
        }
    }
`,
  });
  return user === undefined ? conf : `user ${user};\n${conf}`;
}

/**
 * Starts nginx in front of upstream (a unix socket path, "unix:...", "@name",
 * "host:port" or a port number) on a free 127.0.0.1 port, with its config, pid, logs
 * and temp paths in a fresh temp dir; the other options are nginxConfig()'s (user,
 * clientMaxBodySize, extraLocation, extraServer, extraHttp, extraUpstream, errorLogLevel,
 * pass, uwsgiParams). Resolves with { port, dir, pid, conf, errorLog(), workers(), stop() }
 * once the port accepts. stop() sends SIGQUIT (graceful) to this nginx's master, then
 * after 3 s SIGKILL to it and to its workers (by pid), waits for the master to exit and
 * removes the dir; it is safe to call twice.
 */
export async function startNginx({ upstream, timeoutMs = 10000, ...rest }) {
  const bin = findNginx();
  if (!bin) throw new Error('nginx not found (install nginx-light, or set NGINX=/path/to/nginx)');
  const removeDir = (nginx) => rmSync(nginx.dir, { recursive: true, force: true });
  const { nginx, port } = await startNginxOnFreePort({
    bin,
    directory: () => {
      const dir = makeTempDir();
      mkdirSync(join(dir, 'html'));
      return dir;
    },
    config: (dir, p) => nginxConfig({ dir, port: p, upstream, ...rest }),
    timeoutMs,
    graceMs: 3000,
    onSpawn: (n) => {
      nginxChildren.add(n);
      n.exitPromise.then(() => nginxChildren.delete(n));
    },
    failed: removeDir,
  });
  let stopping;
  const stop = () => {
    stopping ??= quitNginx(nginx, 3000).then(() => removeDir(nginx));
    return stopping;
  };
  const { dir, pid, child, errorLog, output, exitPromise } = nginx;
  return { port, dir, conf: join(dir, 'nginx.conf'), pid, child, errorLog, output, stop, exited: exitPromise, workers: () => nginxWorkers(pid) };
}

/** A user or group name from /etc/passwd or /etc/group by its id (the id when unknown). */
function nameOf(file, id) {
  try {
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      const f = line.split(':');
      if (f[2] === String(id)) return f[0];
    }
  } catch {
    // no such file
  }
  return String(id);
}

/**
 * The worker processes of the nginx master pid (Linux, from /proc, so that no ps is
 * needed): [{ pid, uid, gid, user, group, args }].
 */
export function nginxWorkers(masterPid) {
  const out = [];
  for (const pid of workerPids(masterPid)) {
    const status = procStatus(pid);
    const args = cmdline(pid);
    // the process went away while we looked
    if (status === undefined || args === undefined) continue;
    const uid = Number(status.get('Uid')?.split(/\s+/)[1]); // effective
    const gid = Number(status.get('Gid')?.split(/\s+/)[1]);
    out.push({ pid, uid, gid, user: nameOf('/etc/passwd', uid), group: nameOf('/etc/group', gid), args });
  }
  return out;
}

