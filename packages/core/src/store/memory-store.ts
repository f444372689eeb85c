import { systemClock, type Clock } from '../clock.js';
import { IdempotencyStoreError, LeaseLostError } from '../errors.js';
import { assertPositiveInteger, assertValidClaim } from './validate.js';
import { canTakeOver, isLive, newClaimRecord } from './claim-rules.js';
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteOutcome,
  CompleteRequest,
  IdempotencyRecord,
  IdempotencyStore,
  StoreOptions,
} from './types.js';

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /**
   * Most records kept. When full, expired records go first, then the least recently
   * written completed ones; an in-progress claim is never evicted.
   * @default 10000
   */
  maxEntries?: number;
}

/**
 * The embedded store: one process, no server. Each operation runs without yielding to the
 * event loop, so concurrent async callers in this process are serialised.
 *
 * Use it for tests, demos, and single-instance consumers; a Lambda with concurrency above 1
 * needs a shared store (Redis, DynamoDB, Postgres).
 *
 * @example
 * ```ts
 * const store = new MemoryStore({ maxEntries: 50_000 });
 * ```
 */
export class MemoryStore implements IdempotencyStore {
  readonly name = 'memory';
  private readonly records = new Map<string, IdempotencyRecord>();
  private readonly clock: Clock;
  private readonly maxEntries: number;
  // One counter for all keys: strictly increasing per key too, and it survives deletion.
  private lastToken = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? 10_000;
    assertPositiveInteger('maxEntries', this.maxEntries, 'entries');
  }

  /** How many records are held, live or not yet swept. */
  get size(): number {
    return this.records.size;
  }

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return this.claimNow(request);
  }

  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    requests.forEach(assertValidClaim);
    return requests.map((request) => this.claimNow(request));
  }

  async complete(request: CompleteRequest): Promise<void> {
    this.completeNow(request);
  }

  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    return requests.map((request) => {
      try {
        this.completeNow(request);
        return { ok: true } as const;
      } catch (error) {
        return { ok: false, error: error as Error } as const;
      }
    });
  }

  async release(key: string, fencingToken: number): Promise<boolean> {
    const record = this.liveRecord(key);
    if (record?.status !== 'in_progress' || record.fencingToken !== fencingToken) return false;
    this.records.delete(key);
    return true;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const record = this.liveRecord(key);
    return record === undefined ? undefined : { ...record };
  }

  /** Drops every record (tests and demos). */
  clear(): void {
    this.records.clear();
  }

  private claimNow(request: ClaimRequest): ClaimOutcome {
    assertValidClaim(request);
    const now = this.clock();
    const existing = this.liveRecord(request.key);
    if (existing !== undefined && !canTakeOver(existing, request, now)) {
      return { acquired: false, record: { ...existing } };
    }
    if (existing === undefined) this.makeRoom();
    const record = newClaimRecord(request, ++this.lastToken, now);
    this.write(record);
    return { acquired: true, fencingToken: record.fencingToken, record: { ...record } };
  }

  private completeNow(request: CompleteRequest): void {
    const now = this.clock();
    const record = this.liveRecord(request.key);
    if (record?.status !== 'in_progress' || record.fencingToken !== request.fencingToken) {
      throw new LeaseLostError(request.key, request.fencingToken, record && { ...record });
    }
    const completed: IdempotencyRecord = { ...record, status: 'completed', expiresAt: now + request.retentionMs };
    if (request.result === undefined) delete completed.result;
    else completed.result = request.result;
    this.write(completed);
  }

  private liveRecord(key: string): IdempotencyRecord | undefined {
    const record = this.records.get(key);
    if (record === undefined) return undefined;
    if (isLive(record, this.clock())) return record;
    this.records.delete(key);
    return undefined;
  }

  // Re-inserting moves the key to the end, so Map order is least-recently-written first.
  private write(record: IdempotencyRecord): void {
    this.records.delete(record.key);
    this.records.set(record.key, record);
  }

  // Oldest-written first: the first record that is expired or completed makes room.
  private makeRoom(): void {
    if (this.records.size < this.maxEntries) return;
    const now = this.clock();
    for (const [key, record] of this.records) {
      if (record.status === 'completed' || !isLive(record, now)) {
        this.records.delete(key);
        return;
      }
    }
    throw new IdempotencyStoreError(
      'memory',
      `full: all ${this.maxEntries} entries are in-progress claims; raise maxEntries`,
    );
  }
}
