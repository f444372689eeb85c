import { newClaimRecord, type ClaimRequest, type IdempotencyRecord, type IdentityClaim, type IdentityVerdict } from '@idemkit/core';
import { Expression, ttlSeconds, type ConditionalUpdate } from './expressions.js';
import { bucketOf, bucketSlot, STATUS, strayedSlot, UNWINDOWED_SLOT, type TableLayout } from './layout.js';
import { liveSlots, numberValue, slotValue, stringValue, type KeyItem, type Slot } from './marshal.js';

// The store contract's claim rules (core's claim-rules.ts) as condition expressions, so DynamoDB
// decides them atomically with the write. A claim is first sent *blind* (without reading the
// item): its condition admits exactly the cases that write can handle — no live occurrence met,
// or only one to overwrite in the identity's own bucket. Anything else fails the condition, and
// the item returned with the failure (ALL_OLD) is judged with core's own rules: a refusal is
// answered from it, and an acquiring claim is written *exactly* — what to replace, prune and
// keep, decided from that item and pinned on its counter so nothing changed in between.

/** Everything a claim's writes share: one instant, one token floor, one nonce. */
export interface ClaimContext {
  now: number;
  /** The lowest token this claim proposes: `now × 1000` (see {@link tokenFloor}). */
  floor: number;
  /** Identifies this claim's writes, so a retry that meets them knows they are its own. */
  nonce: string;
}

/** One identity's planned write, and the occurrence it creates. */
export interface PlannedClaim {
  update: ConditionalUpdate;
  slot: string;
  record: IdempotencyRecord;
}

/**
 * The token a claim proposes when it knows nothing of the item: `now × 1000`. The blind
 * condition keeps tokens strictly increasing (`fence < proposal`); a key written more than once
 * within a millisecond fails it and goes exact, with the counter + 1. After TTL deletes an item
 * (which happens after every occurrence expired, so after its last write) the proposal is above
 * every token it issued: the counter moves by one per write, and DynamoDB takes at most 1,000
 * writes per second on one item — one per millisecond, a thousand times slower than the floor.
 */
export function tokenFloor(now: number): number {
  return Math.max(1, Math.floor(now) * 1000);
}

/**
 * When an occurrence should be pruned at the latest: one lifetime after it expired. The item's
 * `prune` attribute holds a lower bound of this over its windowed slots; a blind claim fails once
 * it has passed, and the exact write then prunes every expired slot. An item therefore holds at
 * most about twice its live occurrences, and a busy key pays one exact write per retention period.
 */
export function pruneDeadline(record: IdempotencyRecord): number {
  return record.expiresAt + (record.expiresAt - record.claimedAt);
}

/**
 * The claim of one identity sent without reading the item: one request in every common case.
 * Each condition starts with `attribute_not_exists(key) OR …`, so a new key is judged by one clause.
 */
export function blindClaim(layout: TableLayout, identity: IdentityClaim, request: ClaimRequest, context: ClaimContext): PlannedClaim {
  const record = newClaimRecord(request, context.floor, context.now, identity);
  const x = new Expression(layout);
  const fence = x.item('fence');
  const token = x.value('t', numberValue(context.floor));
  const unwindowed = x.slot(UNWINDOWED_SLOT);
  const ttl = numberValue(ttlSeconds(record.expiresAt));

  if (identity.window === undefined) {
    // An unwindowed identity meets every occurrence of its key, so the blind claim only writes a
    // key that has no item at all — the one clause the endpoint evaluates fastest. Any existing
    // item comes back with the failure: a refusal is read from it (a duplicate stays one request),
    // and a take-over (a lapsed or the owner's own claim, a released key's counter) is written
    // exactly, one request more. An UpdateItem, not a PutItem, though the whole item is known: its
    // Key is checked against the table's key schema, so a store configured with the wrong keys
    // fails its first claim, before any effect.
    x.when(`attribute_not_exists(${x.partitionKey})`);
    x.set(fence, token).set(x.ttl, x.value('ttl', ttl)).set(unwindowed, x.value('slot', slotValue(record, context.nonce)));
    return { update: x.build(identity.key), slot: UNWINDOWED_SLOT, record };
  }

  const now = x.value('now', numberValue(context.now));
  // An idemkit item (an item without a counter is foreign) whose counter is below the proposal, and…
  const existing = [`${fence} < ${token}`];

  const { at, windowMs } = identity.window;
  const bucket = bucketOf(at, windowMs);
  const own = x.slot(bucketSlot(bucket));
  const before = x.slot(bucketSlot(bucket - 1));
  const after = x.slot(bucketSlot(bucket + 1));
  const window = x.item('window');
  const prune = x.item('prune');
  const ttlValue = x.value('ttl', ttl);
  const windowValue = x.value('w', numberValue(windowMs));
  const deadline = x.value('d', numberValue(pruneDeadline(record)));
  existing.push(
    // The bucket layout is this windowMs's, the TTL only grows, and no slot is due for pruning.
    `(attribute_not_exists(${window}) OR ${window} = ${windowValue})`,
    `(attribute_not_exists(${x.ttl}) OR ${x.ttl} <= ${ttlValue})`,
    `(attribute_not_exists(${prune}) OR (${prune} > ${now} AND ${prune} <= ${deadline}))`,
    // An unwindowed occurrence is met by every window: it must be gone.
    free(x, unwindowed, now),
    // The own bucket's occurrence is met: free, or replaceable in place.
    `(${free(x, own, now)} OR ${replaceable(x, own, now, request)})`,
    // The neighbours' occurrences must lie a full window away (|at − anchor| >= windowMs).
    `(${free(x, before, now)} OR ${x.field(before, 'anchor')} <= ${x.value('lo', numberValue(at - windowMs))})`,
    `(${free(x, after, now)} OR ${x.field(after, 'anchor')} >= ${x.value('hi', numberValue(at + windowMs))})`,
  );
  x.when(`(attribute_not_exists(${x.partitionKey}) OR (${existing.join(' AND ')}))`);
  x.set(fence, token)
    .set(window, windowValue)
    .set(x.ttl, ttlValue)
    .set(prune, `if_not_exists(${prune}, ${deadline})`)
    .set(own, x.value('slot', slotValue(record, context.nonce)));
  return { update: x.build(identity.key), slot: bucketSlot(bucket), record };
}

