/**
 * idemkit's DynamoDB store: conditional writes on @aws-sdk/client-dynamodb, strongly
 * consistent reads, and records that count as absent past `expiresAt` whatever TTL has done.
 * @packageDocumentation
 */
export { DynamoDBStore } from './dynamodb-store.js';
export type { CreateTableOptions, CreateTableResult, DynamoDBSortKey, DynamoDBStoreOptions } from './types.js';
