import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// Where the servers are, the same variables the package tests read, so one environment serves both.

/** The machine's standalone Redis. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The PostgreSQL database the benches and the fault harness use (each run in its own schema). */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The monorepo root: child processes run from here so tsx finds the tsconfig paths to package sources. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A name for this run's schema, key prefix and tables: nothing it creates can collide with another run. */
export function runId(label: string): string {
  return `${label}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

/** The URL with its password masked, for messages. */
export function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}
