import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { PostgresStore } from '../src/index.js';

// One schema per test run, made here and dropped here: tests never touch anything else.

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { url: string; schema: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `@idemkit/postgres tests need PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} (set DATABASE_URL to use another). ` +
        'On the dev machine start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
      { cause: error },
    );
  }
  const schema = `idemkit_test_${randomBytes(6).toString('hex')}`;
  try {
    await new PostgresStore({ client, schema }).migrate();
  } finally {
    await client.end();
  }
  project.provide('postgres', { url, schema });

  return async () => {
    const teardown = new pg.Client({ connectionString: url });
    await teardown.connect();
    try {
      await teardown.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await teardown.end();
    }
  };
}
