import { PostgresStore } from '@idemkit/postgres';
import { DATABASE_URL, runId } from '../lib/env.js';
import { newPool, type Pool } from '../lib/pg.js';
import { countPg } from '../lib/round-trips.js';
import type { StorageFigure } from '../lib/storage.js';
import { idemkitContender } from './idemkit.js';
import { rawContender, type RawClaim, type RawCommands } from './raw.js';
import { LEASE_MS, RETENTION_SECONDS, type StoreBench } from './types.js';

// Postgres has no Powertools persistence layer, so idemkit is compared with the raw statements only.
// Both send named (prepared) statements, parsed and planned once per connection: what a
// latency-minded deployment does. idemkit's default (`preparedStatements: false`, safe behind
// PgBouncer in transaction mode) is measured too, as its own row.

/** Connections per pool: the same for every contender; the hot-key scenario queues on it alike. */
const POOL_SIZE = 10;
/** Completed keys in each table before the first scenario: a table in use holds its retention's worth. */
const SEED_KEYS = 10_000;

/** idemkit (PostgresStore on a pg Pool, prepared and not) and the raw statements, in this run's own schema. */
export async function postgresBench(): Promise<StoreBench> {
  const schema = runId('bench');
  const pool = (label: string) =>
    newPool({ connectionString: DATABASE_URL, max: POOL_SIZE, application_name: `${schema}_${label}` });
  const idemkitPool = pool('idemkit');
  const unpreparedPool = pool('idemkit_unprepared');
  const batchCompletionPool = pool('idemkit_batch');
  const rawPool = pool('raw');
  const names = { schema, table: 'idemkit_records' };
  const store = new PostgresStore({ client: idemkitPool, ...names, preparedStatements: true });
  await store.migrate();
  await rawPool.query(
    `CREATE TABLE "${schema}".raw_records (key text COLLATE "C" PRIMARY KEY, status text NOT NULL, result text, expires_at bigint NOT NULL)`,
  );
  const { rows } = await rawPool.query<{ server_version: string }>('SHOW server_version');
  const raw = rawPostgresCommands(rawPool, `"${schema}".raw_records`);
  await seed(store, raw);
  const contenders = [
    idemkitContender('postgres', store, countPg(idemkitPool)),
    idemkitContender(
      'postgres',
      new PostgresStore({ client: unpreparedPool, ...names }),
      countPg(unpreparedPool),
      'idemkit, preparedStatements: false',
    ),
    idemkitContender(
      'postgres',
      new PostgresStore({ client: batchCompletionPool, ...names, preparedStatements: true }),
      countPg(batchCompletionPool),
      "idemkit, completion: 'batch'",
      'batch',
    ),
    rawContender('postgres', raw, countPg(rawPool)),
  ];
  return {
    store: 'postgres',
    server: `PostgreSQL ${rows[0]?.server_version ?? 'unknown'}`,
    contenders,
    // Autovacuum analyzes a table as it grows; a bench minutes long would otherwise run on the
    // statistics of a table far smaller than it has become, and a prepared statement's cached
    // generic plan made from them can scan the whole table (see docs/benchmarks.md).
    async beforeScenario() {
      await rawPool.query(`ANALYZE "${schema}".idemkit_records, "${schema}".raw_records`);
    },
    storage: async () => [
      await tableBytesPerRow(rawPool, 'idemkit', `"${schema}".idemkit_records`, 'key'),
      await tableBytesPerRow(rawPool, 'raw', `"${schema}".raw_records`, 'key'),
    ],
    async close() {
      await rawPool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([idemkitPool.end(), unpreparedPool.end(), batchCompletionPool.end(), rawPool.end()]);
    },
  };
}

/** Fills both tables with completed keys, through each one's own batch calls, before anything is measured. */
async function seed(store: PostgresStore, raw: RawCommands): Promise<void> {
  const retentionMs = RETENTION_SECONDS * 1000;
  for (let start = 0; start < SEED_KEYS; start += 500) {
    const keys = Array.from({ length: 500 }, (_, i) => `seed:${start + i}`);
    const claims = await store.claimMany(keys.map((key) => ({ key, leaseMs: LEASE_MS, retentionMs })));
    await store.completeMany(
      claims.flatMap((claim, i) => (claim.acquired ? [{ key: keys[i]!, fencingToken: claim.fencingToken, result: '{"ok":true}', retentionMs }] : [])),
    );
    await raw.claimMany(keys);
    await raw.completeMany(keys.map((key) => ({ key, result: '{"ok":true}' })));
  }
}

