// The seed articles' first application, in TypeScript.
import type { Environ, StartResponse } from 'tsgi';

export function* application(environ: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  yield `Привет, читатель! You asked for ${environ.PATH_INFO}\n`;
}
