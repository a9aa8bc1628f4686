// Every option, declared once. The CLI parser, --help, serve()'s validation and
// docs/options.md (scripts/gen-options-doc.mjs) all read this table.
import { TsgiError } from './errors.js';

export type OptionType = 'string' | 'int' | 'size' | 'bool' | 'address' | 'choice' | 'keyvalue';

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
  /** Where the option is obeyed, for docs/options.md: file and symbol. */
  readonly obeyedIn: string;
}

export const OPTIONS: readonly OptionSpec[] = [
  {
    name: 'http',
    type: 'address',
    repeatable: true,
    help: 'Serve HTTP on this address (":9090", "127.0.0.1:9090", "[::1]:9090", or a unix socket path). This process serves it itself: no router.',
    obeyedIn: 'lib/serve.ts serve() -> native/server.cc Server::Listen',
  },
  {
    name: 'http-socket',
    type: 'address',
    repeatable: true,
    help: 'Serve HTTP on this address (the same as --http in tsgi: there is no separate router process).',
    obeyedIn: 'lib/serve.ts serve() -> native/server.cc Server::Listen',
  },
  {
    name: 'socket',
    short: 's',
    type: 'address',
    repeatable: true,
    help: 'Serve on this address with the protocol of --protocol (uwsgi unless it says http): ":8000", a unix socket path, or "@name" (abstract).',
    obeyedIn: 'lib/serve.ts serve() -> native/server.cc Server::ListenUnix',
  },
  {
    name: 'uwsgi-socket',
    type: 'address',
    repeatable: true,
    help: 'Serve the uwsgi protocol (what nginx uwsgi_pass speaks) on this address or unix socket path.',
    obeyedIn: 'lib/serve.ts serve() -> native/server.cc Server::DispatchUwsgi',
  },
  {
    name: 'protocol',
    type: 'choice',
    choices: ['uwsgi', 'http'],
    default: 'uwsgi',
    help: 'The protocol of --socket: uwsgi, or http (as seed 000 writes "socket = :8000" with "protocol = http").',
    obeyedIn: 'lib/serve.ts socketsOf()',
  },
  {
    name: 'chmod-socket',
    type: 'string',
    implicit: '666',
    help: 'The mode of every unix socket file, three octal digits; bare, 666 (so that nginx\'s worker user can connect).',
    obeyedIn: 'lib/unix-socket.ts applySocketPermissions()',
  },
  {
    name: 'chown-socket',
    type: 'string',
    help: 'The owner of every unix socket file: user[:group], names or numbers.',
    obeyedIn: 'lib/unix-socket.ts applySocketPermissions()',
  },
  {
    name: 'vacuum',
    type: 'bool',
    default: false,
    help: 'Remove the unix socket files (and the pid file) on exit.',
    obeyedIn: 'lib/serve.ts serve() -> lib/unix-socket.ts removeSocketFile()',
  },
  {
    name: 'master',
    short: 'M',
    type: 'bool',
    default: false,
    help: 'Run a master process that binds the sockets and keeps the workers alive (implied by --processes over 1).',
    obeyedIn: 'lib/cli.ts main() -> lib/master.ts runMaster()',
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
    obeyedIn: 'lib/master.ts Master.spawnWorker()',
  },
  {
    name: 'threads',
    type: 'int',
    default: 1,
    min: 1,
    max: 64,
    help: 'Cores per worker: worker_threads, each with its own loop, native server and application instance (wsgi.multithread is then true).',
    obeyedIn: 'lib/worker.ts runWorker() -> lib/thread-main.ts startCore()',
  },
  {
    name: 'lazy-apps',
    type: 'bool',
    default: false,
    help: 'Accepted: every worker loads the application itself, always (Node cannot fork a loaded process).',
    obeyedIn: 'lib/worker.ts runWorker()',
  },
  {
    name: 'thunder-lock',
    type: 'bool',
    default: false,
    help: 'Accepted: the kernel wakes one waiting worker per connection on Linux (EPOLLEXCLUSIVE is not needed for this load).',
    obeyedIn: 'lib/master.ts Master.start()',
  },
  {
    name: 'harakiri',
    type: 'int',
    default: 0,
    min: 0,
    max: 86400,
    help: 'Kill (and respawn) a worker whose current request has run this many seconds; 0: never.',
    obeyedIn: 'lib/master.ts Master.watch() -> native/server.cc Server::BeginDispatch',
  },
  {
    name: 'harakiri-verbose',
    type: 'bool',
    default: false,
    help: 'Accepted: the harakiri line always says which worker and for how long.',
    obeyedIn: 'lib/master.ts Master.watch()',
  },
  {
    name: 'max-requests',
    type: 'int',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'Recycle a worker gracefully after this many requests; 0: never.',
    obeyedIn: 'lib/worker.ts runWorker()',
  },
  {
    name: 'reload-on-rss',
    type: 'int',
    default: 0,
    min: 0,
    max: 1048576,
    help: 'Recycle a worker gracefully when its resident memory passes this many MB; 0: never.',
    obeyedIn: 'lib/master.ts Master.watch() -> native/server.cc Server::OnTick',
  },
  {
    name: 'reload-mercy',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: 'Seconds the workers get to finish their requests when the master stops, before they are killed.',
    obeyedIn: 'lib/master.ts Master.stop()',
  },
  {
    name: 'worker-reload-mercy',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: 'Seconds a reloading or recycled worker gets to finish its requests, before it is killed.',
    obeyedIn: 'lib/master.ts Master.stopWorker()',
  },
  {
    name: 'no-orphans',
    type: 'bool',
    default: false,
    help: 'Workers exit when the master dies, even by SIGKILL (they notice the closed IPC channel).',
    obeyedIn: 'lib/worker.ts runWorker()',
  },
  {
    name: 'pidfile',
    type: 'string',
    help: "Write the master's pid to this file (removed on exit with --vacuum).",
    obeyedIn: 'lib/master.ts Master.start()',
  },
  {
    name: 'reload',
    type: 'string',
    help: 'Send SIGHUP (graceful chain reload) to the master whose pid is in this file, and exit.',
    obeyedIn: 'lib/cli.ts signalPidfile()',
  },
  {
    name: 'stop',
    type: 'string',
    help: 'Send SIGINT (graceful stop) to the master whose pid is in this file, and exit.',
    obeyedIn: 'lib/cli.ts signalPidfile()',
  },
  {
    name: 'uid',
    type: 'string',
    help: 'Drop privileges to this user (name or id) once the sockets are bound.',
    obeyedIn: 'lib/privileges.ts dropPrivileges()',
  },
  {
    name: 'gid',
    type: 'string',
    help: 'Drop privileges to this group (name or id) once the sockets are bound.',
    obeyedIn: 'lib/privileges.ts dropPrivileges()',
  },
  {
    name: 'logto',
    type: 'string',
    help: 'Append every log line (the request log, errors, the master\'s) to this file instead of stderr.',
    obeyedIn: 'lib/cli.ts main() -> native/master.cc LogTo',
  },
  {
    name: 'daemonize',
    type: 'string',
    help: 'Detach from the terminal (a new session) and log to this file.',
    obeyedIn: 'lib/cli.ts daemonize()',
  },
  {
    name: 'touch-reload',
    type: 'string',
    repeatable: true,
    help: 'Gracefully reload the workers (as SIGHUP) when this file is touched (master mode).',
    obeyedIn: 'lib/master.ts Master.start()',
  },
  {
    name: 'limit-as',
    type: 'int',
    default: 0,
    min: 0,
    max: 1048576,
    help: "Limit each worker's address space to this many MB (setrlimit RLIMIT_AS); 0: no limit. Node reserves about 1 GB of address space at start: keep it above 2048.",
    obeyedIn: 'lib/worker.ts runWorker() -> native/master.cc SetLimitAs',
  },
  {
    name: 'stats',
    aliases: ['stats-server'],
    type: 'address',
    help: "Serve uWSGI's stats JSON (what uwsgitop reads) on this address or unix socket (master mode).",
    obeyedIn: 'lib/master.ts Master.statsDocument() -> lib/stats.ts statsDocument()',
  },
  {
    name: 'stats-http',
    type: 'bool',
    default: false,
    help: 'Wrap the stats JSON in an HTTP response.',
    obeyedIn: 'lib/stats.ts startStatsServer()',
  },
  {
    name: 'wsgi-file',
    aliases: ['file'],
    type: 'string',
    help: 'Load the application from this file (.ts, .mts, .cts, .js, .mjs, .cjs).',
    obeyedIn: 'lib/loader.ts loadApplication()',
  },
  {
    name: 'module',
    short: 'w',
    type: 'string',
    help: 'Load the application from this module: a dotted name ("mysite.wsgi" is mysite/wsgi.ts, .js ...), a path, or "module:callable".',
    obeyedIn: 'lib/loader.ts loadApplication()',
  },
  {
    name: 'callable',
    type: 'string',
    help: 'The name of the application in its module (default: "application", then "app", then the default export).',
    obeyedIn: 'lib/loader.ts pickCallable()',
  },
  {
    name: 'chdir',
    type: 'string',
    help: 'Change to this directory before loading the application.',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'env',
    type: 'keyvalue',
    repeatable: true,
    help: 'Set an environment variable, KEY=VALUE, before loading the application.',
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
    obeyedIn: 'native/server.cc Server::Process -> native/http_parser.cc ParseRequestHead',
  },
  {
    name: 'post-buffering',
    type: 'size',
    default: 65536,
    min: 0,
    max: 1073741824,
    help: 'Request bodies up to this many bytes are kept in memory; larger ones go to an unlinked temporary file.',
    obeyedIn: 'native/body_sink.cc BodySink::Begin',
  },
  {
    name: 'limit-post',
    type: 'size',
    default: 0,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    help: 'The largest request body, in bytes (0: no limit); a larger one gets 413 before it is read.',
    obeyedIn: 'native/server.cc Server::Process, native/server.cc SinkData',
  },
  {
    name: 'http-timeout',
    type: 'int',
    default: 60,
    min: 1,
    max: 86400,
    help: 'Seconds an idle keep-alive connection is kept, a request head may take (then 408), and a body or a write may stall.',
    obeyedIn: 'native/server.cc Server::OnTick',
  },
  {
    name: 'listen',
    short: 'l',
    type: 'int',
    default: 100,
    min: 1,
    max: 65535,
    help: 'The listen queue (backlog) of each socket.',
    obeyedIn: 'native/server.cc Server::Listen',
  },
  {
    name: 'disable-logging',
    short: 'L',
    type: 'bool',
    default: false,
    help: 'Do not write a log line per request.',
    obeyedIn: 'native/server.cc Server::EndRequest',
  },
  {
    name: 'backend',
    type: 'choice',
    choices: ['native', 'js'],
    default: 'native',
    help: 'Which server handles the sockets: the C++ addon ("native") or node:http ("js").',
    obeyedIn: 'lib/serve.ts serve()',
  },
  {
    name: 'help',
    short: 'h',
    type: 'bool',
    help: 'Print this help and exit.',
    obeyedIn: 'lib/cli.ts main()',
  },
  {
    name: 'version',
    type: 'bool',
    help: 'Print the version and exit.',
    obeyedIn: 'lib/cli.ts main()',
  },
];

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

