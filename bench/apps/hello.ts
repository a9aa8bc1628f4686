// The hello-world benchmark application: the smallest PEP 3333 response.
// bench/peers/node-http.mjs (scenario "hello") answers the same bytes.
import type { Environ, StartResponse } from 'tsgi';

export function application(_environ: Environ, startResponse: StartResponse): string[] {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\n'];
}
