import { KeyExtractionError } from '../errors.js';
import { judgeIdentity, refusalOf } from '../store/claim-rules.js';
import type { IdempotencyRecord, IdentityClaim } from '../store/types.js';
import type { DedupIdentity, DedupKeyStrategy, KeyPart, KeyWindow } from './types.js';

/** What {@link previewStrategy} found for one event. */
export interface PreviewEntry {
  /** Position of the event in the input. */
  index: number;
  /** The key (without namespace); absent when it could not be built. */
  key?: string;
  /** The labelled parts of the key, to see which fields made it. */
  parts?: KeyPart[];
  /** The event time and window, for windowed strategies. */
  window?: KeyWindow;
  /** The further identities of an `anyOf` strategy. */
  also?: DedupIdentity[];
  /** Why no key could be built: the engine would reject this event as malformed. */
  error?: KeyExtractionError;
  /** Index of the earlier event this one duplicates: the handler would not run for it. */
  duplicateOf?: number;
  /** The identity (key) that matched the earlier event, when `duplicateOf` is set. */
  matchedKey?: string;
}

/**
 * Shows what a strategy does to a list of events (say, a day of captured traffic) before it goes
 * live: each event's key and parts, and which earlier event it would be deduplicated against.
 *
 * Uses the store's own claim rules (core's `claim-rules.ts`), with each accepted event completing
 * before the next arrives and nothing expiring: every accepted occurrence is remembered, so an
 * event is a duplicate when any of its identities meets a remembered occurrence of the same key —
 * for windowed keys, one whose time is closer than `windowMs`, earlier or later.
 * @throws whatever the strategy throws other than {@link KeyExtractionError} (a bug, not bad data).
 * @example
 * previewStrategy(stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 }), [
 *   { c: 'c-1', s: 'accepted', t: 999 }, { c: 'c-1', s: 'accepted', t: 1009 },
 * ]); // [{ index: 0, key: 'stateWindow:c-1:accepted', … }, { index: 1, …, duplicateOf: 0 }]
 */
export function previewStrategy<TEvent>(strategy: DedupKeyStrategy<TEvent>, events: readonly TEvent[]): PreviewEntry[] {
  const book = new OccurrenceBook();
  return events.map((event, index) => {
    let dedupKey;
    try {
      dedupKey = strategy.keyFor(event);
    } catch (error) {
      if (error instanceof KeyExtractionError) return { index, error };
      throw error;
    }
    const { key, parts, window, also } = dedupKey;
    const entry: PreviewEntry = { index, key, parts, ...(window === undefined ? {} : { window }), ...(also === undefined ? {} : { also }) };
    const identities = [dedupKey, ...(also ?? [])].map((identity) => toClaim(identity));
    const met = book.accept(identities, index);
    if (met !== undefined) {
      entry.duplicateOf = met.index;
      entry.matchedKey = met.key;
    }
    return entry;
  });
}

function toClaim(identity: DedupIdentity): IdentityClaim {
  return identity.window === undefined ? { key: identity.key } : { key: identity.key, window: identity.window };
}

/** Every occurrence previewed so far, as completed records the claim rules can judge. */
class OccurrenceBook {
  private readonly occurrences = new Map<string, IdempotencyRecord[]>();
  // The event index behind each remembered occurrence (its fencing token here).
  private readonly origins: number[] = [];

  /** Accepts the event when no identity meets a remembered occurrence; else says which it met. */
  accept(identities: readonly IdentityClaim[], index: number): { index: number; key: string } | undefined {
    const verdicts = identities.map((identity) => judgeIdentity(this.occurrences.get(identity.key) ?? [], identity, {}, 0));
    const refusal = refusalOf(verdicts);
    if (refusal !== undefined) return { index: this.origins[refusal.fencingToken]!, key: refusal.key };
    const token = this.origins.push(index) - 1;
    for (const identity of identities) {
      const record: IdempotencyRecord = {
        key: identity.key,
        status: 'completed',
        fencingToken: token,
        leaseExpiresAt: 0,
        expiresAt: Number.POSITIVE_INFINITY,
        claimedAt: 0,
      };
      if (identity.window !== undefined) record.windowAnchor = identity.window.at;
      const list = this.occurrences.get(identity.key);
      if (list === undefined) this.occurrences.set(identity.key, [record]);
      else list.push(record);
    }
    return undefined;
  }
}
