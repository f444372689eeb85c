import {
  ConfigError,
  LeaseLostError,
  assertPositiveInteger,
  assertPositiveMs,
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
  identitiesOf,
  systemClock,
  type ClaimOutcome,
  type ClaimRequest,
  type CompleteOutcome,
  type CompleteRequest,
  type ExtendLeaseRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdentityToken,
  type VersionClaimOutcome,
  type VersionClaimRequest,
  type VersionRecord,
  type VersionStore,
} from '@idemkit/core';
import { planBatch, runPlan, type Plan, type Step } from './batches.js';
import { claimPlanned, outcomeOf } from './claim-batch.js';
import { completeAcrossSlots, extendAcrossSlots, releaseAcrossSlots } from './cross-slot.js';
import { RoundTripDeadlines } from './deadline.js';
import { STORE_NAME, toStoreError, unexpectedReply } from './errors.js';
import { FastPath } from './fast-path.js';
import { DEFAULT_PREFIX, assertValidPrefix, occurrenceKeyOf, versionKeyOf } from './keys.js';
import { decodeVersionRecord } from './records.js';
import { ScriptCalls, type Placed } from './script-calls.js';
import { runScript, type ScriptClient } from './script-runner.js';
import { scriptFor, type StoreOp } from './scripts.js';
import { slotOfHashTag } from './slot.js';
import type { RedisStoreOptions } from './types.js';

const DEFAULT_OPERATION_TIMEOUT_MS = 2_000;
const DEFAULT_FENCE_GRACE_MS = 3_600_000;
/** Redis' own cap on one value (`proto-max-bulk-len`). */
const DEFAULT_MAX_RESULT_BYTES = 512 * 1024 * 1024;
/** Most items in one script call, so a huge batch never blocks the server for long. */
const MAX_ITEMS_PER_CALL = 256;

/**
 * The idemkit store on Redis, through your ioredis `Redis` or `Cluster` client.
 *
 * One Redis key per idemkit key holds its occurrence history and fencing counter. Every operation
 * is one Lua script run atomically on the server, in one round trip: a refused claim returns the
 * holder's record in the same reply, `complete` and `release` act only while the fencing token is
 * current, and fencing tokens never go back for a key, even after it expired. (The common single-key
 * claim and completion skip the scripts: see src/fast-path.ts.) Batches take one round trip on a
 * standalone server (a second one for requests a batch's pipeline of native claims cannot settle)
 * and one per slot (at once) on a Cluster; an `anyOf` claim
 * whose identities live in several slots follows the protocol in docs/store-redis.md.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisStore } from '@idemkit/redis';
 *
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL!), prefix: 'orders' });
 * ```
 */
export class RedisStore implements IdempotencyStore, VersionStore {
  /** Store name used in errors and logs. */
  readonly name = STORE_NAME;
  /** Largest result (bytes of JSON text) the engine may store here. */
  readonly maxResultBytes: number;
  /** Start of every Redis key this store writes. */
  readonly prefix: string;
  /** Whose clock decides leases and retention: the caller's (the `clock` option) or Redis' own. */
  readonly clockSource: 'caller' | 'server';
  private readonly client: ScriptClient;
  private readonly isCluster: boolean;
  private readonly operationTimeoutMs: number;
  private readonly deadlines: RoundTripDeadlines;
  private readonly calls: ScriptCalls;
  /** Native-command claims and completions of single identities (fast-path.ts); off with `clock: 'server'`. */
  private readonly fast: FastPath | undefined;
  /** Whether a batch's native claims go in one pipeline (a standalone server). */
  private readonly pipelines: boolean;

