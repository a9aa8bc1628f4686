// The websocket scenario's WSGI application: an echo through environ['tsgi.websocket'].
export default async function app(environ, startResponse) {
  const offer = environ['tsgi.websocket'];
  if (offer === undefined) {
    startResponse('200 OK', [['Content-Type', 'text/plain']]);
    return ['websocket echo\n'];
  }
  const ws = await offer.handshake();
  for await (const message of ws) void ws.send(message);
  return [];
}
