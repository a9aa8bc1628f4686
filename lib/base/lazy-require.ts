// A module required at its first use, not when tsgi starts: yaml (a YAML config file),
// ws (the first WebSocket handshake), node:http (an application that exports a server),
// node:crypto (below), net.BlockList (--forwarded-allow-ips). Required, not imported, so
// that a synchronous caller (the config reader) can use it.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A function that requires id at its first call and gives that module from then on. */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= requireHere(id) as T);
}

/**
 * node:crypto, which costs a process about 10 ms to load (Node 24 here): required at the
 * first WebSocket handshake, spooled request body or .ts application.
 */
export const nodeCrypto = lazyRequire<typeof import('node:crypto')>('node:crypto');
