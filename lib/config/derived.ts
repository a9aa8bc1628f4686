// Facts derived from the configuration, beside the table that declares it (gunicorn's
// Config properties): whether a master runs, the sockets to serve, and the policies
// that translate an option into what Node can obey (limit-as). Each is written once
// here; the code that acts on one calls its function.
import { parseSocketAddress, type SocketAddress } from './address.js';
import type { Config } from './typed.js';

export type SocketProtocol = 'http' | 'uwsgi';

export interface SocketSpec {
  address: SocketAddress;
  protocol: SocketProtocol;
}

/** A master runs with --master, and whenever there is more than one worker (Node cannot fork a loaded application). */
export function masterMode(config: Pick<Config, 'master' | 'processes'>): boolean {
  return config.master || config.processes > 1;
}

/** Whether any socket is asked for (the addresses are not parsed: socketsOf() does that, and says what is wrong). */
export function hasSockets(config: Config): boolean {
  return config.socket.length + config.uwsgiSocket.length + config.httpSocket.length + config.http.length > 0;
}

/** Every socket the configuration asks for, in the order uWSGI binds them, with its protocol. Throws TSGI_ERR_ADDRESS_INVALID. */
export function socketsOf(config: Config): SocketSpec[] {
  const list: SocketSpec[] = [];
  const add = (option: string, specs: readonly string[], protocol: SocketProtocol) => {
    for (const spec of specs) list.push({ address: parseSocketAddress(spec, option), protocol });
  };
  add('socket', config.socket, config.protocol === 'http' ? 'http' : 'uwsgi');
  add('uwsgi-socket', config.uwsgiSocket, 'uwsgi');
  add('http-socket', config.httpSocket, 'http');
  add('http', config.http, 'http');
  return list;
}

/** The options whose translation depends on their value: said at start only when their policy changes it. */
export const VALUE_POLICIES: ReadonlySet<string> = new Set(['limit-as']);

/** The smallest --limit-as (MB) a Node worker with one thread lives under: it reserves ~2.2 GB at start. */
export const LIMIT_AS_FLOOR = 3072;

export interface LimitAs {
  /** RLIMIT_AS in MB; 0: none. */
  limitAs: number;
  reloadOnRss: number;
  /** What the translation means here, when there was one. */
  note?: string;
}

/**
 * limit-as: RLIMIT_AS from LIMIT_AS_FLOOR MB with one thread per worker; under it (or
 * with threads) it would kill every worker at start, so it becomes reload-on-rss of the
 * same MB in master mode (unless reload-on-rss is set), and nothing in single-process
 * mode. Returns the values to use and, when they differ from those given, the note.
 */
export function limitAsPolicy(config: Pick<Config, 'limitAs' | 'threads' | 'reloadOnRss' | 'master' | 'processes'>): LimitAs {
  const { limitAs: mb, threads, reloadOnRss: rss } = config;
  if (mb === 0 || (mb >= LIMIT_AS_FLOOR && threads === 1)) return { limitAs: mb, reloadOnRss: rss };
  const why =
    threads > 1
      ? `a Node worker with ${threads} threads reserves far more address space than that at start`
      : `a Node worker reserves about 2.2 GB of address space at start (the limit works from ${LIMIT_AS_FLOOR})`;
  if (!masterMode(config)) {
    return { limitAs: 0, reloadOnRss: rss, note: `${why}, so RLIMIT_AS would kill it before it serves; as reload-on-rss it needs a master, and this is single-process mode: no memory limit applies` };
  }
  if (rss > 0) return { limitAs: 0, reloadOnRss: rss, note: `${why}, so RLIMIT_AS would kill it before it serves; reload-on-rss ${rss} is set and stays the memory limit` };
  return {
    limitAs: 0,
    reloadOnRss: mb,
    note: `${why}, so RLIMIT_AS would kill it before it serves; taken as reload-on-rss ${mb} instead (a worker past ${mb} MB of resident memory is recycled gracefully)`,
  };
}
