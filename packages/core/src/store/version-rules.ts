import type { VersionClaimRequest, VersionRecord } from './types.js';

// The ordering guard's claim rules (the VersionStore contract), written once for in-process
// stores and as the reference the adapters translate. Versions are order-preserving text
// (encodeVersion), compared as code units: every character of an encoded version is ASCII, so
// this is the byte order the servers use too.

/** What a version claim meets: apply it, or why not. */
export type VersionVerdict = 'acquire' | 'duplicate' | 'stale' | 'in_progress';

/**
 * Stale or duplicate against the applied version first (a version that can never apply is
 * acknowledged at once, whatever runs); then `in_progress` while another claim's lease runs and it
 * is not the request owner's own; otherwise acquire (a lapsed pending version is replaced).
 */
export function judgeVersion(record: VersionRecord | undefined, request: VersionClaimRequest, now: number): VersionVerdict {
  if (record === undefined) return 'acquire';
  if (record.applied !== undefined) {
    if (request.version < record.applied) return 'stale';
    if (request.version === record.applied) return 'duplicate';
  }
  const pending = record.pending;
  if (pending !== undefined && pending.leaseExpiresAt > now) {
    if (request.owner === undefined || pending.owner !== request.owner) return 'in_progress';
  }
  return 'acquire';
}
