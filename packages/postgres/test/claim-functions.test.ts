import { LeaseLostError, type ClaimOutcome, type ClaimRequest, type IdempotencyRecord } from '@idemkit/core';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/index.js';
import { counting, schema, testPool, uniqueTable, url } from './helpers.js';

// A request with a single identity goes to the single claim function (`<table>_claim_one`), a batch
// to the batch function (`<table>_claim`). They are built from the same statements; this checks
// that they also decide alike, over generated streams of claims, completions, releases and time.

const pool = testPool({ max: 2 });
afterAll(() => pool.end());

const KEYS = ['k1', 'k2'] as const;

type Step =
  | { kind: 'claim'; key: string; leaseMs: number; retentionMs: number; owner?: string; fingerprint?: string; windowAt?: number }
  | { kind: 'complete'; held: number; result?: string }
  | { kind: 'release'; held: number }
  | { kind: 'advance'; ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('claim' as const),
      key: fc.constantFrom(...KEYS),
      leaseMs: fc.constantFrom(1_000, 4_000),
      retentionMs: fc.constantFrom(4_000, 20_000),
      owner: fc.constantFrom('owner-a', 'owner-b'),
      fingerprint: fc.constantFrom('f1', 'f2'),
      windowAt: fc.constantFrom(0, 1_500, 6_000),
    },
    { requiredKeys: ['kind', 'key', 'leaseMs', 'retentionMs'] },
  ),
  fc.record({ kind: fc.constant('complete' as const), held: fc.nat(5), result: fc.option(fc.constantFrom('"r1"', '"r2"'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('release' as const), held: fc.nat(5) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(500, 2_000, 5_000, 25_000) }),
);

/** A record with its fencing token replaced by the number of the claim that drew it, so two tables compare. */
function comparable(record: IdempotencyRecord, claimOf: Map<number, number>) {
  const { fencingToken, ...rest } = record;
  return { ...rest, claim: claimOf.get(fencingToken) ?? `unknown token ${fencingToken}` };
}

describe('the single and the batch claim function', () => {
  it('decide alike over generated streams (claims, take-overs, windows, completions, releases, expiry)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
        run++;
        let now = 1_000_000_000_000;
        const clock = () => now;
        const single = counting(pool);
        const batch = counting(pool);
        // A schema of its own per run, dropped with everything in it (tables, sequences, functions).
        const own = `${schema}_${uniqueTable('cf')}`;
        const tables = { single: 'single_side', batch: 'batch_side' };
        const stores = {
          single: new PostgresStore({ client: single, schema: own, table: tables.single, clock }),
          batch: new PostgresStore({ client: batch, schema: own, table: tables.batch, clock }),
        };
        await stores.single.migrate();
        await stores.batch.migrate();
        try {
          // Per table: fencing token → the number of the claim (step) that drew it.
          const claims = { single: new Map<number, number>(), batch: new Map<number, number>() };
          const held: Array<{ key: string; single: number; batch: number }> = [];
          for (const [index, s] of steps.entries()) {
            if (s.kind === 'advance') {
              now += s.ms;
            } else if (s.kind === 'claim') {
              const request: ClaimRequest = {
                key: s.key,
                leaseMs: s.leaseMs,
                retentionMs: s.retentionMs,
                ...(s.owner === undefined ? {} : { owner: s.owner }),
                ...(s.fingerprint === undefined ? {} : { fingerprint: s.fingerprint }),
                ...(s.windowAt === undefined ? {} : { window: { at: now + s.windowAt, windowMs: 3_000 } }),
              };
              const one = await stores.single.claim(request);
              // A second request on a key of its own makes it a batch, judged by the batch function.
              const [other] = await stores.batch.claimMany([request, { key: `other:${index}`, leaseMs: 1_000, retentionMs: 1_000 }]);
              const outcomes: Record<'single' | 'batch', ClaimOutcome> = { single: one, batch: other! };
              for (const side of ['single', 'batch'] as const) {
                const outcome = outcomes[side];
                if (outcome.acquired) claims[side].set(outcome.fencingToken, index);
              }
              expect(one.acquired, `step ${index}`).toBe(other!.acquired);
              expect(comparable(one.record, claims.single), `step ${index}`).toEqual(comparable(other!.record, claims.batch));
              if (one.acquired && other!.acquired) held.push({ key: s.key, single: one.fencingToken, batch: other!.fencingToken });
            } else if (held.length > 0) {
              const claim = held[s.held % held.length]!;
              const results = await Promise.all(
                (['single', 'batch'] as const).map(async (side) => {
                  if (s.kind === 'release') return stores[side].release(claim.key, claim[side]);
                  return stores[side]
                    .complete({ key: claim.key, fencingToken: claim[side], retentionMs: 20_000, ...(s.result === undefined ? {} : { result: s.result }) })
                    .then(
                      () => 'completed',
                      (error: unknown) => (error instanceof LeaseLostError ? 'lease lost' : error),
                    );
                }),
              );
              expect(results[0], `step ${index}`).toEqual(results[1]);
            }
          }
          // Each side really went through its own function.
          const names = (sent: typeof single.sent) =>
            new Set(sent.map((config) => /FROM "[^"]+"\."([^"]+_claim(?:_one)?)"\(/.exec(config.text)?.[1]).filter(Boolean));
          if (steps.some((s) => s.kind === 'claim')) {
            expect(names(single.sent)).toEqual(new Set([`${tables.single}_claim_one`]));
            expect(names(batch.sent)).toEqual(new Set([`${tables.batch}_claim`]));
          }
        } finally {
          await pool.query(`DROP SCHEMA "${own}" CASCADE`);
        }
      }),
      { numRuns: 100 },
    );
    expect(run).toBeGreaterThanOrEqual(100);
  }, 120_000);
});

