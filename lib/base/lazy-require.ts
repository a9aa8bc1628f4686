// A module required at its first use, not when tsgi starts: yaml (a YAML config file),
// ws (the first WebSocket handshake), node:http (an application that exports a server).
// Required, not imported, so that a synchronous caller (the config reader) can use it.
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/** A function that requires id at its first call and gives that module from then on. */
export function lazyRequire<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= requireHere(id) as T);
}
