import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { PostgresStore, schemaSql } from '../src/index.js';
import { schema, testPool, uniqueTable } from './helpers.js';
import { V1_RETENTION, schemaV1, seedV1 } from './schema-v1.js';

// A table made by the previous release (schema 1: one row per key, primary key (key), no owner
// column) must come out of migrate() — or of sql/schema.sql applied by hand — in this release's
// shape with every record it held still deciding duplicates.

const pool = testPool({ max: 4 });
afterAll(() => pool.end());

const paths: Array<[string, (store: PostgresStore, table: string) => Promise<void>]> = [
  ['migrate()', (store) => store.migrate()],
  ['sql/schema.sql applied by hand', (_store, table) => pool.query(schemaSql({ schema, table })).then(() => undefined)],
];

describe('upgrading a table made by the previous release', () => {
  for (const [label, upgrade] of paths) {
    it(`${label} keeps every record deciding duplicates, and the table then holds occurrences`, async () => {
      const table = uniqueTable('v1');
      await pool.query(await schemaV1(table));
      const clock = manualClock();
      const seeded = await seedV1(pool, table, clock.now());
      const store = new PostgresStore({ client: pool, schema, table, clock: clock.now });

      await upgrade(store, table);

      const { rows } = await pool.query<{ columns: string[] }>(
        `SELECT array_agg(a.attname::text ORDER BY k.n) AS columns FROM pg_constraint AS c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k (attnum, n)
         JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
         WHERE c.conrelid = $1::regclass AND c.contype = 'p'`,
        [`"${schema}"."${table}"`],
      );
      expect(rows[0]!.columns).toEqual(['key', 'fencing_token']);
      // Schema 1's index on expires_at is gone.
      const indexes = await pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`, [schema, table]);
      expect(indexes.rows).toEqual([{ indexname: `${table}_pkey` }]);

      // The old records answer as before.
      expect(await store.claim({ key: 'done', leaseMs: 1_000, retentionMs: V1_RETENTION })).toMatchObject({
        acquired: false,
        record: { status: 'completed', result: '"first run"', fingerprint: 'fp-1', fencingToken: seeded.done },
      });
      expect(await store.claim({ key: 'running', leaseMs: 1_000, retentionMs: V1_RETENTION })).toMatchObject({
        acquired: false,
        record: { status: 'in_progress', fencingToken: seeded.running },
      });
      const window = (at: number) => ({ key: 'windowed', leaseMs: 1_000, retentionMs: V1_RETENTION, window: { at, windowMs: 500 } });
      expect((await store.claim(window(1_200))).acquired).toBe(false);

      // New occurrences join the old one, with tokens past every old token; the old one is still remembered.
      const later = await store.claim(window(10_000));
      expect(later.acquired).toBe(true);
      expect(later.record.fencingToken).toBeGreaterThan(Math.max(...Object.values(seeded)));
      expect(await store.claim(window(1_100))).toMatchObject({ acquired: false, record: { windowAnchor: 1_000 } });

      // The old in-progress claim completes with its old token.
      await store.complete({ key: 'running', fencingToken: seeded.running, result: '"late"', retentionMs: V1_RETENTION });
      expect(await store.get('running')).toMatchObject({ status: 'completed', result: '"late"' });

      // And upgrading again changes nothing.
      await upgrade(store, table);
      expect(await store.get('done')).toMatchObject({ status: 'completed', fencingToken: seeded.done });
    });
  }
});

// Within schema 2, the single claim and completion functions (`<table>_claim_one`,
// `<table>_complete_one`) came after the first schema-2 release. A table that release made lacks
// them: this release's migrate() adds them and keeps every record, and the earlier release's
// statements (the batch function, the plain completion UPDATE) keep working beside them.
describe('a schema 2 made before the single claim and completion functions', () => {
  it('migrate() adds them, and the records, the batch function and the plain completion carry on', async () => {
    const table = uniqueTable('v2_early');
    const clock = manualClock();
    const store = new PostgresStore({ client: pool, schema, table, clock: clock.now });
    const prepared = new PostgresStore({ client: pool, schema, table, clock: clock.now, preparedStatements: true });
    await store.migrate();
    const done = await store.claim({ key: 'done', leaseMs: 1_000, retentionMs: 60_000 });
    if (!done.acquired) throw new Error('the first claim was refused');
    await store.complete({ key: 'done', fencingToken: done.fencingToken, result: '"first run"', retentionMs: 60_000 });
    // What that release's DDL left: everything but the two functions.
    await pool.query(`DROP FUNCTION "${schema}"."${table}_claim_one", "${schema}"."${table}_complete_one"`);

    // Before migrate(): a single claim names the missing function and says what to do; a batch
    // (the one claim function that release had) still decides, and the plain UPDATE completes.
    const error = await store.claim({ key: 'done', leaseMs: 1_000, retentionMs: 60_000 }).then(
      () => undefined,
      (failure: unknown) => failure as Error & { retryable?: boolean },
    );
    expect(error?.message).toMatch(/migrate\(\)/);
    expect(error?.retryable).toBe(false);
    const [batched, fresh] = await store.claimMany([
      { key: 'done', leaseMs: 1_000, retentionMs: 60_000 },
      { key: 'fresh', leaseMs: 1_000, retentionMs: 60_000 },
    ]);
    expect(batched).toMatchObject({ acquired: false, record: { status: 'completed', result: '"first run"' } });
    if (!fresh!.acquired) throw new Error('the fresh key was refused');
    await prepared.complete({ key: 'fresh', fencingToken: fresh!.fencingToken, result: '"plain"', retentionMs: 60_000 });
    expect(await store.get('fresh')).toMatchObject({ status: 'completed', result: '"plain"' });

    await store.migrate();
    const marks = await pool.query<{ name: string; mark: string }>(
      `SELECT p.proname::text AS name, obj_description(p.oid, 'pg_proc') AS mark FROM pg_proc AS p
       JOIN pg_namespace AS n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname LIKE $2 ORDER BY 1`,
      [schema, `${table}_%`],
    );
    expect(marks.rows).toEqual([
      { name: `${table}_claim`, mark: 'idemkit schema 2' },
      { name: `${table}_claim_one`, mark: 'idemkit schema 2' },
      { name: `${table}_complete_one`, mark: 'idemkit schema 2' },
    ]);
    expect(await store.claim({ key: 'done', leaseMs: 1_000, retentionMs: 60_000 })).toMatchObject({
      acquired: false,
      record: { status: 'completed', result: '"first run"', fencingToken: done.fencingToken },
    });
    const later = await store.claim({ key: 'new', leaseMs: 1_000, retentionMs: 60_000 });
    if (!later.acquired) throw new Error('the new key was refused');
    expect(later.fencingToken).toBeGreaterThan(fresh!.fencingToken);
    await store.complete({ key: 'new', fencingToken: later.fencingToken, result: '"through the function"', retentionMs: 60_000 });
    expect(await store.get('new')).toMatchObject({ status: 'completed', result: '"through the function"' });
  });
});
