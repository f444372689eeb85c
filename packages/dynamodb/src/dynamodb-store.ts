import { GetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  assertPositiveInteger,
  assertValidClaim,
  assertValidCompletion,
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
  type IdempotencyRecord,
  type IdempotencyStore,
} from '@idemkit/core';
import { settleByKey } from './concurrency.js';
import { createTable } from './create-table.js';
import { isConditionalCheckFailed, isItemTooLarge, toStoreError } from './errors.js';
import { claimInput, completeInput, releaseInput } from './expressions.js';
import { maxResultBytesFor, maxResultBytesForAnyKey, utf8Bytes } from './item-size.js';
import { assertKeyFits, itemKey, resolveLayout, type TableLayout } from './layout.js';
import { liveRecord, toRecord } from './marshal.js';
import type { CreateTableOptions, CreateTableResult, DynamoDBStoreOptions } from './types.js';

/**
 * The DynamoDB store: each claim, duplicate answer, completion and release is one conditional
 * `UpdateItem`, decided atomically by DynamoDB; a refused claim gets the holder's record back in
 * the same response (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). Reads are strongly
 * consistent, and a record past `expiresAt` counts as absent whether or not TTL has deleted it.
 *
 * @example
 * ```ts
 * import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
 * import { DynamoDBStore } from '@idemkit/dynamodb';
 *
 * const store = new DynamoDBStore({ client: new DynamoDBClient({}), tableName: 'idempotency' });
 * ```
 */
export class DynamoDBStore implements IdempotencyStore {
  /** Store name used in errors and logs. */
  readonly name = 'dynamodb';
  /**
   * Largest result (bytes of JSON text) that fits in an item whatever the key: 400 KB minus
   * the rest of the record. `complete` checks the exact key and refuses anything larger.
   */
  readonly maxResultBytes: number;
  /** The table that holds the records. */
  readonly tableName: string;

  private readonly client: DynamoDBClient;
  private readonly layout: TableLayout;
  private readonly clock: Clock;
  private readonly concurrency: number;

  constructor(options: DynamoDBStoreOptions) {
    if (typeof options?.client?.send !== 'function') {
      throw new ConfigError('client', 'pass your DynamoDBClient from @aws-sdk/client-dynamodb');
    }
    this.client = options.client;
    this.layout = resolveLayout(options);
    this.tableName = this.layout.tableName;
    this.clock = options.clock ?? systemClock;
    this.concurrency = options.concurrency ?? 10;
    assertPositiveInteger('concurrency', this.concurrency, 'requests in flight');
    this.maxResultBytes = maxResultBytesForAnyKey(this.layout);
  }

  /** Claims a key with one conditional UpdateItem; a refusal carries the existing record. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    assertValidClaim(request);
    assertKeyFits(request.key);
    const now = this.clock();
    try {
      const { Attributes } = await this.client.send(new UpdateItemCommand(claimInput(this.layout, request, now)));
      const record = toRecord(Attributes ?? {}, this.layout);
      return { acquired: true, fencingToken: record.fencingToken, record };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw this.storeError(error, 'claim');
      // The condition failed, so the item exists and is live: it is the answer, not an error.
      if (error.Item === undefined) {
        throw new IdempotencyStoreError(
          'dynamodb',
          `claim on table "${this.tableName}": the endpoint did not return the existing item ` +
            '(ReturnValuesOnConditionCheckFailure unsupported; DynamoDB Local needs 1.25 or later)',
          { cause: error, retryable: false },
        );
      }
      return { acquired: false, record: toRecord(error.Item, this.layout) };
    }
  }

  /**
   * Claims a batch with parallel conditional writes (BatchWriteItem cannot carry conditions),
   * at most `concurrency` in flight. A key repeated in the batch is claimed in order, one
   * request after another, so a later occurrence sees the earlier one's claim and never acquires
   * beside it. Outcomes are in request order.
   */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    // Refuse a bad batch before any request, so no claim of it is left held.
    for (const request of requests) {
      assertValidClaim(request);
      assertKeyFits(request.key);
    }
    const settled = await settleByKey(requests, (request) => request.key, this.concurrency, (request) => this.claim(request));
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return settled.map((result) => (result as PromiseFulfilledResult<ClaimOutcome>).value);
  }

  /**
   * Completes a claim with one conditional UpdateItem, only while `fencingToken` is current.
   * @throws {@link LeaseLostError} when the token is stale, the key was completed or released.
   * @throws {@link IdempotencyResultTooLargeError} when the result would push the item past 400 KB.
   */
  async complete(request: CompleteRequest): Promise<void> {
    assertValidComplete(request);
    const maxBytes = maxResultBytesFor(this.layout, utf8Bytes(request.key));
    const resultBytes = request.result === undefined ? 0 : utf8Bytes(request.result);
    if (resultBytes > maxBytes) throw new IdempotencyResultTooLargeError(request.key, resultBytes, maxBytes);
    const now = this.clock();
    try {
      await this.client.send(new UpdateItemCommand(completeInput(this.layout, request, now)));
    } catch (error) {
      if (isConditionalCheckFailed(error)) {
        throw new LeaseLostError(request.key, request.fencingToken, liveRecord(error.Item, this.layout, now));
      }
      // DynamoDB measured the whole item (with a fingerprint larger than the allowance): this
      // result did not fit, so less than its size is what the store accepts for this key.
      if (isItemTooLarge(error)) {
        throw new IdempotencyResultTooLargeError(request.key, resultBytes, Math.min(maxBytes, resultBytes - 1));
      }
      throw this.storeError(error, 'complete');
    }
  }

  /** Completes a batch with parallel conditional writes; a stale token fails its own item only. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    const settled = await settleByKey(requests, (request) => request.key, this.concurrency, (request) => this.complete(request));
    return settled.map((result) =>
      result.status === 'fulfilled' ? { ok: true } : { ok: false, error: toError(result.reason) },
    );
  }

  /**
   * Releases a claim with one conditional UpdateItem, only while `fencingToken` is current. The
   * item stays as a tombstone that reads as absent and keeps the fencing token moving up.
   * @returns whether the claim was released (false: stale token, completed, or gone).
   */
  async release(key: string, fencingToken: number): Promise<boolean> {
    const now = this.clock();
    try {
      await this.client.send(new UpdateItemCommand(releaseInput(this.layout, key, fencingToken, now)));
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw this.storeError(error, 'release');
    }
  }

  /** Reads the live record for a key with a strongly consistent GetItem; expired or released reads as undefined. */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    try {
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: itemKey(this.layout, key), ConsistentRead: true }),
      );
      return liveRecord(Item, this.layout, this.clock());
    } catch (error) {
      throw this.storeError(error, 'get');
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
    return createTable(this.client, this.layout, options);
  }

  private storeError(error: unknown, operation: string): Error {
    return error instanceof IdempotencyStoreError ? error : toStoreError(error, this.tableName, operation);
  }
}

function assertValidComplete(request: CompleteRequest): void {
  assertValidCompletion(request);
  if (request.result !== undefined && typeof request.result !== 'string') {
    throw new ConfigError('result', 'must be JSON text or undefined');
  }
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
