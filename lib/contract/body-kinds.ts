// The body shapes an Exchange knows besides the contract's iterables: a body that hands
// over only what the application already wrote (PULL, the node interface's), and the
// null body of a fetch Response.
import type { Chunk } from './types.js';

/**
 * A method an async body iterator may offer besides next() when it only hands over what
 * the application already wrote (the node interface's body, NodeExchange): it[PULL](wake)
 * returns the next step at once when it has one (what was written, or the end), or
 * undefined when it has nothing yet, and then calls wake() once, a microtask after the
 * application wrote or ended (so that the writes of one turn go together). The exchange
 * pumps such a body without a promise per step, and sends what is at hand in one send
 * (the end with the last chunk, for a body its Content-Length frames). Not exported from
 * the package: only tsgi's own bodies carry it.
 */
export const PULL = Symbol('tsgi.pull');

/** An async body iterator that offers PULL. */
export interface Pulled {
  [PULL](wake: () => void): IteratorResult<Chunk> | undefined;
}

/**
 * An empty body that stands for no body at all (a fetch Response's null body): a HEAD
 * answered with it says no Content-Length, since the length of the GET is not known.
 */
export const NULL_BODY: readonly Chunk[] = Object.freeze([]);
