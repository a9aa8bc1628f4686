// Why a socket could not be bound, in words. (The sockets the configuration asks for are
// lib/config/derived.ts socketsOf.)

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

