import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimOutcome } from '@idemkit/core';
import { PostgresStore } from '../src/index.js';
import { counting, schema, testPool } from './helpers.js';

// Counts what the store sends through the pool: one query() call is one round trip, and
// because every call carries bind values it goes over the extended protocol, where the server
// refuses more than one statement per query — so one call is also exactly one statement.

const pool = testPool({ max: 2 });
afterAll(() => pool.end());

const client = counting(pool);
const store = new PostgresStore({ client, schema });
const request = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const tokenOf = (outcome: ClaimOutcome) => (outcome.acquired ? outcome.fencingToken : Number.NaN);

beforeEach(() => {
  client.sent.length = 0;
});

/** Runs `operation` and returns how many statements it sent, checking each carried bind values. */
async function statementsOf(operation: () => Promise<unknown>): Promise<number> {
  client.sent.length = 0;
  await operation();
  for (const config of client.sent) expect(config.values?.length).toBeGreaterThan(0);
  return client.sent.length;
}

describe('PostgresStore round trips', () => {
  it('claim, a duplicate claim, complete, release and get each send exactly one statement', async () => {
    const key = `rt:${randomUUID()}`;
    let outcome!: ClaimOutcome;
    expect(await statementsOf(async () => (outcome = await store.claim(request(key))))).toBe(1);
    expect(outcome.acquired).toBe(true);

    let duplicate!: ClaimOutcome;
    expect(await statementsOf(async () => (duplicate = await store.claim(request(key))))).toBe(1);
    expect(duplicate).toMatchObject({ acquired: false, record: { status: 'in_progress', fencingToken: tokenOf(outcome) } });

    expect(
      await statementsOf(() => store.complete({ key, fencingToken: tokenOf(outcome), result: '1', retentionMs: 60_000 })),
    ).toBe(1);
    expect(await statementsOf(() => store.get(key))).toBe(1);

    const other = `rt:${randomUUID()}`;
    const claimed = await store.claim(request(other));
    expect(await statementsOf(() => store.release(other, tokenOf(claimed)))).toBe(1);
  });

  it('a refused complete reads the current record with a second statement (a landed one sends one)', async () => {
    const key = `rt:${randomUUID()}`;
    const token = tokenOf(await store.claim(request(key)));
    expect(await statementsOf(() => store.complete({ key, fencingToken: token, result: '"first"', retentionMs: 60_000 }))).toBe(1);
    let error: unknown;
    expect(
      await statementsOf(() =>
        store.complete({ key, fencingToken: token, result: '"again"', retentionMs: 60_000 }).catch((caught) => {
          error = caught;
        }),
      ),
    ).toBe(2);
    expect(error).toMatchObject({ code: 'LEASE_LOST', current: { status: 'completed', result: '"first"' } });
  });

  it('claimMany of 10 and completeMany of 10 send one statement each', async () => {
    const keys = Array.from({ length: 10 }, () => `rt:${randomUUID()}`);
    let outcomes: ClaimOutcome[] = [];
    expect(await statementsOf(async () => (outcomes = await store.claimMany(keys.map(request))))).toBe(1);
    expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
    const completions = keys.map((key, i) => ({
      key,
      fencingToken: tokenOf(outcomes[i]!),
      result: `${i}`,
      retentionMs: 60_000,
    }));
    expect(await statementsOf(() => store.completeMany(completions))).toBe(1);
    // The duplicates of the whole batch: still one statement, every item answered.
    let again: ClaimOutcome[] = [];
    expect(await statementsOf(async () => (again = await store.claimMany(keys.map(request))))).toBe(1);
    expect(again.map((outcome) => outcome.record.result)).toEqual(keys.map((_, i) => `${i}`));
  });

  it('empty batches send nothing', async () => {
    expect(await statementsOf(() => store.claimMany([]))).toBe(0);
    expect(await statementsOf(() => store.completeMany([]))).toBe(0);
  });

  it('sends no statement names by default (PgBouncer transaction mode), and named ones when asked', async () => {
    const key = `rt:${randomUUID()}`;
    const before = client.sent.length;
    const claimed = await store.claim(request(key));
    await store.complete({ key, fencingToken: tokenOf(claimed), result: '"u"', retentionMs: 60_000 });
    const sent = client.sent.slice(before);
    expect(sent.map((config) => config.name)).toEqual([undefined, undefined]);
    // Unprepared, the completion calls the function that holds its UPDATE (cheap to plan each time).
    expect(sent[1]!.text).toMatch(/^SELECT \* FROM "[^"]+"\."idemkit_records_complete_one"\(/);
    expect((await store.get(key))?.result).toBe('"u"');

    const single = await pool.connect();
    try {
      const named = counting(single);
      const prepared = new PostgresStore({ client: named, schema, preparedStatements: true });
      // Twice on one connection: the second use runs the statement prepared by the first.
      for (let i = 0; i < 2; i++) {
        const key = `rt:${randomUUID()}`;
        const [outcome] = await prepared.claimMany([request(key)]);
        await prepared.complete({ key, fencingToken: tokenOf(outcome!), result: '"p"', retentionMs: 60_000 });
        expect((await prepared.claim(request(key))).record.result).toBe('"p"');
      }
      // A request with one identity, alone or as a batch of one, goes to the single claim function;
      // prepared, the completion is the plain UPDATE.
      expect(named.sent.filter((config) => config.name?.startsWith('idemkit_completeOne_')).every((config) => config.text.startsWith('UPDATE'))).toBe(true);
      const names = named.sent.map((config) => config.name);
      expect(names.every((name) => /^idemkit_(claimOne|completeOne)_[0-9a-f]{16}$/.test(name ?? ''))).toBe(true);
      expect(new Set(names).size).toBe(2);
      // Two requests go to the batch function, in one statement.
      await prepared.claimMany([request(`rt:${randomUUID()}`), request(`rt:${randomUUID()}`)]);
      expect(named.sent.at(-1)!.name).toMatch(/^idemkit_claim_[0-9a-f]{16}$/);
      expect(named.sent).toHaveLength(names.length + 1);
    } finally {
      single.release();
    }
  });
});
