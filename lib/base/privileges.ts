// --uid and --gid: the master (or the single process) binds its sockets as it was
// started, then drops to the user and group asked for; its workers are spawned after,
// and run as them too.
import { readFileSync } from 'node:fs';
import { TsgiError } from './errors.js';

/** A user or group, by name (looked up in file) or by number. */
export function lookupId(file: string, name: string, what: string, option: string): number {
  if (/^[0-9]+$/.test(name)) return Number(name);
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
  }
  throw new TsgiError('TSGI_ERR_OPTION_INVALID', `Expected a ${what} name or id for ${option} but received ${JSON.stringify(name)} (no such ${what} in ${file})`);
}

/** Sets the group first (a process without root cannot change it after the user). */
export function dropPrivileges(uid: string | undefined, gid: string | undefined): string | undefined {
  if (uid === undefined && gid === undefined) return undefined;
  const g = gid !== undefined ? lookupId('/etc/group', gid, 'group', 'gid') : undefined;
  const u = uid !== undefined ? lookupId('/etc/passwd', uid, 'user', 'uid') : undefined;
  try {
    if (g !== undefined) {
      process.setgroups?.([g]);
      process.setgid!(g);
    }
    if (u !== undefined) process.setuid!(u);
  } catch (err) {
    throw new TsgiError('TSGI_ERR_OPTION_INVALID', `cannot drop privileges to uid ${uid ?? '-'} gid ${gid ?? '-'}: ${(err as Error).message}`, { cause: err });
  }
  return `uid ${process.getuid!()} gid ${process.getgid!()}`;
}
