export * from './errors.js';
export { systemClock, type Clock } from './clock.js';
export type * from './store/types.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export { assertValidClaim } from './store/validate.js';
