import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { schema, testPool } from './helpers.js';

// Behaviour the conformance suite leaves open, pinned down for Postgres.

const pool = testPool({ max: 2 });
afterAll(() => pool.end());

const RETENTION = 60_000;

describe('PostgresStore records', () => {
  it('keeps a fractional window anchor exactly (event times in fractional epoch seconds)', async () => {
    const store = new PostgresStore({ client: pool, schema });
    const key = `rec:${randomUUID()}`;
    const at = 1_700_000_000_123.457;
    const outcome = await store.claim({ key, leaseMs: 1_000, retentionMs: RETENTION, window: { at, windowMs: 500 } });
    expect(outcome.record.windowAnchor).toBe(at);
    expect((await store.get(key))?.windowAnchor).toBe(at);
  });

  it('reads a fractional clock in whole milliseconds', async () => {
    const store = new PostgresStore({ client: pool, schema, clock: () => 1_700_000_000_000.9 });
    const outcome = await store.claim({ key: `rec:${randomUUID()}`, leaseMs: 1_000, retentionMs: RETENTION });
    expect(outcome.record).toMatchObject({ claimedAt: 1_700_000_000_000, leaseExpiresAt: 1_700_000_001_000 });
  });

  it('a repeated key in a batch: each request is judged after the earlier ones, against the occurrences they left', async () => {
    const clock = manualClock();
    const store = new PostgresStore({ client: pool, schema, clock: clock.now });
    const key = `rec:${randomUUID()}`;
    const windowed = (at: number) => ({ key, leaseMs: 1_000, retentionMs: RETENTION, window: { at, windowMs: 500 } });
    const first = await store.claim(windowed(1_000));
    await store.complete({ key, fencingToken: first.record.fencingToken, result: '"1000"', retentionMs: RETENTION });

    const outcomes = await store.claimMany([windowed(1_400), windowed(1_500), windowed(1_600), windowed(600)]);
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual([false, true, false, false]);
    const winner = outcomes[1]!;
    // 1 400 meets the completed occurrence at 1 000; 1 600 meets the one the batch just claimed at 1 500.
    expect(outcomes[0]!.record).toMatchObject({ status: 'completed', windowAnchor: 1_000, result: '"1000"' });
    expect(outcomes[2]!.record).toMatchObject({ status: 'in_progress', fencingToken: winner.record.fencingToken, windowAnchor: 1_500 });
    expect(outcomes[3]!.record).toMatchObject({ status: 'completed', windowAnchor: 1_000 });
  });

  it('stores the empty string and no result apart', async () => {
    const store = new PostgresStore({ client: pool, schema });
    const [empty, none] = [`rec:${randomUUID()}`, `rec:${randomUUID()}`];
    const claims = await store.claimMany([empty, none].map((key) => ({ key, leaseMs: 1_000, retentionMs: RETENTION })));
    await store.completeMany([
      { key: empty, fencingToken: claims[0]!.record.fencingToken, result: '', retentionMs: RETENTION },
      { key: none, fencingToken: claims[1]!.record.fencingToken, retentionMs: RETENTION },
    ]);
    const { rows } = await pool.query<{ key: string; result: string | null }>(
      `SELECT key, result FROM "${schema}"."idemkit_records" WHERE key = ANY($1) ORDER BY key = $2 DESC`,
      [[empty, none], empty],
    );
    expect(rows.map((row) => row.result)).toEqual(['', null]);
  });
});
