// Every option, declared once. The CLI parser, config files (--ini, --yaml, --json:
// lib/config/config.ts), the environment (TSGI_<NAME>, UWSGI_<NAME>), --help, --show-config,
// serve()'s validation and docs/options.md (scripts/gen-options-doc.mjs) all read this
// table. Each option carries a verdict against uWSGI: implemented (the same meaning),
// translated (a meaning in Node's terms, said once at start), refused (an error saying
// what to use instead).
import { TsgiError } from '../base/errors.js';

export type OptionType = 'string' | 'int' | 'size' | 'bool' | 'address' | 'choice' | 'keyvalue';

/**
 * What tsgi does with a uWSGI option: "implemented" (what uWSGI does), "translated"
 * (accepted, with a meaning in Node's terms that its message explains; tsgi logs the
 * message once at start when the option is given), "refused" (an error, whose message
 * says why and what to use instead).
 */
export type Verdict = 'implemented' | 'translated' | 'refused';

export interface OptionSpec {
  /** uWSGI's name, kebab-case: "buffer-size". */
  readonly name: string;
  /** Other names that mean the same ("file" for "wsgi-file"). */
  readonly aliases?: readonly string[];
  /** A one-letter form, as uWSGI has it ("-b" for buffer-size). */
  readonly short?: string;
  readonly type: OptionType;
  readonly default?: string | number | boolean;
  readonly repeatable?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly choices?: readonly string[];
  /** The value of the option given bare ("--chmod-socket" means 666). */
  readonly implicit?: string;
  /** One line for --help and docs/options.md. */
  readonly help: string;
  readonly verdict: Verdict;
  /** For translated and refused options: what tsgi says when the option is given, and why. */
  readonly message?: string;
  /** Where the option is obeyed, for docs/options.md: file and symbol. */
  readonly obeyedIn: string;
}

