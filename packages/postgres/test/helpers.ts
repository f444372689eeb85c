import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { PgQueryable, PgQueryConfig } from '../src/index.js';

/** The server and the schema this run owns (made and dropped by global-setup.ts). */
export const { url, schema } = inject('postgres');

/** A pool on the test database; `max` connections, kept open so races run on warm connections. */
export function testPool(config: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({ connectionString: url, idleTimeoutMillis: 0, ...config });
}

/** Opens `count` connections at once and returns them to the pool, so a race does not wait on connects. */
export async function warm(pool: pg.Pool, count: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  clients.forEach((client) => client.release());
}

/** A random name usable as a table in this run's schema. */
export function uniqueTable(label: string): string {
  return `${label}_${randomBytes(4).toString('hex')}`;
}

/** Wraps a client so a test can see every statement the store sends (each call is one round trip). */
export function counting(client: PgQueryable): PgQueryable & { sent: PgQueryConfig[] } {
  const sent: PgQueryConfig[] = [];
  return {
    sent,
    query(config) {
      sent.push(config);
      return client.query(config);
    },
  };
}

/** Resolves with the error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}
