import type { IdempotencyStore } from '../../src/index.js';

type Operation = 'claim' | 'claimMany' | 'complete' | 'completeMany' | 'release' | 'get';

/** Wraps a store so chosen operations fail, as an unreachable server would. */
export function failing(store: IdempotencyStore, failures: Partial<Record<Operation, Error>>): IdempotencyStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const failure = failures[property as Operation];
      if (failure !== undefined) return async () => Promise.reject(failure);
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** A promise with its resolver outside, for holding a handler open at a known point. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Counts every store call, so a test can tell a cache hit (zero calls) from a store round trip. */
export function counting(store: IdempotencyStore): { store: IdempotencyStore; calls: () => number } {
  let calls = 0;
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls: () => calls };
}
