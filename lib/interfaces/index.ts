// The interfaces an application may be written to (--interface), as Granian has
// --interface asgi|rsgi|wsgi: each turns what the module exports into the WSGI
// contract's Application, which every backend and process mode serves.
//   wsgi   the contract of docs/spec.md: (environ, startResponse) => body
//   fetch  (request: Request) => Response: Hono, `export default { fetch }`
//   auto   fetch for anything with a fetch method, wsgi for a function
import { TsgiError } from '../errors.js';
import type { Application } from '../types.js';
import { fromFetch, type FetchApplication, type FetchHandler } from './fetch.js';

export type InterfaceName = 'wsgi' | 'fetch' | 'node';

export interface ResolvedInterface {
  app: Application;
  name: InterfaceName;
  /** For the start-up line: "fetch (auto: an object with a fetch method)". */
  description: string;
}

interface Adapter {
  /** Why `what` cannot be served through this interface, or undefined when it can. */
  refuse(what: unknown): string | undefined;
  adapt(what: unknown): Application;
}

function hasFetch(what: unknown): what is FetchApplication {
  return (typeof what === 'object' || typeof what === 'function') && what !== null && typeof (what as FetchApplication).fetch === 'function';
}

function kind(what: unknown): string {
  if (what === null) return 'null';
  if (hasFetch(what)) return typeof what === 'function' ? 'a function with a fetch method' : 'an object with a fetch method';
  if (typeof what === 'function') return 'a function';
  if (typeof what === 'object') return 'an object without a fetch method';
  return `a ${typeof what}`;
}

const ADAPTERS: Partial<Record<InterfaceName, Adapter>> = {
  wsgi: {
    refuse: (what) =>
      typeof what !== 'function'
        ? `it is ${kind(what)}, not a function (environ, startResponse)${hasFetch(what) ? ': did you mean --interface fetch?' : ''}`
        : undefined,
    adapt: (what) => what as Application,
  },
  fetch: {
    refuse: (what) =>
      hasFetch(what) || typeof what === 'function' ? undefined : `it is ${kind(what)}: expected an object with a fetch(request) method, or a function (request) => Response`,
    adapt: (what) => fromFetch(hasFetch(what) ? what : (what as FetchHandler)),
  },
  // node: lib/interfaces/node.ts, fromNodeListener(), joins here.
};

/** The interface auto picks for what the module exports, and why. */
function detect(what: unknown): { name: InterfaceName; why: string } | undefined {
  if (hasFetch(what)) return { name: 'fetch', why: kind(what) };
  if (typeof what === 'function') return { name: 'wsgi', why: 'a function' };
  return undefined;
}

/**
 * The application of `what` (what the module exports, or what serve() was given)
 * through the interface `name` ("auto" by default). Throws TSGI_ERR_INTERFACE, naming
 * `where` (the file, or serve()), when it cannot be served that way.
 */
export function resolveInterface(what: unknown, name = 'auto', where = 'the application'): ResolvedInterface {
  if (name === 'auto') {
    const found = detect(what);
    if (found === undefined) {
      throw new TsgiError(
        'TSGI_ERR_INTERFACE',
        `${where} is ${kind(what)}: expected a function (environ, startResponse) or an object with a fetch(request) method (choose with --interface)`,
      );
    }
    return { app: ADAPTERS[found.name]!.adapt(what), name: found.name, description: `${found.name} (auto: ${found.why})` };
  }
  const adapter = ADAPTERS[name as InterfaceName];
  if (adapter === undefined) {
    throw new TsgiError('TSGI_ERR_INTERFACE', `interface ${name} is not available in this build of tsgi`);
  }
  const why = adapter.refuse(what);
  if (why !== undefined) throw new TsgiError('TSGI_ERR_INTERFACE', `--interface ${name}: ${where} cannot be served: ${why}`);
  return { app: adapter.adapt(what), name: name as InterfaceName, description: name };
}
