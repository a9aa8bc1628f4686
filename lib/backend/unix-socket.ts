// Unix sockets as uWSGI users know them: a path, or "@name" for a Linux abstract
// socket; a stale file left by a crashed run is replaced, a socket a live process
// serves is not; --chmod-socket and --chown-socket set its mode and owner.
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { TsgiError } from '../base/errors.js';
import { lookupId } from '../base/privileges.js';

export function isAbstract(path: string): boolean {
  return path.startsWith('@');
}

/** Resolves true when something accepts connections on the socket at path. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(true)); // a server too busy to accept is still alive
  });
}

/**
 * Makes path ready to bind: a stale socket file (nobody answers on it) is removed; a
 * live one, or a file that is not a socket, is an error that says so.
 */
export async function prepareUnixSocket(path: string): Promise<void> {
  if (isAbstract(path)) return;
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (!st.isSocket()) {
    throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${path}: it exists and is not a socket (remove it yourself if it is yours)`);
  }
  if (await answers(path)) {
    throw new TsgiError('TSGI_ERR_LISTEN', `cannot listen on ${path}: another live process serves this socket`);
  }
  unlinkSync(path);
}

/** "666" (bare --chmod-socket) or three octal digits. */
export function parseSocketMode(value: string): number {
  if (!/^[0-7]{3}$/.test(value)) {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected three octal digits (like 660) for chmod-socket but received ${JSON.stringify(value)}`);
  }
  return parseInt(value, 8);
}

/** "user[:group]" -> [uid, gid] (gid -1: unchanged). */
export function parseOwner(value: string, option = 'chown-socket'): [number, number] {
  const [user, group] = value.split(':', 2);
  if (!user) throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected user[:group] for ${option} but received ${JSON.stringify(value)}`);
  const uid = lookupId('/etc/passwd', user, 'user', option);
  const gid = group ? lookupId('/etc/group', group, 'group', option) : -1;
  return [uid, gid];
}

/** Sets the mode and owner of a bound socket file (abstract sockets have neither). */
export function applySocketPermissions(path: string, mode: number | undefined, owner: [number, number] | undefined): void {
  if (isAbstract(path)) return;
  if (mode !== undefined) chmodSync(path, mode);
  if (owner !== undefined) chownSync(path, owner[0], owner[1]);
}

/** --vacuum: removes the socket files this server created. */
export function removeSocketFile(path: string): void {
  if (isAbstract(path)) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
