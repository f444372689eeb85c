import {
  ConfigError,
  LeaseLostError,
  assertPositiveInteger,
  assertValidClaim,
  assertValidCompletion,
  claimLifetimeMs,
  systemClock,
  type ClaimOutcome,
  type ClaimRequest,
  type Clock,
  type CompleteOutcome,
  type CompleteRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
} from '@idemkit/core';
import { planCalls, runPlan } from './batches.js';
import { STORE_NAME, unexpectedReply, withDeadline } from './errors.js';
import { DEFAULT_PREFIX, assertValidPrefix, keysFor } from './keys.js';
import { decodeRecord, fieldsFromFlat } from './records.js';
import { runScript, type ScriptClient } from './script-runner.js';
import { CLAIM, COMPLETE, RELEASE, type LuaScript } from './scripts.js';
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
 * Every operation is one Lua script run atomically on the server, in one round trip: a refused
 * claim returns the holder's record in the same reply, `complete` and `release` act only while
 * the fencing token is current, and fencing tokens never go back for a key, even after its
 * record expired. Batches take one round trip on a standalone server and one per Cluster slot.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisStore } from '@idemkit/redis';
 *
 * const store = new RedisStore({ client: new Redis(process.env.REDIS_URL!), prefix: 'orders' });
 * ```
 */
export class RedisStore implements IdempotencyStore {
  /** Store name used in errors and logs. */
  readonly name = STORE_NAME;
  /** Largest result (bytes of JSON text) the engine may store here. */
  readonly maxResultBytes: number;
  /** Start of every Redis key this store writes. */
  readonly prefix: string;
  private readonly client: ScriptClient;
  private readonly isCluster: boolean;
  private readonly clock: Clock;
  private readonly operationTimeoutMs: number;
  private readonly fenceGraceMs: number;

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
    this.clock = options.clock ?? systemClock;
    this.operationTimeoutMs = optionalPositiveInteger(
      'operationTimeoutMs',
      options.operationTimeoutMs,
      DEFAULT_OPERATION_TIMEOUT_MS,
      'milliseconds',
    );
    this.fenceGraceMs = optionalPositiveInteger('fenceGraceMs', options.fenceGraceMs, DEFAULT_FENCE_GRACE_MS, 'milliseconds');
    this.maxResultBytes = optionalPositiveInteger('maxResultBytes', options.maxResultBytes, DEFAULT_MAX_RESULT_BYTES, 'bytes');
  }

  /** The Redis keys that hold `key`'s record and its fencing counter, e.g. for `redis-cli`. */
  redisKeys(key: string): { record: string; fence: string } {
    const { record, fence } = keysFor(this.prefix, key);
    return { record, fence };
  }

  /** Atomically claims a key in one round trip; a refusal carries the existing record. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const [outcome] = await this.claimBatch('claim', [request]);
    return outcome!;
  }

  /** Claims a batch: one round trip on a standalone server, one per slot (concurrently) on a Cluster. */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    return this.claimBatch('claimMany', requests);
  }

  /** Completes the claim while `fencingToken` is current; throws `LeaseLostError` otherwise. */
  async complete(request: CompleteRequest): Promise<void> {
    const [outcome] = await this.completeBatch('complete', [request]);
    if (outcome?.ok === false) throw outcome.error;
  }

  /** Completes a batch in as few round trips as `claimMany`; a stale token fails its own item only. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    return this.completeBatch('completeMany', requests);
  }

  /** Deletes the claim only while `fencingToken` is current and it is still in progress. */
  async release(key: string, fencingToken: number): Promise<boolean> {
    const now = this.clock();
    const { record } = keysFor(this.prefix, key);
    const reply = await this.withDeadline('release', () =>
      runScript(this.client, RELEASE, [record], [String(now), String(fencingToken)]),
    );
    if (reply !== 0 && reply !== 1) throw unexpectedReply('release', reply);
    return reply === 1;
  }

  /** Reads the live record with one HGETALL on the key's master; expired records read as undefined. */
  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const { record: redisKey } = keysFor(this.prefix, key);
    const fields = await this.withDeadline('get', () => this.client.hgetall(redisKey));
    if (Object.keys(fields).length === 0) return undefined;
    const record = decodeRecord(key, fields);
    return record.expiresAt > this.clock() ? record : undefined;
  }

  private async claimBatch(operation: string, requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    requests.forEach(assertValidClaim);
    if (requests.length === 0) return [];
    const now = this.clock();
    // The floor that keeps tokens from going back once a key's counter has expired (see scripts.ts).
    const tokenFloor = Math.floor(now) * 1000;
    const head = [String(now), String(tokenFloor), String(this.fenceGraceMs)];
    return this.runBatch(operation, requests, (items) => {
      const keys: string[] = [];
      const args = [...head];
      for (const request of items) {
        const { record, fence } = keysFor(this.prefix, request.key);
        const ttlMs = claimLifetimeMs(request);
        keys.push(record, fence);
        args.push(
          String(now + request.leaseMs),
          String(now + ttlMs),
          String(ttlMs),
          request.fingerprint === undefined ? '0' : '1',
          request.fingerprint ?? '',
          request.window === undefined ? '' : String(request.window.at),
          request.window === undefined ? '' : String(request.window.windowMs),
        );
      }
      return { script: CLAIM, keys, args, decode: (reply, j) => decodeClaim(operation, items[j]!.key, reply) };
    });
  }

  private async completeBatch(operation: string, requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    requests.forEach(assertValidCompletion);
    if (requests.length === 0) return [];
    const now = this.clock();
    const head = [String(now), String(this.fenceGraceMs)];
    return this.runBatch(operation, requests, (items) => {
      const keys: string[] = [];
      const args = [...head];
      for (const request of items) {
        const { record, fence } = keysFor(this.prefix, request.key);
        keys.push(record, fence);
        args.push(
          String(request.fencingToken),
          String(now + request.retentionMs),
          String(request.retentionMs),
          request.result === undefined ? '0' : '1',
          request.result ?? '',
        );
      }
      return { script: COMPLETE, keys, args, decode: (reply, j) => decodeCompletion(operation, items[j]!, reply) };
    });
  }

  /** Sends a batch as one script call per slot group (one in all on a standalone server), under one deadline. */
  private runBatch<R extends { key: string }, T>(
    operation: string,
    requests: readonly R[],
    encode: (items: readonly R[]) => ScriptCall<T>,
  ): Promise<T[]> {
    const slots = this.isCluster
      ? requests.map((request) => slotOfHashTag(keysFor(this.prefix, request.key).hashTag))
      : undefined;
    const plan = planCalls(requests.length, slots, MAX_ITEMS_PER_CALL);
    return this.withDeadline(operation, () =>
      runPlan(requests.length, plan, async (indexes) => {
        const call = encode(indexes.map((index) => requests[index]!));
        const reply = await runScript(this.client, call.script, call.keys, call.args);
        if (!Array.isArray(reply) || reply.length !== indexes.length) throw unexpectedReply(operation, reply);
        return reply.map((item, j) => call.decode(item, j));
      }),
    );
  }

  private withDeadline<T>(operation: string, work: () => Promise<T>): Promise<T> {
    return withDeadline(operation, this.operationTimeoutMs, () => `client status "${this.client.status}"`, work);
  }
}

/** One script call of a batch: what to send and how to read each item's reply. */
interface ScriptCall<T> {
  script: LuaScript;
  keys: string[];
  args: string[];
  decode: (reply: unknown, index: number) => T;
}

function decodeClaim(operation: string, key: string, reply: unknown): ClaimOutcome {
  if (!Array.isArray(reply) || !Array.isArray(reply[1])) throw unexpectedReply(operation, reply);
  const record = decodeRecord(key, fieldsFromFlat(reply[1]));
  return reply[0] === 1 ? { acquired: true, fencingToken: record.fencingToken, record } : { acquired: false, record };
}

function decodeCompletion(operation: string, request: CompleteRequest, reply: unknown): CompleteOutcome {
  if (!Array.isArray(reply)) throw unexpectedReply(operation, reply);
  if (reply[0] === 1) return { ok: true };
  const current = Array.isArray(reply[1]) ? decodeRecord(request.key, fieldsFromFlat(reply[1])) : undefined;
  return { ok: false, error: new LeaseLostError(request.key, request.fencingToken, current) };
}

function optionalPositiveInteger(field: string, value: number | undefined, fallback: number, unit: string): number {
  if (value === undefined) return fallback;
  assertPositiveInteger(field, value, unit);
  return value;
}
