import { assertPositiveInteger, IdempotencyStoreError } from '@idemkit/core';
import { STORE_NAME, toStoreError } from './errors.js';
import { SCHEMA_MARK, SCHEMA_VERSION, schemaSql, type ResolvedNames } from './schema.js';
import { migrationQuery, schemaMarkQuery } from './sql.js';
import type { MigrateOptions, PgQueryable } from './types.js';

/** How long a migration waits for another process migrating the same schema. */
const MIGRATION_WAIT_MS = 60_000;

// Failures of one attempt that a later attempt gets past: a DDL lock request that timed out
// (55P03), a deadlock or serialization failure (40P01, 40001), a catalog row another session
// wrote meanwhile (23505 from a concurrent CREATE … IF NOT EXISTS outside idemkit's lock; XX000
// "tuple concurrently updated"), and the attempt's connection terminated by the server (57P01:
// pg_terminate_backend, a failover), whose transaction rolled back whole — a pool hands the next
// attempt another connection. A server that cannot be reached at all still fails at once.
const TRANSIENT = new Set(['55P03', '40P01', '40001', '23505', 'XX000', '57P01']);

/**
 * Brings the schema to this release's shape, cheaply when it already is: a cold-start burst of
 * processes that all call this costs each one catalog read and no lock.
 *
 * Otherwise one transaction waits for any other migration of the schema (an advisory lock in a
 * lock space claims never use), then runs the idempotent DDL with a short `lock_timeout`; an
 * attempt that times out on a lock, deadlocks or collides with a concurrent catalog change is
 * rolled back and retried after a jittered pause.
 */
export async function migrateSchema(client: PgQueryable, names: ResolvedNames, options: MigrateOptions = {}): Promise<void> {
  const lockTimeoutMs = options.lockTimeoutMs ?? 1_000;
  const attempts = options.attempts ?? 10;
  assertPositiveInteger('lockTimeoutMs', lockTimeoutMs, 'milliseconds');
  assertPositiveInteger('attempts', attempts, 'attempts');
  const context = { operation: 'migrate', table: names.qualifiedTable };
  const text = migrationQuery(schemaSql(names), names.migrationLock, MIGRATION_WAIT_MS, lockTimeoutMs);
  for (let attempt = 1; ; attempt++) {
    try {
      if (await isCurrent(client, names)) return;
      // No bind values: sent as one simple query, which runs its statements in one implicit transaction.
      await client.query({ text });
      return;
    } catch (error) {
      if (attempt >= attempts || !TRANSIENT.has(sqlState(error) ?? '')) throw toStoreError(error, context);
      options.onRetry?.(error as Error, attempt);
    }
    await pause(attempt);
  }
}

/**
 * Whether every function of the schema carries this release's mark (written last by the DDL, so
 * the whole schema committed). A schema 2 made before the single claim and completion functions
 * existed lacks their marks, so the DDL runs and adds them. A mark from a newer release on the
 * claim function is an error: running this release's DDL would take the schema back.
 */
async function isCurrent(client: PgQueryable, names: ResolvedNames): Promise<boolean> {
  const { rows } = await client.query({ text: schemaMarkQuery, values: [names.schema, names.markedFunctions] });
  const marks = new Map((rows as Array<{ name: string; mark: string | null }>).map((row) => [row.name, row.mark ?? undefined]));
  const mark = marks.get(names.claimFunction);
  const version = Number(/^idemkit schema (\d+)$/.exec(mark ?? '')?.[1] ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new IdempotencyStoreError(
      STORE_NAME,
      `${names.qualifiedTable} has idemkit schema ${version}, newer than this release's ${SCHEMA_VERSION}: ` +
        'upgrade @idemkit/postgres here too (migrate() never takes a schema back)',
      { retryable: false },
    );
  }
  return names.markedFunctions.every((name) => marks.get(name) === SCHEMA_MARK);
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** 50 ms doubling to 1 s, jittered so retrying processes spread out. */
function pause(attempt: number): Promise<void> {
  const ceiling = Math.min(1_000, 50 * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, ceiling / 2 + Math.random() * (ceiling / 2)));
}
