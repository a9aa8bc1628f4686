// The "peers" benchmark application: every route the peers scenario loads, in one
// application so that each server starts once for all of the scenario's cells.
// bench/peers/node-http.mjs (scenario "peers"), bench/peers/uws.mjs and
// bench/peers/bun.mjs answer the same bytes on the same routes (PEER_ROUTES in
// bench/lib/peers-scenario.mjs says what the bench checks):
//
//   GET  /          "Hello, World!\n", text/plain
//   GET  /64k       64 KiB of "x", application/octet-stream
//   GET  /10k       10 KiB of "x", application/octet-stream
//   POST /echo      the request body, read whole, sent back (application/octet-stream)
//   POST /echo-4k   the request body read in pieces of at most 4 KiB, sent back
//   GET  /sleep     "Hello, World!\n" after awaiting a 10 ms timer
import { setTimeout as sleep } from 'node:timers/promises';
import type { Environ, StartResponse } from 'tsgi';

const HELLO = 'Hello, World!\n';
const BODY_64K = Buffer.alloc(64 * 1024, 'x');
const BODY_10K = Buffer.alloc(10 * 1024, 'x');
const PIECE = 4096;

function octets(startResponse: StartResponse, body: Uint8Array): Uint8Array[] {
  startResponse('200 OK', [['Content-Type', 'application/octet-stream']]);
  return [body];
}

export function application(environ: Environ, startResponse: StartResponse): Array<string | Uint8Array> | Promise<string[]> {
  switch (environ.PATH_INFO) {
    case '/64k':
      return octets(startResponse, BODY_64K);
    case '/10k':
      return octets(startResponse, BODY_10K);
    case '/echo':
      return octets(startResponse, environ['wsgi.input'].read());
    case '/echo-4k': {
      const pieces: Uint8Array[] = [];
      for (let piece = environ['wsgi.input'].read(PIECE); piece.length > 0; piece = environ['wsgi.input'].read(PIECE)) pieces.push(piece);
      return octets(startResponse, Buffer.concat(pieces));
    }
    case '/sleep':
      return sleep(10).then(() => {
        startResponse('200 OK', [['Content-Type', 'text/plain']]);
        return [HELLO];
      });
    default:
      startResponse('200 OK', [['Content-Type', 'text/plain']]);
      return [HELLO];
  }
}