export type OptionValues = Record<string, unknown>;

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

/** Stores a value, accumulating repeatable options into arrays. */
export function assign(values: OptionValues, spec: OptionSpec, raw: unknown): void {
  const key = camelCase(spec.name);
  const v = coerce(spec, raw);
  if (spec.repeatable) {
    const list = (values[key] as unknown[] | undefined) ?? [];
    values[key] = list.concat(Array.isArray(v) ? v : [v]);
  } else {
    values[key] = v;
  }
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

function unknown(name: string): never {
  const s = suggest(name);
  throw new TsgiError('TSGI_ERR_OPTION_UNKNOWN', `Unknown option --${name}${s ? ` (did you mean --${s}?)` : ''}`);
}

/**
 * Parses command-line arguments: "--name value", "--name=value", "-x value", and bare
 * "--flag" for booleans. Returns the values keyed by camelCase name.
 */
export function parseArgv(argv: readonly string[]): OptionValues {
  const values: OptionValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) inline = arg.slice(eq + 1);
      spec = findOption(name);
      if (!spec) unknown(name);
    } else if (arg.startsWith('-') && arg.length === 2) {
      spec = byShort.get(arg[1]!);
      if (!spec) unknown(arg.slice(1));
    } else {
      throw new TsgiError('TSGI_ERR_OPTION_UNKNOWN', `Unexpected argument ${JSON.stringify(arg)}: options start with --`);
    }
    if (spec!.type === 'bool') {
      assign(values, spec!, inline ?? true);
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
    assign(values, spec!, inline);
  }
  return values;
}

