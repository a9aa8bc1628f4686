// Signals only queue; one dispatcher handles them in order, on a later turn of the loop
// (gunicorn's arbiter): a handler never runs inside another, whatever arrives while it
// runs waits its turn. The master and the single process both take their signals so.
export class SignalQueue {
  private readonly queue: NodeJS.Signals[] = [];
  private scheduled = false;
  private readonly listeners: [NodeJS.Signals, () => void][] = [];

  constructor(private readonly dispatch: (signal: NodeJS.Signals) => void) {}

  /** Queues each of signals from now on (they no longer kill the process). */
  listen(signals: readonly NodeJS.Signals[]): this {
    for (const s of signals) {
      const handler = () => {
        this.queue.push(s);
        if (!this.scheduled) {
          this.scheduled = true;
          setImmediate(() => this.drain());
        }
      };
      process.on(s, handler);
      this.listeners.push([s, handler]);
    }
    return this;
  }

  /** Stops listening: the signals take their default action again. */
  close(): void {
    for (const [s, handler] of this.listeners) process.off(s, handler);
    this.listeners.length = 0;
  }

  private drain(): void {
    this.scheduled = false;
    while (this.queue.length > 0) this.dispatch(this.queue.shift()!);
  }
}
