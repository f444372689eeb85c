import { claimFunctionSql, claimOneFunctionSql } from './claim-function.js';
import { completeOneFunctionSql } from './complete-function.js';
import { assertIdentifier, derivedName, lockClass, quoteIdentifier } from './identifiers.js';
import type { SchemaNames } from './types.js';

/** Schema used when none is configured. */
export const DEFAULT_SCHEMA = 'public';
/** Table used when none is configured. */
export const DEFAULT_TABLE = 'idemkit_records';

/**
 * The shape this release reads and writes. 1 was the first release (one row per key); 2 keeps one
 * row per occurrence, a versions table and the claim functions. `migrate()` compares it with the
 * comments on the claim functions, which the DDL writes last.
 *
 * The single claim and completion functions (`<table>_claim_one`, `<table>_complete_one`) came
 * later within schema 2: they add nothing a release without them reads or writes, so such a
 * release keeps working beside them, and `migrate()` of this release adds them to a schema 2 that
 * lacks them.
 */
export const SCHEMA_VERSION = 2;

/** The comment {@link schemaSql} leaves on the claim function: its presence means the whole DDL committed. */
export const SCHEMA_MARK = `idemkit schema ${SCHEMA_VERSION}`;

/** Validated names and the quoted, schema-qualified forms every statement uses. */
export interface ResolvedNames {
  schema: string;
  table: string;
  /** `"schema"."table"`: one row per occurrence. */
  qualifiedTable: string;
  /** `"schema"."<table>_fencing_token_seq"`: the source of fencing tokens, which outlives deleted rows. */
  qualifiedSequence: string;
  /** `"<table>_pkey"`: (key, fencing_token). */
  primaryKey: string;
  /**
   * `"schema"."<table>_expires_at_idx"`: schema 1's index on `expires_at`, which the upgrade drops
   * (an indexed `expires_at` makes every completion a non-HOT update; purgeExpired() sweeps the heap instead).
   */
  v1ExpiresIndex: string;
  /** `"schema"."<table>_versions"`: the ordering guard's table, one row per entity. */
  qualifiedVersions: string;
  /** `<table>_claim`, unquoted: the claim function's name, as the catalog holds it. */
  claimFunction: string;
  /** `"schema"."<table>_claim"`. */
  qualifiedClaimFunction: string;
  /** `<table>_claim_one`, unquoted: the single claim function's name, as the catalog holds it. */
  claimOneFunction: string;
  /** `"schema"."<table>_claim_one"`. */
  qualifiedClaimOneFunction: string;
  /** `<table>_complete_one`, unquoted: the single completion function's name, as the catalog holds it. */
  completeOneFunction: string;
  /** `"schema"."<table>_complete_one"`. */
  qualifiedCompleteOneFunction: string;
  /** Every function the DDL marks with {@link SCHEMA_MARK}, unquoted; the claim function first. */
  markedFunctions: string[];
  /** First half of the advisory-lock key claims take per key (the second is `hashtext(key)`). */
  claimLockClass: number;
  /** Same, for version claims per entity. */
  versionLockClass: number;
  /** The single-bigint advisory lock migrations of this schema serialise on (a lock space claims never use). */
  migrationLock: number;
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
  const claimFunction = derivedName(table, 'claim');
  const claimOneFunction = derivedName(table, 'claim_one');
  const completeOneFunction = derivedName(table, 'complete_one');
  return {
    schema,
    table,
    qualifiedTable: qualify(table),
    qualifiedSequence: qualify(derivedName(table, 'fencing_token_seq')),
    primaryKey: quoteIdentifier(derivedName(table, 'pkey')),
    v1ExpiresIndex: qualify(derivedName(table, 'expires_at_idx')),
    qualifiedVersions: qualify(derivedName(table, 'versions')),
    claimFunction,
    qualifiedClaimFunction: qualify(claimFunction),
    claimOneFunction,
    qualifiedClaimOneFunction: qualify(claimOneFunction),
    completeOneFunction,
    qualifiedCompleteOneFunction: qualify(completeOneFunction),
    markedFunctions: [claimFunction, claimOneFunction, completeOneFunction],
    claimLockClass: lockClass(`${schema}.${table}`),
    // Identifiers hold no dots, so these texts never equal another table's `schema.table`.
    versionLockClass: lockClass(`${schema}.${table}.versions`),
    migrationLock: lockClass(`idemkit.migrate.${schema}`),
  };
}

