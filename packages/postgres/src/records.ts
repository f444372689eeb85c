import type { IdempotencyRecord, RecordStatus, VersionRecord } from '@idemkit/core';

/** The occurrence columns every statement returns, in the order {@link recordFromRow} reads them. */
export const RECORD_COLUMNS = [
  'key',
  'status',
  'fencing_token',
  'lease_expires_at',
  'expires_at',
  'fingerprint',
  'result',
  'window_anchor',
  'claimed_at',
  'owner',
] as const;

/** `alias.key, alias.status, …`: the record columns of one table alias. */
export const columnsOf = (alias: string): string => RECORD_COLUMNS.map((column) => `${alias}.${column}`).join(', ');

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
  owner: string | null;
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
  if (row.owner !== null) record.owner = row.owner;
  return record;
}

/** The version columns every version statement returns. */
export const VERSION_COLUMNS = [
  'entity',
  'applied',
  'pending_version',
  'pending_lease_expires_at',
  'pending_claimed_at',
  'pending_owner',
  'fencing_token',
  'expires_at',
] as const;

/** A versions row as `pg` returns it. */
export interface VersionRow {
  entity: string;
  applied: string | null;
  pending_version: string | null;
  pending_lease_expires_at: string | number | null;
  pending_claimed_at: string | number | null;
  pending_owner: string | null;
  fencing_token: string | number;
  expires_at: string | number;
}

/** Turns a versions row into a {@link VersionRecord}; the pending version's token is the row's last token. */
export function versionFromRow(row: VersionRow): VersionRecord {
  const record: VersionRecord = {
    entity: row.entity,
    fencingToken: Number(row.fencing_token),
    expiresAt: Number(row.expires_at),
  };
  if (row.applied !== null) record.applied = row.applied;
  if (row.pending_version !== null) {
    record.pending = {
      version: row.pending_version,
      fencingToken: record.fencingToken,
      leaseExpiresAt: Number(row.pending_lease_expires_at),
      claimedAt: Number(row.pending_claimed_at),
      ...(row.pending_owner === null ? {} : { owner: row.pending_owner }),
    };
  }
  return record;
}
