import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  assertPositiveInteger,
  assertPositiveMs,
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
  ConfigError,
  IdempotencyResultTooLargeError,
  IdempotencyStoreError,
  LeaseLostError,
  systemClock,
  type ClaimOutcome,
  type ClaimRequest,
  type Clock,
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
import { ItemTooLargeError } from './atomic-write.js';
import { releaseLanded } from './batch-cleanup.js';
import { claimIdentities, readItem, type StoreContext } from './claims.js';
import { settleByKeys } from './concurrency.js';
import { createTable } from './create-table.js';
import { toStoreError } from './errors.js';
import { completeIdentities, extendIdentities, releaseIdentity } from './holders.js';
import { maxResultBytesFor, maxResultBytesForAnyKey, utf8Bytes } from './item-size.js';
import { assertKeyFits, resolveLayout, type TableLayout } from './layout.js';
import { findLive } from './marshal.js';
import { newNonce } from './nonces.js';
import { SlotMemory } from './slot-memory.js';
import type { CreateTableOptions, CreateTableResult, DynamoDBStoreOptions } from './types.js';
import { claimVersion, completeVersion, getVersion, releaseVersion } from './versions.js';

/**
 * The DynamoDB store. A key is one item holding its occurrences; each claim is one conditional
 * write decided atomically by DynamoDB — an `UpdateItem`, or a `TransactWriteItems` for a claim
 * with several identities — and a refused claim gets the blocking record back in the same
 * response (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). Reads are strongly consistent, and an
 * occurrence past `expiresAt` counts as absent whether or not TTL has deleted it. It is also the
 * ordering guard's {@link VersionStore}. The layout and its costs: docs/store-dynamodb.md.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBStore } from '@idemkit/dynamodb';
 *
 * const store = new DynamoDBStore({ client: new DynamoDBClient({}), tableName: 'idempotency' });
 * ```
 */
export class DynamoDBStore implements IdempotencyStore, VersionStore {
  /** Store name used in errors and logs. */
  readonly name = 'dynamodb';
  /**
   * Largest result (bytes of JSON text) an occurrence can store when it is its item's only one,
   * whatever the key: 400 KB minus the rest of the item. The live occurrences of one windowed key
   * share their item's 400 KB; `complete` refuses a result that does not fit with
   * {@link IdempotencyResultTooLargeError}.
   */
  readonly maxResultBytes: number;
  /** The table that holds the records. */
  readonly tableName: string;

  private readonly context: StoreContext;
  private readonly layout: TableLayout;
  private readonly clock: Clock;
  private readonly concurrency: number;

  constructor(options: DynamoDBStoreOptions) {
    if (typeof options?.client?.send !== 'function') {
      throw new ConfigError('client', 'pass your DynamoDBClient from @aws-sdk/client-dynamodb');
    }
    this.layout = resolveLayout(options);
    this.tableName = this.layout.tableName;
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency ?? 10;
    assertPositiveInteger('concurrency', this.concurrency, 'requests in flight');
    this.maxResultBytes = maxResultBytesForAnyKey(this.layout);
    this.context = { client: options.client as DynamoDBClient, layout: this.layout, slots: new SlotMemory() };
  }

