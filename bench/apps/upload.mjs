// The memory scenario's upload application. POST /length: answers the body's length
// without reading it (what the server held is the server's own: the body is whole before
// the application runs, in memory up to post-buffering, else in a temporary file).
// POST /read: reads the body from wsgi.input 64 KiB at a time and answers how many bytes
// it read.
export function application(environ, startResponse) {
  let n = 0;
  if (environ.PATH_INFO === '/read') {
    const input = environ['wsgi.input'];
    for (let chunk = input.read(65536); chunk.length > 0; chunk = input.read(65536)) n += chunk.length;
  } else {
    n = Number(environ.CONTENT_LENGTH);
  }
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return [`${n}\n`];
}
