import { UNWINDOWED_SLOT } from './layout.js';

/** How many claims' slots a store remembers; the oldest is forgotten first. */
const CAPACITY = 10_000;

/**
 * Which slot each claim this process made wrote, so its completion, release and lease extension
 * address that slot directly: `complete(key, token)` names an occurrence by its token, but the
 * item holds windowed occurrences by bucket. A slot not remembered (another process's claim, or
 * one forgotten) costs one more round trip: the write guesses the unwindowed slot, fails, and is
 * written again from the item the failure returns. Only windowed slots are remembered; the
 * unwindowed slot is the guess anyway.
 */
export class SlotMemory {
  private readonly slots = new Map<string, string>();

  /** The slot the claim of `key` with `fencingToken` wrote, or the unwindowed slot when unknown. */
  recall(key: string, fencingToken: number): string {
    return this.slots.get(entry(key, fencingToken)) ?? UNWINDOWED_SLOT;
  }

  remember(key: string, fencingToken: number, slot: string): void {
    if (slot === UNWINDOWED_SLOT) return;
    if (this.slots.size >= CAPACITY) this.slots.delete(this.slots.keys().next().value!);
    this.slots.set(entry(key, fencingToken), slot);
  }

  forget(key: string, fencingToken: number): void {
    this.slots.delete(entry(key, fencingToken));
  }
}

function entry(key: string, fencingToken: number): string {
  return `${fencingToken}\u0000${key}`;
}