/**
 * The claim of one identity written from the item as it was (`item`, judged into `verdict`): it
 * replaces the met occurrences that no longer block, prunes every expired one, keeps the rest,
 * and succeeds only while the item's counter is unchanged.
 */
export function exactClaim(
  layout: TableLayout,
  identity: IdentityClaim,
  request: ClaimRequest,
  item: KeyItem | undefined,
  verdict: IdentityVerdict,
  context: ClaimContext,
): PlannedClaim {
  const { now } = context;
  const token = Math.max(context.floor, (item?.fence ?? 0) + 1);
  const record = newClaimRecord(request, token, now, identity);
  const replaced = new Set(verdict.replaced);
  const slots = item?.slots ?? [];
  const remaining = liveSlots(item, now).filter((slot) => !replaced.has(slot.record));
  let name = identity.window === undefined ? UNWINDOWED_SLOT : bucketSlot(bucketOf(identity.window.at, identity.window.windowMs));
  // Taken by an occurrence that stays: only after windowMs changed for this key.
  if (remaining.some((slot) => slot.name === name)) name = strayedSlot(token);

  const x = new Expression(layout);
  const fence = x.item('fence');
  if (item === undefined) x.when(`attribute_not_exists(${x.partitionKey})`);
  else x.when(`${fence} = ${x.value('f', numberValue(item.fence))}`);
  x.set(fence, x.value('t', numberValue(token))).set(x.slot(name), x.value('slot', slotValue(record, context.nonce)));
  for (const slot of slots) {
    const dropped = replaced.has(slot.record) || slot.record.expiresAt <= now;
    if (dropped && slot.name !== name) x.remove(x.slot(slot.name));
  }

  const kept: Slot[] = [...remaining, { name, record }];
  const expiresAt = Math.max(...kept.map((slot) => slot.record.expiresAt));
  x.set(x.ttl, x.value('ttl', numberValue(ttlSeconds(expiresAt))));
  const windowed = kept.filter((slot) => slot.record.windowAnchor !== undefined);
  if (windowed.length === 0) {
    if (item?.window !== undefined) x.remove(x.item('window'));
    if (item?.prune !== undefined) x.remove(x.item('prune'));
  } else {
    const windowMs = identity.window?.windowMs;
    const regular =
      windowMs !== undefined && windowed.every((slot) => slot.name === bucketSlot(bucketOf(slot.record.windowAnchor!, windowMs)));
    x.set(x.item('window'), x.value('w', numberValue(regular ? windowMs : 0)));
    x.set(x.item('prune'), x.value('d', numberValue(Math.min(...windowed.map((slot) => pruneDeadline(slot.record))))));
  }
  return { update: x.build(identity.key), slot: name, record };
}

/** The slot holds no live occurrence. */
function free(x: Expression, slot: string, now: string): string {
  return `(attribute_not_exists(${slot}) OR ${x.field(slot, 'expiresAt')} <= ${now})`;
}

/** The slot's occurrence is met but does not block: in progress, lapsed or the request owner's own. */
function replaceable(x: Expression, slot: string, now: string, request: ClaimRequest): string {
  const inProgress = `${x.field(slot, 'status')} = ${x.value('p', stringValue(STATUS.inProgress))}`;
  const lapsed = `${x.field(slot, 'lease')} <= ${now}`;
  if (request.owner === undefined) return `(${inProgress} AND ${lapsed})`;
  return `(${inProgress} AND (${lapsed} OR ${x.field(slot, 'owner')} = ${x.value('o', stringValue(request.owner))}))`;
}
