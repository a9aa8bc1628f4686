// The exchanges in progress, by request id: what onDrain, onAbort and the request log
// look up. A Map would do, but under load its size swings from none to one per
// connection and back within each batch of requests, and V8 rehashes it to grow and
// again to shrink every time (about 1% of a hello world's CPU). Here a fixed table of
// cells, one per id modulo its size, holds them: the native server's ids are the
// connection's slot plus a multiple of 2^20, so each connection keeps its own cell;
// the JS backend's ids count up, and neighbours take neighbouring cells. An id whose
// cell is taken by another exchange goes to a Map beside it.

const CELLS = 1024; // divides 2^20: a native connection's slot keeps one cell
/** The cell of an id: id modulo CELLS, as a mask (an id is a double past 2^31; see SLOT_MASK in handler.ts). */
const cellOf = (id: number) => id & (CELLS - 1);

/** What the table holds: anything with the id it is filed under. */
interface Filed {
  readonly id: number;
}

export class PendingTable<T extends Filed> {
  private readonly cells: Array<T | undefined> = new Array<T | undefined>(CELLS).fill(undefined);
  private readonly overflow = new Map<number, T>();

  get(id: number): T | undefined {
    const t = this.cells[cellOf(id)];
    if (t !== undefined && t.id === id) return t;
    return this.overflow.size === 0 ? undefined : this.overflow.get(id);
  }

  /** Files t under t.id (an id not filed already). */
  add(t: T): void {
    const i = cellOf(t.id);
    if (this.cells[i] === undefined) this.cells[i] = t;
    else this.overflow.set(t.id, t);
  }

  delete(id: number): void {
    const i = cellOf(id);
    const t = this.cells[i];
    if (t !== undefined && t.id === id) this.cells[i] = undefined;
    else if (this.overflow.size !== 0) this.overflow.delete(id);
  }
}
