import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimOutcome } from '@idemkit/core';
import { createBarrier } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { schema, testPool, uniqueTable, warm } from './helpers.js';

// Transaction mode: the store runs on a client the test has put inside BEGIN, so the claim
// and the business write commit or roll back together.

const CHAINED = 10;
const pool = testPool({ max: CHAINED + 3 });
const orders = `"${schema}"."${uniqueTable('orders')}"`;
const autocommit = new PostgresStore({ client: pool, schema });
const request = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });
const tokenOf = (outcome: ClaimOutcome) => (outcome.acquired ? outcome.fencingToken : Number.NaN);

beforeAll(async () => {
  await warm(pool, CHAINED + 1);
  await pool.query(`CREATE TABLE ${orders} (id text PRIMARY KEY, fencing_token bigint NOT NULL)`);
});
afterAll(() => pool.end());

/** Runs `body` on a fresh client inside BEGIN, then COMMIT or ROLLBACK as told. */
async function inTransaction<T>(end: 'COMMIT' | 'ROLLBACK', body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const value = await body(client);
    await client.query(end);
    return value;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

const orderExists = async (id: string) => (await pool.query(`SELECT 1 FROM ${orders} WHERE id = $1`, [id])).rowCount === 1;

/** Waits (by asking the server, not by sleeping) until a session waits for the claim lock on `key`. */
async function claimerWaitsOn(key: string): Promise<void> {
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks
       WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2
         AND objid::text::bigint = (hashtext($1)::bigint & 4294967295)`,
      [key],
    );
    if (rows[0]!.n > 0) return;
  }
}

describe('PostgresStore in a transaction', () => {
  it('ROLLBACK undoes the claim and the business write together', async () => {
    const key = `tx:${randomUUID()}`;
    const token = await inTransaction('ROLLBACK', async (client) => {
      const store = PostgresStore.inTransaction(client, { schema });
      const outcome = await store.claim(request(key));
      await client.query(`INSERT INTO ${orders} (id, fencing_token) VALUES ($1, $2)`, [key, tokenOf(outcome)]);
      // Inside the transaction both are there.
      expect(await store.get(key)).toMatchObject({ status: 'in_progress' });
      return tokenOf(outcome);
    });
    expect(token).toBeGreaterThan(0);
    expect(await autocommit.get(key)).toBeUndefined();
    expect(await orderExists(key)).toBe(false);
    // The key is free again and the next claim gets a larger token.
    const again = await autocommit.claim(request(key));
    expect(tokenOf(again)).toBeGreaterThan(token);
  });

  it('COMMIT keeps the completed record and the business write together', async () => {
    const key = `tx:${randomUUID()}`;
    await inTransaction('COMMIT', async (client) => {
      const store = autocommit.withClient(client);
      const outcome = await store.claim(request(key));
      await client.query(`INSERT INTO ${orders} (id, fencing_token) VALUES ($1, $2)`, [key, tokenOf(outcome)]);
      await store.complete({ key, fencingToken: tokenOf(outcome), result: '{"order":"placed"}', retentionMs: 60_000 });
    });
    expect(await autocommit.get(key)).toMatchObject({ status: 'completed', result: '{"order":"placed"}' });
    expect(await orderExists(key)).toBe(true);
  });

  it('a concurrent claimer waits for the transaction, then sees what it committed', async () => {
    const key = `tx:${randomUUID()}`;
    let waiting!: Promise<ClaimOutcome>;
    await inTransaction('COMMIT', async (client) => {
      const store = PostgresStore.inTransaction(client, { schema });
      const token = tokenOf(await store.claim(request(key)));
      waiting = autocommit.claim(request(key));
      await claimerWaitsOn(key);
      await store.complete({ key, fencingToken: token, result: '"done"', retentionMs: 60_000 });
    });
    expect(await waiting).toMatchObject({ acquired: false, record: { status: 'completed', result: '"done"' } });
  });

  it(`fencing tokens increase in the order ${CHAINED} blocked transactional claimers acquire, across rollbacks`, async () => {
    // All claim at once inside their own transactions: one acquires, the rest wait on it.
    // Each winner rolls back, which lets exactly one waiter in. A claimer that drew its token
    // before waiting would now insert a token smaller than one already handed out.
    const key = `tx:${randomUUID()}`;
    const clients = await Promise.all(Array.from({ length: CHAINED }, () => pool.connect()));
    try {
      await Promise.all(clients.map((client) => client.query('BEGIN')));
      const barrier = createBarrier(CHAINED);
      const pending = new Map(
        clients.map((client, i) => [
          i,
          (async () => {
            await barrier.wait();
            return { i, outcome: await PostgresStore.inTransaction(client, { schema }).claim(request(key)) };
          })(),
        ]),
      );
      const tokens: number[] = [];
      while (pending.size > 0) {
        const { i, outcome } = await Promise.race(pending.values());
        pending.delete(i);
        expect(outcome.acquired).toBe(true);
        tokens.push(tokenOf(outcome));
        await clients[i]!.query('ROLLBACK');
      }
      expect(tokens).toHaveLength(CHAINED);
      for (let n = 1; n < tokens.length; n++) expect(tokens[n]).toBeGreaterThan(tokens[n - 1]!);
    } finally {
      await Promise.all(clients.map((client) => client.query('ROLLBACK').catch(() => undefined)));
      clients.forEach((client) => client.release());
    }
  });
});

describe('PostgresStore transaction mode and the engine', () => {
  it('marks stores on a transaction client as transactional, and pool stores as not', () => {
    expect(autocommit.transactional).toBe(false);
    expect(PostgresStore.inTransaction(pool).transactional).toBe(true);
    expect(autocommit.withClient(pool).transactional).toBe(true);
  });

  it('a completion that fails inside the transaction fails the call, and ROLLBACK leaves nothing', async () => {
    const { IdempotencyEngine, IdempotencyStoreError } = await import('@idemkit/core');
    const id = `tx-fail-${randomUUID()}`;
    const error = await inTransaction('COMMIT', async (client) => {
      const engine = new IdempotencyEngine({ store: autocommit.withClient(client), strategy: { strategy: 'eventId' } });
      return engine.run({ id }, async () => {
        await client.query(`INSERT INTO ${orders} (id, fencing_token) VALUES ($1, 1)`, [id]);
        // Abort the transaction the way a failed statement would, so the completion fails.
        await client.query('SELECT 1/0').catch(() => undefined);
        return 'written';
      });
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(await orderExists(id)).toBe(false);
    expect(await autocommit.get(`idemkit:eventId:${id}`)).toBeUndefined();
  });
});
