import { occurrenceKeyOf } from '../../src/keys.js';
import { slotOfHashTag } from '../../src/slot.js';
import { uniqueKey } from './clients.js';

/** The Cluster slot an idemkit key's Redis key lands in (the prefix is outside the hash tag). */
export function slotOfKey(key: string): number {
  return slotOfHashTag(occurrenceKeyOf('any', key).hashTag);
}

/** `count` different keys whose Redis keys land in one Cluster slot (found by trying). */
export function keysOnOneSlot(count: number, label = 'same-slot'): string[] {
  const bySlot = new Map<number, string[]>();
  for (;;) {
    const key = uniqueKey(label);
    const keys = bySlot.get(slotOfKey(key)) ?? [];
    keys.push(key);
    if (keys.length === count) return keys;
    bySlot.set(slotOfKey(key), keys);
  }
}

/** `count` keys on `count` different slots, in ascending slot order. */
export function keysOnDistinctSlots(count: number, label = 'slot'): string[] {
  const bySlot = new Map<number, string>();
  while (bySlot.size < count) {
    const key = uniqueKey(label);
    bySlot.set(slotOfKey(key), key);
  }
  return [...bySlot.entries()].sort(([a], [b]) => a - b).map(([, key]) => key);
}
