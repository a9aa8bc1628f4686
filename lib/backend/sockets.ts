// The sockets the options ask for, and why one could not be bound.
import { parseSocketAddress, type SocketAddress } from '../protocol/address.js';
import type { OptionValues } from '../config/options.js';
import type { SocketProtocol } from './backend.js';

export interface SocketSpec {
  address: SocketAddress;
  protocol: SocketProtocol;
}

/** Every socket the options ask for, in the order uWSGI binds them, with its protocol. */
export function socketsOf(values: OptionValues): SocketSpec[] {
  const list: SocketSpec[] = [];
  const add = (option: string, key: string, protocol: SocketProtocol) => {
    for (const spec of (values[key] as string[] | undefined) ?? []) list.push({ address: parseSocketAddress(spec, option), protocol });
  };
  add('socket', 'socket', values.protocol === 'http' ? 'http' : 'uwsgi');
  add('uwsgi-socket', 'uwsgiSocket', 'uwsgi');
  add('http-socket', 'httpSocket', 'http');
  add('http', 'http', 'http');
  return list;
}

/** Why a socket could not be bound, in words, from the error's code. */
export function listenFailure(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return 'the address is already in use';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EADDRNOTAVAIL') return 'the address is not available on this machine';
  if (code === 'ENOENT') return 'its directory does not exist';
  if (code === 'EMFILE') return 'too many open files (raise the limit: ulimit -n)';
  if (code === 'ENFILE') return "the system's open file table is full (fs.file-max)";
  return (err as Error).message;
}

