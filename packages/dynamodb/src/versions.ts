import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import {
  judgeVersion,
  LeaseLostError,
  type PendingVersion,
  type VersionClaimOutcome,
  type VersionClaimRequest,
  type VersionRecord,
} from '@idemkit/core';
import { writeAtomically } from './atomic-write.js';
import { tokenFloor } from './claim-expressions.js';
import { contention, MAX_ATTEMPTS, type StoreContext } from './claims.js';
import { Expression, ttlSeconds } from './expressions.js';
import { ITEM, itemKey, VERSION, type TableLayout } from './layout.js';
import { malformed, numberValue, readKey, readNumber, readString, stringValue, type Item } from './marshal.js';

// The ordering guard: one item per entity, keyed by the entity key, with the applied version and
// the pending claim as top-level attributes. Versions are ASCII text whose byte order is their
// order (encodeVersion), so DynamoDB's string comparison decides stale and duplicate. Attribute
// names differ from a key item's: an item of the other kind is reported, never mixed into.

/** The ordering guard's item for an entity, decoded; `nonce` is its last writer's. */
interface VersionItem {
  record: VersionRecord;
  nonce?: string;
}

/**
 * Claims a version: one UpdateItem whose condition admits a live record it may pend on (the
 * version newer than the applied one, no running pending claim of another owner). Otherwise the
 * item returned with the failure is judged by core's rules: duplicate, stale or in progress
 * answer from it; an expired record (or one whose retention the claim would shorten) is written
 * again exactly, pinned on its counter.
 */
