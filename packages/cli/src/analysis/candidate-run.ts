import { IdempotencyEngine, KeyExtractionError, MemoryStore, type Clock, type DedupKeyStrategy } from '@idemkit/core';
import { BoundedMap } from './bounded-map.js';
import { ClaimLog } from './claim-log.js';
import { differingPaths } from './leaves.js';
import type { Timed } from './reorder-buffer.js';

/** One delivery as the analysis passes it around. */
export interface Delivery extends Timed {
  event: Record<string, unknown>;
  file: string;
  line: number;
  /** The logical event it belongs to (see `LogicalEvents`). */
  logical: number;
  /** Its own event time, when it has one (`at` is carried over from the previous delivery when not). */
  eventTime?: number;
}

/** Where to find a delivery in the capture: its envelope id, file and line, and event time. */
export interface EventRef {
  id?: string;
  file: string;
  line: number;
  /** Event time, ISO-8601. */
  time?: string;
}

/** One example of a warning: the delivery, the one it was judged against, and the fields that differ. */
export interface WarningExample {
  event: EventRef;
  /** The delivery it was suppressed against, or that already ran for the same logical event. */
  counterpart?: EventRef;
  /** Paths whose values differ between the two, volatile fields left out; values are never shown. */
  differingFields: string[];
}

/** How often a warning fired, with the first examples. */
export interface WarningTally {
  count: number;
  examples: WarningExample[];
}

/** What one candidate did to the capture. */
export interface RunTally {
  deliveries: number;
  /** Handler runs: the logical events this strategy sees. */
  runs: number;
  /** Deliveries answered as duplicates: the handler did not run. */
  duplicates: number;
  /** Deliveries it could build no key for (the engine would fail them as malformed). */
  invalid: number;
  invalidExamples: (EventRef & { problem: string })[];
  /** Same key, but no delivery of the same logical event ran: a later change silently dropped. */
  falseSuppressions: WarningTally;
  /** A second run for one logical event: a duplicate let through. */
  missedDuplicates: WarningTally;
  /**
   * The in-memory store held `maxEntries` occurrences younger than retention, so it forgot some
   * early: raise `--max-entries` for exact numbers.
   */
  storeFull: boolean;
}

/** Options shared by every {@link CandidateRun}. */
export interface RunOptions {
  clock: Clock;
  retentionMs: number;
  maxEntries: number;
  /** Examples kept per warning. */
  examples: number;
  /** Recent deliveries by arrival position, to show which fields differ from a counterpart. */
  recent: BoundedMap<number, Delivery>;
  /** Fields left out of differences. */
  volatile: ReadonlySet<string>;
}

// How many fencing tokens are remembered to name what a duplicate was suppressed against: no more
// than the recent deliveries kept whole, since only those can show their differing fields.
const HOLDERS = 1_024;

/**
 * Runs one candidate strategy through the real engine — `IdempotencyEngine` over a `MemoryStore`
 * whose clock is the capture's event time — and judges every outcome against the logical events:
 * a suppressed delivery whose logical event never ran is a suspected false suppression, a second
 * run of one logical event a suspected missed duplicate.
 */
export class CandidateRun {
  readonly tally: RunTally = {
    deliveries: 0,
    runs: 0,
    duplicates: 0,
    invalid: 0,
    invalidExamples: [],
    falseSuppressions: { count: 0, examples: [] },
    missedDuplicates: { count: 0, examples: [] },
    storeFull: false,
  };
  private readonly engine: IdempotencyEngine<Record<string, unknown>, null>;
  // Which delivery (arrival position) holds each recent fencing token: what a duplicate was suppressed against.
  private readonly holders: BoundedMap<number, number>;
  // The delivery that first ran each logical event, for this candidate.
  private readonly ranFor: BoundedMap<number, number>;
  private readonly store: MemoryStore;
  // Every key the store holds an occurrence of, to sweep it when retention passes.
  private readonly claimed: ClaimLog;
  private metToken: number | undefined;

