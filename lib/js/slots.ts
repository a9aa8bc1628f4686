// Request ids on the pure-JS backend, as the native server makes them (native/wire.h): a
// serial number times 2^SLOT_BITS plus the slot of the connection the request came on.
// A connection keeps its slot while it lives, so that Handler keeps its peer by slot (and
// is given it on the connection's first request only, REQ_NEW_CONNECTION) and its
// requests take the same cell of Handler's pending table; a slot is given back when its
// connection closes, and a slot given back is taken again before a new one.
import { SLOT_BITS } from '../addon/wire.js';

const SLOT_SPAN = 2 ** SLOT_BITS;
// Ids pass 2^31: `&` keeps the low 32 bits of an integer below 2^53 (see handler.ts).
const SLOT_MASK = SLOT_SPAN - 1;

export class Slots<T> {
  private readonly held: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private serial = 0;

  /** A slot for t. */
  take(t: T): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.held.length;
    this.held[slot] = t;
    return slot;
  }

  /** Gives slot back: its connection closed. */
  give(slot: number): void {
    this.held[slot] = undefined;
    this.free.push(slot);
  }

  /** What holds the slot of request id. */
  holder(id: number): T | undefined {
    return this.held[id & SLOT_MASK];
  }

  slotOf(id: number): number {
    return id & SLOT_MASK;
  }

  /** A new request id on slot. */
  nextId(slot: number): number {
    return ++this.serial * SLOT_SPAN + slot;
  }
}
