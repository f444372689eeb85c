import { LeaseLostError, type IdentityToken } from '@idemkit/core';
import { writeAtomically, type UpdateVerdict } from './atomic-write.js';
import { backOff, contention, MAX_ATTEMPTS, type StoreContext } from './claims.js';
import type { ConditionalUpdate } from './expressions.js';
import { blindComplete, blindExtend, exactComplete, exactExtend, releaseUpdate, type Completion, type HeldSlot } from './holder-expressions.js';
import { findLive, readKeyItem, type KeyItem, type Slot } from './marshal.js';

/** How a holder write treats the occurrence its token names, once found in the returned item. */
interface HolderWrite {
  /** The write for the slot the store expects. */
  blind: (held: HeldSlot) => ConditionalUpdate;
  /** Whether the found occurrence is still the holder's to write (else the claim is lost). */
  holds: (slot: Slot) => boolean;
  /** The write for the found occurrence, pinned on the item's revision. */
  exact: (key: string, item: KeyItem, slot: Slot) => ConditionalUpdate;
  /** Whether the found occurrence shows this very write landed before (its reply lost). */
  landed: (slot: Slot) => boolean;
  /** Whether a lost claim's error reports the key's latest occurrence when its own is gone (as MemoryStore's complete does). */
  reportsLatest: boolean;
}

/**
 * Writes every identity of a held claim all together (complete, extendLease): the expected slots
 * first, then exactly from the returned items.
 * @throws {@link LeaseLostError} naming the first identity whose claim is gone.
 */
async function writeHeld(context: StoreContext, identities: readonly IdentityToken[], now: number, write: HolderWrite): Promise<void> {
  let updates = identities.map((identity) => write.blind({ ...identity, ...context.slots.recall(identity.key, identity.fencingToken) }));
  for (let attempt = 1; ; attempt++) {
    const result = await writeAtomically(context.client, updates);
    if (result.applied) return;
    const { verdicts } = result;
    const items = verdicts.map((verdict) => (verdict.kind === 'failed' ? readKeyItem(verdict.item, context.layout) : undefined));
    const found = identities.map((identity, i) => findLive(items[i], now, identity.fencingToken));
    if (verdicts.every((verdict, i) => verdict.kind === 'failed' && found[i] !== undefined && write.landed(found[i]!))) return;
    if (verdicts.some((verdict) => verdict.kind === 'conflict')) {
      if (attempt >= MAX_ATTEMPTS) throw contention(context.layout);
      await backOff(attempt);
      continue;
    }
    const lost = identities.findIndex((_, i) => verdicts[i]!.kind === 'failed' && (found[i] === undefined || !write.holds(found[i]!)));
    if (lost >= 0) {
      const identity = identities[lost]!;
      const current = found[lost] ?? (write.reportsLatest ? findLive(items[lost], now) : undefined);
      throw new LeaseLostError(identity.key, identity.fencingToken, current && { ...current.record });
    }
    if (attempt >= MAX_ATTEMPTS) throw contention(context.layout);
    updates = updates.map((update, i) => (isFailed(verdicts[i]!) ? write.exact(identities[i]!.key, items[i]!, found[i]!) : update));
  }
}

function isFailed(verdict: UpdateVerdict): boolean {
  return verdict.kind === 'failed';
}

/** Completes every identity of a claim, all or nothing. */
export async function completeIdentities(context: StoreContext, identities: readonly IdentityToken[], completion: Completion): Promise<void> {
  const { layout } = context;
  await writeHeld(context, identities, completion.now, {
    blind: (held) => blindComplete(layout, held, completion),
    holds: (slot) => slot.record.status === 'in_progress',
    exact: (key, item, slot) => exactComplete(layout, key, item, slot, completion),
    landed: (slot) => slot.record.status === 'completed' && slot.nonce === completion.nonce,
    reportsLatest: true,
  });
  for (const identity of identities) context.slots.forget(identity.key, identity.fencingToken);
}

/** Moves the lease of every identity of a claim, all or nothing, while each still runs. */
export async function extendIdentities(context: StoreContext, identities: readonly IdentityToken[], now: number, leaseExpiresAt: number): Promise<void> {
  const { layout } = context;
  const running = (slot: Slot) => slot.record.status === 'in_progress' && slot.record.leaseExpiresAt > now;
  // Before sending: an extension moves the counter, even one whose reply is lost.
  for (const identity of identities) context.slots.touched(identity.key, identity.fencingToken);
  await writeHeld(context, identities, now, {
    blind: (held) => blindExtend(layout, held, now, leaseExpiresAt),
    holds: running,
    exact: (key, item, slot) => exactExtend(layout, key, item, slot, leaseExpiresAt),
    // An extension is idempotent: a retry after a landed one meets a lease already moved, and moves it again.
    landed: () => false,
    reportsLatest: false,
  });
}

/**
 * Releases one identity of a claim: deletes its occurrence while the token still holds it.
 * @returns whether it was released.
 */
export async function releaseIdentity(context: StoreContext, identity: IdentityToken, now: number): Promise<boolean> {
  let held: HeldSlot = { ...identity, ...context.slots.recall(identity.key, identity.fencingToken) };
  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = await writeAtomically(context.client, [releaseUpdate(context.layout, held, now)]);
    if (result.applied) {
      context.slots.forget(identity.key, identity.fencingToken);
      return true;
    }
    const verdict = result.verdicts[0]!;
    const found = verdict.kind === 'failed' ? findLive(readKeyItem(verdict.item, context.layout), now, identity.fencingToken) : undefined;
    if (found === undefined || found.record.status !== 'in_progress') break;
    // Still held: under another slot than expected (a claim of another process), or the item was
    // written since the claim though this process thought it untouched (an extension through
    // another store object). Release it with the condition on the occurrence's own fields.
    if (found.name === held.slot && held.untouched === undefined) break;
    held = { ...identity, slot: found.name };
  }
  context.slots.forget(identity.key, identity.fencingToken);
  return false;
}