// `as const`: the table is also a type (OptionTable), from which lib/config/typed.ts derives Config.
const TABLE = [
  {
    name: 'http',
    type: 'address',
    repeatable: true,
    help: 'Serve HTTP on this address (":9090", "127.0.0.1:9090", "[::1]:9090", or a unix socket path). This process serves it itself: no router.',
    verdict: 'implemented',
    obeyedIn: 'lib/serve.ts serve() -> native/server/server.cc Server::Listen',
  },
  {
    name: 'http-socket',
    type: 'address',
    repeatable: true,
    help: 'Serve HTTP on this address (the same as --http in tsgi: there is no separate router process).',
    verdict: 'implemented',
    obeyedIn: 'lib/serve.ts serve() -> native/server/server.cc Server::Listen',
  },
  {
    name: 'socket',
    short: 's',
    type: 'address',
    repeatable: true,
    help: 'Serve on this address with the protocol of --protocol (uwsgi unless it says http): ":8000", a unix socket path, or "@name" (abstract).',
    verdict: 'implemented',
    obeyedIn: 'lib/serve.ts serve() -> native/server/server.cc Server::ListenUnix',
  },
  {
    name: 'enable-proxy-protocol',
    type: 'bool',
    default: false,
    help:
      "Every connection to an HTTP socket starts with a PROXY protocol header (v1 or v2, HAProxy's send-proxy / send-proxy-v2): REMOTE_ADDR and REMOTE_PORT are the client's it names (a v2 LOCAL command, v1 UNKNOWN, or a family other than TCP over IPv4/IPv6 keep the connection's own peer). A connection that does not start with a valid header is closed unanswered, with a log line naming the reason. uwsgi sockets are not affected.",
    verdict: 'implemented',
    obeyedIn: 'native/server/reading.cc Server::TakeProxyHeader, lib/js/proxy-protocol.ts takeProxyHeaders',
  },
  {
    name: 'forwarded-allow-ips',
    type: 'string',
    help:
      'Comma-separated IP addresses and CIDR blocks (IPv4 and IPv6; "*" for every peer) of the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed, on HTTP sockets: from such a peer REMOTE_ADDR becomes the rightmost X-Forwarded-For address that is not itself trusted, and wsgi.url_scheme the last X-Forwarded-Proto (http or https). From anyone else the headers change nothing. None by default (gunicorn trusts 127.0.0.1 by default; tsgi trusts no one unless told).',
    verdict: 'implemented',
    obeyedIn: 'lib/protocol/forwarded.ts ForwardedTrust.apply',
  },
  {
    name: 'uwsgi-socket',
    type: 'address',
    repeatable: true,
    help: 'Serve the uwsgi protocol (what nginx uwsgi_pass speaks) on this address or unix socket path.',
    verdict: 'implemented',
    obeyedIn: 'lib/serve.ts serve() -> native/server/dispatch.cc Server::DispatchUwsgi, lib/js/uwsgi.ts uwsgiArguments',
  },
  {
    name: 'protocol',
    type: 'choice',
    choices: ['uwsgi', 'http'],
    default: 'uwsgi',
    help: 'The protocol of --socket: uwsgi, or http (uWSGI configs write "socket = :8000" with "protocol = http" to serve HTTP on it).',
    verdict: 'implemented',
    obeyedIn: 'lib/config/derived.ts socketsOf()',
  },
  {
    name: 'chmod-socket',
    type: 'string',
    implicit: '666',
    help: 'The mode of every unix socket file, three octal digits; bare, 666 (so that nginx\'s worker user can connect).',
    verdict: 'implemented',
    obeyedIn: 'lib/backend/unix-socket.ts applySocketPermissions()',
  },
  {
    name: 'chown-socket',
    type: 'string',
    help: 'The owner of every unix socket file: user[:group], names or numbers.',
    verdict: 'implemented',
    obeyedIn: 'lib/backend/unix-socket.ts applySocketPermissions()',
  },
  {
    name: 'vacuum',
    type: 'bool',
    default: false,
    help: 'Remove the unix socket files (and the pid file) on exit.',
    verdict: 'implemented',
    obeyedIn: 'lib/serve.ts serve() -> lib/backend/unix-socket.ts removeSocketFile()',
  },
  {
    name: 'master',
    short: 'M',
    type: 'bool',
    default: false,
    help: 'Run a master process that binds the sockets and keeps the workers alive (implied by --processes over 1).',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main() -> lib/process/run-master.ts runMaster()',
  },
  {
    name: 'processes',
    aliases: ['workers'],
    short: 'p',
    type: 'int',
    default: 1,
    min: 1,
    max: 256,
    help: 'How many worker processes; each loads the application itself (as with --lazy-apps).',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master-workers.ts MasterWorkers.spawnWorker()',
  },
  {
    name: 'threads',
    type: 'int',
    default: 1,
    min: 1,
    max: 64,
    help: 'Cores per worker: worker_threads, each with its own loop, native server and application instance (wsgi.multithread is then true).',
    verdict: 'translated',
    message:
      'each thread is a worker_thread with its own instance of the application: module-level state (caches, connection pools) is per thread, not shared by the threads of a worker as in a Python process',
    obeyedIn: 'lib/process/worker.ts runWorker() -> lib/process/thread-main.ts startCore()',
  },
  {
    name: 'lazy-apps',
    type: 'bool',
    default: false,
    help: 'Accepted: every worker loads the application itself, always (Node cannot fork a loaded process).',
    verdict: 'implemented',
    obeyedIn: 'lib/process/worker.ts runWorker()',
  },
  {
    name: 'thunder-lock',
    type: 'bool',
    default: false,
    help: 'Accepted: the kernel wakes one waiting worker per connection on Linux (EPOLLEXCLUSIVE is not needed for this load).',
    verdict: 'translated',
    message: 'accepted, no effect: there is no accept lock to take, the kernel wakes one waiting worker per connection',
    obeyedIn: 'lib/process/master.ts Master.start()',
  },
  {
    name: 'harakiri',
    type: 'int',
    default: 0,
    min: 0,
    max: 86400,
    help: 'Kill (and respawn) a worker whose oldest request in progress has run this many seconds, whatever else it serves meanwhile; 0: never.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master-workers.ts MasterWorkers.watch() -> lib/process/master-verdict.ts harakiriVerdict() -> native/process/scoreboard.cc InProgress::Begin',
  },
  {
    name: 'harakiri-verbose',
    type: 'bool',
    default: false,
    help: 'With harakiri, log a second line: the core, the request and when it started.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master-workers.ts MasterWorkers.watch()',
  },
  {
    name: 'max-requests',
    type: 'int',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'Recycle a worker gracefully after this many requests: it stops accepting as the last one begins; 0: never.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/worker.ts startCore() -> lib/contract/handler.ts Handler.onRequest()',
  },
  {
    name: 'reload-on-rss',
    type: 'int',
    default: 0,
    min: 0,
    max: 1048576,
    help: 'Recycle a worker gracefully when its resident memory passes this many MB; 0: never.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master-workers.ts MasterWorkers.watch() -> lib/process/master-verdict.ts rssOver() -> native/server/closing.cc Server::OnTick',
  },
  {
    name: 'reload-mercy',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: 'Seconds the requests in progress get to finish on a graceful stop (the workers, or the single process), before they are cut.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master.ts Master.stop(), lib/process/process-ops.ts drainThenStop()',
  },
  {
    name: 'shutdown-delay',
    type: 'int',
    default: 0,
    min: 0,
    max: 3600,
    help: 'On SIGTERM, say 503 on /readyz of the stats server at once and serve on for this many seconds (a load balancer takes them to stop sending), then stop gracefully: the sockets close, keep-alive connections close, requests in progress get reload-mercy.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master.ts Master.drain(), lib/process/process-ops.ts drainThenStop()',
  },
  {
    name: 'worker-reload-mercy',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: 'Seconds a reloading or recycled worker gets to finish its requests, before it is killed.',
    verdict: 'implemented',
    obeyedIn:
      'lib/process/master.ts Master.reload() -> lib/process/master-reload.ts ChainReload.run() -> lib/process/worker-process.ts stopWorker(), lib/process/master-workers.ts MasterWorkers.onMessage() -> lib/process/worker-process.ts killAfterMercy()',
  },
  {
    name: 'no-orphans',
    type: 'bool',
    default: false,
    help: 'Workers exit when the master dies, even by SIGKILL (they notice the closed IPC channel).',
    verdict: 'implemented',
    obeyedIn: 'lib/process/worker.ts runWorker()',
  },
  {
    name: 'pidfile',
    type: 'string',
    help: "Write the master's pid to this file (removed on exit with --vacuum).",
    verdict: 'implemented',
    obeyedIn: 'lib/process/master.ts Master.start()',
  },
  {
    name: 'reload',
    type: 'string',
    help: 'Send SIGHUP (graceful chain reload) to the master whose pid is in this file, and exit.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/control.ts signalPidfile()',
  },
  {
    name: 'stop',
    type: 'string',
    help: 'Send SIGINT (graceful stop) to the master whose pid is in this file, and exit.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/control.ts signalPidfile()',
  },
  {
    name: 'uid',
    type: 'string',
    help: 'Drop privileges to this user (name or id) once the sockets are bound.',
    verdict: 'implemented',
    obeyedIn: 'lib/base/privileges.ts dropPrivileges()',
  },
  {
    name: 'gid',
    type: 'string',
    help: 'Drop privileges to this group (name or id) once the sockets are bound.',
    verdict: 'implemented',
    obeyedIn: 'lib/base/privileges.ts dropPrivileges()',
  },
  {
    name: 'logto',
    type: 'string',
    help: 'Append every log line (the request log, errors, the master\'s) to this file instead of stderr.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main() -> native/process/master.cc LogTo',
  },
  {
    name: 'daemonize',
    type: 'string',
    help: 'Detach from the terminal (a new session) and log to this file.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/control.ts daemonize()',
  },
  {
    name: 'touch-reload',
    type: 'string',
    repeatable: true,
    help: 'Gracefully reload the workers (as SIGHUP) when this file is touched (master mode). A reload whose new workers cannot load the application is aborted: the old workers keep serving.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/master.ts Master.start()',
  },
  {
    name: 'py-autoreload',
    aliases: ['python-autoreload', 'py-auto-reload'],
    type: 'int',
    default: 0,
    min: 0,
    max: 86400,
    help: "Every N seconds, look at the mtimes of the application's file and of the modules it imports (relative imports, not node_modules); when one changes, reload: a chain reload of the workers in master mode (a change that does not load, such as a syntax error, aborts the reload: the old workers keep serving until the next change), a restart of the serving child in single-process mode. A development aid; 0: off.",
    verdict: 'implemented',
    obeyedIn: 'lib/process/autoreload-supervisor.ts superviseAutoreload(), lib/process/run-master.ts runMaster() -> lib/process/autoreload.ts watchApplication()',
  },
  {
    name: 'limit-as',
    type: 'int',
    default: 0,
    min: 0,
    max: 1048576,
    help: "Limit each worker's address space to this many MB (setrlimit RLIMIT_AS); 0: no limit. From 3072 up, with one thread per worker; a smaller value becomes reload-on-rss (see the verdict).",
    verdict: 'translated',
    message:
      'RLIMIT_AS, as in uWSGI, only from 3072 MB with one thread per worker: a Node worker reserves about 2.2 GB of address space at start (far more with --threads), so the limits usual for Python (512) would kill every worker before it serves; such a value is taken as reload-on-rss of the same MB (a worker past it is recycled gracefully, in master mode)',
    obeyedIn: 'lib/config/derived.ts limitAsPolicy() -> lib/process/worker.ts runWorker() -> native/process/master.cc SetLimitAs',
  },
  {
    name: 'stats',
    aliases: ['stats-server'],
    type: 'address',
    help: "Serve uWSGI's stats JSON (what uwsgitop reads) on this address or unix socket, from the master (or the single process).",
    verdict: 'implemented',
    obeyedIn: 'lib/process/master.ts Master.statsDocument() -> lib/process/stats.ts statsDocument()',
  },
  {
    name: 'stats-http',
    type: 'bool',
    default: false,
    help: 'Answer HTTP on the stats address: GET /healthz, /readyz (503 while starting or draining), /metrics (Prometheus), and the stats JSON on any other path.',
    verdict: 'implemented',
    obeyedIn: 'lib/process/stats.ts startStatsServer() -> lib/process/stats.ts statsHttpAnswer()',
  },
  {
    name: 'wsgi-file',
    aliases: ['file'],
    type: 'string',
    help: 'Load the application from this file (.ts, .mts, .cts, .js, .mjs, .cjs).',
    verdict: 'implemented',
    obeyedIn: 'lib/load/loader.ts loadApplication()',
  },
  {
    name: 'module',
    short: 'w',
    type: 'string',
    help: 'Load the application from this module: a dotted name ("mysite.wsgi" is mysite/wsgi.ts, .js ...), a path, or "module:callable".',
    verdict: 'implemented',
    obeyedIn: 'lib/load/loader.ts loadApplication()',
  },
  {
    name: 'callable',
    type: 'string',
    help: 'The name of the application in its module (default: "application", then "app", then the default export).',
    verdict: 'implemented',
    obeyedIn: 'lib/load/loader.ts pickCallable()',
  },
  {
    name: 'chdir',
    type: 'string',
    help: 'Change to this directory before loading the application.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'env',
    type: 'keyvalue',
    repeatable: true,
    help: 'Set an environment variable, KEY=VALUE, before loading the application.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'buffer-size',
    short: 'b',
    type: 'size',
    default: 4096,
    min: 256,
    max: 1048576,
    help: 'The largest request head, in bytes; a larger one gets 431.',
    verdict: 'implemented',
    obeyedIn: 'native/server/reading.cc Server::Process -> native/protocol/http_parser.cc ParseRequestHead',
  },
  {
    name: 'post-buffering',
    type: 'size',
    default: 65536,
    min: 0,
    max: 1073741824,
    help: 'Request bodies up to this many bytes are kept in memory; larger ones go to an unlinked temporary file.',
    verdict: 'implemented',
    obeyedIn: 'native/protocol/body_sink.cc BodySink::Begin',
  },
  {
    name: 'limit-post',
    type: 'size',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'The largest request body, in bytes (0: no limit); a larger one gets 413 before it is read.',
    verdict: 'implemented',
    obeyedIn: 'native/server/reading.cc Server::Process, native/server/reading.cc SinkData',
  },
  {
    name: 'websocket-max-size',
    aliases: ['websockets-max-size'],
    type: 'int',
    default: 1024,
    min: 1,
    max: 1048576,
    help: "The largest WebSocket message tsgi.websocket and tsgi/hono's upgradeWebSocket take, in KiB as uWSGI counts it (default 1024: 1 MiB); a larger one closes the connection with 1009. An application's own ws server sets its own (maxPayload).",
    verdict: 'implemented',
    obeyedIn: 'lib/contract/websocket.ts offerWebSocket',
  },
  {
    name: 'http-timeout',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: "Seconds an idle keep-alive connection is kept (from the moment its last response is out), a request head may take (then 408), and a body or a client's reading of the response may stall (the time between two writes, as nginx's send_timeout, not the whole response).",
    verdict: 'implemented',
    obeyedIn: 'native/server/closing.cc Server::OnTick, native/server/output.cc Server::OutputWaits, lib/js/idle.ts IdleSweep, lib/js/uwsgi.ts UwsgiConnection',
  },
  {
    name: 'listen',
    short: 'l',
    type: 'int',
    default: 1024,
    min: 1,
    max: 65535,
    help:
      "The listen queue (backlog) of each socket: 1024 by default (uWSGI's is 100). Clamped, with a warning, to the kernel's net.core.somaxconn. Each TCP socket's queue is read once a second (by the master, or the single process); a full one is logged as uWSGI does (*** listen queue of socket \"ADDR\" (fd: N) full !!! (N/LISTEN) ***, a line a second at most) and counted (listen_queue_errors in the stats, queue_full per socket).",
    verdict: 'implemented',
    obeyedIn: 'lib/process/listen-queue.ts effectiveBacklog',
  },
  {
    name: 'manage-script-name',
    type: 'bool',
    default: false,
    help:
      'Take the SCRIPT_NAME the front end sends (nginx: uwsgi_param SCRIPT_NAME /app) off the front of PATH_INFO, a whole path segment at a time: /app/x becomes SCRIPT_NAME /app, PATH_INFO /x. nginx\'s "uwsgi_modifier1 30" asks the same per request. uwsgi sockets only (over HTTP SCRIPT_NAME is always "").',
    verdict: 'implemented',
    obeyedIn: 'native/server/dispatch.cc Server::DispatchUwsgi, lib/js/uwsgi.ts uwsgiArguments',
  },
  {
    name: 'disable-logging',
    short: 'L',
    type: 'bool',
    default: false,
    help: 'Do not write a log line per request.',
    verdict: 'implemented',
    obeyedIn: 'native/server/send.cc Server::EndRequest',
  },
  {
    name: 'logformat',
    aliases: ['log-format'],
    type: 'string',
    help: 'The request log line, with uWSGI\'s %(...) variables: "%(addr) %(method) %(uri) %(status) %(msecs)" (docs/architecture.md "Logging" lists them; %(var.NAME) is any environ key).',
    verdict: 'implemented',
    obeyedIn: 'lib/logging/log-format.ts customRequestLine()',
  },
  {
    name: 'log-encoder',
    type: 'choice',
    choices: ['json'],
    help: 'json: one JSON object per line. A request is {"time","pid","wid","addr","method","uri","proto","status","size","rsize","hsize","msecs","host","referer","uagent"}, or with --logformat one key per %(x); a server message is {"time","msg"}. uWSGI\'s other encoders are not offered.',
    verdict: 'implemented',
    obeyedIn: 'lib/logging/log-format.ts customRequestLine(), lib/protocol/request-log.ts messageLine()',
  },
  {
    name: 'log-x-forwarded-for',
    type: 'bool',
    default: false,
    help: 'Log the X-Forwarded-For header (as sent) as the client\'s address, REMOTE_ADDR when the request has none.',
    verdict: 'implemented',
    obeyedIn: 'lib/logging/log-format.ts customRequestLine()',
  },
  {
    name: 'log-4xx',
    type: 'bool',
    default: false,
    help: 'With --disable-logging, still log the requests answered with a 4xx status.',
    verdict: 'implemented',
    obeyedIn: 'native/protocol/request_log.cc ShouldLogRequest, lib/logging/log-format.ts shouldLog()',
  },
  {
    name: 'log-5xx',
    type: 'bool',
    default: false,
    help: 'With --disable-logging, still log the requests answered with a 5xx status.',
    verdict: 'implemented',
    obeyedIn: 'native/protocol/request_log.cc ShouldLogRequest, lib/logging/log-format.ts shouldLog()',
  },
  {
    name: 'log-slow',
    type: 'int',
    default: 0,
    min: 0,
    help: 'With --disable-logging, still log the requests that took this many milliseconds or more; 0: not by time.',
    verdict: 'implemented',
    obeyedIn: 'native/protocol/request_log.cc ShouldLogRequest, lib/logging/log-format.ts shouldLog()',
  },
  {
    name: 'log-big',
    type: 'int',
    default: 0,
    min: 0,
    help: 'With --disable-logging, still log the requests whose response body is this many bytes or more; 0: not by size.',
    verdict: 'implemented',
    obeyedIn: 'native/protocol/request_log.cc ShouldLogRequest, lib/logging/log-format.ts shouldLog()',
  },
  {
    name: 'logger',
    type: 'string',
    help: 'Where the server\'s messages (and the request log, without --req-logger) go: "file:PATH" (as --logto PATH). uWSGI\'s syslog and other loggers are refused: log to stderr for journald.',
    verdict: 'implemented',
    obeyedIn: 'lib/logging/log-files.ts openLogs()',
  },
  {
    name: 'req-logger',
    aliases: ['logger-req'],
    type: 'string',
    help: 'Where the request log (and the lines of refused requests) go, apart from the server\'s messages: "file:PATH".',
    verdict: 'implemented',
    obeyedIn: 'lib/logging/log-files.ts openLogs()',
  },
  {
    name: 'touch-logreopen',
    type: 'string',
    repeatable: true,
    help: 'Reopen the log files when this file is touched, as SIGUSR2 does (logrotate: rename the file, then touch or signal; new lines go to a new file at the path).',
    verdict: 'implemented',
    obeyedIn: 'lib/base/touch.ts watchTouch() -> lib/logging/log-files.ts openLogs()',
  },
  {
    name: 'backend',
    type: 'choice',
    choices: ['auto', 'native', 'js'],
    default: 'auto',
    help: 'Which server handles the sockets: the C++ addon ("native"), node:http and node:net ("js"), or "auto": native when the addon loads (prebuilt in the package, or built by npm install), else js after one warning line. "native" without an addon is an error.',
    verdict: 'implemented',
    obeyedIn: 'lib/addon/binding.ts chooseBackend()',
  },
  {
    name: 'interface',
    type: 'choice',
    choices: ['auto', 'wsgi', 'fetch', 'node'],
    default: 'auto',
    help: 'What the application is written to: wsgi (environ, startResponse), fetch (a Request in, a Response out: Hono, "export default { fetch }"), node (a node:http request listener: Express, Koa, Fastify), or auto: fetch for an object with a fetch method, node for an Express app, a Koa application or a Fastify instance, wsgi for any other function (a plain (req, res) listener needs node).',
    verdict: 'implemented',
    obeyedIn: 'lib/interfaces/index.ts resolveInterface()',
  },
  {
    name: 'ini',
    type: 'string',
    repeatable: true,
    help: 'Read options from this ini file, section [uwsgi] (FILE:SECTION for another), as uWSGI does; a positional FILE.ini means the same. Inside a file, "ini = other.ini" includes another, relative to the including file.',
    verdict: 'implemented',
    obeyedIn: 'lib/config/config.ts loadConfigFile() -> lib/config/ini.ts parseIni()',
  },
  {
    name: 'yaml',
    aliases: ['yml'],
    type: 'string',
    repeatable: true,
    help: 'Read options from this YAML file, under the root key "uwsgi" (FILE:KEY for another); a list repeats an option.',
    verdict: 'implemented',
    obeyedIn: 'lib/config/config.ts loadConfigFile() -> lib/config/yaml-json.ts parseYamlOrJson()',
  },
  {
    name: 'json',
    type: 'string',
    repeatable: true,
    help: 'Read options from this JSON file, under the root key "uwsgi" (FILE:KEY for another); a list repeats an option.',
    verdict: 'implemented',
    obeyedIn: 'lib/config/config.ts loadConfigFile() -> lib/config/yaml-json.ts parseYamlOrJson()',
  },
  {
    name: 'strict',
    type: 'bool',
    default: false,
    help: 'An unknown option in a config file is an error (file:line, with the nearest known name), not a warning.',
    verdict: 'implemented',
    obeyedIn: 'lib/config/config.ts resolveConfig()',
  },
  {
    name: 'show-config',
    type: 'bool',
    default: false,
    help: 'Log the configuration as read, in ini form, with the source of each value (file:line, environment, command line), then serve, as uWSGI does. With --dry-run: print it on stdout and exit 0.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main() -> lib/config/show-config.ts renderShowConfig()',
  },
  {
    name: 'dry-run',
    type: 'bool',
    default: false,
    help: 'Read and check the configuration (files, environment, command line), then exit without loading the application or binding a socket: 0, or 1 with what is wrong. With --show-config: print the configuration on stdout first.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'enable-threads',
    type: 'bool',
    default: false,
    help: 'Accepted for uWSGI configs: it lets Python threads run under uWSGI; Node needs nothing of the kind.',
    verdict: 'translated',
    message: 'accepted, no effect: uWSGI needs it to let Python threads run (the GIL); JavaScript has no GIL, and --threads starts its worker threads by itself',
    obeyedIn: 'lib/config/config.ts resolveConfig()',
  },
  {
    name: 'die-on-term',
    type: 'bool',
    default: false,
    help: 'Accepted for uWSGI configs: SIGTERM always stops tsgi gracefully.',
    verdict: 'translated',
    message: 'accepted, no effect: SIGTERM always stops tsgi gracefully (uWSGI 2.0 reloads on SIGTERM unless die-on-term is set)',
    obeyedIn: 'lib/config/config.ts resolveConfig()',
  },
  {
    name: 'home',
    aliases: ['virtualenv', 'venv', 'pyhome'],
    type: 'string',
    help: 'A Python virtualenv in uWSGI: accepted and ignored, with a warning (Node finds packages in node_modules next to the application).',
    verdict: 'translated',
    message:
      'ignored: it names a Python virtualenv, and Node has none: packages are found in node_modules next to the application and in its parent directories (npm install there). Ignoring it cannot change which code runs, since nothing tsgi loads comes from a virtualenv, so a migrated config still starts',
    obeyedIn: 'lib/config/config.ts resolveConfig()',
  },
  {
    name: 'pythonpath',
    aliases: ['python-path', 'pp'],
    type: 'string',
    repeatable: true,
    help: "Python's module search path in uWSGI: refused (Node has no search path for ES modules).",
    verdict: 'refused',
    message:
      'refused: it adds to Python\'s sys.path, and Node has no search path for ES modules (imports are relative to the importing file, packages come from node_modules). Ignoring it could load other code than the config means (a same-named package) or fail later with a puzzling import error, so tsgi stops here: import by relative path, or install the directory as a package (npm install ./lib); for require() only, "env = NODE_PATH=DIR" works',
    obeyedIn: 'lib/config/config.ts resolveConfig()',
  },
  {
    name: 'static-map',
    type: 'keyvalue',
    repeatable: true,
    help: 'MOUNT=DIR: a GET or HEAD under MOUNT is answered with the file of the same path under DIR (Content-Type by extension, Content-Length, Last-Modified, If-Modified-Since -> 304); no such file: the application answers. Nothing outside DIR is served (".." or a symbolic link out of it).',
    verdict: 'implemented',
    obeyedIn: 'lib/contract/static-map.ts withStaticMaps',
  },
  {
    name: 'static-index',
    type: 'string',
    repeatable: true,
    help: 'A file name (index.html) served for a static-map directory; tried in order.',
    verdict: 'implemented',
    obeyedIn: 'lib/contract/static-map.ts withStaticMaps',
  },
  {
    name: 'help',
    short: 'h',
    type: 'bool',
    help: 'Print this help and exit.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'version',
    type: 'bool',
    help: 'Print the version and exit.',
    verdict: 'implemented',
    obeyedIn: 'lib/cli.ts main()',
  },
] as const satisfies readonly OptionSpec[];

