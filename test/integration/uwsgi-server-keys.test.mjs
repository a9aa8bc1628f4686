// A uwsgi front end's variables named as the environ's own keys (wsgi.input, tsgi.backend,
// ...) do not replace them: uWSGI sets its own after the packet's, and an application
// that reads wsgi.input must get the stream whatever the front end sends. A wsgi.* name
// the server does not set is passed on, as uWSGI passes it. Both backends, a raw uwsgi
// packet on a TCP uwsgi socket on 127.0.0.1 (no nginx needed).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BACKENDS, FIXTURES } from '../lib/project.mjs';
import { startCli } from '../lib/cli.mjs';
import { uwsgiRequest, nginxLikeVars } from '../lib/uwsgi-client.mjs';

const APP = join(FIXTURES, 'server-keys-app.mjs');

/** The response's status and JSON body from the raw bytes (uwsgi answers are close-delimited). */
function parse(data) {
  const text = data.toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1]), body: JSON.parse(text.slice(split + 4)) };
}

for (const backend of BACKENDS) {
  describe(`uwsgi variables named as the environ's own keys (--backend ${backend})`, () => {
    let tsgi;
    before(async () => {
      tsgi = await startCli(['--backend', backend, '--uwsgi-socket', '127.0.0.1:0', '--wsgi-file', APP, '--disable-logging']);
    });
    after(async () => {
      tsgi?.signal('SIGTERM');
      await tsgi?.waitExit(5000).catch(() => tsgi.kill());
    });

    test('the server keeps its own; another wsgi.* name is passed on', { timeout: 20000 }, async () => {
      const vars = [
        ...nginxLikeVars({ method: 'POST', uri: '/keys', contentType: 'text/plain', contentLength: '3' }),
        ['wsgi.input', 'not a stream'],
        ['wsgi.errors', 'not a stream'],
        ['wsgi.version', '(9, 9)'],
        ['wsgi.multithread', 'yes'],
        ['wsgi.run_once', '1'],
        ['wsgi.file_wrapper', 'none'],
        ['wsgi.url_scheme', 'gopher'],
        ['tsgi.backend', 'other'],
        ['tsgi.signal', 'none'],
        ['wsgi.foo', 'bar'],
      ];
      const r = await uwsgiRequest(tsgi.sockets[0].port, vars, 'abc');
      const { status, body } = parse(r.data);
      assert.equal(status, 200, r.text);
      assert.deepEqual(body, {
        input: 'function',
        errors: 'function',
        version: [1, 0],
        multithread: false,
        run_once: false,
        file_wrapper: 'function',
        url_scheme: 'http', // from REQUEST_SCHEME (uwsgi_params), as before
        backend,
        signal: true,
        foo: 'bar',
        body: 'abc',
      });
    });
  });
}