  /**
   * Claims a key, and every identity of `request.also` with it: one conditional write when the
   * item holds nothing the claim must replace or prune, else one more written from the item the
   * first returned. A refusal carries the blocking record; a refused claim writes nothing.
   */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    assertClaimable(request);
    try {
      return await claimIdentities(this.context, request, this.clock(), newNonce());
    } catch (error) {
      throw this.storeError(error, 'claim');
    }
  }

  /**
   * Claims a batch with parallel conditional writes (BatchWriteItem cannot carry conditions),
   * at most `concurrency` in flight, all judged at the instant the batch began. Items sharing an
   * identity are claimed in order, one after another, so a later item sees an earlier one's claim
   * and a key is acquired at most once per batch. Outcomes are in request order.
   *
   * All or nothing: when a request fails (throttling, network), no further item is sent, every
   * claim the batch made is released (fenced by its token; one whose reply was lost is found by
   * its nonce), and the failure is thrown — so the redelivered batch finds nothing held. A claim
   * whose release fails as well stays held until its lease passes.
   */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    // Refuse a bad batch before any request, so no claim of it is left held.
    requests.forEach(assertClaimable);
    const nonces = requests.map(newNonce);
    // One instant for the whole batch, as the contract judges it: a repeat of a key, claimed after
    // the earlier item's request returned, must see that claim running even when the batch was
    // slow enough for its lease to have passed on the wall clock by then.
    const now = this.clock();
    let failure: { error: unknown } | undefined;
    const settled = await settleByKeys(requests, identityKeys, this.concurrency, async (request, index) => {
      if (failure !== undefined) throw NOT_SENT;
      try {
        return await claimIdentities(this.context, request, now, nonces[index]!);
      } catch (error) {
        failure ??= { error };
        throw error;
      }
    });
    if (failure === undefined) return settled.map((result) => (result as PromiseFulfilledResult<ClaimOutcome>).value);
    await releaseLanded(this.context, this.clock(), requests, settled, nonces, NOT_SENT);
    throw this.storeError(failure.error, 'claimMany');
  }

  /**
   * Completes a claim (and every identity of `request.also`, all or nothing), only while each
   * token names an in-progress occurrence: one conditional write, or a transaction for several.
   * @throws {@link LeaseLostError} naming the first identity whose claim is gone.
   * @throws {@link IdempotencyResultTooLargeError} when the result does not fit in an item.
   */
  async complete(request: CompleteRequest): Promise<void> {
    assertValidCompletion(request);
    const identities = identitiesOfCompletion(request);
    const longestKey = Math.max(...identities.map((identity) => utf8Bytes(identity.key)));
    const maxBytes = maxResultBytesFor(this.layout, longestKey);
    const resultBytes = request.result === undefined ? 0 : utf8Bytes(request.result);
    if (resultBytes > maxBytes) throw new IdempotencyResultTooLargeError(request.key, resultBytes, maxBytes);
    const now = this.clock();
    try {
      await completeIdentities(this.context, identities, { now, expiresAt: now + request.retentionMs, result: request.result, nonce: newNonce() });
    } catch (error) {
      // DynamoDB measured the whole item (other occurrences' results, a large fingerprint): this
      // result did not fit, so less than its size is what the store accepts for this key now.
      if (error instanceof ItemTooLargeError) {
        throw new IdempotencyResultTooLargeError(request.key, resultBytes, Math.min(maxBytes, resultBytes - 1));
      }
      throw this.storeError(error, 'complete');
    }
  }

  /** Completes a batch with parallel conditional writes; a stale token fails its own item only. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    const settled = await settleByKeys(requests, (request) => identitiesOfCompletion(request).map((identity) => identity.key), this.concurrency, (request) =>
      this.complete(request),
    );
    return settled.map((result) => (result.status === 'fulfilled' ? { ok: true } : { ok: false, error: toError(result.reason) }));
  }

  /**
   * Releases a claim: deletes the in-progress occurrence `fencingToken` names (and each of
   * `also`'s still held) with one conditional write per identity. Never deletes a completed one.
   * @returns whether `key`'s occurrence was released (false: stale token, completed, or gone).
   */
  async release(key: string, fencingToken: number, also: readonly IdentityToken[] = []): Promise<boolean> {
    assertValidRelease(key, fencingToken, also);
    const now = this.clock();
    try {
      const [released] = await Promise.all(
        [{ key, fencingToken }, ...also].map((identity) => releaseIdentity(this.context, identity, now)),
      );
      return released!;
    } catch (error) {
      throw this.storeError(error, 'release');
    }
  }

  /**
   * Moves the lease of a running claim (and of each of `also`'s, all or nothing) to now + `leaseMs`.
   * @throws {@link LeaseLostError} naming the first identity whose claim is gone or has lapsed.
   */
  async extendLease(request: ExtendLeaseRequest): Promise<void> {
    assertValidExtension(request);
    const now = this.clock();
    try {
      await extendIdentities(this.context, [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])], now, now + request.leaseMs);
    } catch (error) {
      throw this.storeError(error, 'extendLease');
    }
  }

  /**
   * Reads a live occurrence with a strongly consistent GetItem: the one `fencingToken` names, or
   * the most recently claimed. Expired occurrences read as undefined.
   */
  async get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined> {
    try {
      const slot = findLive(await readItem(this.context, key), this.clock(), fencingToken);
      return slot === undefined ? undefined : { ...slot.record };
    } catch (error) {
      throw this.storeError(error, 'get');
    }
  }

  /** Claims a version of an entity (the ordering guard) with one conditional UpdateItem. */
  async claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome> {
    assertValidVersionClaim(request);
    assertKeyFits(request.entity, 'entity');
    try {
      return await claimVersion(this.context, request, this.clock(), newNonce());
    } catch (error) {
      throw this.storeError(error, 'claimVersion');
    }
  }

  /**
   * Applies the pending version `fencingToken` names.
   * @throws {@link LeaseLostError} when it is no longer pending.
   */
  async completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void> {
    assertPositiveMs('retentionMs', retentionMs);
    try {
      await completeVersion(this.context, entity, fencingToken, retentionMs, this.clock(), newNonce());
    } catch (error) {
      throw this.storeError(error, 'completeVersion');
    }
  }

  /** Drops the pending version `fencingToken` names; the applied version stays. */
  async releaseVersion(entity: string, fencingToken: number): Promise<boolean> {
    try {
      return await releaseVersion(this.context, entity, fencingToken, this.clock(), newNonce());
    } catch (error) {
      throw this.storeError(error, 'releaseVersion');
    }
  }

  /** Reads an entity's live version record (strongly consistent). */
  async getVersion(entity: string): Promise<VersionRecord | undefined> {
    try {
      return await getVersion(this.context, entity, this.clock());
    } catch (error) {
      throw this.storeError(error, 'getVersion');
    }
  }

  /**
   * Creates the table for this store's layout if it is missing, waits until it is ACTIVE and
   * enables TTL on the TTL attribute. For development and tests; use IaC in production.
   * @example
   * ```ts
   * await store.createTable(); // on-demand billing
   * ```
   */
  async createTable(options: CreateTableOptions = {}): Promise<CreateTableResult> {
    return createTable(this.context.client, this.layout, options);
  }

  private storeError(error: unknown, operation: string): Error {
    if (error instanceof IdempotencyStoreError || error instanceof LeaseLostError || error instanceof ConfigError) return error;
    if (error instanceof ItemTooLargeError) {
      return new IdempotencyStoreError(
        'dynamodb',
        `${operation} on table "${this.tableName}": the key's item has no room for another occurrence (400 KB, expired ones pruned); ` +
          'its live occurrences hold too many stored results — store smaller results or keep them for a shorter retention',
        { cause: error, retryable: false },
      );
    }
    return toStoreError(error, this.tableName, operation);
  }
}

/** Marks batch items that were never sent because an earlier one had failed. */
const NOT_SENT = Symbol('not sent');

function assertClaimable(request: ClaimRequest): void {
  assertValidClaim(request);
  assertKeyFits(request.key);
  request.also?.forEach((identity, index) => assertKeyFits(identity.key, `also[${index}].key`));
}

function identityKeys(request: ClaimRequest): string[] {
  return [request.key, ...(request.also ?? []).map((identity) => identity.key)];
}

function identitiesOfCompletion(request: CompleteRequest): IdentityToken[] {
  return [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])];
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
