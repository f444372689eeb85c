/**
 * Test helpers for idemkit users and adapter authors: the store conformance suite,
 * a manual clock and a barrier for races.
 * @packageDocumentation
 */
export { runStoreConformance } from './conformance.js';
export type {
  ConformanceOptions,
  ConformanceTestApi,
  StoreFactory,
  StoreFactoryContext,
  StoreHandle,
} from './conformance.js';
export { manualClock, type ManualClock } from './manual-clock.js';
export { createBarrier } from './barrier.js';
