import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../src/index.js';
import { runStoreConformance } from '../src/testing/index.js';

// Memory stores share nothing across instances, so the race runs through one store
// shared by every "connection": the same object is handed out by each factory call.
runStoreConformance({ describe, it, expect }, {
  name: 'MemoryStore',
  factory: (() => {
    const stores = new WeakMap<object, MemoryStore>();
    return ({ clock }) => {
      let store = stores.get(clock);
      if (store === undefined) {
        store = new MemoryStore({ clock: clock.now });
        stores.set(clock, store);
      }
      return store;
    };
  })(),
});