/**
 * The DDL {@link PostgresStore.migrate} runs, for your own migration tool. It brings an empty
 * database, and one made by the previous release (schema 1: one row per key), to this release's
 * shape, keeping every record; on a current database it changes nothing. Safe to run more than once.
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
  const resolved = resolveNames(names);
  const { schema, qualifiedTable: table, qualifiedSequence: sequence, qualifiedVersions: versions } = resolved;
  // Inside the DO blocks the names are SQL text too: plain identifiers, so nothing needs escaping.
  const statements = [
    `-- idemkit: the PostgresStore tables (@idemkit/postgres), ${SCHEMA_MARK}.
-- Idempotent: creates what is missing, upgrades a table made by the previous release (schema 1)
-- in place and keeps its records; safe to run more than once.
-- Times are epoch milliseconds: the application's clock, or the server's with serverClock.`,
    `-- Never take a schema back: stop if a newer release has migrated it.
DO $idemkit$
BEGIN
  IF substring(obj_description(to_regproc('${resolved.qualifiedClaimFunction}'), 'pg_proc') FROM '^idemkit schema (\\d+)$')::int > ${SCHEMA_VERSION} THEN
    RAISE EXCEPTION '${resolved.qualifiedTable} has a newer idemkit schema than ${SCHEMA_VERSION}: upgrade @idemkit/postgres';
  END IF;
END
$idemkit$;`,
    schema === DEFAULT_SCHEMA ? undefined : `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)};`,
    `-- Fencing tokens come from a sequence, so they keep increasing across deleted and purged rows.
CREATE SEQUENCE IF NOT EXISTS ${sequence} AS bigint;`,
    `-- One row per occurrence: an unwindowed key has at most one live occurrence, a windowed key one
-- per logical event it accepted within its retention.
CREATE TABLE IF NOT EXISTS ${table} (
  key              text COLLATE "C" NOT NULL,
  status           text             NOT NULL CHECK (status IN ('in_progress', 'completed')),
  fencing_token    bigint           NOT NULL,
  lease_expires_at bigint           NOT NULL,
  expires_at       bigint           NOT NULL,
  fingerprint      text,
  -- The handler's result as JSON text, byte for byte (text, not jsonb, which would reorder keys).
  result           text,
  window_anchor    double precision,
  claimed_at       bigint           NOT NULL,
  owner            text,
  CONSTRAINT ${resolved.primaryKey} PRIMARY KEY (key, fencing_token)
);`,
    `-- Schema 1 (the first release) kept one row per key: its primary key was (key) alone, it had
-- no owner, and an index on expires_at (dropped: it made every completion a non-HOT update, and
-- purgeExpired() sweeps the table instead). Each of its rows becomes the one occurrence of its key.
-- Only run when needed, so a current table takes no lock here.
DO $idemkit$
DECLARE
  old_key name;
BEGIN
  SELECT conname INTO old_key FROM pg_constraint
  WHERE conrelid = '${table}'::regclass AND contype = 'p' AND cardinality(conkey) = 1;
  IF old_key IS NOT NULL THEN
    EXECUTE format('ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS owner text, DROP CONSTRAINT %I, '
      'ADD CONSTRAINT ${resolved.primaryKey} PRIMARY KEY (key, fencing_token)', old_key);
    DROP INDEX IF EXISTS ${resolved.v1ExpiresIndex};
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_depend WHERE objid = '${sequence}'::regclass AND refobjid = '${table}'::regclass) THEN
    ALTER SEQUENCE ${sequence} OWNED BY ${table}.fencing_token;
  END IF;
END
$idemkit$;`,
    `-- The ordering guard: per entity, the newest version applied and the one whose handler runs.
-- Versions are order-preserving ASCII text, compared bytewise (COLLATE "C").
CREATE TABLE IF NOT EXISTS ${versions} (
  entity                   text COLLATE "C" PRIMARY KEY,
  applied                  text COLLATE "C",
  pending_version          text COLLATE "C",
  pending_lease_expires_at bigint,
  pending_claimed_at       bigint,
  pending_owner            text,
  -- The last token handed out; the pending version's token while there is one.
  fencing_token            bigint           NOT NULL,
  expires_at               bigint           NOT NULL
);`,
    claimFunctionSql(resolved),
    claimOneFunctionSql(resolved),
    completeOneFunctionSql(resolved),
    // The marks migrate() looks for, from the same list it reads them by; the claim function's last.
    `-- Written last: migrate() reads them (without taking a lock) to know the schema is current.
${[...resolved.markedFunctions.slice(1), resolved.markedFunctions[0]!]
  .map((name) => `COMMENT ON FUNCTION ${quoteIdentifier(schema)}.${quoteIdentifier(name)} IS '${SCHEMA_MARK}';`)
  .join('\n')}`,
  ];
  return `${statements.filter((statement) => statement !== undefined).join('\n\n')}\n`;
}
