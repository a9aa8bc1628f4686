// The application contract around the conformance suite's applications: validate() on
// every application (unless marked unvalidated()), the server's own breaches recorded,
// and a validated module on disk for the CLI to load.
import { writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { validate, checkEnviron } from '../../dist/lib/index.js';
import { ROOT } from './project.mjs';

// The conformance suite's applications run inside validate() (docs/spec.md): an
// application of the suite that broke the contract by mistake, or a server that breaks
// it, fails with TSGI_ERR_APP_CONTRACT / TSGI_ERR_SERVER_CONTRACT instead of passing by
// luck. The few tests that break the contract on purpose, to test the server's own
// checks, serve their application unvalidated() (validate() would raise first).

const UNVALIDATED = Symbol('tsgi.test.unvalidated');

/**
 * Every TSGI_ERR_SERVER_CONTRACT raised by validate() inside a server. Most would be
 * swallowed there: the server only logs an error thrown by the body's close(), and
 * ignores a failed pull after the client went away. testFor() (differences.mjs) fails a
 * test during which one was raised.
 */
export const serverBreaches = [];

function recordBreach(err, where) {
  if (err !== null && typeof err === 'object' && err.code === 'TSGI_ERR_SERVER_CONTRACT') {
    serverBreaches.push(`${where}: ${err.message}`);
  }
}

/** The body validate() returned, with the SERVER_CONTRACT errors of the server's calls recorded. */
function watchBody(body) {
  if (Array.isArray(body)) {
    // A list stays a list (the server frames it with Content-Length): only its
    // close(), which validate() attached, is watched.
    const close = body.close;
    const copy = body.slice();
    Object.defineProperty(copy, 'close', {
      enumerable: false,
      value() {
        try {
          return close.call(body);
        } catch (err) {
          recordBreach(err, 'close()');
          throw err;
        }
      },
    });
    return copy;
  }
  let closed = false;
  const watchIterator = (it) => ({
    next() {
      // A pull begun before close() may settle after it (the client went away while the
      // server awaited an async body): validate() reports that as "iterated after close()"
      // although the server did nothing wrong, so only pulls begun after close() count.
      const afterClose = closed;
      let step;
      try {
        step = it.next();
      } catch (err) {
        if (afterClose) recordBreach(err, 'next()');
        throw err;
      }
      if (afterClose && step !== null && typeof step === 'object' && typeof step.then === 'function') {
        return step.catch((err) => {
          recordBreach(err, 'next()');
          throw err;
        });
      }
      return step;
    },
  });
  const watched = {
    close() {
      const wasClosed = closed;
      closed = true;
      try {
        return body.close();
      } catch (err) {
        recordBreach(err, wasClosed ? 'close() again' : 'close()');
        throw err;
      }
    },
  };
  if (typeof body[Symbol.iterator] === 'function') watched[Symbol.iterator] = () => watchIterator(body[Symbol.iterator]());
  else watched[Symbol.asyncIterator] = () => watchIterator(body[Symbol.asyncIterator]());
  return watched;
}

/**
 * Marks app to be served as it is, outside validate(): for a test of the server's own
 * checks (TSGI_ERR_STATUS_INVALID, TSGI_ERR_BODY_TYPE...), which validate() would
 * pre-empt with TSGI_ERR_APP_CONTRACT. routed() still checks its environ (checkEnviron).
 */
export function unvalidated(app) {
  app[UNVALIDATED] = true;
  return app;
}

/**
 * validate(app), with the server's breaches recorded in serverBreaches; app itself when
 * it is marked unvalidated().
 */
export function validated(app) {
  if (app[UNVALIDATED]) return app;
  const checked = validate(app);
  return (environ, startResponse) => {
    let result;
    try {
      result = checked(environ, startResponse);
    } catch (err) {
      recordBreach(err, 'the call');
      throw err;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') return result.then(watchBody);
    return watchBody(result);
  };
}

/**
 * The application of a suite with routes: each request goes to routes.get(PATH_INFO),
 * run inside validate() unless that route is unvalidated() (whose environ is still
 * checked, by checkEnviron).
 */
export function routed(routes) {
  return (environ, startResponse) => {
    const app = routes.get(environ.PATH_INFO);
    if (app === undefined) throw new Error(`no route for ${environ.PATH_INFO}`);
    if (app[UNVALIDATED]) {
      try {
        checkEnviron(environ);
      } catch (err) {
        recordBreach(err, 'checkEnviron()');
        throw err;
      }
    }
    return validated(app)(environ, startResponse);
  };
}

const tempModules = new Set();
process.on('exit', () => {
  for (const file of tempModules) {
    try {
      unlinkSync(file);
    } catch {
      // already gone
    }
  }
});

/**
 * A module, in the temporary directory, whose export `application` is
 * validate(callable of file): for the CLI (--wsgi-file) to load a fixture inside
 * validate(). Removed when the process exits.
 */
export function validatedModule(file, callable = 'application') {
  const out = join(tmpdir(), `tsgi-validated-${process.pid}-${tempModules.size}.mjs`);
  const lib = pathToFileURL(join(ROOT, 'dist', 'lib', 'index.js')).href;
  writeFileSync(
    out,
    `import { validate } from ${JSON.stringify(lib)};\n` +
      `import * as fixture from ${JSON.stringify(pathToFileURL(file).href)};\n` +
      `export const application = validate(fixture[${JSON.stringify(callable)}]);\n`,
  );
  tempModules.add(out);
  return out;
}
