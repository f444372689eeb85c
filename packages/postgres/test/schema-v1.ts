import { readFile } from 'node:fs/promises';
import type { PgQueryable } from '../src/index.js';
import { schema } from './helpers.js';

// The previous release (schema 1: one row per key, primary key (key), no owner column), for
// the tests that upgrade from it.

/** Retention of the seeded rows. */
export const V1_RETENTION = 60_000;

/** The previous release's shipped sql/schema.sql, for `table` in this run's schema. */
export async function schemaV1(table: string): Promise<string> {
  const shipped = await readFile(new URL('./fixtures/schema-v1.sql', import.meta.url), 'utf8');
  return shipped.replaceAll('"public".', `"${schema}".`).replaceAll('idemkit_records', table);
}

/**
 * Rows as the previous release wrote them: a completed key with a result, a claim in progress,
 * and a windowed key (a stateWindow) completed at t = 1 000. Returns the tokens it used.
 */
export async function seedV1(pool: PgQueryable, table: string, now: number): Promise<{ done: number; running: number; windowed: number }> {
  const insert = `INSERT INTO "${schema}"."${table}"
    (key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at)
    VALUES ($1, $2, nextval('"${schema}"."${table}_fencing_token_seq"'), $3, $4, $5, $6, $7, $8)
    RETURNING fencing_token`;
  const token = async (values: unknown[]) =>
    Number(((await pool.query({ text: insert, values })).rows[0] as { fencing_token: string }).fencing_token);
  return {
    done: await token(['done', 'completed', now + 1_000, now + V1_RETENTION, 'fp-1', '"first run"', null, now]),
    running: await token(['running', 'in_progress', now + 10_000, now + V1_RETENTION, null, null, null, now]),
    windowed: await token(['windowed', 'completed', now + 1_000, now + V1_RETENTION, null, '1', 1_000, now]),
  };
}

