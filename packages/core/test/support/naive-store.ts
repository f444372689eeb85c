import { setImmediate as nextTick } from 'node:timers/promises';
// Imported from the store modules, not the package index, so this file does not depend on the engine.
import { LeaseLostError } from '../../src/errors.js';
import { identitiesOf, isLive, judgeIdentity, newClaimRecord, refusalOf, type IdentityVerdict } from '../../src/store/claim-rules.js';
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteOutcome,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyRecord,
  IdempotencyStore,
  IdentityClaim,
  IdentityToken,
  VersionClaimOutcome,
  VersionClaimRequest,
  VersionRecord,
  VersionStore,
} from '../../src/store/types.js';
import {
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
} from '../../src/store/validate.js';
import { judgeVersion } from '../../src/store/version-rules.js';

// A second, deliberately plain store on the contract, built on core's exported rules, with faults
// that can be switched on one at a time. Each fault is a bug seen in home-made dedup code or in an
// adapter under review; the meta-test checks that the conformance suite fails every one of them.
// The "server" never sweeps expired records (like Redis or DynamoDB before their TTL sweeper
// runs), so faults that forget to read `expiresAt` are visible.

/** The faults a {@link NaiveStore} can carry; none means a correct store. */
export interface Faults {
  /** Judges the claim, yields to the event loop, then writes: the `if exists … write` race. */
  checkThenWrite?: boolean;
  /** Fencing tokens continue from the key's surviving records, so they restart once a record is deleted. */
  tokensRestart?: boolean;
  /** Trusts the server to delete expired records, never reading `expiresAt`. */
  ignoresExpiresAt?: boolean;
  /** `complete` finds the claim by token without checking that it is still within its retention. */
  completeIgnoresExpiresAt?: boolean;
  /** `release` finds the claim by token without checking that it is still within its retention. */
  releaseIgnoresExpiresAt?: boolean;
  /** A take-over writes over the old record without clearing it: this field of the previous holder survives. */
  takeOverKeeps?: 'result' | 'fingerprint' | 'windowAnchor' | 'owner';
  /** One record per key (the pre-history model): a new occurrence replaces every older one. */
  singleAnchorPerKey?: boolean;
  /** Claims the identities one at a time and stops at the first refusal, leaving the earlier ones claimed. */
  identitiesOneByOne?: boolean;
  /** Never compares owners: a retried claim whose first reply was lost is refused by its own claim. */
  ignoresOwner?: boolean;
  /** `extendLease` checks the token but not the lease, so it revives a claim that has lapsed. */
  extendRevivesLapsed?: boolean;
  /** The ordering guard forgets the stale check: a version older than the applied one is applied. */
  olderVersionApplies?: boolean;
  /**
   * `claimMany` judges every item against the store as it was before the batch (items sent in
   * parallel), so a key repeated in the batch is acquired twice.
   */
  batchJudgedUpFront?: boolean;
}

/** What every connection to one naive "server" shares. */
export class NaiveServer {
  /** Every occurrence ever written and not deleted, per key, expired ones included. */
  readonly occurrences = new Map<string, IdempotencyRecord[]>();
  readonly versions = new Map<string, VersionRecord>();
  lastToken = 0;
}

/** One connection to a {@link NaiveServer}. */
export class NaiveStore implements IdempotencyStore, VersionStore {
  readonly name = 'naive';

