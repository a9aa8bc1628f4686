// Waiting, always bounded: a pause, a promise with a deadline, and polling a condition.

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with promise's value, or rejects after ms with a message naming what. */
export function withTimeout(promise, ms, what = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Polls check() every few ms until it returns a truthy value; rejects after ms. */
export async function waitUntil(check, ms = 2000, what = 'a condition') {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(10);
  }
}
