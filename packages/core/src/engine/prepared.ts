import type { ClaimOutcome, ClaimRequest, IdentityClaim } from '../store/types.js';
import type { ActiveClaim } from './claim-context.js';
import type { DedupKey, DedupKeyStrategy } from '../strategies/types.js';

/** An event made ready for the store: its namespaced identities and payload fingerprint. */
export interface PreparedEvent {
  /** The primary identity's full key (the one the handler's fencing token belongs to). */
  key: string;
  dedup: DedupKey;
  /** Every identity, namespaced, primary first. */
  identities: IdentityClaim[];
  fingerprint: string | undefined;
}

/** Per-claim settings: lease, retention and who claims. */
export interface ClaimSettings {
  leaseMs: number;
  retentionMs: number;
  owner?: string | undefined;
}

/**
 * Computes an event's identities under `namespace`.
 * @throws whatever the strategy throws ({@link KeyExtractionError} for a missing field).
 */
export function prepareEvent<TEvent>(
  namespace: string,
  strategy: DedupKeyStrategy<TEvent>,
  fingerprintOf: ((event: TEvent) => string) | undefined,
  event: TEvent,
): PreparedEvent {
  const dedup = strategy.keyFor(event);
  const identities = [dedup, ...(dedup.also ?? [])].map((identity) => {
    const claim: IdentityClaim = { key: `${namespace}:${identity.key}` };
    if (identity.window !== undefined) claim.window = identity.window;
    return claim;
  });
  return { key: identities[0]!.key, dedup, identities, fingerprint: fingerprintOf?.(event) };
}

/** The store request that claims every identity of a prepared event. */
export function claimRequestFor(prepared: PreparedEvent, settings: ClaimSettings): ClaimRequest {
  const [primary, ...also] = prepared.identities;
  const request: ClaimRequest = { key: primary!.key, leaseMs: settings.leaseMs, retentionMs: settings.retentionMs };
  if (primary!.window !== undefined) request.window = primary!.window;
  if (also.length > 0) request.also = also;
  if (prepared.fingerprint !== undefined) request.fingerprint = prepared.fingerprint;
  if (settings.owner !== undefined) request.owner = settings.owner;
  return request;
}

/** The claim a handler runs under, from an acquired outcome. */
export function claimOf(prepared: PreparedEvent, outcome: ClaimOutcome & { acquired: true }): ActiveClaim {
  const claim: ActiveClaim = { key: prepared.key, fencingToken: outcome.fencingToken, leaseExpiresAt: outcome.record.leaseExpiresAt };
  if (outcome.also !== undefined && outcome.also.length > 0) claim.also = outcome.also;
  return claim;
}
