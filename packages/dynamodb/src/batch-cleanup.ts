import type { ClaimOutcome, ClaimRequest, IdentityToken } from '@idemkit/core';
import { readItem, type StoreContext } from './claims.js';
import { releaseIdentity } from './holders.js';

/**
 * Undoes what a failed `claimMany` claimed, so its redelivery finds nothing held: releases every
 * acquired claim (fenced by its tokens), and for every item whose request failed — its write may
 * have landed with the reply lost — finds the occurrences carrying that claim's nonce and releases
 * them too. Best effort: a release that fails leaves its claim to lapse with its lease.
 */
export async function releaseLanded(
  context: StoreContext,
  now: number,
  requests: readonly ClaimRequest[],
  settled: ReadonlyArray<PromiseSettledResult<ClaimOutcome>>,
  nonces: readonly string[],
  notSent: unknown,
): Promise<void> {
  const held: IdentityToken[] = [];
  const unknown: Array<{ key: string; nonce: string }> = [];
  settled.forEach((result, index) => {
    if (result.status === 'fulfilled') {
      const outcome = result.value;
      if (outcome.acquired) held.push({ key: outcome.record.key, fencingToken: outcome.fencingToken }, ...(outcome.also ?? []));
    } else if (result.reason !== notSent) {
      const request = requests[index]!;
      for (const key of [request.key, ...(request.also ?? []).map((identity) => identity.key)]) unknown.push({ key, nonce: nonces[index]! });
    }
  });
  const landed = await Promise.allSettled(unknown.map(({ key, nonce }) => findByNonce(context, key, nonce)));
  for (const result of landed) if (result.status === 'fulfilled' && result.value !== undefined) held.push(result.value);
  await Promise.allSettled(held.map((identity) => releaseIdentity(context, identity, now)));
}

/** The in-progress occurrence of `key` a claim with `nonce` wrote, if it landed. */
async function findByNonce(context: StoreContext, key: string, nonce: string): Promise<IdentityToken | undefined> {
  const slot = (await readItem(context, key))?.slots.find((candidate) => candidate.nonce === nonce && candidate.record.status === 'in_progress');
  if (slot === undefined) return undefined;
  context.slots.remember(slot.record, slot.name, false);
  return { key, fencingToken: slot.record.fencingToken };
}
