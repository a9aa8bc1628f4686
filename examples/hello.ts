// Hello world: tsgi --http :9090 --wsgi-file examples/hello.ts, then curl http://127.0.0.1:9090/you
import type { Environ, StartResponse } from 'tsgi';

export function* application(environ: Environ, startResponse: StartResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
  yield `Привет, читатель! You asked for ${environ.PATH_INFO}\n`;
}
