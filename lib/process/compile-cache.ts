// Node's compile cache for the workers. bin/tsgi.js turns it on for the process it starts
// (module.enableCompileCache()), but a worker starts from worker-main.js, and Node turns
// the cache on for a process from NODE_COMPILE_CACHE before it loads the entry point. So
// the master sets that variable in each worker's environment, when the user set none,
// and the worker takes it out of its own process.env at once: the application's child
// processes get the environment the user gave tsgi, not a cache directory of tsgi's.
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Says that NODE_COMPILE_CACHE was set by the master, not by the user. */
const GIVEN = 'TSGI_COMPILE_CACHE_GIVEN';

/**
 * What the master adds to a worker's environment: the directory bin/tsgi.js gave
 * module.enableCompileCache() (none: Node's default, node-compile-cache in os.tmpdir()),
 * when the cache is on and the user named no directory (the worker inherits theirs).
 */
export function workerCacheEnv(): Record<string, string> {
  // getCompileCacheDir: Node 22.8 and later (on 22.1 to 22.7 the workers run without). It
  // names the directory of this Node version inside the one given, so it is only asked
  // whether the cache is on.
  const on = (module as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.() !== undefined;
  if (!on || process.env.NODE_COMPILE_CACHE !== undefined) return {};
  return { NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache'), [GIVEN]: '1' };
}

/** In the worker: the variables workerCacheEnv() set leave process.env (the cache stays on). */
export function forgetGivenCache(): void {
  if (process.env[GIVEN] === undefined) return;
  delete process.env[GIVEN];
  delete process.env.NODE_COMPILE_CACHE;
}
