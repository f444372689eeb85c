import { AsyncLocalStorage } from 'node:async_hooks';
import type { OrderingClaim } from '../ordering/guard.js';
import type { IdentityToken } from '../store/types.js';

/** The claim a handler runs under: use `fencingToken` to guard its own downstream writes. */
export interface ActiveClaim {
  /** The full, namespaced key (the primary identity's, for `anyOf` strategies). */
  key: string;
  /** Strictly increasing per key; a write carrying an older token than the stored one is stale. */
  fencingToken: number;
  /** The other identities held with it (`anyOf` strategies), each with its own token. */
  also?: IdentityToken[];
  /** The ordering guard's version claim, when it runs: its fencing token is the entity's. */
  ordering?: OrderingClaim;
  /**
   * Until when the lease protects the claim, epoch ms, as the engine last knew it: the store's at
   * the claim, then moved by each heartbeat (`heartbeat` option) that landed.
   */
  leaseExpiresAt: number;
  /** When the heartbeat last extended the lease (epoch ms, sent time); undefined until it has. */
  leaseExtendedAt?: number;
}

const storage = new AsyncLocalStorage<ActiveClaim>();

/**
 * The claim the calling handler runs under, or undefined outside an idempotent call
 * (and when a store outage let the call through with `failOpen`).
 * @example
 * ```ts
 * const claim = currentClaim();
 * await db.query('UPDATE t SET v = $1, token = $2 WHERE id = $3 AND token < $2', [v, claim!.fencingToken, id]);
 * ```
 */
export function currentClaim(): ActiveClaim | undefined {
  return storage.getStore();
}

/** Runs `fn` with `claim` visible to {@link currentClaim}. */
export function runWithClaim<T>(claim: ActiveClaim | undefined, fn: () => T): T {
  return claim === undefined ? storage.exit(fn) : storage.run(claim, fn);
}
