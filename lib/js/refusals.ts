// How the js backend refuses a request or a connection, as the native server does
// (Server::Refuse): the refusal counted (--stats), a line in the log that says why, the
// response written (lib/protocol/request-log.ts refusalResponse) and the connection ended.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { formatRefusal, refusalResponse } from '../protocol/request-log.js';
import { countRefusal, type Counters } from '../backend/counters.js';

export interface Refusals {
  /** Refuses socket's request with status, logged with why; the connection ends with the response. */
  refuse(socket: Socket, status: number, why: string): void;
  /** A request refused once its head is in: node:http parses no more of the connection. */
  refuseRequest(req: IncomingMessage, refusal: readonly [number, string]): void;
}

/** The refusals of one backend: log writes its lines, counters (when --stats runs) counts them. */
export function refusals(log: (line: string) => void, counters: Counters | undefined): Refusals {
  const refuse = (socket: Socket, status: number, why: string) => {
    if (counters) countRefusal(counters, status);
    log(formatRefusal(process.pid, `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`, status, why));
    if (socket.writable) {
      socket.end(refusalResponse(status));
    } else {
      socket.destroy();
    }
  };
  const refuseRequest = (req: IncomingMessage, [status, why]: readonly [number, string]) => {
    req.socket.removeAllListeners('data');
    refuse(req.socket, status, why);
  };
  return { refuse, refuseRequest };
}
