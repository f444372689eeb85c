import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  IdempotencyStoreError,
  identitiesOf,
  judgeIdentity,
  refusalOf,
  type ClaimOutcome,
  type ClaimRequest,
  type IdempotencyRecord,
  type IdentityVerdict,
} from '@idemkit/core';
import { ItemTooLargeError, writeAtomically, type UpdateVerdict } from './atomic-write.js';
import { blindClaim, exactClaim, tokenFloor, type ClaimContext, type PlannedClaim } from './claim-expressions.js';
import { itemKey, type TableLayout } from './layout.js';
import { readKeyItem, type KeyItem, type Slot } from './marshal.js';
import type { SlotMemory } from './slot-memory.js';

/** What the store's operations share: the client, the table layout and the slot memory. */
export interface StoreContext {
  client: DynamoDBClient;
  layout: TableLayout;
  slots: SlotMemory;
}

/** Rounds of exact writes a call makes while concurrent writers keep changing its items. */
export const MAX_ATTEMPTS = 10;

/**
 * Claims every identity of `request` in one atomic write (UpdateItem for one, TransactWriteItems
 * for several): blind first, then exact from the items a failure returned, until it acquires or a
 * returned item holds a blocking occurrence (the refusal, read in the same round trip as the
 * failed write). A refused claim writes nothing.
 */
export async function claimIdentities(context: StoreContext, request: ClaimRequest, now: number, nonce: string): Promise<ClaimOutcome> {
  const { layout } = context;
  const identities = identitiesOf(request);
  const claim: ClaimContext = { now, floor: tokenFloor(now), nonce };
  let plans = identities.map((identity) => blindClaim(layout, identity, request, claim));
  const blind = identities.map(() => true);
  const prunedForSize = new Set<number>();

  for (let attempt = 1; ; attempt++) {
    let verdicts: UpdateVerdict[];
    try {
      const result = await writeAtomically(context.client, plans.map((plan) => plan.update));
      // The write applied: it set each item's counter to its claim's token.
      if (result.applied) return acquired(context, plans, true);
      verdicts = result.verdicts;
    } catch (error) {
      // The item is full: read it and write exactly, which prunes its expired occurrences.
      if (!(error instanceof ItemTooLargeError) || prunedForSize.has(error.index)) throw error;
      prunedForSize.add(error.index);
      const index = error.index;
      const item = await readItem(context, identities[index]!.key);
      const verdict = judgeIdentity(occurrencesOf(item), identities[index]!, request, now);
      const refusal = refusalOf([verdict]);
      if (refusal !== undefined) return { acquired: false, record: { ...refusal } };
      plans = plans.map((plan, i) => (i === index ? exactClaim(layout, identities[i]!, request, item, verdict, claim) : plan));
      blind[index] = false;
      continue;
    }

    const items = verdicts.map((verdict, i) => {
      if (verdict.kind !== 'failed') return undefined;
      // A blind condition only fails on an existing item: no item back means the endpoint kept it.
      if (verdict.item === undefined && blind[i]) throw itemNotReturned(layout);
      return readKeyItem(verdict.item, layout);
    });
    const own = ownLandedClaim(verdicts, items, nonce);
    if (own !== undefined) return acquired(context, own, false);
    if (verdicts.some((verdict) => verdict.kind === 'conflict')) {
      if (attempt >= MAX_ATTEMPTS) throw contention(layout);
      await backOff(attempt);
      continue;
    }
    const judged = identities.map(
      (identity, i): IdentityVerdict => (verdicts[i]!.kind === 'failed' ? judgeIdentity(occurrencesOf(items[i]), identity, request, now) : { replaced: [] }),
    );
    const refusal = refusalOf(judged);
    if (refusal !== undefined) return { acquired: false, record: { ...refusal } };
    if (attempt >= MAX_ATTEMPTS) throw contention(layout);
    plans = plans.map((plan, i) =>
      verdicts[i]!.kind === 'failed' ? exactClaim(layout, identities[i]!, request, items[i], judged[i]!, claim) : plan,
    );
    verdicts.forEach((verdict, i) => {
      if (verdict.kind === 'failed') blind[i] = false;
    });
  }
}

/**
 * The occurrences an earlier attempt of this very claim wrote, when every identity's item holds
 * one with its nonce: the SDK retried a write that had landed but whose reply was lost.
 */
function ownLandedClaim(verdicts: readonly UpdateVerdict[], items: ReadonlyArray<KeyItem | undefined>, nonce: string): Array<Pick<PlannedClaim, 'slot' | 'record'>> | undefined {
  const own: Array<Pick<PlannedClaim, 'slot' | 'record'>> = [];
  for (const [i, verdict] of verdicts.entries()) {
    const slot = verdict.kind === 'failed' ? items[i]?.slots.find((candidate) => candidate.nonce === nonce) : undefined;
    if (slot === undefined || slot.record.status !== 'in_progress') return undefined;
    own.push({ slot: slot.name, record: slot.record });
  }
  return own;
}

/** `written`: this call's write just applied (not an earlier attempt's, found by its nonce), so each item is as it left it. */
function acquired(context: StoreContext, claims: ReadonlyArray<Pick<PlannedClaim, 'slot' | 'record'>>, written: boolean): ClaimOutcome {
  for (const { slot, record } of claims) context.slots.remember(record, slot, written);
  const [first, ...rest] = claims.map((claim) => claim.record);
  const outcome: ClaimOutcome = { acquired: true, fencingToken: first!.fencingToken, record: { ...first! } };
  if (rest.length > 0) outcome.also = rest.map((record) => ({ key: record.key, fencingToken: record.fencingToken }));
  return outcome;
}

/** Every occurrence an item holds (the claim rules skip the expired ones themselves). */
export function occurrencesOf(item: KeyItem | undefined): IdempotencyRecord[] {
  return item?.slots.map((slot: Slot) => slot.record) ?? [];
}

/** A strongly consistent read of a key's item. */
export async function readItem(context: StoreContext, key: string): Promise<KeyItem | undefined> {
  const { Item } = await context.client.send(
    new GetItemCommand({ TableName: context.layout.tableName, Key: itemKey(context.layout, key), ConsistentRead: true }),
  );
  return readKeyItem(Item, context.layout);
}

/** A short random pause before retrying a transaction that met another (TransactionConflict). */
export function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
}

/** Too many rounds lost to concurrent writers: a store failure worth retrying. */
export function contention(layout: TableLayout): IdempotencyStoreError {
  return new IdempotencyStoreError(
    'dynamodb',
    `table "${layout.tableName}": concurrent writes kept changing the items for ${MAX_ATTEMPTS} rounds`,
    { retryable: true },
  );
}

function itemNotReturned(layout: TableLayout): IdempotencyStoreError {
  return new IdempotencyStoreError(
    'dynamodb',
    `claim on table "${layout.tableName}": the endpoint did not return the existing item ` +
      '(ReturnValuesOnConditionCheckFailure unsupported; DynamoDB Local needs 1.25 or later)',
    { retryable: false },
  );
}
