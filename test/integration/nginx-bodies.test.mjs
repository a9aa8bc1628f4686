// Request bodies through a real nginx (uwsgi_pass), with nginx's request buffering and
// with uwsgi_request_buffering off: 0 B to 50 MB intact (length and sha256), chunked
// uploads de-chunked with CONTENT_LENGTH.
//
// test/lib/nginx-suite.mjs starts tsgi and nginx (docs/deploy-nginx.md explains the
// configuration) and says why the file is skipped where nginx is missing.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from '../lib/raw-client.mjs';
import { SKIP, sha256, post, postChunked, logSince, noteSkipped, BACKENDS, behindNginx } from '../lib/nginx-suite.mjs';

noteSkipped();

for (const backend of BACKENDS) {
  describe(`tsgi behind nginx (--backend ${backend})`, { skip: SKIP }, () => {
    let viaUnix; // nginx -> unix socket
    let unbuffered; // nginx -> unix socket, uwsgi_request_buffering off
    const nginxed = behindNginx(backend);
    before(() => ({ viaUnix, unbuffered } = nginxed));

    const BIG = randomBytes(backend === 'native' ? 50 * 1024 * 1024 : 2 * 1024 * 1024);
    // 50 MB on the native backend only: the js backend's body path is the same for 1 MB
    // (past post-buffering, a temporary file), and the file's runtime stays bounded.
    const SIZES = [
      ['0 B', 0],
      ['1 MB', 1024 * 1024],
      ...(backend === 'native' ? [['50 MB', BIG.length]] : []),
    ];
    const TEMP_FILE = /a client request body is buffered to a temporary file/;

    for (const [label, nginxOf, buffered] of [
      ['default request buffering', () => viaUnix, true],
      ['uwsgi_request_buffering off', () => unbuffered, false],
    ]) {
      for (const [sizeLabel, size] of SIZES) {
        test(`a ${sizeLabel} body through nginx (${label}): length and sha256 intact`, { timeout: 60000 }, async () => {
          const nginx = nginxOf();
          const body = BIG.subarray(0, size);
          const mark = nginx.errorLog().length;
          const res = await post(nginx.port, body, { timeoutMs: 45000 });
          assert.equal(res.status, 200, `${res.body.toString().slice(0, 300)}\n${nginx.errorLog()}`);
          const got = JSON.parse(res.body.toString());
          assert.equal(got.length, size);
          assert.equal(got.sha256, sha256(body));
          assert.equal(got.CONTENT_LENGTH, String(size), 'nginx passes $content_length');
          assert.equal(got.HTTP_TRANSFER_ENCODING, null);
          if (size > 64 * 1024) {
            // The buffered nginx stores the body in client_body_temp_path first; with
            // buffering off it streams it to tsgi as it comes.
            const log = logSince(nginx.errorLog(), mark);
            if (buffered) assert.match(log, TEMP_FILE, 'nginx buffered the body to a file');
            else assert.doesNotMatch(log, TEMP_FILE, 'nginx streamed the body');
          }
        });
      }

      test(`a chunked upload through nginx (${label}): de-chunked, with CONTENT_LENGTH, and buffered by nginx either way`, { timeout: 60000 }, async () => {
        const nginx = nginxOf();
        const body = BIG.subarray(0, 1024 * 1024 + 17);
        const mark = nginx.errorLog().length;
        const res = await postChunked(nginx.port, body, [1, 10, 1000, 8192, 65536, 300000]);
        assert.equal(res.status, 200, `${res.body.toString().slice(0, 300)}\n${nginx.errorLog()}`);
        const got = JSON.parse(res.body.toString());
        assert.equal(got.length, body.length);
        assert.equal(got.sha256, sha256(body));
        // The uwsgi protocol needs CONTENT_LENGTH before the body: nginx 1.22 reads a
        // chunked body whole (no 411), even with uwsgi_request_buffering off.
        assert.equal(got.CONTENT_LENGTH, String(body.length));
        assert.equal(got.HTTP_TRANSFER_ENCODING, null, 'nginx passes the header on; tsgi drops it (the body is plain)');
        assert.match(logSince(nginx.errorLog(), mark), TEMP_FILE, 'nginx buffered the chunked body to a file');
      });
    }
  });
}
