import type { RunOptions } from '@idemkit/core';
import { remainingTimeOf } from './lease.js';
import { ownerOf } from './owner.js';
import type { LambdaContextLike } from './types.js';

/**
 * One invocation's claim options, from its Lambda context: the lease (`leaseFor`), the time it has
 * left, and its owner (the request id). Shared by `makeIdempotent` and the Middy middleware.
 */
export function runOptionsOf(context: LambdaContextLike | undefined, leaseFor: (context: LambdaContextLike | undefined) => number | undefined): RunOptions {
  const options: RunOptions = remainingTimeOf(context);
  const leaseMs = leaseFor(context);
  if (leaseMs !== undefined) options.leaseMs = leaseMs;
  const owner = ownerOf(context);
  if (owner !== undefined) options.owner = owner;
  return options;
}
