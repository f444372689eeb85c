import type { ClaimRequest, ClaimWindow, IdentityClaim, IdempotencyRecord } from './types.js';

// The claim rules of the store contract, written once for in-process stores (memory, tests) and
// as the reference the adapters translate (Lua, SQL, condition expressions); the conformance
// suite keeps them in step.
//
// A key holds a history of occurrences. Each identity of a claim *meets* the occurrences of its
// key that lie within its window; a met occurrence *blocks* the claim while it is completed, or in
// progress under a running lease held by someone else. A claim acquires when none of its
// identities is blocked, and then replaces what it met (lapsed or own claims) by one new occurrence
// per identity.

/** A record past its retention counts as absent, whether or not the server deleted it. */
export function isLive(record: IdempotencyRecord | undefined, now: number): record is IdempotencyRecord {
  return record !== undefined && record.expiresAt > now;
}

/**
 * Whether an identity with `window` is the same logical event as `occurrence`: always for an
 * unwindowed identity or occurrence, else when their times are closer than the window (sliding,
 * both ways; equal times meet).
 */
export function meets(occurrence: IdempotencyRecord, window: ClaimWindow | undefined): boolean {
  if (window === undefined || occurrence.windowAnchor === undefined) return true;
  return Math.abs(window.at - occurrence.windowAnchor) < window.windowMs;
}

/** Whether a met occurrence stops the claim: completed, or held under a running lease by another owner. */
export function blocks(occurrence: IdempotencyRecord, request: Pick<ClaimRequest, 'owner'>, now: number): boolean {
  if (occurrence.status === 'completed') return true;
  if (occurrence.leaseExpiresAt <= now) return false;
  return request.owner === undefined || occurrence.owner !== request.owner;
}

/** Whether a claim may pass one live occurrence of its key: it does not meet it, or it meets but does not block. */
export function canTakeOver(record: IdempotencyRecord, request: ClaimRequest, now: number): boolean {
  return !meets(record, request.window) || !blocks(record, request, now);
}

/** Every identity of a claim, its own key first. */
export function identitiesOf(request: ClaimRequest): IdentityClaim[] {
  const first: IdentityClaim = request.window === undefined ? { key: request.key } : { key: request.key, window: request.window };
  return [first, ...(request.also ?? [])];
}

/** What one identity found among the live occurrences of its key. */
export interface IdentityVerdict {
  /** The completed occurrence it meets, if any. */
  completed?: IdempotencyRecord;
  /** The in-progress occurrence under a running lease of another owner it meets, if any. */
  running?: IdempotencyRecord;
  /** The met occurrences an acquiring claim replaces: lapsed claims, and the owner's own. */
  replaced: IdempotencyRecord[];
}

/** Judges one identity against the live occurrences of its key. */
export function judgeIdentity(
  occurrences: readonly IdempotencyRecord[],
  identity: IdentityClaim,
  request: Pick<ClaimRequest, 'owner'>,
  now: number,
): IdentityVerdict {
  const verdict: IdentityVerdict = { replaced: [] };
  for (const occurrence of occurrences) {
    if (!isLive(occurrence, now) || !meets(occurrence, identity.window)) continue;
    if (occurrence.status === 'completed') verdict.completed ??= occurrence;
    else if (blocks(occurrence, request, now)) verdict.running ??= occurrence;
    else verdict.replaced.push(occurrence);
  }
  return verdict;
}

/**
 * The record a claim is refused with, from its identities' verdicts (in request order):
 * a completed occurrence before an in-progress one, the first identity first.
 */
export function refusalOf(verdicts: readonly IdentityVerdict[]): IdempotencyRecord | undefined {
  for (const verdict of verdicts) if (verdict.completed !== undefined) return verdict.completed;
  for (const verdict of verdicts) if (verdict.running !== undefined) return verdict.running;
  return undefined;
}

/** How long a fresh claim's record lives: its retention, but never less than its lease. */
export function claimLifetimeMs(request: ClaimRequest): number {
  return Math.max(request.retentionMs, request.leaseMs);
}

/** The occurrence a successful claim writes for one of its identities. */
export function newClaimRecord(
  request: ClaimRequest,
  fencingToken: number,
  now: number,
  identity: IdentityClaim = { key: request.key, ...(request.window === undefined ? {} : { window: request.window }) },
): IdempotencyRecord {
  const record: IdempotencyRecord = {
    key: identity.key,
    status: 'in_progress',
    fencingToken,
    leaseExpiresAt: now + request.leaseMs,
    expiresAt: now + claimLifetimeMs(request),
    claimedAt: now,
  };
  if (request.fingerprint !== undefined) record.fingerprint = request.fingerprint;
  if (identity.window !== undefined) record.windowAnchor = identity.window.at;
  if (request.owner !== undefined) record.owner = request.owner;
  return record;
}
