import { systemClock, type Clock } from '../clock.js';
import { IdempotencyStoreError, LeaseLostError } from '../errors.js';
import {
  assertPositiveInteger,
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
} from './validate.js';
import { identitiesOf, judgeIdentity, newClaimRecord, refusalOf } from './claim-rules.js';
import { judgeVersion } from './version-rules.js';
import { occurrencesOf, StoredOccurrence, type StoredEntry } from './memory-occurrences.js';
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteOutcome,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyRecord,
  IdempotencyStore,
  IdentityToken,
  StoreOptions,
  VersionClaimOutcome,
  VersionClaimRequest,
  VersionRecord,
  VersionStore,
} from './types.js';

/** Options for {@link MemoryStore}. */
export interface MemoryStoreOptions extends StoreOptions {
  /**
   * Most occurrences kept. When full, expired ones go first, then completed ones of the least
   * recently claimed keys; an in-progress claim is never evicted.
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
export class MemoryStore implements IdempotencyStore, VersionStore {
  readonly name = 'memory';
  // Each key's live occurrences, oldest claim first; Map order is least recently claimed key first.
  private readonly keys = new Map<string, StoredEntry>();
  private readonly versions = new Map<string, VersionRecord>();
  private readonly clock: Clock;
  private readonly maxEntries: number;
  // Stored times are relative to this instant, so they stay small integers (see memory-occurrences.ts).
  private readonly base: number;
  private occurrences = 0;
  // One counter for all keys: strictly increasing per key too, and it survives deletion.
  private lastToken = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? 10_000;
    assertPositiveInteger('maxEntries', this.maxEntries, 'entries');
    this.base = Math.floor(this.clock());
  }

  /** How many occurrences are held, live or not yet swept. */
  get size(): number {
    return this.occurrences;
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

  async release(key: string, fencingToken: number, also: readonly IdentityToken[] = []): Promise<boolean> {
    assertValidRelease(key, fencingToken, also);
    const released = this.releaseOne(key, fencingToken);
    for (const identity of also) this.releaseOne(identity.key, identity.fencingToken);
    return released;
  }

  async extendLease(request: ExtendLeaseRequest): Promise<void> {
    assertValidExtension(request);
    const now = this.relative(this.clock());
    const held = [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])].map((identity) => {
      const occurrence = this.liveOccurrence(identity.key, identity.fencingToken);
      if (occurrence === undefined || occurrence.completed || occurrence.leaseExpiresAt <= now) {
        throw new LeaseLostError(identity.key, identity.fencingToken, occurrence?.toRecord(identity.key, this.base));
      }
      return occurrence;
    });
    for (const occurrence of held) {
      occurrence.leaseExpiresAt = now + request.leaseMs;
      occurrence.expiresAt = Math.max(occurrence.expiresAt, occurrence.leaseExpiresAt);
    }
  }

  async get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined> {
    const occurrence = fencingToken === undefined ? this.liveOccurrences(key).at(-1) : this.liveOccurrence(key, fencingToken);
    return occurrence?.toRecord(key, this.base);
  }

  async claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome> {
    assertValidVersionClaim(request);
    const now = this.clock();
    const existing = this.liveVersion(request.entity);
    const verdict = judgeVersion(existing, request, now);
    if (verdict !== 'acquire') return { status: verdict, record: structuredClone(existing!) };
    const fencingToken = ++this.lastToken;
    const record: VersionRecord = {
      entity: request.entity,
      fencingToken,
      expiresAt: Math.max(existing?.expiresAt ?? 0, now + Math.max(request.retentionMs, request.leaseMs)),
      pending: {
        version: request.version,
        fencingToken,
        leaseExpiresAt: now + request.leaseMs,
        claimedAt: now,
        ...(request.owner === undefined ? {} : { owner: request.owner }),
      },
    };
    if (existing?.applied !== undefined) record.applied = existing.applied;
    this.versions.set(request.entity, record);
    return { status: 'acquired', fencingToken, record: structuredClone(record) };
  }

  async completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void> {
    const now = this.clock();
    const record = this.liveVersion(entity);
    if (record?.pending?.fencingToken !== fencingToken) throw new LeaseLostError(entity, fencingToken);
    record.applied = record.pending.version;
    delete record.pending;
    record.expiresAt = now + retentionMs;
  }

  async releaseVersion(entity: string, fencingToken: number): Promise<boolean> {
    const record = this.liveVersion(entity);
    if (record?.pending?.fencingToken !== fencingToken) return false;
    delete record.pending;
    return true;
  }

  async getVersion(entity: string): Promise<VersionRecord | undefined> {
    const record = this.liveVersion(entity);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** Drops every record (tests and demos). */
  clear(): void {
    this.keys.clear();
    this.versions.clear();
    this.occurrences = 0;
  }

  private claimNow(request: ClaimRequest): ClaimOutcome {
    assertValidClaim(request);
    const now = this.clock();
    const identities = identitiesOf(request);
    // The claim rules judge plain records; a key holds one occurrence, or a few for a windowed history.
    const views = identities.map((identity) => this.liveOccurrences(identity.key).map((occurrence) => occurrence.toRecord(identity.key, this.base)));
    const verdicts = identities.map((identity, index) => judgeIdentity(views[index]!, identity, request, now));
    const refusal = refusalOf(verdicts);
    if (refusal !== undefined) return { acquired: false, record: refusal };
    this.makeRoom(identities.length);
    const records = identities.map((identity, index) => {
      for (const replaced of verdicts[index]!.replaced) this.releaseOne(identity.key, replaced.fencingToken, true);
      const record = newClaimRecord(request, ++this.lastToken, now, identity);
      this.add(identity.key, StoredOccurrence.from(record, this.base));
      return record;
    });
    const [first, ...rest] = records;
    const outcome: ClaimOutcome = { acquired: true, fencingToken: first!.fencingToken, record: first! };
    if (rest.length > 0) outcome.also = rest.map((record) => ({ key: record.key, fencingToken: record.fencingToken }));
    return outcome;
  }

  private completeNow(request: CompleteRequest): void {
    assertValidCompletion(request);
    const now = this.relative(this.clock());
    // All or nothing: find every identity's occurrence before changing any.
    const held = [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])].map((identity) => {
      const occurrence = this.liveOccurrence(identity.key, identity.fencingToken);
      if (occurrence === undefined || occurrence.completed) {
        const current = occurrence ?? this.liveOccurrences(identity.key).at(-1);
        throw new LeaseLostError(identity.key, identity.fencingToken, current?.toRecord(identity.key, this.base));
      }
      return occurrence;
    });
    for (const occurrence of held) occurrence.markCompleted(now + request.retentionMs, request.result);
  }

  /** Deletes an in-progress occurrence (or, for a claim replacing it, any occurrence) by its token. */
  private releaseOne(key: string, fencingToken: number, replacing = false): boolean {
    const occurrence = this.liveOccurrence(key, fencingToken);
    if (occurrence === undefined || (occurrence.completed && !replacing)) return false;
    this.remove(key, occurrence);
    return true;
  }

  private liveOccurrence(key: string, fencingToken: number): StoredOccurrence | undefined {
    return this.liveOccurrences(key).find((occurrence) => occurrence.fencingToken === fencingToken);
  }

  /** A key's live occurrences; expired ones are swept on the way. */
  private liveOccurrences(key: string): readonly StoredOccurrence[] {
    const entry = this.keys.get(key);
    if (entry === undefined) return [];
    const now = this.relative(this.clock());
    const all = occurrencesOf(entry);
    const live = all.filter((occurrence) => occurrence.expiresAt > now);
    if (live.length !== all.length) {
      this.occurrences -= all.length - live.length;
      this.store(key, live);
    }
    return live;
  }

  private liveVersion(entity: string): VersionRecord | undefined {
    const record = this.versions.get(entity);
    if (record === undefined) return undefined;
    if (record.expiresAt > this.clock()) return record;
    this.versions.delete(entity);
    return undefined;
  }

  private add(key: string, occurrence: StoredOccurrence): void {
    // Keys built with `+` or a template are ropes (V8 ConsStrings) that keep their parts alive
    // (~450 bytes of a caller's UUID string); reading a character flattens the rope in place.
    key.charCodeAt(0);
    const entry = this.keys.get(key);
    // A newly claimed key moves to the end: Map order is least recently claimed first.
    this.keys.delete(key);
    this.keys.set(key, entry === undefined ? occurrence : [...occurrencesOf(entry), occurrence]);
    this.occurrences++;
  }

  private remove(key: string, occurrence: StoredOccurrence): void {
    const all = occurrencesOf(this.keys.get(key));
    const index = all.indexOf(occurrence);
    if (index < 0) return;
    this.occurrences--;
    this.store(key, all.filter((_, i) => i !== index));
  }

  // Keeps a key's occurrences in its compact form: none (deleted), one, or a list.
  private store(key: string, occurrences: readonly StoredOccurrence[]): void {
    if (occurrences.length === 0) this.keys.delete(key);
    else this.keys.set(key, occurrences.length === 1 ? occurrences[0]! : [...occurrences]);
  }

  private relative(epochMs: number): number {
    return epochMs - this.base;
  }

  // Least recently claimed key first: its expired or completed occurrences make room.
  private makeRoom(needed: number): void {
    if (this.occurrences + needed <= this.maxEntries) return;
    const now = this.relative(this.clock());
    for (const [key, entry] of this.keys) {
      for (const occurrence of occurrencesOf(entry)) {
        if (occurrence.completed || occurrence.expiresAt <= now) this.remove(key, occurrence);
        if (this.occurrences + needed <= this.maxEntries) return;
      }
    }
    throw new IdempotencyStoreError(
      'memory',
      `full: all ${this.maxEntries} entries are in-progress claims; raise maxEntries`,
    );
  }
}
