// The connections applications took with tsgi.upgrade() (WebSockets, mostly) while they
// are open: how many there are (the stats and /metrics), and how they end when the
// process stops gracefully (a chain reload, SIGTERM, max-requests): they are given the
// reload mercy to finish, then each WebSocket gets a close frame with 1001 ("going
// away", RFC 6455 §7.4.1) and a moment to answer it, and whatever is left is closed.
import type { Socket } from 'node:net';

/** A WebSocket close frame from a server (unmasked, RFC 6455 §5.5.1): code 1001. */
const GOING_AWAY_FRAME = Buffer.from([0x88, 0x02, 0x03, 0xe9]);
/** How long a client has to answer the closing handshake before its socket is destroyed. */
const CLOSE_WAIT_MS = 1000;

/**
 * The time upgraded connections get out of a mercy of `seconds` (reload-mercy,
 * worker-reload-mercy), so that their close (1001 and CLOSE_WAIT_MS for the answer) is
 * over before the mercy's end cuts the process: 1.5 s less, at least none.
 */
export function upgradedMercyMs(seconds: number): number {
  return Math.max(0, seconds * 1000 - CLOSE_WAIT_MS - 500);
}

interface Entry {
  websocket: boolean;
  /** How it closes with 1001 when tsgi holds its WebSocket (lib/contract/websocket.ts). */
  goAway?: () => void;
}

/** What is held: a net.Socket, or a WebSocket the native server keeps (lib/contract/native-websocket.ts). */
interface Held {
  destroy(): void;
}

export class UpgradedConnections {
  private readonly open = new Map<Held, Entry>();
  private whenEmpty: (() => void) | undefined;
  /** Called with the count each time it changes (the scoreboard's figure, under a master). */
  onCount: ((count: number) => void) | undefined;

  get count(): number {
    return this.open.size;
  }

  /** A connection taken; websocket: it switched to WebSocket (a stop closes it with 1001). */
  add(socket: Socket, websocket: boolean): void {
    this.hold(socket, { websocket }, (gone) => socket.once('close', gone));
  }

  /** A WebSocket the native server keeps: a stop closes it with 1001 (goAway). */
  addNative(ws: Held & { goAway(): void; closed: Promise<unknown> }): void {
    this.hold(ws, { websocket: true, goAway: () => ws.goAway() }, (gone) => void ws.closed.then(gone));
  }

  private hold(held: Held, entry: Entry, onGone: (gone: () => void) => void): void {
    this.open.set(held, entry);
    onGone(() => {
      this.open.delete(held);
      this.onCount?.(this.open.size);
      if (this.open.size === 0) this.whenEmpty?.();
    });
    this.onCount?.(this.open.size);
  }

  /** The WebSocket on socket is tsgi's own: a stop closes it through its library. */
  closeWith(socket: Socket, goAway: () => void): void {
    const e = this.open.get(socket);
    if (e !== undefined) e.goAway = goAway;
  }

  /**
   * Resolves once every connection is closed. Those still open after mercyMs are told
   * to go away (WebSockets: 1001) and destroyed CLOSE_WAIT_MS later.
   */
  drain(mercyMs: number): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      let destroyTimer: NodeJS.Timeout | undefined;
      const mercyTimer = setTimeout(() => {
        this.goAway();
        destroyTimer = setTimeout(() => {
          for (const socket of this.open.keys()) socket.destroy();
        }, CLOSE_WAIT_MS);
      }, mercyMs);
      this.whenEmpty = () => {
        this.whenEmpty = undefined;
        clearTimeout(mercyTimer);
        if (destroyTimer !== undefined) clearTimeout(destroyTimer);
        resolve();
      };
    });
  }

  /** Every connection open is closed now. */
  destroy(): void {
    for (const socket of this.open.keys()) socket.destroy();
  }

  /** Every connection open is told to go away now. */
  private goAway(): void {
    for (const [held, e] of this.open) {
      const socket = held as Socket;  // only a net.Socket has no goAway
      if (e.goAway !== undefined) {
        e.goAway();
      } else if (e.websocket && socket.writable) {
        // The application's own WebSocket library (ws, Socket.IO) holds the connection:
        // the close frame goes after the frames it has written, and its library answers
        // the client's close.
        socket.write(GOING_AWAY_FRAME);
      } else {
        socket.end();
      }
    }
  }
}
