import { randomUUID } from 'node:crypto';
import type { ClaimOutcome, ClaimRequest, IdempotencyStore, VersionStore } from '../../store/types.js';
import type { ManualClock } from '../manual-clock.js';

/** The lease and retention conformance claims use unless a test says otherwise. */
export const LEASE = 10_000;
export const RETENTION = 60_000;

/** What every section of the conformance suite is handed by `runStoreConformance`. */
export interface SectionKit {
  describe: (name: string, body: () => void) => void;
  /** `it` with the suite's timeout. */
  test: (name: string, body: () => Promise<void>) => void;
  expect: (actual: unknown) => any;
  /** How many stores race in concurrency tests. */
  claimers: number;
  /** Property-test runs per property (each run is a stream of store calls). */
  propertyRuns: number;
  withStore: (body: (store: IdempotencyStore, clock: ManualClock) => Promise<void>) => Promise<void>;
  withStores: (count: number, body: (stores: IdempotencyStore[], clock: ManualClock) => Promise<void>) => Promise<void>;
}

/** A key no other test (or run) uses. */
export function freshKey(label: string): string {
  return `conformance:${randomUUID()}:${label}`;
}

/** A claim request with the suite's lease and retention. */
export function request(key: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { key, leaseMs: LEASE, retentionMs: RETENTION, ...overrides };
}

/** The token of a claim that must have acquired; a readable failure otherwise. */
export function acquiredToken(outcome: ClaimOutcome): number {
  if (!outcome.acquired) {
    throw new Error(`expected the claim to acquire, but the key is ${outcome.record.status} (token ${outcome.record.fencingToken})`);
  }
  return outcome.fencingToken;
}

/** The error a promise rejects with, or undefined when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** The store as a {@link VersionStore}; a readable failure when it does not implement the ordering guard. */
export function asVersionStore(store: IdempotencyStore): IdempotencyStore & VersionStore {
  const candidate = store as Partial<VersionStore>;
  if (typeof candidate.claimVersion !== 'function' || typeof candidate.completeVersion !== 'function') {
    throw new Error(`store "${store.name}" does not implement VersionStore (claimVersion, completeVersion, releaseVersion, getVersion)`);
  }
  return store as IdempotencyStore & VersionStore;
}
