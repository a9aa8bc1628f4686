// Request ids on the pure-JS backend, in the native server's shape (native/wire.h): a
// serial number times 2^SLOT_BITS plus a slot. Here a slot is a request's, held from its
// dispatch to the end of its response (over HTTP; a uwsgi connection's one request holds
// one too), and what holds it is found from the id (send() finds its request so); a slot
// given back is taken again before a new one, so that the slots stay few and Handler's
// tables by slot small. Every request carries its peer (REQ_NEW_CONNECTION).
import { SLOT_BITS } from '../addon/wire.js';

const SLOT_SPAN = 2 ** SLOT_BITS;
// Ids pass 2^31: `&` keeps the low 32 bits of an integer below 2^53 (see handler.ts).
const SLOT_MASK = SLOT_SPAN - 1;

export class Slots<T> {
  private readonly held: Array<T | undefined> = [];
  private readonly free: number[] = [];
  private serial = 0;

  /** A slot for t, until give(). */
  take(t: T): number {
    const slot = this.free.length > 0 ? this.free.pop()! : this.held.length;
    this.held[slot] = t;
    return slot;
  }

  /** Gives slot back: its request ended. */
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
