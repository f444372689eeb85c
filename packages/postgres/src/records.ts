import type { IdempotencyRecord, RecordStatus } from '@idemkit/core';

/** A record row as `pg` returns it: `bigint` columns arrive as strings, nullable ones as null. */
export interface RecordRow {
  key: string | null;
  status: RecordStatus | null;
  fencing_token: string | number | null;
  lease_expires_at: string | number | null;
  expires_at: string | number | null;
  fingerprint: string | null;
  result: string | null;
  window_anchor: number | null;
  claimed_at: string | number | null;
}

/** Turns a row into a record, or undefined when the row's record columns are NULL (no live record). */
export function recordFromRow(row: RecordRow): IdempotencyRecord | undefined {
  if (row.key === null || row.status === null) return undefined;
  const record: IdempotencyRecord = {
    key: row.key,
    status: row.status,
    fencingToken: Number(row.fencing_token),
    leaseExpiresAt: Number(row.lease_expires_at),
    expiresAt: Number(row.expires_at),
    claimedAt: Number(row.claimed_at),
  };
  if (row.fingerprint !== null) record.fingerprint = row.fingerprint;
  if (row.result !== null) record.result = row.result;
  if (row.window_anchor !== null) record.windowAnchor = Number(row.window_anchor);
  return record;
}
