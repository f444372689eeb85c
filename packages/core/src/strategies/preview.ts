import { KeyExtractionError } from '../errors.js';
import type { DedupKeyStrategy, KeyPart, KeyWindow } from './types.js';

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
  /** Why no key could be built: the engine would reject this event as malformed. */
  error?: KeyExtractionError;
  /** Index of the earlier event this one duplicates: the handler would not run for it. */
  duplicateOf?: number;
}

interface Anchor {
  index: number;
  at?: number;
}

/**
 * Shows what a strategy does to a list of events (say, a day of captured traffic) before it goes
 * live: each event's key and parts, and which earlier event it would be deduplicated against.
 *
 * Follows the store's rules, with each accepted event completing before the next arrives: a key
 * seen before is a duplicate; for windowed keys only while `|at − anchor| < windowMs`, where the
 * anchor is the time of the last event of that key that was not a duplicate.
 * @throws whatever the strategy throws other than {@link KeyExtractionError} (a bug, not bad data).
 * @example
 * previewStrategy(stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 }), [
 *   { c: 'c-1', s: 'accepted', t: 999 }, { c: 'c-1', s: 'accepted', t: 1009 },
 * ]); // [{ index: 0, key: 'stateWindow:c-1:accepted', … }, { index: 1, …, duplicateOf: 0 }]
 */
export function previewStrategy<TEvent>(strategy: DedupKeyStrategy<TEvent>, events: readonly TEvent[]): PreviewEntry[] {
  const anchors = new Map<string, Anchor>();
  return events.map((event, index) => {
    let dedupKey;
    try {
      dedupKey = strategy.keyFor(event);
    } catch (error) {
      if (error instanceof KeyExtractionError) return { index, error };
      throw error;
    }
    const { key, parts, window } = dedupKey;
    const entry: PreviewEntry = { index, key, parts, ...(window === undefined ? {} : { window }) };
    const anchor = anchors.get(key);
    if (anchor !== undefined && isDuplicate(anchor, window)) {
      entry.duplicateOf = anchor.index;
    } else {
      anchors.set(key, window === undefined ? { index } : { index, at: window.at });
    }
    return entry;
  });
}

function isDuplicate(anchor: Anchor, window: KeyWindow | undefined): boolean {
  // Without a window (or against an unwindowed record) a completed key stays a duplicate for its retention.
  if (window === undefined || anchor.at === undefined) return true;
  return Math.abs(window.at - anchor.at) < window.windowMs;
}
