import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryStore, type ClaimRequest, type IdempotencyRecord, type IdempotencyStore, type IdentityToken } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { DynamoDBStore } from '../src/index.js';
import { useTable } from './helpers.js';

// The item layout answers most claims blind (window buckets, the unwindowed slot) and the rest
// exactly from the returned item; both must agree with core's rules everywhere. This test drives
// the DynamoDB store and MemoryStore (the reference implementation) with the same generated
// streams — windowMs changing between claims of one key (stray slots), windowed and unwindowed
// occurrences of one key, owners, several identities, releases, lease extensions, lapses and
// expiry (pruning) — and requires the same answer to every call. Each DynamoDB call goes through
// one of two store objects on the same table, as two Lambda instances would: a store's memory of
// its own claims (their slots, an item untouched since its claim) must never decide wrongly when
// the other has written the item since.

const BASE = 1_700_000_300_000;
const KEYS = 3;

type Op =
  | { kind: 'claim'; key: number; at?: number; windowMs: number; owner?: string; also?: number; retentionMs: number; via: number }
  | { kind: 'complete' | 'release' | 'extend'; claim: number; via: number }
  | { kind: 'advance'; ms: number };

/** Which of the two DynamoDB store objects makes the call; mostly the first, as the engine's own. */
const via = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) });

const ops = fc.array(
  fc.oneof(
    { weight: 5, arbitrary: fc.record({
      kind: fc.constant('claim' as const),
      key: fc.integer({ min: 0, max: KEYS - 1 }),
      at: fc.option(fc.integer({ min: 0, max: 40 }).map((step) => BASE + step * 125), { nil: undefined }),
      windowMs: fc.constantFrom(250, 500, 1_000),
      owner: fc.option(fc.constantFrom('req-1', 'req-2'), { nil: undefined }),
      also: fc.option(fc.integer({ min: 0, max: KEYS - 1 }), { nil: undefined, freq: 4 }),
      retentionMs: fc.constantFrom(2_000, 6_000),
      via,
    }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('complete' as const, 'release' as const, 'extend' as const), claim: fc.nat(20), via }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(0, 400, 1_000, 2_500) }) },
  ),
  { minLength: 1, maxLength: 25 },
);

/** What two stores must agree on about a record (tokens differ: each store draws its own). */
function shape(record: IdempotencyRecord | undefined) {
  if (record === undefined) return undefined;
  const { key, status, windowAnchor, result, owner, fingerprint, leaseExpiresAt, expiresAt, claimedAt } = record;
  return { key, status, windowAnchor, result, owner, fingerprint, leaseExpiresAt, expiresAt, claimedAt };
}

const table = useTable('differential');
const { client } = table;

describe('DynamoDBStore agrees with MemoryStore', () => {
  it('on every call of generated streams', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (stream) => {
        const clock = manualClock();
        const dynamos = [0, 1].map(() => new DynamoDBStore({ client, tableName: table.tableName, clock: clock.now }));
        const stores: IdempotencyStore[] = [new MemoryStore({ clock: clock.now }), dynamos[0]!];
        const prefix = `diff:${randomUUID()}`;
        const keyName = (index: number) => `${prefix}:${index}`;
        // Acquired claims, as each store knows them: key and token of every identity.
        const claims: Array<Array<{ key: string; fencingToken: number; also: IdentityToken[] }>> = [[], []];
        let fingerprint = 0;
        for (const op of stream) {
          if (op.kind === 'advance') {
            clock.advance(op.ms);
            continue;
          }
          const answers = await Promise.all(
            stores.map(async (reference, s) => {
              const store = s === 0 ? reference : dynamos[op.via]!;
              if (op.kind === 'claim') {
                const request: ClaimRequest = { key: keyName(op.key), leaseMs: 1_000, retentionMs: op.retentionMs, fingerprint: `fp-${fingerprint}` };
                if (op.at !== undefined) request.window = { at: op.at, windowMs: op.windowMs };
                if (op.owner !== undefined) request.owner = op.owner;
                if (op.also !== undefined && op.also !== op.key) request.also = [{ key: keyName(op.also), window: { at: BASE, windowMs: op.windowMs } }];
                const outcome = await store.claim(request);
                if (outcome.acquired) claims[s]!.push({ key: request.key, fencingToken: outcome.fencingToken, also: outcome.also ?? [] });
                return { acquired: outcome.acquired, record: shape(outcome.record), also: outcome.acquired ? outcome.also?.map((identity) => identity.key) : undefined };
              }
              const claim = claims[s]![op.claim % Math.max(1, claims[s]!.length)];
              if (claim === undefined) return 'no claim';
              const { key, fencingToken, also } = claim;
              try {
                if (op.kind === 'release') return { released: await store.release(key, fencingToken, also) };
                if (op.kind === 'complete') await store.complete({ key, fencingToken, also, result: `"${op.claim}"`, retentionMs: 3_000 });
                else await store.extendLease({ key, fencingToken, also, leaseMs: 1_500 });
                return 'ok';
              } catch (error) {
                const lost = error as { code?: string; key?: string; current?: IdempotencyRecord };
                return { error: lost.code, key: lost.key, current: shape(lost.current) };
              }
            }),
          );
          fingerprint += 1;
          expect(answers[1], `${JSON.stringify(op)} in ${JSON.stringify(stream)}`).toEqual(answers[0]);
          for (let key = 0; key < KEYS; key++) {
            const [memory, dynamo] = await Promise.all(stores.map((store) => store.get(keyName(key))));
            expect(shape(dynamo), `get after ${JSON.stringify(op)}`).toEqual(shape(memory));
          }
        }
      }),
      { numRuns: 50 },
    );
  }, 300_000);
});
