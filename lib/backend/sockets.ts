// The one loop that binds every socket the configuration asks for (lib/config/derived.ts
// socketsOf): serve() binds through its backend, the master through the addon (its
// workers inherit the descriptors); either way unix socket files are prepared, given --chmod-socket and
// --chown-socket, and removed again when a later socket fails.
import { TsgiError } from '../base/errors.js';
import { formatAddress, resolveHost } from '../protocol/address.js';
import type { Config } from '../config/typed.js';
import type { SocketSpec } from '../config/derived.js';
import { applySocketPermissions, parseOwner, parseSocketMode, prepareUnixSocket, removeSocketFile } from './unix-socket.js';
import type { SocketProtocol } from './backend.js';

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

/** How a caller binds one socket; what it returns is the caller's record of it. */
export interface Binder<T> {
  tcp(host: string, port: number, protocol: SocketProtocol, spec: string): T | Promise<T>;
  unix(path: string, protocol: SocketProtocol, spec: string): T | Promise<T>;
}

export interface BoundSockets<T> {
  /** One record per socket, in the order of socketsOf. */
  bound: T[];
  /** The socket files made (not abstract ones): what --vacuum removes at the end. */
  files: string[];
}

/**
 * Binds every target with binder, in order. A failure is TSGI_ERR_LISTEN "cannot listen
 * on WHERE: WHY" (a TsgiError of the binder's own passes as it is); before it is thrown,
 * undo() closes what the binder opened and the socket files made so far are removed.
 */
export async function bindSockets<T>(targets: readonly SocketSpec[], config: Config, binder: Binder<T>, undo: () => void): Promise<BoundSockets<T>> {
  const mode = config.chmodSocket !== undefined ? parseSocketMode(config.chmodSocket) : undefined;
  const owner = config.chownSocket !== undefined ? parseOwner(config.chownSocket) : undefined;
  const bound: T[] = [];
  const files: string[] = [];
  const attempt = async (shown: string, bind: () => T | Promise<T>): Promise<T> => {
    try {
      return await bind();
    } catch (err) {
      if (err instanceof TsgiError) throw err;
      throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${shown}: ${listenFailure(err)}`, { cause: err });
    }
  };
  try {
    for (const { address: t, protocol } of targets) {
      if (t.kind === 'unix') {
        await prepareUnixSocket(t.path);
        bound.push(await attempt(t.path, () => binder.unix(t.path, protocol, t.spec)));
        if (!t.path.startsWith('@')) files.push(t.path);
        applySocketPermissions(t.path, mode, owner);
      } else {
        const host = await resolveHost(t.host);
        bound.push(await attempt(`${formatAddress(host, t.port)} (${t.spec})`, () => binder.tcp(host, t.port, protocol, t.spec)));
      }
    }
  } catch (err) {
    undo();
    for (const path of files) removeSocketFile(path);
    throw err;
  }
  return { bound, files };
}
