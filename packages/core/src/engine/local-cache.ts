import { meets } from '../store/claim-rules.js';
import type { IdempotencyRecord, IdentityClaim } from '../store/types.js';
import type { Clock } from '../clock.js';

/** Options of the engine's in-process cache of completed keys (`localCache`). */
export interface LocalCacheOptions {
  /**
   * Most completed occurrences remembered; the least recently used go first.
   * @default 1000
   */
  maxEntries?: number;
}

/**
 * Completed occurrences this process has seen — recorded by its own handlers, or answered by the
 * store for a duplicate — so a warm Lambda answers a repeat with zero round trips.
 *
 * Safe because a completed occurrence never changes until its retention passes: it cannot be
 * released, taken over or completed again. So the cache holds completed occurrences only, never
 * past their `expiresAt`, and judges a delivery by the store's own rule (`meets`): a windowed
 * identity hits only an occurrence within its window. An in-progress claim is never cached: its
 * answer can still change.
 */
export class CompletedCache {
  // key → its cached completed occurrences; Map order is least recently used first.
  private readonly entries = new Map<string, IdempotencyRecord[]>();
  private size = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly clock: Clock,
  ) {}

  /** A cached completed occurrence that one of the identities meets, if any is still live. */
  find(identities: readonly IdentityClaim[]): IdempotencyRecord | undefined {
    const now = this.clock();
    for (const identity of identities) {
      const occurrences = this.entries.get(identity.key);
      if (occurrences === undefined) continue;
      const live = occurrences.filter((occurrence) => occurrence.expiresAt > now);
      if (live.length !== occurrences.length) this.replace(identity.key, live);
      const hit = live.find((occurrence) => meets(occurrence, identity.window));
      if (hit !== undefined) {
        this.touch(identity.key);
        return { ...hit };
      }
    }
    return undefined;
  }

  /** Remembers a completed occurrence (anything else is ignored). */
  remember(record: IdempotencyRecord): void {
    if (record.status !== 'completed' || record.expiresAt <= this.clock()) return;
    const occurrences = this.entries.get(record.key) ?? [];
    if (occurrences.some((known) => known.fencingToken === record.fencingToken)) return;
    this.replace(record.key, [...occurrences, { ...record }]);
    this.touch(record.key);
    while (this.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      const [, ...rest] = this.entries.get(oldest)!;
      this.replace(oldest, rest);
    }
  }

  private replace(key: string, occurrences: IdempotencyRecord[]): void {
    this.size += occurrences.length - (this.entries.get(key)?.length ?? 0);
    if (occurrences.length === 0) this.entries.delete(key);
    else this.entries.set(key, occurrences);
  }

  private touch(key: string): void {
    const occurrences = this.entries.get(key);
    if (occurrences === undefined) return;
    this.entries.delete(key);
    this.entries.set(key, occurrences);
  }
}