export async function claimVersion(context: StoreContext, request: VersionClaimRequest, now: number, nonce: string): Promise<VersionClaimOutcome> {
  const { layout } = context;
  const expiresAt = now + Math.max(request.retentionMs, request.leaseMs);
  try {
    const { Attributes } = await context.client.send(
      new UpdateItemCommand({ ...blindVersionClaim(layout, request, now, expiresAt, nonce), ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
    );
    return acquiredVersion(readVersionItem(Attributes, layout)!.record);
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    let item = readVersionItem((error as { Item?: Item }).Item, layout);
    for (let attempt = 1; ; attempt++) {
      if (item?.nonce === nonce && item.record.pending !== undefined) return acquiredVersion(item.record);
      const live = item !== undefined && item.record.expiresAt > now ? item.record : undefined;
      const verdict = judgeVersion(live, request, now);
      if (verdict !== 'acquire') return { status: verdict, record: structuredClone(live!) };
      if (attempt > MAX_ATTEMPTS) throw contention(layout);
      const token = Math.max(tokenFloor(now), (item?.record.fencingToken ?? 0) + 1);
      const update = exactVersionClaim(layout, request, now, Math.max(live?.expiresAt ?? 0, expiresAt), nonce, token, item, live);
      const result = await writeAtomically(context.client, [update]);
      if (result.applied) return acquiredVersion(pendingRecord(request, now, token, Math.max(live?.expiresAt ?? 0, expiresAt), live));
      const verdictOfWrite = result.verdicts[0]!;
      item = readVersionItem(verdictOfWrite.kind === 'failed' ? verdictOfWrite.item : undefined, layout);
    }
  }
}

/**
 * Makes the pending version the applied one, while `fencingToken` is pending and the record live.
 * @throws {@link LeaseLostError} when the token is no longer pending.
 */
export async function completeVersion(context: StoreContext, entity: string, fencingToken: number, retentionMs: number, now: number, nonce: string): Promise<void> {
  const x = pendingHeld(context.layout, fencingToken, now);
  const expiresAt = now + retentionMs;
  x.set(x.version('applied'), x.version('pendingVersion'))
    .set(x.version('expiresAt'), x.value('e', numberValue(expiresAt)))
    .set(x.ttl, x.value('ttl', numberValue(ttlSeconds(expiresAt))));
  dropPending(x, nonce);
  if (!(await writeVersion(context, entity, x, nonce))) throw new LeaseLostError(entity, fencingToken);
}

/** Drops the pending version claimed with `fencingToken`; `applied` stays. */
export async function releaseVersion(context: StoreContext, entity: string, fencingToken: number, now: number, nonce: string): Promise<boolean> {
  const x = pendingHeld(context.layout, fencingToken, now);
  dropPending(x, nonce);
  return writeVersion(context, entity, x, nonce);
}

/** Reads an entity's live version record (strongly consistent). */
export async function getVersion(context: StoreContext, entity: string, now: number): Promise<VersionRecord | undefined> {
  const { Item } = await context.client.send(
    new GetItemCommand({ TableName: context.layout.tableName, Key: itemKey(context.layout, entity), ConsistentRead: true }),
  );
  const record = readVersionItem(Item, context.layout)?.record;
  return record !== undefined && record.expiresAt > now ? record : undefined;
}

function blindVersionClaim(layout: TableLayout, request: VersionClaimRequest, now: number, expiresAt: number, nonce: string) {
  const x = new Expression(layout);
  const nowValue = x.value('now', numberValue(now));
  const expires = x.version('expiresAt');
  const applied = x.version('applied');
  const pendingToken = x.version('pendingToken');
  const version = x.value('v', stringValue(request.version));
  const exp = x.value('exp', numberValue(expiresAt));
  const free = pendingFree(x, nowValue, request);
  x.when(
    `(attribute_not_exists(${x.partitionKey}) OR (${expires} > ${nowValue} AND ${expires} <= ${exp} AND ` +
      `(attribute_not_exists(${applied}) OR ${applied} < ${version}) AND ${free}))`,
  );
  const fence = x.version('fence');
  const next = `if_not_exists(${fence}, ${x.value('floor', numberValue(tokenFloor(now)))}) + ${x.value('one', numberValue(1))}`;
  x.set(fence, next).set(pendingToken, next);
  writePending(x, request, now, expiresAt, nonce);
  return x.build(request.entity);
}

function exactVersionClaim(
  layout: TableLayout,
  request: VersionClaimRequest,
  now: number,
  expiresAt: number,
  nonce: string,
  token: number,
  item: VersionItem | undefined,
  live: VersionRecord | undefined,
) {
  const x = new Expression(layout);
  const fence = x.version('fence');
  if (item === undefined) x.when(`attribute_not_exists(${x.partitionKey})`);
  else x.when(`${fence} = ${x.value('f', numberValue(item.record.fencingToken))}`);
  const tokenValue = x.value('t', numberValue(token));
  x.set(fence, tokenValue).set(x.version('pendingToken'), tokenValue);
  // An expired record counts as absent: nothing of it stays.
  if (live === undefined && item?.record.applied !== undefined) x.remove(x.version('applied'));
  writePending(x, request, now, expiresAt, nonce);
  return x.build(request.entity);
}

function writePending(x: Expression, request: VersionClaimRequest, now: number, expiresAt: number, nonce: string): void {
  x.set(x.version('pendingVersion'), x.value('v', stringValue(request.version)))
    .set(x.version('pendingLease'), x.value('l', numberValue(now + request.leaseMs)))
    .set(x.version('pendingClaimedAt'), x.value('now', numberValue(now)))
    .set(x.version('expiresAt'), x.value('exp', numberValue(expiresAt)))
    .set(x.ttl, x.value('ttl', numberValue(ttlSeconds(expiresAt))))
    .set(x.version('nonce'), x.value('n', stringValue(nonce)));
  if (request.owner === undefined) x.remove(x.version('pendingOwner'));
  else x.set(x.version('pendingOwner'), x.value('o', stringValue(request.owner)));
}

/** No pending version, or one whose lease has passed, or the request owner's own. */
function pendingFree(x: Expression, now: string, request: VersionClaimRequest): string {
  const pendingToken = x.version('pendingToken');
  const lapsed = `${x.version('pendingLease')} <= ${now}`;
  const mine = request.owner === undefined ? '' : ` OR ${x.version('pendingOwner')} = ${x.value('o', stringValue(request.owner))}`;
  return `(attribute_not_exists(${pendingToken}) OR ${lapsed}${mine})`;
}

/** The condition of completeVersion and releaseVersion: `fencingToken` is pending on a live record. */
function pendingHeld(layout: TableLayout, fencingToken: number, now: number): Expression {
  const x = new Expression(layout);
  x.when(
    `${x.version('pendingToken')} = ${x.value('t', numberValue(fencingToken))} AND ` +
      `${x.version('expiresAt')} > ${x.value('now', numberValue(now))}`,
  );
  return x;
}

function dropPending(x: Expression, nonce: string): void {
  for (const field of ['pendingToken', 'pendingVersion', 'pendingLease', 'pendingClaimedAt', 'pendingOwner'] as const) x.remove(x.version(field));
  const fence = x.version('fence');
  x.set(fence, `${fence} + ${x.value('one', numberValue(1))}`).set(x.version('nonce'), x.value('n', stringValue(nonce)));
}

/** Sends a holder's version write; a failure whose item shows this write's nonce had landed before. */
async function writeVersion(context: StoreContext, entity: string, x: Expression, nonce: string): Promise<boolean> {
  const result = await writeAtomically(context.client, [x.build(entity)]);
  if (result.applied) return true;
  const verdict = result.verdicts[0]!;
  return readVersionItem(verdict.kind === 'failed' ? verdict.item : undefined, context.layout)?.nonce === nonce;
}

function acquiredVersion(record: VersionRecord): VersionClaimOutcome {
  return { status: 'acquired', fencingToken: record.pending!.fencingToken, record };
}

function pendingRecord(request: VersionClaimRequest, now: number, token: number, expiresAt: number, live: VersionRecord | undefined): VersionRecord {
  const pending: PendingVersion = { version: request.version, fencingToken: token, leaseExpiresAt: now + request.leaseMs, claimedAt: now };
  if (request.owner !== undefined) pending.owner = request.owner;
  const record: VersionRecord = { entity: request.entity, fencingToken: token, expiresAt, pending };
  if (live?.applied !== undefined) record.applied = live.applied;
  return record;
}

/** Decodes an entity's item; anything but an ordering-guard record is a store error. */
function readVersionItem(item: Item | undefined, layout: TableLayout): VersionItem | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  const entity = readKey(item, layout);
  if (item[VERSION.fence] === undefined) {
    const what = item[ITEM.fence] === undefined ? 'it has no version counter' : 'it is an idempotency record, not a version record';
    throw malformed(entity, layout, what);
  }
  const record: VersionRecord = {
    entity,
    fencingToken: readNumber(item, VERSION.fence, entity, layout),
    expiresAt: readNumber(item, VERSION.expiresAt, entity, layout),
  };
  if (item[VERSION.applied] !== undefined) record.applied = readString(item, VERSION.applied, entity, layout);
  if (item[VERSION.pendingToken] !== undefined) {
    const pending: PendingVersion = {
      version: readString(item, VERSION.pendingVersion, entity, layout),
      fencingToken: readNumber(item, VERSION.pendingToken, entity, layout),
      leaseExpiresAt: readNumber(item, VERSION.pendingLease, entity, layout),
      claimedAt: readNumber(item, VERSION.pendingClaimedAt, entity, layout),
    };
    if (item[VERSION.pendingOwner] !== undefined) pending.owner = readString(item, VERSION.pendingOwner, entity, layout);
    record.pending = pending;
  }
  const decoded: VersionItem = { record };
  if (item[VERSION.nonce] !== undefined) decoded.nonce = readString(item, VERSION.nonce, entity, layout);
  return decoded;
}
