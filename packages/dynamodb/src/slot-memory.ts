import type { IdempotencyRecord } from '@idemkit/core';
import { UNWINDOWED_SLOT } from './layout.js';

/** How many claims a store remembers; the oldest is forgotten first. */
const CAPACITY = 10_000;

/** What a store remembers of one claim it made, and what its holder writes recall. */
export interface Remembered {
  /** The slot the claim wrote (the unwindowed slot when unknown). */
  slot: string;
  /**
   * The occurrence as the claim wrote it, while the item is known to be exactly as the claim's
   * write left it (its counter still the claim's token): a holder write may then pin the counter
   * on the token alone. Absent once this process wrote the item again.
   */
  untouched?: IdempotencyRecord;
}

/**
 * What each claim this process made wrote, so its completion, release and lease extension
 * address it directly.
 *
 * - The slot: `complete(key, token)` names an occurrence by its token, but the item holds
 *   windowed occurrences by bucket. A slot not remembered (another process's claim, or one
 *   forgotten) costs one more round trip: the write guesses the unwindowed slot, fails, and is
 *   written again from the item the failure returns.
 * - Whether the item is untouched since the claim, for unwindowed claims: every write moves the
 *   item's counter and a claim sets it to its own token, so while it still equals the token the
 *   occurrence is this claim's, in progress, exactly as written. A holder write then conditions
 *   on the counter alone, one comparison of a top-level attribute, which DynamoDB evaluates
 *   faster than three inside the slot's map (measured on DynamoDB Local: docs/benchmarks.md).
 *   Windowed items are left out: a claim of a neighbouring window moves their counter while this
 *   claim still holds, and the pinned write would then fail and cost a second request.
 */
export class SlotMemory {
  private readonly claims = new Map<string, Remembered>();

  /** What is known of the claim of `key` with `fencingToken`. */
  recall(key: string, fencingToken: number): Remembered {
    return this.claims.get(entry(key, fencingToken)) ?? { slot: UNWINDOWED_SLOT };
  }

  /**
   * Remembers a claim: its slot and, when `written` (this call's write just applied, setting the
   * counter to the token), the occurrence it wrote, `record`, as the item's untouched state.
   */
  remember(record: IdempotencyRecord, slot: string, written: boolean): void {
    const untouched = slot === UNWINDOWED_SLOT && written;
    // The unwindowed slot is the guess anyway: only worth an entry when it is known untouched.
    if (slot === UNWINDOWED_SLOT && !untouched) return;
    if (this.claims.size >= CAPACITY) this.claims.delete(this.claims.keys().next().value!);
    this.claims.set(entry(record.key, record.fencingToken), untouched ? { slot, untouched: record } : { slot });
  }

  /** This process wrote the claim's item again (a lease extension): its counter is no longer the token. */
  touched(key: string, fencingToken: number): void {
    // Only unwindowed claims are remembered untouched, and the unwindowed slot is the guess anyway.
    const id = entry(key, fencingToken);
    if (this.claims.get(id)?.untouched !== undefined) this.claims.delete(id);
  }

  forget(key: string, fencingToken: number): void {
    this.claims.delete(entry(key, fencingToken));
  }
}

function entry(key: string, fencingToken: number): string {
  return `${fencingToken}\u0000${key}`;
}
