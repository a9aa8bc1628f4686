// A lazy stand-in for a built-in class (the fetch interface's Request and Response): the
// properties it does not define itself are taken from a real instance, made on demand,
// and it passes `instanceof` the built-in.

/**
 * Gives lazy.prototype every getter and method of real.prototype that it lacks, each
 * forwarding to realOf(this), and makes real.prototype its prototype.
 */
export function delegateTheRest<T extends object>(lazy: { prototype: T }, real: { prototype: object }, realOf: (self: T) => object): void {
  const own = new Set(Object.getOwnPropertyNames(lazy.prototype));
  for (const name of Object.getOwnPropertyNames(real.prototype)) {
    if (own.has(name) || name === 'constructor') continue;
    const d = Object.getOwnPropertyDescriptor(real.prototype, name)!;
    if (d.get !== undefined) {
      Object.defineProperty(lazy.prototype, name, {
        configurable: true,
        get(this: T) {
          return (realOf(this) as Record<string, unknown>)[name];
        },
      });
    } else if (typeof d.value === 'function') {
      Object.defineProperty(lazy.prototype, name, {
        configurable: true,
        writable: true,
        value(this: T, ...args: unknown[]) {
          const r = realOf(this) as Record<string, (...a: unknown[]) => unknown>;
          return r[name]!(...args);
        },
      });
    }
  }
  Object.setPrototypeOf(lazy.prototype, real.prototype);
}
