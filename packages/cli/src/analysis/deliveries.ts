import { readCaptures, type ReadTally } from '../input/read-captures.js';
import type { TimeReader } from './event-time.js';
import { ReorderBuffer } from './reorder-buffer.js';

/** A delivery in event-time order, before it is assigned to a logical event. */
export interface OrderedDelivery {
  seq: number;
  /** Ordering time: the event time, or the previous delivery's when it has none. */
  at: number;
  eventTime?: number;
  event: Record<string, unknown>;
  file: string;
  line: number;
}

/** What ordering found, besides the deliveries. */
export interface OrderingTally {
  /** Deliveries released out of event-time order: later than the reorder buffer reaches. */
  late: number;
  /** Deliveries without a readable event time. */
  withoutEventTime: number;
}

/** Options of {@link orderedDeliveries}. */
export interface OrderingOptions {
  /** Reads the event time; without it deliveries keep arrival order, one ms apart. */
  eventTime?: TimeReader;
  /** Deliveries held back to restore event-time order. */
  reorderBuffer: number;
  /** Called every few hundred deliveries read, and once at the end. */
  onRead?: () => void;
}

const PROGRESS_EVERY = 512;

/**
 * Streams the captures' events in event-time order, within a bounded reorder buffer (see
 * {@link ReorderBuffer}). Without an event-time field, arrival order stands and time moves one
 * millisecond per delivery, so retention counts deliveries.
 */
export async function* orderedDeliveries(
  files: readonly string[],
  read: ReadTally,
  ordering: OrderingTally,
  options: OrderingOptions,
): AsyncGenerator<OrderedDelivery> {
  const buffer = new ReorderBuffer<OrderedDelivery>(options.reorderBuffer);
  let seq = 0;
  let last = 0;
  for await (const { event, file, line } of readCaptures(files, read)) {
    seq++;
    const eventTime = options.eventTime?.(event);
    if (eventTime === undefined) ordering.withoutEventTime++;
    const at = eventTime ?? (options.eventTime === undefined ? seq : last);
    last = at;
    const released = buffer.push({ seq, at, event, file, line, ...(eventTime === undefined ? {} : { eventTime }) });
    if (released !== undefined) yield released;
    if (seq % PROGRESS_EVERY === 0) options.onRead?.();
  }
  yield* buffer.drain();
  ordering.late = buffer.late;
  options.onRead?.();
}
