// The messages of a tsgi.websocket connection as the application takes them: a queue
// that receive() and async iteration read, with reading paused while too many wait.
// Shared by the two ways a connection is held: through `ws` on a net.Socket
// (websocket.ts) and by the native server (native-websocket.ts).
import type { RawWebSocket, WebSocketConnection } from './types.js';

/** Messages received and not taken before reading pauses (the client's sends then wait). */
export const QUEUE_HIGH = 64;

const DONE: IteratorResult<string | Buffer> = Object.freeze({ value: undefined, done: true });

/**
 * Messages are kept as iterator results, so that iterating (the common way) costs one
 * promise per message and receive() one more.
 */
export abstract class MessageQueue implements WebSocketConnection {
  private readonly queue: Array<IteratorResult<string | Buffer>> = [];
  private readonly waiting: Array<(r: IteratorResult<string | Buffer>) => void> = [];
  private ended = false;
  private paused = false;
  /** The application closed: what still comes is dropped (RFC 6455 §5.5.1). */
  private dropping = false;
  private resolveClosed!: (c: { code: number; reason: string }) => void;
  readonly closed: Promise<{ code: number; reason: string }> = new Promise((resolve) => (this.resolveClosed = resolve));

  abstract readonly protocol: string;
  abstract readonly raw: RawWebSocket;
  abstract send(data: string | Uint8Array): Promise<void>;
  abstract close(code?: number, reason?: string): void;
  /** Stops (true) or resumes reading from the client. */
  protected abstract pauseReading(paused: boolean): void;

  /** A message came. */
  protected push(value: string | Buffer): void {
    if (this.dropping) return;
    const result: IteratorResult<string | Buffer> = { value, done: false };
    const take = this.waiting.shift();
    if (take !== undefined) {
      take(result);
      return;
    }
    this.queue.push(result);
    if (this.queue.length >= QUEUE_HIGH && !this.paused) {
      this.paused = true;
      this.pauseReading(true);
    }
  }

  /**
   * Our close is sent: reading goes on even if the queue paused it, so that the client's
   * answer is read (and the close ends now, not after a timeout); the messages it sends
   * meanwhile are dropped. Those already queued can still be taken.
   */
  protected stopQueueing(): void {
    this.dropping = true;
    if (this.paused) {
      this.paused = false;
      this.pauseReading(false);
    }
  }

  /** The connection closed: what waits for a message gets the end. */
  protected end(code: number, reason: string): void {
    this.ended = true;
    for (const take of this.waiting.splice(0)) take(DONE);
    this.resolveClosed({ code, reason });
  }

  /** The next message as an iterator result (DONE once closed). */
  private next(): Promise<IteratorResult<string | Buffer>> {
    if (this.queue.length > 0) {
      const result = this.queue.shift()!;
      if (this.paused && this.queue.length < QUEUE_HIGH / 2) {
        this.paused = false;
        this.pauseReading(false);
      }
      return Promise.resolve(result);
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  receive(): Promise<string | Buffer | undefined> {
    return this.next().then((r) => r.value);
  }

  [Symbol.asyncIterator](): AsyncIterator<string | Buffer> {
    return { next: () => this.next(), return: () => Promise.resolve(DONE) };
  }
}
