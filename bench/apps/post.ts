// The "post" benchmark application: reads the whole request body from wsgi.input
// and answers its length in bytes as text ("4096\n" for the benchmark's 4 KiB bodies).
// bench/peers/node-http.mjs (scenario "post") answers the same bytes.
import type { Environ, StartResponse } from 'tsgi';

export function application(environ: Environ, startResponse: StartResponse): string[] {
  const body = environ['wsgi.input'].read();
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`${body.length}\n`];
}
