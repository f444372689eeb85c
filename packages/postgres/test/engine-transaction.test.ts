import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdempotencyEngine } from '@idemkit/core';
import { createBarrier } from '@idemkit/core/testing';
import { PostgresStore } from '../src/index.js';
import { schema, testPool, uniqueTable, warm } from './helpers.js';

// The engine's transactional path end to end: an IdempotencyEngine on PostgresStore.inTransaction,
// the claim and a business write in one transaction, under real failures — a constraint the write
// violates, and the connection killed (pg_terminate_backend) before COMMIT. Both outcomes are
// checked in the database: committed together, or rolled back together and run again on redelivery.

const pool = testPool({ max: 6 });
const orders = `"${schema}"."${uniqueTable('orders')}"`;
const autocommit = new PostgresStore({ client: pool, schema });
const keyOf = (id: string) => `idemkit:eventId:${id}`;

interface Order {
  id: string;
  lines: number[];
}

beforeAll(async () => {
  await warm(pool, 4);
  // A line must be positive: the constraint a bad delivery violates after its first line is written.
  await pool.query(`CREATE TABLE ${orders} (id text NOT NULL, line int NOT NULL, qty int NOT NULL CHECK (qty > 0), fencing_token bigint NOT NULL)`);
});
afterAll(() => pool.end());

/** One delivery as a consumer handles it: BEGIN, the engine on the transaction's connection, COMMIT or ROLLBACK. */
async function deliver(
  order: Order,
  hooks: { runs?: { count: number }; afterWrite?: (client: pg.PoolClient) => Promise<void> } = {},
): Promise<{ result?: string; error?: unknown }> {
  const client = await pool.connect();
  // A backend killed under a checked-out client emits 'error' on it; the failing query reports it too.
  client.on('error', () => undefined);
  let broken = false;
  try {
    await client.query('BEGIN');
    const engine = new IdempotencyEngine<Order, string>({
      store: autocommit.withClient(client),
      strategy: { strategy: 'eventId' },
      retentionMs: 60_000,
    });
    const result = await engine.run(order, async (event, claim) => {
      if (hooks.runs) hooks.runs.count++;
      for (const [line, qty] of event.lines.entries()) {
        await client.query(`INSERT INTO ${orders} (id, line, qty, fencing_token) VALUES ($1, $2, $3, $4)`, [
          event.id,
          line,
          qty,
          claim?.fencingToken ?? 0,
        ]);
        if (line === 0) await hooks.afterWrite?.(client);
      }
      return `placed ${event.id}`;
    });
    await client.query('COMMIT');
    return { result };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    return { error };
  } finally {
    client.release(broken);
  }
}

const linesOf = async (id: string) =>
  (await pool.query<{ line: number }>(`SELECT line FROM ${orders} WHERE id = $1 ORDER BY line`, [id])).rows.map((row) => row.line);
const claimRows = async (id: string) =>
  (await pool.query(`SELECT status FROM ${autocommit.qualifiedTable} WHERE key = $1`, [keyOf(id)])).rows;

describe('IdempotencyEngine on PostgresStore.inTransaction', () => {
  it('a business write that violates a constraint rolls the claim back with the lines already written; the fixed redelivery commits both', async () => {
    const id = `order-${randomUUID()}`;
    const runs = { count: 0 };
    const failed = await deliver({ id, lines: [2, -1] }, { runs });
    expect(failed.error).toMatchObject({ code: '23514' });
    expect(await linesOf(id)).toEqual([]);
    expect(await claimRows(id)).toEqual([]);

    const fixed = await deliver({ id, lines: [2, 1] }, { runs });
    expect(fixed.result).toBe(`placed ${id}`);
    expect(await linesOf(id)).toEqual([0, 1]);
    expect(await autocommit.get(keyOf(id))).toMatchObject({ status: 'completed', result: JSON.stringify(`placed ${id}`) });

    // A later duplicate is answered from the committed record without running the handler.
    const duplicate = await deliver({ id, lines: [2, 1] }, { runs });
    expect(duplicate.result).toBe(`placed ${id}`);
    expect(runs.count).toBe(2);
    expect(await linesOf(id)).toEqual([0, 1]);
  });

  it('a connection killed after the claim and the first write loses both; the redelivery runs once and commits', async () => {
    const id = `order-${randomUUID()}`;
    const runs = { count: 0 };
    const killed = await deliver(
      { id, lines: [3, 4] },
      {
        runs,
        afterWrite: async (client) => {
          const pid = (client as unknown as { processID: number }).processID;
          // Inside the transaction the claim is there, in progress.
          expect((await client.query(`SELECT status FROM ${autocommit.qualifiedTable} WHERE key = $1`, [keyOf(id)])).rows).toEqual([
            { status: 'in_progress' },
          ]);
          await pool.query('SELECT pg_terminate_backend($1)', [pid]);
        },
      },
    );
    expect(killed.error).toBeDefined();
    expect(killed.result).toBeUndefined();
    expect(await linesOf(id)).toEqual([]);
    expect(await claimRows(id)).toEqual([]);

    const again = await deliver({ id, lines: [3, 4] }, { runs });
    expect(again.result).toBe(`placed ${id}`);
    expect(runs.count).toBe(2);
    expect(await linesOf(id)).toEqual([0, 1]);
    expect(await claimRows(id)).toEqual([{ status: 'completed' }]);
  });

  it('a completion that cannot be recorded fails the call instead of committing a half-done event', async () => {
    const id = `order-${randomUUID()}`;
    const result = await deliver(
      { id, lines: [1, 1] },
      {
        afterWrite: async (client) => {
          // A statement that fails aborts the transaction; the engine's completion then fails.
          await client.query('SELECT 1/0').catch(() => undefined);
        },
      },
    );
    expect(result.error).toBeDefined();
    expect(await linesOf(id)).toEqual([]);
    expect(await claimRows(id)).toEqual([]);
  });

  it('two concurrent deliveries of one event: the second waits for the first transaction, then is its duplicate', async () => {
    const id = `order-${randomUUID()}`;
    const runs = { count: 0 };
    const barrier = createBarrier(2);
    const [a, b] = await Promise.all([0, 1].map(async () => {
      await barrier.wait();
      return deliver({ id, lines: [5] }, { runs });
    }));
    expect(runs.count).toBe(1);
    // The second claim blocked on the key's lock until the first transaction committed, then met its record.
    expect([a, b]).toEqual([{ result: `placed ${id}` }, { result: `placed ${id}` }]);
    expect(await linesOf(id)).toEqual([0]);
    expect(await claimRows(id)).toEqual([{ status: 'completed' }]);
  });
});