  /** Wraps an ioredis client; validates the options and throws `ConfigError` naming a bad one. */
  constructor(options: RedisStoreOptions) {
    const client = options?.client as unknown as Partial<ScriptClient> | undefined;
    if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
      throw new ConfigError(
        'client',
        'pass an ioredis client: new RedisStore({ client: new Redis(url) }) or a new Cluster([...]); ' +
          'make sure `ioredis` is installed',
      );
    }
    this.client = client as ScriptClient;
    this.isCluster = (client as { isCluster?: unknown }).isCluster === true;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    assertValidPrefix(this.prefix);
    const clock = options.clock ?? systemClock;
    if (clock !== 'server' && typeof clock !== 'function') {
      throw new ConfigError('clock', `must be a function returning epoch ms, or 'server', got ${JSON.stringify(clock)}`);
    }
    this.clockSource = clock === 'server' ? 'server' : 'caller';
    this.operationTimeoutMs = optionalPositiveInteger('operationTimeoutMs', options.operationTimeoutMs, DEFAULT_OPERATION_TIMEOUT_MS, 'milliseconds');
    this.deadlines = new RoundTripDeadlines(this.operationTimeoutMs, () => `client status "${this.client.status}"`);
    const fenceGraceMs = optionalPositiveInteger('fenceGraceMs', options.fenceGraceMs, DEFAULT_FENCE_GRACE_MS, 'milliseconds');
    this.maxResultBytes = optionalPositiveInteger('maxResultBytes', options.maxResultBytes, DEFAULT_MAX_RESULT_BYTES, 'bytes');
    // '' tells the script to read the server's clock (TIME) itself.
    const now = clock === 'server' ? () => '' : () => String(Math.floor(clock()));
    this.calls = new ScriptCalls((op, keys, args) => this.run(op, keys, args), now, fenceGraceMs);
    this.fast =
      clock === 'server' || !FastPath.fits(this.client)
        ? undefined
        : new FastPath(this.client, () => Math.floor(clock()), fenceGraceMs, (work) => this.roundTrip(work));
    this.pipelines = FastPath.pipelines(this.client, this.isCluster);
  }

  /** The Redis key that holds `key`'s occurrences and fencing counter, e.g. for `redis-cli`. */
  redisKey(key: string): string {
    return occurrenceKeyOf(this.prefix, key).key;
  }

  /** The Redis key that holds an ordering entity's versions. */
  versionKey(entity: string): string {
    return versionKeyOf(this.prefix, entity).key;
  }

  /** Atomically claims a key (and its `also` identities) in one round trip; a refusal carries the existing record. */
  claim(request: ClaimRequest): Promise<ClaimOutcome> {
    let identities: Placed[];
    let fast: Promise<ClaimOutcome | undefined> | undefined;
    try {
      assertValidClaim(request);
      identities = this.placeClaim(request);
      if (identities.length === 1 && this.fast !== undefined) fast = this.fast.claim(request, identities[0]!.redisKey);
    } catch (error) {
      return Promise.reject(error);
    }
    if (fast === undefined) return this.scriptClaim(request, identities);
    // One `then` for the claim most deliveries make (no async frame: see FastPath.claim).
    return fast.then(
      (outcome) => outcome ?? this.scriptClaim(request, identities),
      (error: unknown) => {
        throw toStoreError('claim', error);
      },
    );
  }

  /** A claim the store script judges: several identities, a lapsed or own claim, a window, a foreign value. */
  private async scriptClaim(request: ClaimRequest, identities: Placed[]): Promise<ClaimOutcome> {
    if (!inOneSlot(identities)) return (await this.claimBatch('claim', [request]))[0]!;
    // One slot, one call: no batch planning on the way.
    const [reply] = await this.boundary('claim', () => this.calls.claim([{ request, identities }], true));
    return outcomeOf(request, identities, reply!);
  }

  /**
   * Claims a batch. On a standalone server, one pipeline of native claims, and one script call more
   * for the requests it cannot settle (docs/store-redis.md, Batches); on a Cluster, one script call
   * per slot, at once.
   */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    return this.claimBatch('claimMany', requests);
  }

  /** Completes the claim while every token is current; throws `LeaseLostError` otherwise. */
  complete(request: CompleteRequest): Promise<void> {
    let identities: Placed[];
    let fast: Promise<boolean> | undefined;
    try {
      assertValidCompletion(request);
      identities = this.placeTokens(request, request.also);
      if (this.fast !== undefined && inOneSlot(identities)) fast = this.fast.complete(request, identities[0]!.redisKey);
    } catch (error) {
      return Promise.reject(error);
    }
    if (fast === undefined) return this.scriptComplete(request, identities);
    // One `then` for the completion most deliveries make (no async frame: see FastPath.claim).
    return fast.then(
      (done) => (done ? undefined : this.scriptComplete(request, identities)),
      (error: unknown) => {
        throw toStoreError('complete', error);
      },
    );
  }

  /** A completion the store script makes: of a claim the fast path did not write, or of identities in several slots. */
  private async scriptComplete(request: CompleteRequest, identities: Placed[]): Promise<void> {
    if (!inOneSlot(identities)) {
      const [outcome] = await this.completeBatch('complete', [request]);
      if (outcome?.ok === false) throw outcome.error;
      return;
    }
    const item = { identities, retentionMs: request.retentionMs, result: request.result };
    const [reply] = await this.boundary('complete', () => this.calls.complete([item]));
    if (!reply!.ok) throw new LeaseLostError(reply!.identity.key, reply!.identity.fencingToken!, reply!.current);
  }

  /** Completes a batch in as few round trips as `claimMany`; a stale token fails its own item only. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    return this.completeBatch('completeMany', requests);
  }

  /** Deletes the in-progress occurrences the tokens name; whether `key`'s was deleted. */
  async release(key: string, fencingToken: number, also: readonly IdentityToken[] = []): Promise<boolean> {
    assertValidRelease(key, fencingToken, also);
    const identities = this.placeTokens({ key, fencingToken }, also);
    this.fast?.forget(identities[0]!.redisKey, fencingToken);
    return this.boundary('release', async () => {
      if (inOneSlot(identities)) return (await this.calls.release(identities))[0]!;
      return (await releaseAcrossSlots(this.calls, identities)).get(0)!;
    });
  }

  /** Moves the lease of a running claim (every identity, all or nothing) to now + `leaseMs`. */
  async extendLease(request: ExtendLeaseRequest): Promise<void> {
    assertValidExtension(request);
    const identities = this.placeTokens(request, request.also);
    this.fast?.forget(identities[0]!.redisKey, request.fencingToken);
    await this.boundary('extendLease', async () => {
      if (!inOneSlot(identities)) return extendAcrossSlots(this.calls, identities, request.leaseMs);
      const [reply] = await this.calls.extend([{ identities, leaseMs: request.leaseMs }], true);
      if (!reply!.ok) throw new LeaseLostError(reply!.identity.key, reply!.identity.fencingToken!, reply!.current);
    });
  }

  /** Reads a live occurrence (the one `fencingToken` names, or the latest) in one round trip. */
  async get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined> {
    // A release's guards: a non-empty key, and a positive safe integer token when one is given.
    assertValidRelease(key, fencingToken ?? 1);
    return this.boundary('get', () => this.calls.get(key, this.redisKey(key), fencingToken));
  }

  /** Atomically claims a version of an entity for the ordering guard, in one round trip. */
  async claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome> {
    assertValidVersionClaim(request);
    const args = [request.version, String(request.leaseMs), String(request.retentionMs), request.owner === undefined ? '' : `=${request.owner}`];
    const [verdict, reply] = await this.boundary('claimVersion', () => this.calls.version('vclaim', this.versionKey(request.entity), args));
    const record = decodeVersionRecord('claimVersion', request.entity, reply);
    if (verdict === 'acquired') return { status: 'acquired', fencingToken: record.pending!.fencingToken, record };
    if (verdict === 'duplicate' || verdict === 'stale' || verdict === 'in_progress') return { status: verdict, record };
    throw unexpectedReply('claimVersion', verdict);
  }

  /** Makes the pending version the applied one while `fencingToken` is pending; `LeaseLostError` otherwise. */
  async completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void> {
    assertValidRelease(entity, fencingToken);
    assertPositiveMs('retentionMs', retentionMs);
    const [done] = await this.boundary('completeVersion', () =>
      this.calls.version('vcomplete', this.versionKey(entity), [String(fencingToken), String(retentionMs)]),
    );
    if (done !== 1) throw new LeaseLostError(entity, fencingToken);
  }

  /** Drops the pending version `fencingToken` names; whether it was dropped. */
  async releaseVersion(entity: string, fencingToken: number): Promise<boolean> {
    assertValidRelease(entity, fencingToken);
    const [done] = await this.boundary('releaseVersion', () => this.calls.version('vrelease', this.versionKey(entity), [String(fencingToken)]));
    return done === 1;
  }

  /** Reads an entity's live version record in one round trip. */
  async getVersion(entity: string): Promise<VersionRecord | undefined> {
    if (typeof entity !== 'string' || entity.length === 0) throw new ConfigError('entity', 'must be a non-empty string');
    const [reply] = await this.boundary('getVersion', () => this.calls.version('vget', this.versionKey(entity), []));
    return reply === null ? undefined : decodeVersionRecord('getVersion', entity, reply);
  }

  private async claimBatch(operation: string, requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    requests.forEach(assertValidClaim);
    if (requests.length === 0) return [];
    const placed = requests.map((request) => this.placeClaim(request));
    if (this.fast === undefined || !this.pipelines) return claimPlanned(operation, this.calls, requests, placed, this.plan(placed));
    // One pipeline of native claims first; the requests it cannot settle go to the script, in order.
    const fast = this.fast;
    const settled = await this.boundary(operation, () => fast.claimMany(requests, singleKeysOf(placed)));
    const left: number[] = [];
    for (let i = 0; i < requests.length; i++) if (settled[i] === undefined) left.push(i);
    if (left.length === 0) return settled as ClaimOutcome[];
    return claimPlanned(operation, this.calls, requests, placed, remap(this.plan(left.map((i) => placed[i]!)), left), settled);
  }

  private async completeBatch(operation: string, requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    requests.forEach(assertValidCompletion);
    if (requests.length === 0) return [];
    const placed = requests.map((request) => this.placeTokens(request, request.also));
    const outcomes = new Array<CompleteOutcome>(requests.length);
    // The claims the batch pipeline wrote complete in one pipeline of compare-and-sets; the script
    // completes the rest (or says why not), in as few round trips as the plan allows.
    let left = requests.map((_, i) => i);
    if (this.fast !== undefined && this.pipelines) {
      const done = await this.fast.completeMany(requests, singleKeysOf(placed));
      left = left.filter((i) => !done[i]);
      for (let i = 0; i < requests.length; i++) if (done[i]) outcomes[i] = { ok: true };
      if (left.length === 0) return outcomes;
    }
    for (const i of left) this.fast?.forget(placed[i]![0]!.redisKey, requests[i]!.fencingToken);
    const fail = (i: number, error: unknown) => (outcomes[i] = { ok: false, error: toStoreError(operation, error) });
    await runPlan(remap(this.plan(left.map((i) => placed[i]!)), left), async (step) => {
      if (step.kind === 'spread') {
        const request = requests[step.index]!;
        await completeAcrossSlots(this.calls, placed[step.index]!, request.retentionMs, request.result, this.operationTimeoutMs).then(
          () => (outcomes[step.index] = { ok: true }),
          (error: unknown) => fail(step.index, error),
        );
        return;
      }
      const items = step.indexes.map((i) => ({ identities: placed[i]!, retentionMs: requests[i]!.retentionMs, result: requests[i]!.result }));
      await this.calls.complete(items).then(
        (replies) =>
          replies.forEach((reply, j) => {
            const i = step.indexes[j]!;
            outcomes[i] = reply.ok ? { ok: true } : { ok: false, error: new LeaseLostError(reply.identity.key, reply.identity.fencingToken!, reply.current) };
          }),
        (error: unknown) => step.indexes.forEach((i) => fail(i, error)),
      );
    });
    return outcomes;
  }

  private plan(placed: readonly Placed[][]) {
    return planBatch(
      placed.map((identities) => identities.map((identity) => identity.slot)),
      placed.map((identities) => identities.map((identity) => identity.redisKey)),
      MAX_ITEMS_PER_CALL,
    );
  }

  private place(key: string, index: number, extra: { window?: Placed['window']; fencingToken?: number } = {}): Placed {
    const { key: redisKey, hashTag } = occurrenceKeyOf(this.prefix, key);
    // On a standalone server every key is in "slot 0": one call reaches them all.
    const placed: Placed = { index, key, redisKey, slot: this.isCluster ? slotOfHashTag(hashTag) : 0 };
    if (extra.window !== undefined) placed.window = extra.window;
    if (extra.fencingToken !== undefined) placed.fencingToken = extra.fencingToken;
    return placed;
  }

  private placeClaim(request: ClaimRequest): Placed[] {
    return identitiesOf(request).map((identity, index) => this.place(identity.key, index, identity));
  }

  private placeTokens(first: IdentityToken, also: readonly IdentityToken[] = []): Placed[] {
    return [first, ...also].map((identity, index) => this.place(identity.key, index, { fencingToken: identity.fencingToken }));
  }

  /** One round trip of the store script, under the operation deadline. */
  private run(op: StoreOp, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.roundTrip(() => runScript(this.client, scriptFor(op), keys, [op, ...args]));
  }

  /** One round trip under the operation deadline. */
  private roundTrip<T>(work: () => Promise<T>): Promise<T> {
    return this.deadlines.run(work);
  }

  /** Where a public operation's errors become idemkit errors named after it. */
  private boundary<T>(operation: string, work: () => Promise<T>): Promise<T> {
    // A rejection handler rather than an async frame: this wraps every round trip.
    return work().catch((error: unknown) => {
      throw toStoreError(operation, error);
    });
  }
}

/** A plan made for a subset of a batch, its indexes turned back into the batch's own. */
function remap(plan: Plan, indexes: readonly number[]): Plan {
  return plan.map((lanes) =>
    lanes.map((steps) =>
      steps.map((step): Step => (step.kind === 'call' ? { kind: 'call', indexes: step.indexes.map((j) => indexes[j]!) } : { kind: 'spread', index: indexes[step.index]! })),
    ),
  );
}

/** Per request of a batch, its Redis key when it names a single identity (what the fast path can take), else undefined. */
function singleKeysOf(placed: readonly Placed[][]): (string | undefined)[] {
  return placed.map((identities) => (identities.length === 1 ? identities[0]!.redisKey : undefined));
}

function inOneSlot(identities: readonly Placed[]): boolean {
  return identities.every((identity) => identity.slot === identities[0]!.slot);
}

function optionalPositiveInteger(field: string, value: number | undefined, fallback: number, unit: string): number {
  if (value === undefined) return fallback;
  assertPositiveInteger(field, value, unit);
  return value;
}
