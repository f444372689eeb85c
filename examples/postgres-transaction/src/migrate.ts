// Creates idemkit's table and `interactions` in `schema`. Run it once per deployment:
//   DATABASE_URL=postgres://… npx tsx src/migrate.ts [schema]
// or copy sql/interactions.sql and @idemkit/postgres/sql/schema.sql into your own migrations.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresStore } from '@idemkit/postgres';

export async function migrate(pool: pg.Pool, schema = 'public'): Promise<void> {
  // Checks `schema` is a plain identifier, then creates it (if missing) and idemkit's table.
  await new PostgresStore({ client: pool, schema }).migrate();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL search_path TO "${schema}"`); // for this transaction only
    await client.query(readFileSync(new URL('../sql/interactions.sql', import.meta.url), 'utf8'));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  await migrate(pool, process.argv[2]).finally(() => pool.end());
}