  constructor(
    strategy: DedupKeyStrategy,
    private readonly options: RunOptions,
  ) {
    this.store = new MemoryStore({ clock: options.clock, maxEntries: options.maxEntries });
    this.engine = new IdempotencyEngine<Record<string, unknown>, null>({
      store: this.store,
      strategy,
      namespace: 'analyze',
      retentionMs: options.retentionMs,
      storeResult: false,
      onDuplicate: ({ record }) => {
        this.metToken = record.fencingToken;
      },
    });
    this.holders = new BoundedMap(Math.min(HOLDERS, options.maxEntries), options.retentionMs);
    this.ranFor = new BoundedMap(options.maxEntries, options.retentionMs);
    this.claimed = new ClaimLog(options.maxEntries, options.retentionMs);
  }

  // Reading a key makes the store drop its occurrences past retention (the read runs synchronously).
  private readonly forget = (key: string): void => {
    this.store.get(key).catch(() => undefined);
  };

  /** Delivers one event to the engine and judges what it did. */
  async deliver(delivery: Delivery): Promise<void> {
    const tally = this.tally;
    const now = this.options.clock();
    tally.deliveries++;
    let ran = false;
    this.metToken = undefined;
    this.claimed.sweep(now, this.forget);
    try {
      await this.engine.run(delivery.event, (_event, claim) => {
        ran = true;
        for (const key of [claim!.key, ...(claim!.also ?? []).map((also) => also.key)]) {
          if (this.claimed.push(key, now)) tally.storeFull = true;
        }
        // Counting needs no holder: only examples do, so tokens stop being noted once they are full.
        if (tally.falseSuppressions.examples.length < this.options.examples) {
          this.holders.set(claim!.fencingToken, delivery.seq, now);
          for (const also of claim!.also ?? []) this.holders.set(also.fencingToken, delivery.seq, now);
        }
        return null;
      });
    } catch (error) {
      if (!(error instanceof KeyExtractionError)) throw error;
      tally.invalid++;
      if (tally.invalidExamples.length < this.options.examples) {
        tally.invalidExamples.push({ ...refOf(delivery), problem: problemOf(error) });
      }
      return;
    }
    const first = this.ranFor.get(delivery.logical, now);
    if (ran) {
      tally.runs++;
      if (first === undefined) this.ranFor.set(delivery.logical, delivery.seq, now);
      else this.warn(tally.missedDuplicates, delivery, first);
      return;
    }
    tally.duplicates++;
    if (first === undefined) {
      const met = this.metToken === undefined ? undefined : this.holders.get(this.metToken, now);
      this.warn(tally.falseSuppressions, delivery, met);
    }
  }

  // `counterpart` is an arrival position; it can be named only while it is among the recent deliveries.
  private warn(warning: WarningTally, delivery: Delivery, counterpart: number | undefined): void {
    warning.count++;
    if (warning.examples.length >= this.options.examples) return;
    const other = counterpart === undefined ? undefined : this.options.recent.get(counterpart, this.options.clock());
    warning.examples.push({
      event: refOf(delivery),
      ...(other === undefined ? {} : { counterpart: refOf(other) }),
      differingFields: other === undefined ? [] : differingPaths(delivery.event, other.event, this.options.volatile),
    });
  }
}

/** Where a delivery is: its envelope id, file and line, and event time. */
export function refOf(delivery: Delivery): EventRef {
  const id = delivery.event['id'];
  const at = delivery.eventTime;
  return {
    ...(typeof id === 'string' || typeof id === 'number' ? { id: String(id) } : {}),
    file: delivery.file,
    line: delivery.line,
    ...(at === undefined ? {} : { time: new Date(at).toISOString() }),
  };
}

// `"detail.status" is missing`: the error's own words, without the library prefix and the event id
// (the example names the event already).
function problemOf(error: KeyExtractionError): string {
  return error.message.replace(/^\[idemkit\] cannot build a key: /, '').replace(/ \(event id [^)]*\)$/, '');
}
