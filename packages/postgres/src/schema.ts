import { assertIdentifier, derivedName, quoteIdentifier } from './identifiers.js';
import type { SchemaNames } from './types.js';

/** Schema used when none is configured. */
export const DEFAULT_SCHEMA = 'public';
/** Table used when none is configured. */
export const DEFAULT_TABLE = 'idemkit_records';

/** Validated names and the quoted, schema-qualified forms every statement uses. */
export interface ResolvedNames {
  schema: string;
  table: string;
  /** `"schema"."table"` */
  qualifiedTable: string;
  /** `"schema"."<table>_fencing_token_seq"`: the source of fencing tokens, which outlives deleted rows. */
  qualifiedSequence: string;
  /** `"<table>_expires_at_idx"` (an index lives in its table's schema). */
  expiresIndex: string;
}

/**
 * Validates and quotes the configured names.
 * @throws {@link ConfigError} naming `schema` or `table` when one is not a plain SQL identifier.
 */
export function resolveNames(names: SchemaNames = {}): ResolvedNames {
  const schema = names.schema ?? DEFAULT_SCHEMA;
  const table = names.table ?? DEFAULT_TABLE;
  assertIdentifier('schema', schema);
  assertIdentifier('table', table);
  const qualify = (name: string) => `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
  return {
    schema,
    table,
    qualifiedTable: qualify(table),
    qualifiedSequence: qualify(derivedName(table, 'fencing_token_seq')),
    expiresIndex: quoteIdentifier(derivedName(table, 'expires_at_idx')),
  };
}

/**
 * The DDL {@link PostgresStore.migrate} runs, for your own migration tool: idempotent
 * (`IF NOT EXISTS` throughout), safe to run more than once. For the default names it is
 * exactly the shipped file `@idemkit/postgres/sql/schema.sql`.
 *
 * A schema other than `public` is created too (`public` is left alone: creating it needs a
 * privilege most application roles lack).
 *
 * @example
 * ```ts
 * fs.writeFileSync('migrations/0042_idemkit.sql', schemaSql({ schema: 'app', table: 'dedup' }));
 * ```
 */
export function schemaSql(names: SchemaNames = {}): string {
  const { schema, qualifiedTable, qualifiedSequence, expiresIndex } = resolveNames(names);
  const statements = [
    `-- idemkit: the PostgresStore table (@idemkit/postgres). Idempotent: safe to run more than once.
-- Times are epoch milliseconds, written from the application's clock (never the server's now()).`,
    schema === DEFAULT_SCHEMA ? undefined : `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)};`,
    `-- Fencing tokens come from a sequence, so they keep increasing across deleted and purged rows.
CREATE SEQUENCE IF NOT EXISTS ${qualifiedSequence} AS bigint;`,
    `CREATE TABLE IF NOT EXISTS ${qualifiedTable} (
  key              text COLLATE "C" PRIMARY KEY,
  status           text             NOT NULL CHECK (status IN ('in_progress', 'completed')),
  fencing_token    bigint           NOT NULL,
  lease_expires_at bigint           NOT NULL,
  expires_at       bigint           NOT NULL,
  fingerprint      text,
  -- The handler's result as JSON text, byte for byte (text, not jsonb, which would reorder keys).
  result           text,
  window_anchor    double precision,
  claimed_at       bigint           NOT NULL
);`,
    `ALTER SEQUENCE ${qualifiedSequence} OWNED BY ${qualifiedTable}.fencing_token;`,
    `-- For purgeExpired(): finds rows past their retention.
CREATE INDEX IF NOT EXISTS ${expiresIndex} ON ${qualifiedTable} (expires_at);`,
  ];
  return `${statements.filter((statement) => statement !== undefined).join('\n\n')}\n`;
}
