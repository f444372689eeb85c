import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
// The Redis package's test support owns the machine-Redis checks and prefix cleanup.
import { assertRedisReachable, deleteKeys } from '../../redis/test/support/machine-redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The machine's Redis: `REDIS_URL`, default `redis://127.0.0.1:6379`. */
    redisUrl: string;
    /** This run's key prefix on that Redis; its keys are deleted at teardown. */
    redisPrefix: string;
    /** The machine's PostgreSQL: `DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/test`. */
    databaseUrl: string;
    /** This run's schema in that database; dropped at teardown. */
    pgSchema: string;
  }
}

// What this file needs of `pg`, described by shape (the eventbridge package has no @types/pg).
interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
}
type PgModule = { default: { Client: new (config: { connectionString: string }) => PgClient } };

const START_HINT = 'Start both with `bash scripts/ensure-services.sh` from the repository root.';

/**
 * The wrapper is tested against the real Redis and PostgreSQL as well as memory. Checks both are
 * reachable (and says how to start them if not), hands each test file this run's Redis key prefix
 * and Postgres schema, and at teardown deletes exactly those (SCAN + UNLINK of the prefix, never
 * FLUSHALL; DROP SCHEMA of the run's schema only).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const suffix = randomBytes(5).toString('hex');
  const redisPrefix = `idemkit-eb-test-${suffix}`;
  const pgSchema = `idemkit_eb_test_${suffix}`;
  await assertRedisReachable(redisUrl, '@idemkit/eventbridge');
  await withPg(databaseUrl, async () => undefined);
  project.provide('redisUrl', redisUrl);
  project.provide('redisPrefix', redisPrefix);
  project.provide('databaseUrl', databaseUrl);
  project.provide('pgSchema', pgSchema);
  return async () => {
    try {
      await deleteKeys(redisUrl, redisPrefix);
    } finally {
      await withPg(databaseUrl, (client) => client.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`));
    }
  };
}

async function withPg(url: string, use: (client: PgClient) => Promise<unknown>): Promise<void> {
  const pg = (await import('pg' as string)) as PgModule;
  const client = new pg.default.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `@idemkit/eventbridge tests need PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} ` +
        `(set DATABASE_URL to use another): ${(error as Error).message}. ${START_HINT}`,
    );
  }
  try {
    await use(client);
  } finally {
    await client.end();
  }
}
