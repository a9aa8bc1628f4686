// --enable-proxy-protocol on the js backend: each connection to an HTTP listener is
// held back from node:http until its PROXY protocol header is read and parsed
// (lib/protocol/proxy-header.ts, the twin of native/protocol/proxy_parser.cc); the header's source
// becomes the socket's remoteAddress/remotePort, which everything after reads
// (REMOTE_ADDR, the log lines), and the bytes after the header go to node:http as the
// connection's first. As in Server::TakeProxyHeader, a connection that does not start
// with a valid header is closed unanswered, with a line naming the reason.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { parseProxyHeader } from '../protocol/proxy-header.js';
import { formatConnectionLine } from '../protocol/request-log.js';

/** Puts the header's parse in front of server's own 'connection' listener. */
export function takeProxyHeaders(server: Server, timeoutMs: number, log: (line: string) => void): void {
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let held: Buffer = Buffer.alloc(0);
    const peer = () => (socket.remoteAddress === undefined ? 'unix' : `${socket.remoteAddress}:${socket.remotePort ?? ''}`);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    const onError = () => socket.destroy();
    const onData = (chunk: Buffer) => {
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      const r = parseProxyHeader(held);
      if (r.kind === 'more') return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onError);
      if (r.kind === 'bad') {
        log(formatConnectionLine(process.pid, peer(), `refused: ${r.error} (--enable-proxy-protocol): connection closed`));
        socket.destroy();
        return;
      }
      socket.pause();
      if (r.address !== undefined) {
        // Own properties over net.Socket's getters: every later reader sees the client.
        Object.defineProperty(socket, 'remoteAddress', { value: r.address.src, configurable: true });
        Object.defineProperty(socket, 'remotePort', { value: r.address.srcPort, configurable: true });
        Object.defineProperty(socket, 'remoteFamily', { value: r.address.v6 ? 'IPv6' : 'IPv4', configurable: true });
      }
      const rest = held.subarray(r.consumed);
      if (rest.length > 0) socket.unshift(rest);
      // node:http would read the handle itself (parser.consume), past what was
      // unshifted; marked consumed, it reads through the stream, unshifted bytes first.
      const handle = (socket as unknown as { _handle?: { _consumed?: boolean } })._handle;
      if (handle) handle._consumed = true;
      for (const l of httpListeners) l.call(server, socket);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onError);
  });
}