/** The table, as the code that walks it reads it. */
export const OPTIONS: readonly OptionSpec[] = TABLE;

/** Every option's declaration, literal: lib/config/typed.ts makes Config of it. */
export type OptionTable = typeof TABLE;

const byName = new Map<string, OptionSpec>();
const byShort = new Map<string, OptionSpec>();
for (const spec of OPTIONS) {
  byName.set(spec.name, spec);
  for (const a of spec.aliases ?? []) byName.set(a, spec);
  if (spec.short) byShort.set(spec.short, spec);
}

export function findOption(name: string): OptionSpec | undefined {
  return byName.get(name.replace(/_/g, '-'));
}

/** "buffer-size" -> "bufferSize". */
export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const SIZE = /^([0-9]+)\s*([kKmMgG]?)$/;
const TRUE = new Set(['true', 'yes', 'on', '1', '']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** Turns a raw value (from the command line, a file or the environment) into the option's type. */
export function coerce(spec: OptionSpec, raw: unknown): unknown {
  const invalid = (expected: string): never => {
    throw new TsgiError(
      'TSGI_ERR_OPTION_INVALID',
      `Expected ${expected} for ${spec.name} but received ${typeof raw === 'string' ? JSON.stringify(raw) : String(raw)}`,
    );
  };
  switch (spec.type) {
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string' && TRUE.has(raw.toLowerCase())) return true;
      if (typeof raw === 'string' && FALSE.has(raw.toLowerCase())) return false;
      return invalid('true or false');
    }
    case 'int':
    case 'size': {
      let n: number;
      const range = `an integer from ${spec.min ?? 0} to ${spec.max ?? Number.MAX_SAFE_INTEGER}`;
      if (typeof raw === 'number') {
        n = raw;
      } else if (typeof raw === 'string') {
        const m = spec.type === 'size' ? SIZE.exec(raw.trim()) : /^([0-9]+)()$/.exec(raw.trim());
        if (!m) return invalid(range + (spec.type === 'size' ? ' (a k, m or g suffix may follow)' : ''));
        const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
        n = Number(m[1]) * mult;
      } else {
        return invalid(range);
      }
      if (!Number.isSafeInteger(n) || n < (spec.min ?? 0) || n > (spec.max ?? Number.MAX_SAFE_INTEGER)) return invalid(range);
      return n;
    }
    case 'choice': {
      if (typeof raw === 'string' && spec.choices!.includes(raw)) return raw;
      return invalid(`one of ${spec.choices!.join(', ')}`);
    }
    case 'keyvalue': {
      if (typeof raw === 'string' && /^[^=]+=/.test(raw)) return raw;
      return invalid('KEY=VALUE');
    }
    case 'string':
    case 'address': {
      if (raw === true && spec.implicit !== undefined) return spec.implicit;
      if (typeof raw === 'string' && raw !== '') return raw;
      return invalid('a non-empty string');
    }
  }
}

