/**
 * `@idemkit/postgres`: the idemkit store on PostgreSQL, through your own `pg` Pool or Client.
 * @packageDocumentation
 */
export { PostgresStore } from './postgres-store.js';
export { schemaSql, DEFAULT_SCHEMA, DEFAULT_TABLE } from './schema.js';
export { IDENTIFIER_PATTERN } from './identifiers.js';
export type {
  PgQueryable,
  PgQueryConfig,
  PgQueryResult,
  PostgresStoreOptions,
  PurgeOptions,
  SchemaNames,
} from './types.js';
