// What a backend provides the Exchange to write responses with: the Transport, and the
// text of a head as a transport that takes text is given it.
import type { Chunk } from './types.js';

/** What a backend provides: one call that writes part or all of a response. */
export interface Transport {
  /**
   * Writes a response head (when given) and body, framed as flags say. Returns 0 to go
   * on, 1 when the output is over its high-water mark (onDrain follows), -1 when the
   * connection is gone. head is the status ("200 OK") and the header lines, each ending
   * in CRLF (headText()).
   */
  send(id: number, head: string | undefined, body: Chunk | Chunk[] | undefined, flags: number): number;
  /**
   * A transport that takes a head as its parts has this, and is then given every head
   * through it (send() gets none): status as above, headers [name, value, name, value...]
   * (the transport may add to it), the rest as send()'s. The js backend's: node:http's
   * writeHead() takes the parts, and a text would be parsed back into them.
   */
  sendParts?(id: number, status: string, headers: string[], body: Chunk | Chunk[] | undefined, flags: number): number;
  /**
   * Hands request id's connection to the application (tsgi.upgrade()): false when it
   * cannot (the request is gone). Handler.onUpgrade follows, at once or later.
   */
  upgrade(id: number): boolean;
}

/**
 * What a backend that keeps WebSockets itself provides besides (the native backend:
 * native/wire.h says what each does): tsgi.websocket's handshake then switches the
 * connection instead of handing it over, and its frames never reach JavaScript.
 */
export interface WebSocketTransport {
  /** Sends head (the 101's status line and header lines) and switches request id's connection to WebSocket; false: it cannot. */
  websocket(id: number, head: string, maxMessage: number): boolean;
  /** A message (a string: text; bytes: binary), or a ping (kind WS_SEND_PING): send()'s results. */
  wsSend(id: number, data: string | Uint8Array, kind: number): number;
  wsClose(id: number, code: number, reason: string): void;
  wsPause(id: number, paused: boolean): void;
  wsTerminate(id: number): void;
}

/** The last head made, kept while the next ones are the same (most responses of a route are). */
let lastStatus = '';
let lastHeaders: string[] = [];
let lastText = '';
/** Heads with more header fields than this are not kept. */
const KEPT_FIELDS = 16;

/**
 * A head as send() takes it: the status and each header on a line of its own. A head
 * equal to the last one is that one's text again: the addon reads a string it has read
 * before without flattening it, and no concatenation is made.
 */
export function headText(status: string, headers: readonly string[]): string {
  const n = headers.length;
  if (status === lastStatus && n === lastHeaders.length) {
    let same = true;
    for (let i = 0; i < n; i++) {
      if (headers[i] !== lastHeaders[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastText;
  }
  let head = status + '\r\n';
  for (let i = 0; i < n; i += 2) head += headers[i]! + ': ' + headers[i + 1]! + '\r\n';
  if (n <= 2 * KEPT_FIELDS) {
    lastStatus = status;
    lastHeaders = headers.slice();
    lastText = head;
  }
  return head;
}
