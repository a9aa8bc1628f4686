// The response bodies the conformance tests' applications return (test/conformance/body-*.test.mjs):
// CHUNK, the size of one of the server's write batches, and bodies that count the calls
// of their close() or of their iterator's return().
import { delay } from './wait.mjs';

/** One 64 KiB batch: a body past it has its headers sent before it ends. */
export const CHUNK = 65536;

/** A body object with a counted close(); makeIterator.async says which protocol it has. */
export function closable(makeIterator, counter) {
  return {
    [Symbol.iterator]: makeIterator.async ? undefined : makeIterator,
    [Symbol.asyncIterator]: makeIterator.async ? makeIterator : undefined,
    close() {
      counter.close++;
    },
  };
}

/** An iterator (no close() on its iterable) whose return() is counted. */
export function countedIterator(values, counter, { async = false, failAt = -1, forever = false } = {}) {
  let i = 0;
  const step = () => {
    if (i === failAt) throw new Error('the body failed');
    if (!forever && i >= values.length) return { done: true, value: undefined };
    return { done: false, value: values[i++ % values.length] };
  };
  const it = {
    next: async ? async () => (await delay(2), step()) : step,
    return(v) {
      counter.return++;
      return async ? Promise.resolve({ done: true, value: v }) : { done: true, value: v };
    },
  };
  return async ? { [Symbol.asyncIterator]: () => it } : { [Symbol.iterator]: () => it };
}
