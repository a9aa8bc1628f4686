// What the scenarios that run in rounds (js, startup, peers) make of them: the median of
// each figure, so that one round taken in another phase of the machine's speed moves
// nothing.

/** The median of numbers (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