  constructor(
    private readonly server: NaiveServer,
    private readonly now: () => number,
    private readonly faults: Faults = {},
  ) {}

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    return this.claimNow(request, this.faults.checkThenWrite === true);
  }

  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    if (this.faults.batchJudgedUpFront) return Promise.all(requests.map((request) => this.claimNow(request, true)));
    const outcomes: ClaimOutcome[] = [];
    for (const request of requests) outcomes.push(await this.claim(request));
    return outcomes;
  }

  async complete(request: CompleteRequest): Promise<void> {
    assertValidCompletion(request);
    const now = this.now();
    // All or nothing: find every identity's claim before changing any.
    const held = tokensOf(request.key, request.fencingToken, request.also).map(({ key, fencingToken }) => {
      const occurrence = this.find(key, fencingToken, now, this.faults.completeIgnoresExpiresAt);
      if (occurrence?.status !== 'in_progress') {
        const current = occurrence ?? this.latest(key, now);
        throw new LeaseLostError(key, fencingToken, current && { ...current });
      }
      return occurrence;
    });
    for (const occurrence of held) {
      occurrence.status = 'completed';
      occurrence.expiresAt = now + request.retentionMs;
      if (request.result === undefined) delete occurrence.result;
      else occurrence.result = request.result;
    }
  }

  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    const outcomes: CompleteOutcome[] = [];
    for (const request of requests) {
      outcomes.push(await this.complete(request).then(() => ({ ok: true as const }), (error: Error) => ({ ok: false as const, error })));
    }
    return outcomes;
  }

  async release(key: string, fencingToken: number, also: readonly IdentityToken[] = []): Promise<boolean> {
    assertValidRelease(key, fencingToken, also);
    const now = this.now();
    const released = tokensOf(key, fencingToken, also).map((identity) => {
      const occurrence = this.find(identity.key, identity.fencingToken, now, this.faults.releaseIgnoresExpiresAt);
      if (occurrence?.status !== 'in_progress') return false;
      this.drop(identity.key, new Set([occurrence.fencingToken]));
      return true;
    });
    return released[0]!;
  }

  async extendLease(request: ExtendLeaseRequest): Promise<void> {
    assertValidExtension(request);
    const now = this.now();
    const held = tokensOf(request.key, request.fencingToken, request.also).map(({ key, fencingToken }) => {
      const occurrence = this.find(key, fencingToken, now);
      const running = occurrence?.status === 'in_progress' && (this.faults.extendRevivesLapsed || occurrence.leaseExpiresAt > now);
      if (!running) throw new LeaseLostError(key, fencingToken, occurrence && { ...occurrence });
      return occurrence!;
    });
    for (const occurrence of held) {
      occurrence.leaseExpiresAt = now + request.leaseMs;
      occurrence.expiresAt = Math.max(occurrence.expiresAt, occurrence.leaseExpiresAt);
    }
  }

  async get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined> {
    const now = this.now();
    const record = fencingToken === undefined ? this.latest(key, now) : this.find(key, fencingToken, now);
    return record && { ...record };
  }

  async claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome> {
    assertValidVersionClaim(request);
    const now = this.now();
    const existing = this.liveVersion(request.entity, now);
    let verdict = judgeVersion(existing, this.faults.ignoresOwner ? withoutOwner(request) : request, now);
    if (this.faults.olderVersionApplies && verdict === 'stale') verdict = 'acquire';
    if (verdict !== 'acquire') return { status: verdict, record: structuredClone(existing!) };
    const fencingToken = this.faults.tokensRestart ? (existing?.fencingToken ?? 0) + 1 : ++this.server.lastToken;
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
      ...(existing?.applied === undefined ? {} : { applied: existing.applied }),
    };
    this.server.versions.set(request.entity, record);
    return { status: 'acquired', fencingToken, record: structuredClone(record) };
  }

  async completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void> {
    const now = this.now();
    const record = this.liveVersion(entity, now);
    if (record?.pending?.fencingToken !== fencingToken) throw new LeaseLostError(entity, fencingToken);
    record.applied = record.pending.version;
    delete record.pending;
    record.expiresAt = now + retentionMs;
  }

  async releaseVersion(entity: string, fencingToken: number): Promise<boolean> {
    const record = this.liveVersion(entity, this.now());
    if (record?.pending?.fencingToken !== fencingToken) return false;
    delete record.pending;
    return true;
  }

  async getVersion(entity: string): Promise<VersionRecord | undefined> {
    const record = this.liveVersion(entity, this.now());
    return record && structuredClone(record);
  }

  /** Judges and writes a claim; `yieldBeforeWrite` lets other calls run between the two (a fault). */
  private async claimNow(request: ClaimRequest, yieldBeforeWrite: boolean): Promise<ClaimOutcome> {
    assertValidClaim(request);
    const identities = identitiesOf(request);
    const judged = this.faults.ignoresOwner ? withoutOwner(request) : request;
    if (this.faults.identitiesOneByOne) return this.claimOneByOne(request, identities, judged);
    const now = this.now();
    const verdicts = identities.map((identity) => judgeIdentity(this.visible(identity.key, now), identity, judged, now));
    const refusal = refusalOf(verdicts);
    if (yieldBeforeWrite) await nextTick();
    if (refusal !== undefined) return { acquired: false, record: { ...refusal } };
    const records = identities.map((identity, index) => this.write(request, identity, verdicts[index]!, now));
    return acquired(records);
  }

  // The faulty variant: each identity is judged and written before the next is looked at.
  private claimOneByOne(request: ClaimRequest, identities: IdentityClaim[], judged: ClaimRequest): ClaimOutcome {
    const now = this.now();
    const records: IdempotencyRecord[] = [];
    for (const identity of identities) {
      const verdict = judgeIdentity(this.visible(identity.key, now), identity, judged, now);
      const refusal = refusalOf([verdict]);
      if (refusal !== undefined) return { acquired: false, record: { ...refusal } };
      records.push(this.write(request, identity, verdict, now));
    }
    return acquired(records);
  }

  /** Adds one identity's new occurrence, replacing the occurrences its verdict met and no longer block. */
  private write(request: ClaimRequest, identity: IdentityClaim, verdict: IdentityVerdict, now: number): IdempotencyRecord {
    const stored = this.server.occurrences.get(identity.key) ?? [];
    const replaced = new Set(verdict.replaced.map((occurrence) => occurrence.fencingToken));
    const record = newClaimRecord(request, this.nextToken(stored), now, identity);
    const kept = this.faults.takeOverKeeps;
    if (kept !== undefined && record[kept] === undefined) {
      // The previous holder: a replaced claim, or an expired record the server still holds.
      const previous = stored.filter((old) => replaced.has(old.fencingToken) || !isLive(old, now)).at(-1);
      if (previous?.[kept] !== undefined) Object.assign(record, { [kept]: previous[kept] });
    }
    const others = this.faults.singleAnchorPerKey ? [] : stored.filter((old) => !replaced.has(old.fencingToken));
    this.server.occurrences.set(identity.key, [...others, record]);
    return record;
  }

  private nextToken(stored: readonly IdempotencyRecord[]): number {
    if (!this.faults.tokensRestart) return ++this.server.lastToken;
    return Math.max(0, ...stored.map((record) => record.fencingToken)) + 1;
  }

  private counts(record: IdempotencyRecord, now: number): boolean {
    return this.faults.ignoresExpiresAt === true || isLive(record, now);
  }

  /**
   * The occurrences of a key the store takes for live. A store that ignores `expiresAt` sees every
   * record the server holds; the rules would still filter by it, so it hands them over as unexpiring.
   */
  private visible(key: string, now: number): IdempotencyRecord[] {
    const stored = this.server.occurrences.get(key) ?? [];
    if (!this.faults.ignoresExpiresAt) return stored.filter((record) => isLive(record, now));
    return stored.map((record) => ({ ...record, expiresAt: Number.POSITIVE_INFINITY }));
  }

  private find(key: string, fencingToken: number, now: number, ignoreExpiry = false): IdempotencyRecord | undefined {
    return this.server.occurrences
      .get(key)
      ?.find((record) => record.fencingToken === fencingToken && (ignoreExpiry || this.counts(record, now)));
  }

  /** The most recently claimed live occurrence: tokens increase per key, so the highest. */
  private latest(key: string, now: number): IdempotencyRecord | undefined {
    const live = (this.server.occurrences.get(key) ?? []).filter((record) => this.counts(record, now));
    return live.reduce<IdempotencyRecord | undefined>((newest, record) => (newest === undefined || record.fencingToken > newest.fencingToken ? record : newest), undefined);
  }

  private drop(key: string, tokens: ReadonlySet<number>): void {
    const stored = this.server.occurrences.get(key) ?? [];
    this.server.occurrences.set(key, stored.filter((record) => !tokens.has(record.fencingToken)));
  }

  private liveVersion(entity: string, now: number): VersionRecord | undefined {
    const record = this.server.versions.get(entity);
    return record !== undefined && (this.faults.ignoresExpiresAt || record.expiresAt > now) ? record : undefined;
  }
}

function withoutOwner<T extends { owner?: string }>(request: T): T {
  const { owner: _ignored, ...rest } = request;
  return rest as T;
}

function tokensOf(key: string, fencingToken: number, also: readonly IdentityToken[] = []): IdentityToken[] {
  return [{ key, fencingToken }, ...also];
}

function acquired(records: IdempotencyRecord[]): ClaimOutcome {
  const [first, ...rest] = records;
  const outcome: ClaimOutcome = { acquired: true, fencingToken: first!.fencingToken, record: { ...first! } };
  if (rest.length > 0) outcome.also = rest.map((record) => ({ key: record.key, fencingToken: record.fencingToken }));
  return outcome;
}
