// When the master respawns a worker that died: at once after a worker that was ready,
// with back-off while workers die before they are ready (an application that cannot
// load, a bad deploy under a running service), so that it is tried again, as uWSGI
// does without need-app, but neither in a busy loop nor at the cost of the workers
// that still serve. As soon as one worker loads the application, the respawns waiting
// out a back-off happen at once, so that fixing the code and reloading brings every
// worker back together.
import type { RespawnReason } from './metrics.js';

export class Respawns {
  private failuresInARow = 0;
  private readonly pending = new Map<number, { timer: NodeJS.Timeout; respawns: number; reason: RespawnReason }>(); // by worker id

  /** respawn: what to do when a respawn's time comes (the master checks it is still wanted). */
  constructor(private readonly respawn: (id: number, respawns: number, reason: RespawnReason) => void) {}

  /** A worker died before it was ready. */
  failed(): void {
    this.failuresInARow++;
  }

  /** A worker is ready: the back-off ends, and the respawns waiting happen now. */
  ready(): void {
    this.failuresInARow = 0;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      this.respawn(id, p.respawns, p.reason);
    }
  }

  /** The wait before the next respawn: none after a worker that was ready, then 125 ms doubling to 8 s. */
  backoff(): number {
    return this.failuresInARow === 0 ? 0 : Math.min(8000, 125 * 2 ** Math.min(6, this.failuresInARow - 1));
  }

  /** Respawns worker id after delay ms, unless one is waiting already. */
  later(id: number, respawns: number, delay: number, reason: RespawnReason): void {
    if (this.pending.has(id)) return;
    const timer = setTimeout(() => {
      this.pending.delete(id);
      this.respawn(id, respawns, reason);
    }, delay);
    this.pending.set(id, { timer, respawns, reason });
  }

  /** The master ends: nothing more is respawned. */
  clear(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}
