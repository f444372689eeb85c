import type { IdempotencyRecord, PendingVersion, VersionRecord } from '@idemkit/core';
import { unexpectedReply } from './errors.js';

// Decoding the script's record replies (lua/occurrences.ts, lua/versions.ts). A reply nil
// arrives as null; numbers arrive as integers, except window anchors, which come as text.

const STATUSES = { 1: 'in_progress', 2: 'completed' } as const;

/** Reads an occurrence reply `{status, token, lease, expires, claimedAt, anchor, fingerprint, owner, result}`. */
export function decodeRecord(operation: string, key: string, reply: unknown): IdempotencyRecord {
  if (!Array.isArray(reply) || reply.length < 5) throw unexpectedReply(operation, reply);
  const [status, fencingToken, leaseExpiresAt, expiresAt, claimedAt, anchor, fingerprint, owner, result] = reply as unknown[];
  if (status !== 1 && status !== 2) throw unexpectedReply(operation, reply);
  return occurrenceRecord(key, status, fencingToken as number, leaseExpiresAt as number, expiresAt as number, claimedAt as number, {
    anchor: typeof anchor === 'string' ? Number(anchor) : undefined,
    fingerprint,
    owner,
    result,
  });
}

/**
 * An occurrence as a record, its times absolute; the optional fields are taken when present
 * (a string, or a number for the anchor), whatever stands for "absent" in the source.
 */
export function occurrenceRecord(
  key: string,
  status: 1 | 2,
  fencingToken: number,
  leaseExpiresAt: number,
  expiresAt: number,
  claimedAt: number,
  optional: { anchor: unknown; fingerprint: unknown; owner: unknown; result: unknown },
): IdempotencyRecord {
  const record: IdempotencyRecord = { key, status: STATUSES[status], fencingToken, leaseExpiresAt, expiresAt, claimedAt };
  if (typeof optional.anchor === 'number') record.windowAnchor = optional.anchor;
  if (typeof optional.fingerprint === 'string') record.fingerprint = optional.fingerprint;
  if (typeof optional.owner === 'string') record.owner = optional.owner;
  if (typeof optional.result === 'string') record.result = optional.result;
  return record;
}

/** Reads an occurrence reply that may be nil. */
export function decodeOptionalRecord(operation: string, key: string, reply: unknown): IdempotencyRecord | undefined {
  return reply === null || reply === undefined ? undefined : decodeRecord(operation, key, reply);
}

/** Reads a version record reply `{counter, expiresAt, applied, pending version, token, lease, claimedAt, owner}`. */
export function decodeVersionRecord(operation: string, entity: string, reply: unknown): VersionRecord {
  if (!Array.isArray(reply) || reply.length < 2) throw unexpectedReply(operation, reply);
  const [fencingToken, expiresAt, applied, version, token, leaseExpiresAt, claimedAt, owner] = reply as unknown[];
  const record: VersionRecord = { entity, fencingToken: fencingToken as number, expiresAt: expiresAt as number };
  if (typeof applied === 'string') record.applied = applied;
  if (typeof version === 'string') {
    const pending: PendingVersion = {
      version,
      fencingToken: token as number,
      leaseExpiresAt: leaseExpiresAt as number,
      claimedAt: claimedAt as number,
    };
    if (typeof owner === 'string') pending.owner = owner;
    record.pending = pending;
  }
  return record;
}