/** Stores a value, accumulating repeatable options into arrays (parseArgv's, not the configuration's). */
function assign(values: Record<string, unknown>, spec: OptionSpec, raw: unknown): void {
  const key = camelCase(spec.name);
  const v = coerce(spec, raw);
  const before = values[key];
  values[key] = spec.repeatable ? [...(Array.isArray(before) ? before : []), v] : v;
}

/** The closest known option name, for "did you mean". */
export function suggest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of byName.keys()) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

export function unknownOption(name: string): never {
  const s = suggest(name);
  throw new TsgiError('TSGI_ERR_OPTION_UNKNOWN', `Unknown option --${name}${s ? ` (did you mean --${s}?)` : ''}`);
}

/** A config file named on the command line without an option: "tsgi app.ini" (uwsgi does the same). */
const CONFIG_FILE = /\.(ini|ya?ml|json)(:[^/]*)?$/i;

/** The option that reads a config file with this name: ini, yaml or json (undefined: none). */
export function configOptionFor(file: string): OptionSpec | undefined {
  const m = CONFIG_FILE.exec(file);
  if (!m) return undefined;
  const ext = m[1]!.toLowerCase();
  return byName.get(ext === 'yml' ? 'yaml' : ext);
}

/** One option as the command line gave it, before it is merged with the others. */
export interface ArgvEntry {
  spec: OptionSpec;
  raw: unknown;
}

