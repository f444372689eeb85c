// Creates idemkit's tables (claims and versions) and `conversation_state` in `schema`. Run it once
// per deployment:
//   DATABASE_URL=postgres://… npx tsx src/migrate.ts [schema]
// or copy sql/conversation_state.sql and @idemkit/postgres/sql/schema.sql into your own migrations.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresStore } from '@idemkit/postgres';

const TABLE_SQL = readFileSync(new URL('../sql/conversation_state.sql', import.meta.url), 'utf8');

export async function migrate(pool: pg.Pool, schema = 'public'): Promise<void> {
  // Checks `schema` is a plain identifier, then creates it (if missing) and idemkit's tables.
  await new PostgresStore({ client: pool, schema }).migrate();
  // One query string is one implicit transaction: SET LOCAL lasts until its end, not on the pooled connection.
  await pool.query(`SET LOCAL search_path TO "${schema}";\n${TABLE_SQL}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
  await migrate(pool, process.argv[2]).finally(() => pool.end());
}