/** Until the backend `pid` waits for a lock (a row or advisory lock another transaction holds). */
async function waitingOnLock(pid: number): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ waiting: boolean }>(
      `SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) AS waiting FROM pg_stat_activity WHERE pid = $1`,
      [pid],
    );
    if (rows[0]!.waiting) return;
  }
}

describe.each([
  ['the single claim function (claim)', (store: PostgresStore, request: ClaimRequest) => store.claim(request)],
  [
    'the batch claim function (claimMany)',
    async (store: PostgresStore, request: ClaimRequest) => (await store.claimMany([request, { key: `other:${request.key}`, leaseMs: 1_000, retentionMs: 1_000 }]))[0]!,
  ],
])('%s', (_name, claimWith) => {
  // The take-over race: a claim whose lease lapsed is still its holder's to complete until someone
  // takes it over. The taker locks the claim before replacing it and judges again, so a completion
  // committed meanwhile wins and the taker is refused; judging from its first read alone, it would
  // acquire a second occurrence of an event that has just run.
  it('a take-over of a lapsed claim its holder is completing waits for the completion, then is refused', async () => {
    let now = 1_000_000_000_000;
    const clock = () => now;
    const table = uniqueTable('race');
    const store = new PostgresStore({ client: pool, schema, table, clock });
    await store.migrate();
    const claimed = await store.claim({ key: 'k', leaseMs: 1_000, retentionMs: 60_000 });
    if (!claimed.acquired) throw new Error('the first claim was refused');
    now += 5_000;

    const holder = new pg.Client({ connectionString: url });
    const taker = new pg.Client({ connectionString: url });
    await Promise.all([holder.connect(), taker.connect()]);
    try {
      // The holder's completion, written but not yet committed: its row lock is held.
      await holder.query('BEGIN');
      await PostgresStore.inTransaction(holder, { schema, table, clock }).complete({
        key: 'k',
        fencingToken: claimed.fencingToken,
        result: '"ran once"',
        retentionMs: 60_000,
      });
      const pid = (await taker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const takeOver = claimWith(new PostgresStore({ client: taker, schema, table, clock }), { key: 'k', leaseMs: 1_000, retentionMs: 60_000 });
      await waitingOnLock(pid);
      await holder.query('COMMIT');
      const outcome = await takeOver;
      expect(outcome.acquired).toBe(false);
      expect(outcome.record).toMatchObject({ status: 'completed', result: '"ran once"', fencingToken: claimed.fencingToken });
    } finally {
      await Promise.all([holder.end(), taker.end()]);
    }
  });
});