/**
 * Parses command-line arguments into entries, in order: "--name value", "--name=value",
 * "-x value", a bare "--flag" for booleans, and a positional FILE.ini / FILE.yaml /
 * FILE.yml / FILE.json, which is taken as --ini / --yaml / --json FILE. Values are not
 * coerced yet (lib/config/config.ts does that, to name the source of a bad one).
 */
export function argvEntries(argv: readonly string[]): ArgvEntry[] {
  const out: ArgvEntry[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      spec = findOption(name);
      if (!spec) unknownOption(name);
    } else if (arg.startsWith('-') && arg.length === 2) {
      spec = byShort.get(arg[1]!);
      if (!spec) unknownOption(arg.slice(1));
    } else if (/^[\u2010-\u2015\u2212]/.test(arg)) {
      // "uwsgi –http :8001" as a blog's typography prints it: an en dash, not "--".
      const dash = arg.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      const name = arg.replace(/^[\u2010-\u2015\u2212]+/, '').split('=')[0]!;
      throw new TsgiError(
        'TSGI_ERR_OPTION_UNKNOWN',
        `Unexpected argument ${JSON.stringify(arg)}: it starts with a dash character (U+${dash}), not two hyphens${findOption(name) ? `: write --${name}` : ''}`,
      );
    } else if (configOptionFor(arg) !== undefined) {
      out.push({ spec: configOptionFor(arg)!, raw: arg });
      continue;
    } else {
      throw new TsgiError(
        'TSGI_ERR_OPTION_UNKNOWN',
        `Unexpected argument ${JSON.stringify(arg)}: options start with -- (a config file ends in .ini, .yaml, .yml or .json)`,
      );
    }
    if (spec!.type === 'bool') {
      out.push({ spec: spec!, raw: inline ?? true });
      continue;
    }
    if (inline === undefined && spec!.implicit !== undefined && (i + 1 >= argv.length || argv[i + 1]!.startsWith('-'))) {
      inline = spec!.implicit;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) {
        throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a value after --${spec!.name}`);
      }
      inline = argv[++i]!;
    }
    out.push({ spec: spec!, raw: inline });
  }
  return out;
}

/**
 * Parses command-line arguments: "--name value", "--name=value", "-x value", and bare
 * "--flag" for booleans. Returns the values keyed by camelCase name.
 */
export function parseArgv(argv: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { spec, raw } of argvEntries(argv)) assign(values, spec, raw);
  return values;
}

/** "buffer-size" -> ["TSGI_BUFFER_SIZE", "UWSGI_BUFFER_SIZE"]: where the environment may set it. */
export function envNames(name: string): [string, string] {
  const upper = name.toUpperCase().replace(/-/g, '_');
  return [`TSGI_${upper}`, `UWSGI_${upper}`];
}

/** How the command is called: the first lines of --help, and what tsgi with no arguments says. */
export const USAGE = ['Usage: tsgi --http :9090 --wsgi-file app.ts [options]', '       tsgi [options] FILE.ini|FILE.yaml|FILE.json'];

export function helpText(): string {
  const lines = [
    ...USAGE,
    '',
    'Options come from config files (--ini, --yaml, --json: uWSGI\'s [uwsgi] section or root key),',
    'the environment (TSGI_NAME or UWSGI_NAME, e.g. TSGI_BUFFER_SIZE=8k) and the command line;',
    'the environment overrides the files and the command line overrides both.',
    '',
    'Options:',
  ];
  for (const spec of OPTIONS) {
    const names = [`--${spec.name}`, ...(spec.aliases ?? []).map((a) => `--${a}`)];
    if (spec.short) names.unshift(`-${spec.short}`);
    const arg = spec.type === 'bool' ? '' : ` ${spec.type === 'keyvalue' ? 'KEY=VALUE' : spec.type.toUpperCase()}`;
    const def = spec.default !== undefined && spec.type !== 'bool' ? ` (default: ${spec.default})` : '';
    const rep = spec.repeatable ? ' (repeatable)' : '';
    lines.push(`  ${names.join(', ')}${arg}`);
    lines.push(`      ${spec.help}${def}${rep}`);
    if (spec.verdict !== 'implemented') lines.push(`      [${spec.verdict}] ${spec.message ?? ''}`);
  }
  lines.push('', 'Example: tsgi --http :9090 --wsgi-file app.ts', '         tsgi --ini uwsgi.ini --show-config --dry-run');
  return lines.join('\n') + '\n';
}
