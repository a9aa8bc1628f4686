// The master's side of the scoreboard (native/process/scoreboard.h): a shared memory file with
// one slot per worker core, which the workers write and the master reads. The slots
// go in blocks, one block a worker (one slot per thread); a block is taken when a
// worker is spawned, and given back when it has exited.
import type { NativeBinding, ScoreboardSlot } from '../addon/binding.js';

export class MasterBoard {
  /** The file's descriptor: the workers inherit it. */
  readonly fd: number;
  /** Slots in all. */
  readonly slots: number;
  private readonly free: number[] = [];

  /**
   * Slots for every worker that may live at once: the workers, their successors during
   * a reload, and what SIGTTIN may add.
   */
  constructor(
    private readonly binding: NativeBinding,
    workers: number,
    private readonly threads: number,
  ) {
    const blocks = Math.max(8, workers * 2 + 8);
    this.slots = blocks * threads;
    this.fd = binding.scoreboardCreate(this.slots);
    for (let i = blocks - 1; i >= 0; i--) this.free.push(i);
  }

  /**
   * A block for a new worker, cleared of what its previous process left, with the
   * worker's respawn count and spawn time: its first slot, or undefined when none is free.
   */
  take(respawns: number): { block: number; slot: number } | undefined {
    const block = this.free.pop();
    if (block === undefined) return undefined;
    const slot = block * this.threads;
    for (let core = 0; core < this.threads; core++) this.binding.scoreboardReset(slot + core);
    this.binding.scoreboardSet(slot, 'respawnCount', respawns);
    this.binding.scoreboardSet(slot, 'lastSpawn', Math.floor(Date.now() / 1000));
    return { block, slot };
  }

  /** A worker has exited: its readings that say it lives are cleared and its block is free. */
  release(block: number): void {
    const slot = block * this.threads;
    for (let core = 0; core < this.threads; core++) {
      for (const field of ['pid', 'requestStart', 'status', 'rss', 'rssPid'] as const) this.binding.scoreboardSet(slot + core, field, 0);
    }
    this.free.push(block);
  }

  set(slot: number, field: keyof ScoreboardSlot, value: number): void {
    this.binding.scoreboardSet(slot, field, value);
  }

  /** Harakiri: the worker's requests are over, whatever its slots said. */
  clearRequests(slot: number): void {
    for (let core = 0; core < this.threads; core++) this.binding.scoreboardSet(slot + core, 'requestStart', 0);
  }

  read(): ScoreboardSlot[] {
    return this.binding.scoreboardRead();
  }
}
