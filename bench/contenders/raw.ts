import type { GenesysEvent } from '../lib/events.js';
import type { RoundTripCounter } from '../lib/round-trips.js';
import { Workload, type Contender, type SqsRecordLike, type StoreKind } from './types.js';

/** What a claim with the bare store commands tells: ours now, or the record that is there. */
export type RawClaim = { acquired: true } | { acquired: false; completed: boolean; result?: string };

/**
 * The fewest store commands a correct library needs: one conditional write that claims or
 * returns the existing record, one write that completes, one delete when the handler fails.
 * No leases, fencing, windows or expiry checks: the floor the library's overhead is measured against.
 */
export interface RawCommands {
  claim(key: string): Promise<RawClaim>;
  complete(key: string, result: string): Promise<void>;
  release(key: string): Promise<void>;
  /** Claims distinct keys in as few round trips as the server allows. */
  claimMany(keys: readonly string[]): Promise<RawClaim[]>;
  completeMany(entries: readonly { key: string; result: string }[]): Promise<void>;
}

class RawInProgressError extends Error {
  constructor(key: string) {
    super(`raw: ${key} is in progress`);
    this.name = 'RawInProgressError';
  }
}

/** A contender that runs the handler around {@link RawCommands}. */
export function rawContender(kind: StoreKind, commands: RawCommands, roundTrips: RoundTripCounter, name = 'raw'): Contender {
  const workload = new Workload();
  return {
    name,
    store: kind,
    workload,
    roundTrips,
    async handle(event: GenesysEvent) {
      const claim = await commands.claim(event.id);
      if (!claim.acquired) {
        if (!claim.completed) throw new RawInProgressError(event.id);
        return claim.result === undefined ? undefined : JSON.parse(claim.result);
      }
      let result: unknown;
      try {
        result = await workload.run(event);
      } catch (error) {
        await commands.release(event.id);
        throw error;
      }
      await commands.complete(event.id, JSON.stringify(result));
      return result;
    },
    async handleBatch(records: readonly SqsRecordLike[]) {
      const events = records.map((record) => JSON.parse(record.body) as GenesysEvent);
      // A key repeated inside the batch is settled in memory: claimed once, answered by its first occurrence.
      const keys = [...new Set(events.map((event) => event.id))];
      const claims = new Map((await commands.claimMany(keys)).map((claim, index) => [keys[index]!, claim]));
      const done: { key: string; result: string }[] = [];
      const failed: string[] = [];
      for (const [index, event] of events.entries()) {
        const claim = claims.get(event.id)!;
        if (!claim.acquired) {
          if (!claim.completed) failed.push(records[index]!.messageId);
          continue;
        }
        if (done.some((entry) => entry.key === event.id)) continue;
        try {
          done.push({ key: event.id, result: JSON.stringify(await workload.run(event)) });
        } catch {
          await commands.release(event.id);
          failed.push(records[index]!.messageId);
        }
      }
      if (done.length > 0) await commands.completeMany(done);
      return failed;
    },
  };
}
