// The frame of every conformance file, once for each backend: inside describe(backend),
// one server for the file's application, started before its tests and closed after
// them, and the file's test() (testFor(backend) in ./differences.mjs).
import { before, after } from 'node:test';
import { startServer } from '../lib/server.mjs';
import { request } from '../lib/raw-client.mjs';
import { req } from '../lib/http-wire.mjs';
import { routed } from '../lib/contract.mjs';
import { testFor } from './differences.mjs';

/**
 * Call inside describe(backend): app is served (startServer(app, { backend, ...options }))
 * from the suite's before() to its after(). Returns { test, srv }: srv gets startServer()'s
 * { server, port, close } once before() has run, which is before the first test.
 */
export function backendSuite(backend, app, options = {}) {
  const srv = {};
  before(async () => {
    Object.assign(srv, await startServer(app, { backend, ...options }));
  });
  after(() => srv.close?.());
  return { test: testFor(backend), srv };
}

/**
 * backendSuite() for an application of routes that the tests set (routes.set(path, app)):
 * routed() runs each inside validate() unless it is unvalidated(). Returns { test, srv,
 * routes, get(path, opts) }: get is a GET of path with Connection: close, its response
 * parsed (request() in ../lib/raw-client.mjs).
 */
export function routedSuite(backend) {
  const routes = new Map();
  const { test, srv } = backendSuite(backend, routed(routes));
  const get = (path, opts) => request(srv.port, req('GET', path, [['Connection', 'close']]), opts);
  return { test, srv, routes, get };
}
