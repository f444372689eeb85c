import { createServer } from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { IdempotencyStoreError } from '@idemkit/core';
import { PostgresStore } from '../src/index.js';
import { counting, rejection, schema, testPool } from './helpers.js';

const pool = testPool({ max: 2 });
afterAll(() => pool.end());

const request = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

/** A local port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('PostgresStore errors', () => {
  it('connection refused becomes a retryable IdempotencyStoreError with the cause', async () => {
    const dead = testPool({ host: '127.0.0.1', port: await deadPort(), connectionString: undefined, max: 1 });
    try {
      const store = new PostgresStore({ client: dead, schema });
      const error = await rejection(store.claim(request(`dead:${randomUUID()}`)));
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect(error).toMatchObject({ store: 'postgres', code: 'STORE_ERROR', retryable: true });
      expect((error as Error).message).toMatch(/\[idemkit\] \[postgres\] cannot reach PostgreSQL during claim/);
      expect((error as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    } finally {
      await dead.end();
    }
  });

  it('a statement timeout becomes a retryable IdempotencyStoreError with the cause', async () => {
    const key = `timeout:${randomUUID()}`;
    const holder = await pool.connect();
    const impatient = testPool({ max: 1, statement_timeout: 1 });
    try {
      // Another connection holds the key's claim in an open transaction, so the claim below must wait.
      await holder.query('BEGIN');
      expect((await PostgresStore.inTransaction(holder, { schema }).claim(request(key))).acquired).toBe(true);
      const error = await rejection(new PostgresStore({ client: impatient, schema }).claim(request(key)));
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect(error).toMatchObject({ retryable: true });
      expect((error as Error).message).toMatch(/timed out.*during claim.*57014/);
      expect((error as { cause?: { code?: string } }).cause?.code).toBe('57014');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
      await impatient.end();
    }
  });

  it('a data error (a NUL byte in a key) is not retryable', async () => {
    const error = await rejection(new PostgresStore({ client: pool, schema }).claim(request('nul:\u0000')));
    expect(error).toBeInstanceOf(IdempotencyStoreError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^22/);
  });

  it('invalid requests are refused before any I/O, naming the field', async () => {
    const client = counting(pool);
    const store = new PostgresStore({ client, schema });
    await expect(store.claim({ key: '', leaseMs: 1, retentionMs: 1 })).rejects.toMatchObject({ field: 'key' });
    await expect(store.claimMany([request('ok'), { key: 'k', leaseMs: 0, retentionMs: 1 }])).rejects.toMatchObject({
      field: 'leaseMs',
    });
    const completion = { key: 'k', fencingToken: 1, result: '1', retentionMs: 1_000 };
    for (const [bad, field] of [
      [{ ...completion, key: '' }, 'key'],
      [{ ...completion, fencingToken: 0 }, 'fencingToken'],
      [{ ...completion, fencingToken: 1.5 }, 'fencingToken'],
      [{ ...completion, retentionMs: -1 }, 'retentionMs'],
      [{ ...completion, result: { not: 'text' } }, 'result'],
      [{ ...completion, also: [{ key: 'k', fencingToken: 2 }] }, 'also[0].key'],
    ] as const) {
      await expect(store.complete(bad as never)).rejects.toMatchObject({ name: 'ConfigError', field });
    }
    await expect(store.release('k', -1)).rejects.toMatchObject({ field: 'fencingToken' });
    await expect(store.extendLease({ key: 'k', fencingToken: 1, leaseMs: 0 })).rejects.toMatchObject({ field: 'leaseMs' });
    await expect(store.claimVersion({ entity: 'e', version: '', leaseMs: 1, retentionMs: 1 })).rejects.toMatchObject({
      field: 'version',
    });
    expect(client.sent).toHaveLength(0);
    // In a batch, an invalid completion fails its own item; the valid one still goes to the server.
    const key = `valid:${randomUUID()}`;
    const claimed = await store.claim(request(key));
    const outcomes = await store.completeMany([
      { ...completion, fencingToken: 0 },
      { key, fencingToken: claimed.record.fencingToken, result: '"v"', retentionMs: 60_000 },
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { field: 'fencingToken' } });
    expect(outcomes[1]).toEqual({ ok: true });
    expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"v"' });
  });
});