/** Fills in defaults and checks values given programmatically (serve()'s options). */
export function normalize(input: OptionValues): OptionValues {
  const out: OptionValues = {};
  for (const [key, raw] of Object.entries(input)) {
    if (raw === undefined) continue;
    const name = key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    const spec = findOption(name);
    if (!spec) unknown(name);
    if (spec!.repeatable && Array.isArray(raw)) {
      for (const item of raw) assign(out, spec!, item);
    } else {
      assign(out, spec!, raw);
    }
  }
  for (const spec of OPTIONS) {
    const key = camelCase(spec.name);
    if (out[key] === undefined && spec.default !== undefined) out[key] = spec.default;
  }
  return out;
}

export function helpText(): string {
  const lines = ['Usage: tsgi [options]', '', 'Options:'];
  for (const spec of OPTIONS) {
    const names = [`--${spec.name}`, ...(spec.aliases ?? []).map((a) => `--${a}`)];
    if (spec.short) names.unshift(`-${spec.short}`);
    const arg = spec.type === 'bool' ? '' : ` ${spec.type === 'keyvalue' ? 'KEY=VALUE' : spec.type.toUpperCase()}`;
    const def = spec.default !== undefined && spec.type !== 'bool' ? ` (default: ${spec.default})` : '';
    const rep = spec.repeatable ? ' (repeatable)' : '';
    lines.push(`  ${names.join(', ')}${arg}`);
    lines.push(`      ${spec.help}${def}${rep}`);
  }
  lines.push('', 'Example: tsgi --http :9090 --wsgi-file app.ts');
  return lines.join('\n') + '\n';
}
