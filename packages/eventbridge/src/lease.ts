import type { RunOptions } from '@idemkit/core';
import type { LambdaContextLike } from './types.js';

/** Added to the remaining time unless configured: covers completing the claim right at the deadline. */
export const DEFAULT_LEASE_MARGIN_MS = 1_000;

/**
 * The lease for a claim taken now, from the Lambda context: the invocation's remaining time
 * plus `marginMs`. Lambda stops the invocation when its time is up, so the handler can never
 * run past that instant and the claim needs to live no longer; a crashed or timed-out
 * invocation's claim then lapses as soon as it can, and the retry runs. A lease shorter than
 * the remaining time could lapse under a live handler and let a second delivery run beside it.
 *
 * The lease is never below `marginMs` (a context reporting 0 ms or less still gets a lease).
 * Without a context, or one without `getRemainingTimeInMillis`, returns `undefined`: the
 * configured `leaseMs` applies.
 * @example
 * leaseFromContext({ getRemainingTimeInMillis: () => 29_500 }); // 30_500
 */
export function leaseFromContext(
  context: LambdaContextLike | undefined,
  marginMs: number = DEFAULT_LEASE_MARGIN_MS,
): number | undefined {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return undefined;
  return Math.max(0, Math.ceil(remaining)) + marginMs;
}

/**
 * The invocation's remaining time as a call option: a duplicate waiting for a claim in progress
 * (`inProgress.wait`) stops in time to answer before Lambda stops the invocation. Empty without
 * a context that reports it.
 */
export function remainingTimeOf(context: LambdaContextLike | undefined): Pick<RunOptions, 'remainingMs'> {
  const remaining = context?.getRemainingTimeInMillis?.();
  return typeof remaining === 'number' && Number.isFinite(remaining) ? { remainingMs: Math.max(0, remaining) } : {};
}
