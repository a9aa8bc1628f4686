// The hello-world application in plain JavaScript (ESM), for the startup scenario:
// the same answer as bench/apps/hello.ts, with no TypeScript to load.
export function application(_environ, startResponse) {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return ['Hello, World!\n'];
}
