/**
 * `@idemkit/postgres`: the idemkit store on PostgreSQL, through your own `pg` Pool or Client.
 * @packageDocumentation
 */
export { PostgresStore } from './postgres-store.js';
export { schemaSql, DEFAULT_SCHEMA, DEFAULT_TABLE, SCHEMA_VERSION } from './schema.js';
export { IDENTIFIER_PATTERN } from './identifiers.js';
export type {
  MigrateOptions,
  PgQueryable,
  PgQueryConfig,
  PgQueryResult,
  PostgresStoreOptions,
  PurgeOptions,
  SchemaNames,
} from './types.js';
