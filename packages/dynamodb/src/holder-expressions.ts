import type { IdempotencyRecord } from '@idemkit/core';
import { Expression, ttlSeconds, type ConditionalUpdate } from './expressions.js';
import { STATUS, UNWINDOWED_SLOT, type TableLayout } from './layout.js';
import { numberValue, slotValue, stringValue, type KeyItem, type Slot } from './marshal.js';
import type { Remembered } from './slot-memory.js';

// The writes only a claim's holder makes (complete, extendLease, release), each conditioned on
// the occurrence its fencing token names being live and in progress. Like claims, each is first
// sent for the slot the store expects (the one its claim wrote, remembered in process), and
// written exactly from the returned item when that guess or the TTL's growth did not hold.

/**
 * An occurrence a holder names: its key, its token, and what this process remembers of its claim
 * (the slot expected to hold it; the occurrence as written while the item is untouched).
 */
export interface HeldSlot extends Remembered {
  key: string;
  fencingToken: number;
}

/** What a completion writes into its occurrence. */
export interface Completion {
  now: number;
  expiresAt: number;
  result: string | undefined;
  nonce: string;
}

/** The occurrence of `held` is live and in progress with its token. */
function whenHeld(x: Expression, slot: string, held: HeldSlot, now: string): void {
  x.when(
    `${x.field(slot, 'token')} = ${x.value('tok', numberValue(held.fencingToken))} AND ` +
      `${x.field(slot, 'status')} = ${x.value('p', stringValue(STATUS.inProgress))} AND ` +
      `${x.field(slot, 'expiresAt')} > ${now}`,
  );
}

/** Every holder write moves the counter: it is the item's revision, which exact writes pin. */
function bumpFence(x: Expression): void {
  const fence = x.item('fence');
  x.set(fence, `${fence} + ${x.value('one', numberValue(1))}`);
}

/**
 * The condition that `held`'s occurrence is still the holder's, and the counter's move. While the
 * item is untouched since this process's claim, its counter still equals the token: the
 * occurrence is that claim's, in progress, as written, and its expiry (checked here, against the
 * same `now` the condition would use) is known. So the condition is the counter alone, which
 * DynamoDB evaluates faster than three fields inside the slot's map. Any other write since
 * (a take-over, an extension by another store object) has moved the counter: the write fails
 * and is judged from the item returned, as a failed condition on the fields would be.
 */
function guardHeld(x: Expression, slot: string, held: HeldSlot, now: number): held is HeldSlot & { untouched: IdempotencyRecord } {
  if (held.untouched !== undefined && held.untouched.expiresAt > now) {
    pinFence(x, { fence: held.fencingToken });
    return true;
  }
  whenHeld(x, slot, held, x.value('now', numberValue(now)));
  bumpFence(x);
  return false;
}

/** Pins the item's revision and sets the counter past it. */
function pinFence(x: Expression, item: Pick<KeyItem, 'fence'>): void {
  const fence = x.item('fence');
  x.when(`${fence} = ${x.value('f', numberValue(item.fence))}`);
  x.set(fence, x.value('next', numberValue(item.fence + 1)));
}

function writeCompletion(x: Expression, slot: string, completion: Completion): void {
  x.set(x.field(slot, 'status'), x.value('c', stringValue(STATUS.completed)))
    .set(x.field(slot, 'expiresAt'), x.value('e', numberValue(completion.expiresAt)))
    .set(x.field(slot, 'nonce'), x.value('n', stringValue(completion.nonce)));
  if (completion.result === undefined) x.remove(x.field(slot, 'result'));
  else x.set(x.field(slot, 'result'), x.value('r', stringValue(completion.result)));
}

/**
 * Completes the expected slot. The TTL only grows, unless the slot is the unwindowed one: while it
 * holds a live claim in progress it is the item's only live occurrence (an unwindowed claim meets,
 * and so replaces or is refused by, every live occurrence of its key, and any later claim that
 * acquires replaces it in turn), so the TTL simply follows its expiry.
 */
export function blindComplete(layout: TableLayout, held: HeldSlot, completion: Completion): ConditionalUpdate {
  const x = new Expression(layout);
  const slot = x.slot(held.slot);
  const ttl = x.value('ttl', numberValue(ttlSeconds(completion.expiresAt)));
  if (guardHeld(x, slot, held, completion.now)) {
    // The occurrence is known whole (the claim's, unchanged): one value for the slot is a smaller
    // request than its fields one by one, and cheaper for DynamoDB to apply.
    const { result, ...claimed } = held.untouched;
    const completed: IdempotencyRecord = { ...claimed, status: 'completed', expiresAt: completion.expiresAt };
    if (completion.result !== undefined) completed.result = completion.result;
    x.set(slot, x.value('slot', slotValue(completed, completion.nonce)));
  } else {
    if (held.slot !== UNWINDOWED_SLOT) x.when(`${x.ttl} <= ${ttl}`);
    writeCompletion(x, slot, completion);
  }
  x.set(x.ttl, ttl);
  return x.build(held.key);
}

/** Completes `slot`, found in `item`; the TTL becomes the larger of the item's and this expiry. */
export function exactComplete(layout: TableLayout, key: string, item: KeyItem, slot: Slot, completion: Completion): ConditionalUpdate {
  const x = new Expression(layout);
  pinFence(x, item);
  writeCompletion(x, x.slot(slot.name), completion);
  growTtl(x, item, completion.expiresAt);
  return x.build(key);
}

/** Moves the expected slot's lease, while it runs and the occurrence's retention already covers it. */
export function blindExtend(layout: TableLayout, held: HeldSlot, now: number, leaseExpiresAt: number): ConditionalUpdate {
  const x = new Expression(layout);
  const slot = x.slot(held.slot);
  const nowValue = x.value('now', numberValue(now));
  const lease = x.value('l', numberValue(leaseExpiresAt));
  whenHeld(x, slot, held, nowValue);
  x.when(`${x.field(slot, 'lease')} > ${nowValue} AND ${x.field(slot, 'expiresAt')} >= ${lease}`);
  x.set(x.field(slot, 'lease'), lease);
  bumpFence(x);
  return x.build(held.key);
}

/** Moves the lease of `slot`, found in `item`, and its retention (and the TTL) to at least the lease. */
export function exactExtend(layout: TableLayout, key: string, item: KeyItem, slot: Slot, leaseExpiresAt: number): ConditionalUpdate {
  const x = new Expression(layout);
  const name = x.slot(slot.name);
  pinFence(x, item);
  x.set(x.field(name, 'lease'), x.value('l', numberValue(leaseExpiresAt)));
  if (slot.record.expiresAt < leaseExpiresAt) x.set(x.field(name, 'expiresAt'), x.value('e', numberValue(leaseExpiresAt)));
  growTtl(x, item, leaseExpiresAt);
  return x.build(key);
}

/** Deletes the expected slot while it holds the claim. */
export function releaseUpdate(layout: TableLayout, held: HeldSlot, now: number): ConditionalUpdate {
  const x = new Expression(layout);
  const slot = x.slot(held.slot);
  guardHeld(x, slot, held, now);
  x.remove(slot);
  return x.build(held.key);
}

function growTtl(x: Expression, item: KeyItem, expiresAt: number): void {
  const ttl = ttlSeconds(expiresAt);
  if (item.ttl === undefined || item.ttl < ttl) x.set(x.ttl, x.value('ttl', numberValue(ttl)));
}
