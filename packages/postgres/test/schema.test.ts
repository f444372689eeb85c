import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, IdempotencyStoreError } from '@idemkit/core';
import { PostgresStore, schemaSql } from '../src/index.js';
import { resolveNames } from '../src/schema.js';
import { counting, rejection, schema, testPool, uniqueTable } from './helpers.js';

const pool = testPool({ max: 6 });
afterAll(() => pool.end());

const request = (key: string) => ({ key, leaseMs: 10_000, retentionMs: 60_000 });

/** `name type` of each column of a table in this run's schema, in order. */
async function columns(table: string): Promise<string[]> {
  const { rows } = await pool.query<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  return rows.map((row) => `${row.column_name} ${row.data_type}`);
}

/** The primary key's columns, in key order. */
async function primaryKey(table: string): Promise<string[]> {
  const { rows } = await pool.query<{ attname: string }>(
    `SELECT a.attname FROM pg_constraint AS c
     CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, n)
     JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
     WHERE c.conrelid = $1::regclass AND c.contype = 'p' ORDER BY k.n`,
    [`"${schema}"."${table}"`],
  );
  return rows.map((row) => row.attname);
}

describe('schema', () => {
  it('the shipped sql/schema.sql is exactly the DDL migrate() runs for the default names', async () => {
    const shipped = await readFile(new URL('../sql/schema.sql', import.meta.url), 'utf8');
    expect(shipped).toBe(schemaSql());
    expect(schemaSql({ schema: 'public', table: 'idemkit_records' })).toBe(shipped);
    expect(shipped).toContain('CREATE TABLE IF NOT EXISTS "public"."idemkit_records"');
  });

  it('the shipped DDL, renamed into this run’s schema, makes a table the store works with', async () => {
    const table = uniqueTable('from_file');
    // What a team running its own migrations does: apply the file (here with names swapped in).
    await pool.query(schemaSql({ schema, table }));
    const store = new PostgresStore({ client: pool, schema, table });
    const outcome = await store.claim(request('file:1'));
    expect(outcome.acquired).toBe(true);
  });

  it('migrate() is idempotent and survives cold starts racing to run it', async () => {
    const table = uniqueTable('migrated');
    const store = new PostgresStore({ client: pool, schema, table });
    await Promise.all(Array.from({ length: 5 }, () => store.migrate()));
    await store.migrate();
    expect(await columns(table)).toEqual([
      'key text',
      'status text',
      'fencing_token bigint',
      'lease_expires_at bigint',
      'expires_at bigint',
      'fingerprint text',
      'result text',
      'window_anchor double precision',
      'claimed_at bigint',
      'owner text',
    ]);
    expect(await primaryKey(table)).toEqual(['key', 'fencing_token']);
    expect(await columns(`${table}_versions`)).toEqual([
      'entity text',
      'applied text',
      'pending_version text',
      'pending_lease_expires_at bigint',
      'pending_claimed_at bigint',
      'pending_owner text',
      'fencing_token bigint',
      'expires_at bigint',
    ]);
    // Primary keys only: an index on expires_at would make every completion a non-HOT update.
    const indexes = await pool.query<{ indexname: string }>(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = ANY($2) ORDER BY indexname`,
      [schema, [table, `${table}_versions`]],
    );
    expect(indexes.rows.map((row) => row.indexname)).toEqual([`${table}_pkey`, `${table}_versions_pkey`]);
  });

  it('migrate() on a client inside your transaction commits with it and leaves its lock_timeout as it was', async () => {
    const table = uniqueTable('in_tx');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '7s'`);
      await PostgresStore.inTransaction(client, { schema, table }).migrate();
      expect((await client.query('SHOW lock_timeout')).rows[0]).toEqual({ lock_timeout: '7s' });
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect((await new PostgresStore({ client: pool, schema, table }).claim(request('in-tx:1'))).acquired).toBe(true);
  });

  it('migrate() creates a schema other than public', async () => {
    const own = `${schema}_own`;
    try {
      const store = new PostgresStore({ client: pool, schema: own, table: 'records' });
      await store.migrate();
      expect((await store.claim(request('own:1'))).acquired).toBe(true);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${own}" CASCADE`);
    }
  });

  it('migrate() whose connection the server terminates mid-attempt (57P01) tries again on another connection', async () => {
    // A schema of its own, so holding its migration lock keeps no other test's migration waiting.
    const own = `${schema}_cut`;
    const table = 'records';
    const { migrationLock } = resolveNames({ schema: own, table });
    const waiting = async (except?: number): Promise<number> => {
      for (;;) {
        const { rows } = await pool.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
           AND position($1 IN query) > 0 AND pid IS DISTINCT FROM $2`,
          [`pg_advisory_xact_lock(${migrationLock}::int8)`, except ?? null],
        );
        if (rows[0] !== undefined) return rows[0].pid;
      }
    };
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::int8)', [migrationLock]);
      const retried: unknown[] = [];
      const store = new PostgresStore({ client: pool, schema: own, table });
      const migrating = store.migrate({ onRetry: (error) => retried.push((error as { code?: unknown }).code) });
      // The first attempt waits for the lock; the server ends its connection (a failover, an operator).
      const first = await waiting();
      await pool.query('SELECT pg_terminate_backend($1)', [first]);
      // The second attempt, on another connection, waits for the same lock, then migrates. (Without
      // a retry, migrate() rejects instead, and that rejection fails the test at once.)
      await Promise.race([
        waiting(first),
        migrating.then(() => {
          throw new Error('migrate() settled while its lock was still held');
        }),
      ]);
      await holder.query('COMMIT');
      await migrating;
      expect(retried).toEqual(['57P01']);
      expect((await store.claim(request('cut:1'))).acquired).toBe(true);
    } finally {
      holder.release();
      await pool.query(`DROP SCHEMA IF EXISTS "${own}" CASCADE`);
    }
  });

  it('two 63-character table names sharing a prefix get distinct sequences and indexes', async () => {
    const prefix = uniqueTable('long').padEnd(50, 'x');
    const [a, b] = [`${prefix}${'a'.repeat(13)}`, `${prefix}${'b'.repeat(13)}`];
    expect(a).toHaveLength(63);
    const stores = [a, b].map((table) => new PostgresStore({ client: pool, schema, table }));
    for (const store of stores) await store.migrate();
    const { rows } = await pool.query<{ relname: string }>(
      `SELECT relname FROM pg_class JOIN pg_namespace ON pg_namespace.oid = relnamespace
       WHERE nspname = $1 AND relname LIKE $2 ORDER BY relname`,
      [schema, `${prefix.slice(0, 20)}%`],
    );
    // Per table: the table, its primary key, its sequence, its versions table and that table's primary key.
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(Buffer.byteLength(row.relname)).toBeLessThanOrEqual(63);
    const functions = await pool.query<{ proname: string }>(
      `SELECT proname FROM pg_proc JOIN pg_namespace ON pg_namespace.oid = pronamespace WHERE nspname = $1 AND proname LIKE $2`,
      [schema, `${prefix.slice(0, 20)}%`],
    );
    // Per table: the claim function, the single claim and the single completion function, six distinct names in all.
    const names = new Set(functions.rows.map((row) => row.proname));
    expect(names.size).toBe(6);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect((await stores[0]!.claim(request('same-key'))).acquired).toBe(true);
    expect((await stores[1]!.claim(request('same-key'))).acquired).toBe(true);
  });
});

describe('identifiers', () => {
  const attacks = [
    'idemkit_records"; DROP TABLE users; --',
    'records; DROP TABLE users',
    'public.idemkit_records',
    "records' OR '1'='1",
    'Ünïcode',
    '1records',
    '',
    'x'.repeat(64),
  ];

  it('an injection attempt through the table name is refused before any SQL is sent', async () => {
    const client = counting(pool);
    for (const table of attacks) {
      const error = (() => {
        try {
          new PostgresStore({ client, schema, table });
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe('table');
    }
    expect(client.sent).toHaveLength(0);
    // And the victim the first attack names is unharmed: the pool still reaches the server.
    expect((await pool.query('SELECT 1 AS ok')).rows[0]).toEqual({ ok: 1 });
  });

  it('the schema name is checked the same way, in the store and in schemaSql()', () => {
    expect(() => new PostgresStore({ client: pool, schema: 'public"; DROP SCHEMA public; --' })).toThrow(
      expect.objectContaining({ field: 'schema' }),
    );
    expect(() => schemaSql({ table: 'a-b' })).toThrow(expect.objectContaining({ field: 'table' }));
  });

  it('names are quoted, so mixed case and reserved words are kept as written', async () => {
    for (const table of [uniqueTable('MixedCase'), `select_${uniqueTable('t')}`]) {
      const store = new PostgresStore({ client: pool, schema, table });
      await store.migrate();
      expect((await store.claim(request('quoted:1'))).acquired).toBe(true);
      const { rowCount } = await pool.query(
        'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2',
        [schema, table],
      );
      expect(rowCount).toBe(1);
    }
  });

  it('a store without a client is a ConfigError naming client', () => {
    expect(() => new PostgresStore({} as never)).toThrow(expect.objectContaining({ field: 'client' }));
  });

  it('a missing table is an IdempotencyStoreError that says to call migrate()', async () => {
    const store = new PostgresStore({ client: pool, schema, table: uniqueTable('absent') });
    for (const operation of [
      () => store.claim(request('missing:1')),
      () => store.get('missing:1'),
      () => store.complete({ key: 'missing:1', fencingToken: 1, retentionMs: 1_000 }),
      () => store.release('missing:1', 1),
    ]) {
      const error = await rejection(operation());
      expect(error).toBeInstanceOf(IdempotencyStoreError);
      expect((error as IdempotencyStoreError).message).toMatch(/\[postgres\].*migrate\(\).*sql\/schema\.sql/);
      expect((error as IdempotencyStoreError).retryable).toBe(false);
      // The claim calls the missing claim function; the others name the missing table.
      expect(['42P01', '42883']).toContain((error as { cause?: { code?: string } }).cause?.code);
    }
  });
});
