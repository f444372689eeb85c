import { IdempotencyStoreError, type IdempotencyRecord, type RecordStatus } from '@idemkit/core';
import { STORE_NAME } from './errors.js';

/** A record as Redis holds it: the hash's field names and string values. */
export type RecordFields = Readonly<Record<string, string>>;

const STATUSES: ReadonlySet<string> = new Set<RecordStatus>(['in_progress', 'completed']);

/** Pairs HGETALL's flat `[field, value, …]` reply (as the scripts return it) into an object. */
export function fieldsFromFlat(flat: readonly unknown[]): RecordFields {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
  return fields;
}

/** Reads a record back from its hash fields; a hash that is not an idemkit record is a store error. */
export function decodeRecord(key: string, fields: RecordFields): IdempotencyRecord {
  const status = fields.status;
  const numbers = {
    fencingToken: Number(fields.fencingToken),
    leaseExpiresAt: Number(fields.leaseExpiresAt),
    expiresAt: Number(fields.expiresAt),
    claimedAt: Number(fields.claimedAt),
  };
  const malformed = Object.entries(numbers).find(
    ([field, value]) => fields[field] === undefined || !Number.isFinite(value),
  );
  if (status === undefined || !STATUSES.has(status) || malformed !== undefined) {
    throw new IdempotencyStoreError(
      STORE_NAME,
      `the Redis hash for key "${key}" is not an idemkit record (${malformed?.[0] ?? 'status'} is missing or invalid); ` +
        'another application may be writing under the same prefix',
      { retryable: false },
    );
  }
  const record: IdempotencyRecord = { key, status: status as RecordStatus, ...numbers };
  if (fields.fingerprint !== undefined) record.fingerprint = fields.fingerprint;
  if (fields.result !== undefined) record.result = fields.result;
  if (fields.windowAnchor !== undefined) record.windowAnchor = Number(fields.windowAnchor);
  return record;
}
