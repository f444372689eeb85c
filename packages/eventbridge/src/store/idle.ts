/** What keeps the process alive while it is referenced: a client's socket. */
export interface ProcessHold {
  ref(): void;
  unref(): void;
}

/**
 * A client that holds the process only while the store is working: a script or test that uses a
 * store URL exits once its work is done, without having to call `closeSharedStores()`, while a
 * pending claim still keeps the process alive until its reply. (Lambda freezes the process between
 * invocations instead of waiting for it to go idle, so nothing changes there.)
 */
export interface IdleRelease {
  /** The store, whose every call holds the client until it settles. */
  readonly store: object;
  /** Applies the current state again, to a socket the client opened since (a reconnect). */
  apply(): void;
}

/** Wraps `store` so that `hold` is referenced while one of its calls is in flight, and unreferenced otherwise. */
export function releaseWhenIdle<TStore extends object>(store: TStore, hold: ProcessHold): IdleRelease & { store: TStore } {
  let busy = 0;
  const apply = () => (busy > 0 ? hold.ref() : hold.unref());
  const settle = () => {
    busy -= 1;
    if (busy === 0) hold.unref();
  };
  const tracked = new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function' || property === 'constructor') return value;
      return (...args: unknown[]) => {
        if (busy++ === 0) hold.ref();
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (error) {
          settle();
          throw error;
        }
        if (result instanceof Promise) return result.finally(settle);
        settle();
        return result;
      };
    },
  });
  apply();
  return { store: tracked, apply };
}