/** Rows a table is brought to before it is measured. */
const STORAGE_ROWS = 100_000;

/**
 * Table + index bytes per row (`pg_total_relation_size`, vacuumed) once the table holds at least
 * STORAGE_ROWS rows. The run leaves fewer, so it is topped up with copies of its own completed
 * rows, each under a key of the same length (the last 12 characters replaced by a counter).
 */
async function tableBytesPerRow(pool: Pool, contender: string, table: string, keyColumn: string): Promise<StorageFigure> {
  const count = async () => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
  const missing = STORAGE_ROWS - (await count());
  if (missing > 0) {
    const [schema, name] = table.split('.').map((part) => part.replace(/"/g, ''));
    const { rows } = await pool.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
      [schema, name],
    );
    const others = rows.map((row) => row.column_name).filter((column) => column !== keyColumn);
    await pool.query(
      `INSERT INTO ${table} (${keyColumn}, ${others.join(', ')})
       SELECT left(s.${keyColumn}, length(s.${keyColumn}) - 12) || lpad(to_hex(g * 1000 + s.i), 12, '0'), ${others.map((column) => `s.${column}`).join(', ')}
       FROM (SELECT *, row_number() OVER () AS i FROM ${table} WHERE status = 'completed' LIMIT 1000) s, generate_series(1, $1::int) g
       ON CONFLICT DO NOTHING`,
      [Math.ceil(missing / 1000)],
    );
  }
  await pool.query(`VACUUM ANALYZE ${table}`);
  const rowsNow = await count();
  const { rows } = await pool.query<{ bytes: string }>(`SELECT pg_total_relation_size($1::regclass) AS bytes`, [table]);
  return { contender, sampled: rowsNow, bytesPerKey: Number(rows[0]!.bytes) / rowsNow, method: 'pg_total_relation_size ÷ rows' };
}

interface ClaimRow {
  key: string;
  inserted: boolean;
  status: string;
  result: string | null;
}

/**
 * One `INSERT … ON CONFLICT DO UPDATE … RETURNING` claims or returns the existing row (a no-op
 * update locks the current row, so a concurrent insert is never missed); one `UPDATE` completes.
 */
function rawPostgresCommands(pool: Pool, table: string): RawCommands {
  const expiresAt = () => Date.now() + RETENTION_SECONDS * 1000;
  const returning = 'RETURNING t.key, (xmax = 0) AS inserted, t.status, t.result';
  const claimOne = `INSERT INTO ${table} AS t (key, status, expires_at) VALUES ($1, 'in_progress', $2)
    ON CONFLICT (key) DO UPDATE SET status = t.status ${returning}`;
  const claimBatch = `INSERT INTO ${table} AS t (key, status, expires_at)
    SELECT k, 'in_progress', $2 FROM unnest($1::text[]) AS k
    ON CONFLICT (key) DO UPDATE SET status = t.status ${returning}`;
  const completeBatch = `UPDATE ${table} AS t SET status = 'completed', result = r.result, expires_at = $3
    FROM unnest($1::text[], $2::text[]) AS r (key, result) WHERE t.key = r.key`;
  const completeOne = `UPDATE ${table} SET status = 'completed', result = $2, expires_at = $3 WHERE key = $1`;
  const decode = (row: ClaimRow | undefined): RawClaim =>
    row?.inserted ? { acquired: true } : { acquired: false, completed: row?.status === 'completed', result: row?.result ?? undefined };
  const run = <R>(name: string, text: string, values: unknown[]) => pool.query<R>({ name, text, values });
  return {
    claim: async (key) => decode((await run<ClaimRow>('raw_claim', claimOne, [key, expiresAt()])).rows[0]),
    complete: async (key, result) => void (await run('raw_complete', completeOne, [key, result, expiresAt()])),
    release: async (key) => void (await run('raw_release', `DELETE FROM ${table} WHERE key = $1`, [key])),
    async claimMany(keys) {
      const { rows } = await run<ClaimRow>('raw_claim_many', claimBatch, [keys, expiresAt()]);
      const byKey = new Map(rows.map((row) => [row.key, row]));
      return keys.map((key) => decode(byKey.get(key)));
    },
    async completeMany(entries) {
      const values = [entries.map((entry) => entry.key), entries.map((entry) => entry.result), expiresAt()];
      await run('raw_complete_many', completeBatch, values);
    },
  };
}
