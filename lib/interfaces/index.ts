// The interfaces an application may be written to (--interface), as Granian has
// --interface asgi|rsgi|wsgi: each turns what the module exports into the WSGI
// contract's Application, which every backend and process mode serves.
//   wsgi   the contract of docs/spec.md: (environ, startResponse) => body
//   fetch  (request: Request) => Response: Hono, `export default { fetch }`
//   node   a node:http request listener (req, res): Express, Koa, Fastify (node.ts)
//   auto   fetch for anything with a fetch method; node for an Express or connect app
//          (a function with handle() and listen()), a Koa application (callback()) or a
//          Fastify instance (routing and ready()), or an http.Server (its 'request' and
//          'upgrade' listeners: ws, Socket.IO); wsgi for any other function. A plain
//          (req, res) listener is a function like a WSGI one: it needs --interface node.
import type { Server as HttpServer } from 'node:http';
import { TsgiError } from '../base/errors.js';
import { lazyRequire } from '../base/lazy-require.js';
import type { Application } from '../contract/types.js';
import type { FetchApplication, FetchHandler } from './fetch.js';

export type InterfaceName = 'wsgi' | 'fetch' | 'node';

export interface ResolvedInterface {
  app: Application;
  name: InterfaceName;
  /** For the start-up line: "fetch (auto: an object with a fetch method)". */
  description: string;
}

// The fetch and node adapters are imported when an application needs one, not with tsgi:
// the node adapter loads node:http and makes a ServerResponse at load, and a process that
// serves a WSGI application starts without them (bench: BENCH_SCENARIOS=startup).
interface Adapter {
  /** Why `what` cannot be served through this interface, or undefined when it can. */
  refuse(what: unknown): string | undefined;
  adapt(what: unknown): Application | Promise<Application>;
}

function hasFetch(what: unknown): what is FetchApplication {
  return (typeof what === 'object' || typeof what === 'function') && what !== null && typeof (what as FetchApplication).fetch === 'function';
}

const httpModule = lazyRequire<typeof import('node:http')>('node:http');

/**
 * Whether what is an http.Server. node:http is required only for an object with a
 * listen() method (an application that exports a server has loaded node:http already),
 * so that tsgi loads no node:http for an application that does not use it.
 */
function isHttpServer(what: unknown): what is HttpServer {
  if (what === null || typeof what !== 'object' || typeof (what as { listen?: unknown }).listen !== 'function') return false;
  return what instanceof httpModule().Server;
}

/** What a node:http framework exports: an Express (connect) app, a Koa application, a Fastify instance. */
function nodeFramework(what: unknown): string | undefined {
  if (what === null || (typeof what !== 'object' && typeof what !== 'function')) return undefined;
  if (isHttpServer(what)) return 'an http.Server';
  const w = what as Record<string, unknown>;
  if (typeof what === 'function' && typeof w.handle === 'function' && typeof w.listen === 'function') return 'an Express or connect application';
  if (typeof what === 'object' && typeof w.routing === 'function' && typeof w.ready === 'function') return 'a Fastify instance';
  if (typeof what === 'object' && typeof w.callback === 'function' && typeof w.use === 'function') return 'a Koa application';
  return undefined;
}

/**
 * Whether some interface can serve what a module exports: a function, an object with a
 * fetch method, or a node:http framework's application (the loader's test of a callable).
 */
export function servable(what: unknown): boolean {
  return typeof what === 'function' || hasFetch(what) || nodeFramework(what) !== undefined;
}

function kind(what: unknown): string {
  if (what === null) return 'null';
  if (hasFetch(what)) return typeof what === 'function' ? 'a function with a fetch method' : 'an object with a fetch method';
  const framework = nodeFramework(what);
  if (framework !== undefined) return framework;
  if (typeof what === 'function') return 'a function';
  if (typeof what === 'object') return 'an object without a fetch method';
  return `a ${typeof what}`;
}

const ADAPTERS: Record<InterfaceName, Adapter> = {
  wsgi: {
    refuse: (what) =>
      typeof what !== 'function' || nodeFramework(what) !== undefined
        ? `it is ${kind(what)}, not a function (environ, startResponse)${hasFetch(what) ? ': did you mean --interface fetch?' : nodeFramework(what) !== undefined ? ': did you mean --interface node?' : ''}`
        : undefined,
    adapt: (what) => what as Application,
  },
  fetch: {
    refuse: (what) =>
      hasFetch(what) || typeof what === 'function' ? undefined : `it is ${kind(what)}: expected an object with a fetch(request) method, or a function (request) => Response`,
    adapt: async (what) => (await import('./fetch.js')).fromFetch(hasFetch(what) ? what : (what as FetchHandler)),
  },
  node: {
    refuse: (what) =>
      typeof what === 'function' || nodeFramework(what) !== undefined
        ? undefined
        : `it is ${kind(what)}: expected a request listener (req, res), an Express, Koa or Fastify application, or an http.Server${hasFetch(what) ? ': did you mean --interface fetch?' : ''}`,
    adapt: async (what) => {
      const { fromNodeListener, fromNodeServer, nodeListenerOf } = await import('./node.js');
      return isHttpServer(what) ? fromNodeServer(what) : fromNodeListener(await nodeListenerOf(what));
    },
  },
};

/** The interface auto picks for what the module exports, and why. */
function detect(what: unknown): { name: InterfaceName; why: string } | undefined {
  if (hasFetch(what)) return { name: 'fetch', why: kind(what) };
  const framework = nodeFramework(what);
  if (framework !== undefined) return { name: 'node', why: framework };
  if (typeof what === 'function') return { name: 'wsgi', why: 'a function' };
  return undefined;
}

/**
 * The application of `what` (what the module exports, or what serve() was given)
 * through the interface `name` ("auto" by default). Throws TSGI_ERR_INTERFACE, naming
 * `where` (the file, or serve()), when it cannot be served that way.
 */
export async function resolveInterface(what: unknown, name = 'auto', where = 'the application'): Promise<ResolvedInterface> {
  if (name === 'auto') {
    const found = detect(what);
    if (found === undefined) {
      throw new TsgiError(
        'TSGI_ERR_INTERFACE',
        `${where} is ${kind(what)}: expected a function (environ, startResponse), an object with a fetch(request) method, an Express, Koa or Fastify application, or an http.Server (choose with --interface)`,
      );
    }
    return { app: await ADAPTERS[found.name].adapt(what), name: found.name, description: `${found.name} (auto: ${found.why})` };
  }
  // The option table admits only these names; serve() callers in JavaScript may pass any.
  const adapter = Object.hasOwn(ADAPTERS, name) ? ADAPTERS[name as InterfaceName] : undefined;
  if (adapter === undefined) {
    throw new TsgiError('TSGI_ERR_INTERFACE', `unknown interface ${name}: expected auto, wsgi, fetch or node`);
  }
  const why = adapter.refuse(what);
  if (why !== undefined) throw new TsgiError('TSGI_ERR_INTERFACE', `--interface ${name}: ${where} cannot be served: ${why}`);
  return { app: await adapter.adapt(what), name: name as InterfaceName, description: name };
}
