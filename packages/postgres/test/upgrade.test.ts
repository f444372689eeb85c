import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { manualClock } from '@idemkit/core/testing';
import { PostgresStore, schemaSql } from '../src/index.js';
import { schema, testPool, uniqueTable } from './helpers.js';

// A table made by the previous release (schema 1: one row per key, primary key (key), no owner
// column) must come out of migrate() — or of sql/schema.sql applied by hand — in this release's
// shape with every record it held still deciding duplicates.

const pool = testPool({ max: 4 });
afterAll(() => pool.end());

const RETENTION = 60_000;

/** The previous release's shipped sql/schema.sql, for `table` in this run's schema. */
export async function schemaV1(table: string): Promise<string> {
  const shipped = await readFile(new URL('./fixtures/schema-v1.sql', import.meta.url), 'utf8');
  return shipped.replaceAll('"public".', `"${schema}".`).replaceAll('idemkit_records', table);
}

/**
 * Rows as the previous release wrote them: a completed key with a result, a claim in progress,
 * and a windowed key (a stateWindow) completed at t = 1 000. Returns the tokens it used.
 */
export async function seedV1(table: string, now: number): Promise<{ done: number; running: number; windowed: number }> {
  const insert = `INSERT INTO "${schema}"."${table}"
    (key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at)
    VALUES ($1, $2, nextval('"${schema}"."${table}_fencing_token_seq"'), $3, $4, $5, $6, $7, $8)
    RETURNING fencing_token`;
  const token = async (values: unknown[]) => Number((await pool.query(insert, values)).rows[0].fencing_token);
  return {
    done: await token(['done', 'completed', now + 1_000, now + RETENTION, 'fp-1', '"first run"', null, now]),
    running: await token(['running', 'in_progress', now + 10_000, now + RETENTION, null, null, null, now]),
    windowed: await token(['windowed', 'completed', now + 1_000, now + RETENTION, null, '1', 1_000, now]),
  };
}

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
      const seeded = await seedV1(table, clock.now());
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

      // The old records answer as before.
      expect(await store.claim({ key: 'done', leaseMs: 1_000, retentionMs: RETENTION })).toMatchObject({
        acquired: false,
        record: { status: 'completed', result: '"first run"', fingerprint: 'fp-1', fencingToken: seeded.done },
      });
      expect(await store.claim({ key: 'running', leaseMs: 1_000, retentionMs: RETENTION })).toMatchObject({
        acquired: false,
        record: { status: 'in_progress', fencingToken: seeded.running },
      });
      const window = (at: number) => ({ key: 'windowed', leaseMs: 1_000, retentionMs: RETENTION, window: { at, windowMs: 500 } });
      expect((await store.claim(window(1_200))).acquired).toBe(false);

      // New occurrences join the old one, with tokens past every old token; the old one is still remembered.
      const later = await store.claim(window(10_000));
      expect(later.acquired).toBe(true);
      expect(later.record.fencingToken).toBeGreaterThan(Math.max(...Object.values(seeded)));
      expect(await store.claim(window(1_100))).toMatchObject({ acquired: false, record: { windowAnchor: 1_000 } });

      // The old in-progress claim completes with its old token.
      await store.complete({ key: 'running', fencingToken: seeded.running, result: '"late"', retentionMs: RETENTION });
      expect(await store.get('running')).toMatchObject({ status: 'completed', result: '"late"' });

      // And upgrading again changes nothing.
      await upgrade(store, table);
      expect(await store.get('done')).toMatchObject({ status: 'completed', fencingToken: seeded.done });
    });
  }
});
