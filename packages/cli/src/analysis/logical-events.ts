import { BoundedMap } from './bounded-map.js';
import type { Occurrence } from './gaps.js';

/** Options of {@link LogicalEvents}. */
export interface LogicalEventsOptions {
  /** Each delivery's content with volatile fields set aside (a hash). */
  contentOf: (event: unknown) => string;
  /** Each delivery's entity + state occurrence, when the capture has a reference windowed identity. */
  occurrenceOf?: (event: unknown) => Occurrence | undefined;
  /** Occurrences of one entity + state closer than this are one logical event. */
  gapMs: number;
  /** How long (event time) a logical event is remembered, like the store's retention. */
  retentionMs: number;
  maxEntries: number;
}

interface Anchor {
  event: number;
  at: number;
}

// Occurrences kept per entity + state: a bounded history, like the store's.
const ANCHORS_PER_IDENTITY = 16;

/**
 * Estimates which deliveries are one logical event, independently of any candidate strategy, so
 * each candidate can be judged against it. Two deliveries are one logical event when
 * - their content is equal once volatile fields are set aside (a redelivery, a re-send with new
 *   ids: the source's event time is part of the content, so a legitimate repeat is not equal), or
 * - they are the same entity + state with event times closer than `gapMs` (a re-emit a few
 *   milliseconds later), measured from the logical event's first occurrence, as a window is.
 *
 * Deliveries must come in (mostly) event-time order; numbers are handed out from 1.
 */
export class LogicalEvents {
  private readonly byContent: BoundedMap<string, number>;
  private readonly byIdentity: BoundedMap<string, Anchor[]>;
  private next = 0;

  constructor(private readonly options: LogicalEventsOptions) {
    this.byContent = new BoundedMap(options.maxEntries, options.retentionMs);
    this.byIdentity = new BoundedMap(options.maxEntries, options.retentionMs);
  }

  /** Logical events found so far. */
  get count(): number {
    return this.next;
  }

  /** The logical event a delivery belongs to, at analysis time `now`. */
  assign(event: unknown, now: number): number {
    const content = this.options.contentOf(event);
    const occurrence = this.options.occurrenceOf?.(event);
    const anchors = occurrence === undefined ? undefined : this.byIdentity.get(occurrence.identity, now);
    const near = (anchor: Anchor) => occurrence !== undefined && Math.abs(occurrence.at - anchor.at) < this.options.gapMs;
    const logical = this.byContent.get(content, now) ?? anchors?.find(near)?.event ?? ++this.next;
    this.byContent.set(content, logical, now);
    if (occurrence !== undefined) {
      const list = anchors ?? [];
      if (!list.some((anchor) => anchor.event === logical && near(anchor))) {
        list.push({ event: logical, at: occurrence.at });
        if (list.length > ANCHORS_PER_IDENTITY) list.shift();
      }
      this.byIdentity.set(occurrence.identity, list, now);
    }
    return logical;
  }
}
