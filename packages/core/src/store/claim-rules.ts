import type { ClaimRequest, IdempotencyRecord } from './types.js';

// The claim rules of the store contract, written once for in-process stores (memory, tests).
// Server-side adapters express the same rules in their own language (Lua, SQL, condition
// expressions); the conformance suite keeps them in step.

/** A record past its retention counts as absent, whether or not the server deleted it. */
export function isLive(record: IdempotencyRecord | undefined, now: number): record is IdempotencyRecord {
  return record !== undefined && record.expiresAt > now;
}

/** Whether a claim may take the key away from a live record. */
export function canTakeOver(record: IdempotencyRecord, request: ClaimRequest, now: number): boolean {
  if (record.status === 'in_progress') return record.leaseExpiresAt <= now;
  return isOutsideWindow(record, request);
}

/** A completed windowed record only blocks events closer than the window to its anchor. */
function isOutsideWindow(record: IdempotencyRecord, request: ClaimRequest): boolean {
  if (request.window === undefined || record.windowAnchor === undefined) return false;
  return Math.abs(request.window.at - record.windowAnchor) >= request.window.windowMs;
}

/** How long a fresh claim's record lives: its retention, but never less than its lease. */
export function claimLifetimeMs(request: ClaimRequest): number {
  return Math.max(request.retentionMs, request.leaseMs);
}

/** The record a successful claim writes. */
export function newClaimRecord(request: ClaimRequest, fencingToken: number, now: number): IdempotencyRecord {
  const record: IdempotencyRecord = {
    key: request.key,
    status: 'in_progress',
    fencingToken,
    leaseExpiresAt: now + request.leaseMs,
    expiresAt: now + claimLifetimeMs(request),
    claimedAt: now,
  };
  if (request.fingerprint !== undefined) record.fingerprint = request.fingerprint;
  if (request.window !== undefined) record.windowAnchor = request.window.at;
  return record;
}
