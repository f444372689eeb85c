import { setImmediate as nextTick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LeaseLostError, type ClaimOutcome, type ClaimRequest, type CompleteRequest, type IdempotencyRecord, type IdempotencyStore } from '../src/index.js';
import { runStoreConformance, type ConformanceTestApi, type StoreFactory } from '../src/testing/index.js';

// The conformance suite is only worth something if it fails broken stores. Each store below
// has one fault seen in home-made dedup code; the suite must flag it.

interface Faults {
  /** Reads, yields, then writes: the `if exists … write` race. */
  checkThenWrite?: boolean;
  /** Restarts tokens at 1 whenever a record is gone. */
  tokensRestart?: boolean;
  /** Trusts the server to delete expired records, never reading expiresAt. */
  ignoresExpiresAt?: boolean;
}

class NaiveStore implements IdempotencyStore {
  readonly name = 'naive';
  constructor(
    private readonly records: Map<string, IdempotencyRecord>,
    private readonly now: () => number,
    private readonly faults: Faults,
    private readonly counter = { last: 0 },
  ) {}

  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const existing = this.live(request.key);
    if (this.faults.checkThenWrite) await nextTick();
    const now = this.now();
    const takeOver =
      existing === undefined ||
      (existing.status === 'in_progress' && existing.leaseExpiresAt <= now) ||
      (existing.status === 'completed' && request.window !== undefined && existing.windowAnchor !== undefined &&
        Math.abs(request.window.at - existing.windowAnchor) >= request.window.windowMs);
    if (!takeOver) return { acquired: false, record: { ...existing! } };
    const fencingToken = this.faults.tokensRestart ? (existing?.fencingToken ?? 0) + 1 : ++this.counter.last;
    const record: IdempotencyRecord = {
      key: request.key,
      status: 'in_progress',
      fencingToken,
      leaseExpiresAt: now + request.leaseMs,
      expiresAt: now + Math.max(request.leaseMs, request.retentionMs),
      claimedAt: now,
      ...(request.fingerprint === undefined ? {} : { fingerprint: request.fingerprint }),
      ...(request.window === undefined ? {} : { windowAnchor: request.window.at }),
    };
    this.records.set(request.key, record);
    return { acquired: true, fencingToken, record: { ...record } };
  }

  async claimMany(requests: readonly ClaimRequest[]) {
    const outcomes = [];
    for (const request of requests) outcomes.push(await this.claim(request));
    return outcomes;
  }

  async complete(request: CompleteRequest) {
    const record = this.live(request.key);
    if (record?.status !== 'in_progress' || record.fencingToken !== request.fencingToken) {
      throw new LeaseLostError(request.key, request.fencingToken, record);
    }
    const completed: IdempotencyRecord = { ...record, status: 'completed', expiresAt: this.now() + request.retentionMs };
    if (request.result === undefined) delete completed.result;
    else completed.result = request.result;
    this.records.set(request.key, completed);
  }

  async completeMany(requests: readonly CompleteRequest[]) {
    const outcomes = [];
    for (const request of requests) {
      outcomes.push(await this.complete(request).then(() => ({ ok: true as const }), (error: Error) => ({ ok: false as const, error })));
    }
    return outcomes;
  }

  async release(key: string, fencingToken: number) {
    const record = this.live(key);
    if (record?.status !== 'in_progress' || record.fencingToken !== fencingToken) return false;
    this.records.delete(key);
    return true;
  }

  async get(key: string) {
    const record = this.live(key);
    return record && { ...record };
  }

  private live(key: string) {
    const record = this.records.get(key);
    if (record === undefined || this.faults.ignoresExpiresAt) return record;
    return record.expiresAt > this.now() ? record : undefined;
  }
}

/** Runs the whole suite against a store and returns the names of the tests that failed. */
async function failingConformanceTests(faults: Faults): Promise<string[]> {
  const tests: Array<{ name: string; body: () => Promise<void> }> = [];
  const path: string[] = [];
  const api: ConformanceTestApi = {
    describe: (name, body) => {
      path.push(name);
      body();
      path.pop();
    },
    it: (name, body) => tests.push({ name: [...path.slice(1), name].join(' › '), body }),
    expect,
  };
  const shared = new WeakMap<object, Map<string, IdempotencyRecord>>();
  const factory: StoreFactory = ({ clock }) => {
    let records = shared.get(clock);
    if (records === undefined) shared.set(clock, (records = new Map()));
    return new NaiveStore(records, clock.now, faults);
  };
  runStoreConformance(api, { name: 'naive', factory, concurrentClaimers: 20 });
  const failed: string[] = [];
  for (const test of tests) await test.body().catch(() => failed.push(test.name));
  return failed;
}

describe('the conformance suite fails broken stores', () => {
  it('passes the naive store when it has no fault (the baseline is right)', async () => {
    expect(await failingConformanceTests({})).toEqual([]);
  });

  it('catches the check-then-write race', async () => {
    const failed = await failingConformanceTests({ checkThenWrite: true });
    expect(failed).toContain('concurrency › exactly one of 20 concurrent claimers on separate connections acquires');
    expect(failed).toContain('concurrency › exactly one of 20 concurrent claimers takes over a lapsed lease');
  });

  it('catches fencing tokens that restart after a release', async () => {
    const failed = await failingConformanceTests({ tokensRestart: true });
    expect(failed).toContain('fencing tokens › strictly increase across release, lease expiry and retention expiry');
    expect(failed).toContain('fencing tokens › tokens keep increasing over many release/re-claim cycles at one instant');
  });

  it('catches a store that leaves expiry to the server', async () => {
    const failed = await failingConformanceTests({ ignoresExpiresAt: true });
    expect(failed).toContain(
      'retention › a completed key past expiresAt counts as absent even if the server has not deleted it',
    );
  });
});
