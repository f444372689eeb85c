import type { AttributeValue, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { claimLifetimeMs, type ClaimRequest, type CompleteRequest } from '@idemkit/core';
import { FIELDS, itemKey, type TableLayout } from './layout.js';
import { numberValue, RELEASED, stringValue } from './marshal.js';

// The store contract's claim rules (core's claim-rules.ts) written as DynamoDB condition
// expressions, so the server decides them atomically in the same request as the write.

/**
 * Fencing tokens start at `now × 1000` for a key with no item, then grow by one per claim.
 * The item is never deleted by idemkit (release leaves a tombstone), so only TTL can reset a
 * key, and TTL runs after `expiresAt`: the restart is then above every earlier token unless a
 * key was claimed more than 1000 times per millisecond over its life.
 */
const TOKEN_FLOOR_PER_MS = 1000;

/** Collects placeholders as they are used: DynamoDB rejects unused names and values. */
class Placeholders {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};

  constructor(private readonly layout: TableLayout) {}

  /** `#field` for a record field. */
  field(field: keyof typeof FIELDS): string {
    this.names[`#${field}`] = FIELDS[field];
    return `#${field}`;
  }

  /** `#pk` for the partition key attribute. */
  partitionKey(): string {
    this.names['#pk'] = this.layout.partitionKey;
    return '#pk';
  }

  /** `#ttl` for the TTL attribute. */
  ttl(): string {
    this.names['#ttl'] = this.layout.ttlAttribute;
    return '#ttl';
  }

  value(name: string, value: AttributeValue): string {
    this.values[`:${name}`] = value;
    return `:${name}`;
  }
}

/** TTL value for a record: epoch seconds, rounded up so TTL never deletes before `expiresAt`. */
export function ttlSeconds(expiresAt: number): number {
  return Math.ceil(expiresAt / 1000);
}

/**
 * One conditional UpdateItem that claims a key: it acquires when the item is absent, released,
 * past `expiresAt`, `in_progress` with a lapsed lease, or `completed` with the request's window
 * `windowMs` or more from the anchor. On success it returns the new item; on failure the old one.
 */
export function claimInput(layout: TableLayout, request: ClaimRequest, now: number): UpdateItemCommandInput {
  const p = new Placeholders(layout);
  const status = p.field('status');
  const lease = p.field('leaseExpiresAt');
  const expires = p.field('expiresAt');
  const token = p.field('fencingToken');
  const nowValue = p.value('now', numberValue(now));
  const inProgress = p.value('inProgress', stringValue('in_progress'));
  const expiresAt = now + claimLifetimeMs(request);

  const acquirable = [
    `attribute_not_exists(${p.partitionKey()})`,
    `${expires} <= ${nowValue}`,
    `${status} = ${p.value('released', stringValue(RELEASED))}`,
    `(${status} = ${inProgress} AND ${lease} <= ${nowValue})`,
  ];
  const set = [
    `${status} = ${inProgress}`,
    `${token} = if_not_exists(${token}, ${p.value('floor', numberValue(Math.floor(now) * TOKEN_FLOOR_PER_MS))}) + ${p.value('one', numberValue(1))}`,
    `${lease} = ${p.value('lease', numberValue(now + request.leaseMs))}`,
    `${expires} = ${p.value('expiresAt', numberValue(expiresAt))}`,
    `${p.field('claimedAt')} = ${nowValue}`,
    `${p.ttl()} = ${p.value('ttl', numberValue(ttlSeconds(expiresAt)))}`,
  ];
  const remove = [p.field('result')];

  if (request.window === undefined) {
    remove.push(p.field('windowAnchor'));
  } else {
    const { at, windowMs } = request.window;
    const anchor = p.field('windowAnchor');
    // |at − anchor| >= windowMs, without abs(): the anchor lies a full window before or after.
    acquirable.push(
      `(${status} = ${p.value('completed', stringValue('completed'))} AND ` +
        `(${anchor} <= ${p.value('windowLow', numberValue(at - windowMs))} OR ` +
        `${anchor} >= ${p.value('windowHigh', numberValue(at + windowMs))}))`,
    );
    set.push(`${anchor} = ${p.value('at', numberValue(at))}`);
  }
  if (request.fingerprint === undefined) remove.push(p.field('fingerprint'));
  else set.push(`${p.field('fingerprint')} = ${p.value('fingerprint', stringValue(request.fingerprint))}`);

  return {
    TableName: layout.tableName,
    Key: itemKey(layout, request.key),
    ConditionExpression: acquirable.join(' OR '),
    UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
    ExpressionAttributeNames: p.names,
    ExpressionAttributeValues: p.values,
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/** The condition every holder-only write shares: the claim is live, in progress and ours. */
function heldBy(p: Placeholders, fencingToken: number, now: number): string {
  return (
    `${p.field('status')} = ${p.value('inProgress', stringValue('in_progress'))} AND ` +
    `${p.field('fencingToken')} = ${p.value('token', numberValue(fencingToken))} AND ` +
    `${p.field('expiresAt')} > ${p.value('now', numberValue(now))}`
  );
}

/** One conditional UpdateItem that completes a claim while its fencing token is current. */
export function completeInput(layout: TableLayout, request: CompleteRequest, now: number): UpdateItemCommandInput {
  const p = new Placeholders(layout);
  const expiresAt = now + request.retentionMs;
  const set = [
    `${p.field('status')} = ${p.value('completed', stringValue('completed'))}`,
    `${p.field('expiresAt')} = ${p.value('expiresAt', numberValue(expiresAt))}`,
    `${p.ttl()} = ${p.value('ttl', numberValue(ttlSeconds(expiresAt)))}`,
  ];
  let update: string;
  if (request.result === undefined) {
    update = `SET ${set.join(', ')} REMOVE ${p.field('result')}`;
  } else {
    set.push(`${p.field('result')} = ${p.value('result', stringValue(request.result))}`);
    update = `SET ${set.join(', ')}`;
  }
  return {
    TableName: layout.tableName,
    Key: itemKey(layout, request.key),
    ConditionExpression: heldBy(p, request.fencingToken, now),
    UpdateExpression: update,
    ExpressionAttributeNames: p.names,
    ExpressionAttributeValues: p.values,
    ReturnValues: 'NONE',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
}

/**
 * One conditional UpdateItem that releases a claim while its fencing token is current. The item
 * becomes a tombstone (status `released`, token and TTL kept) that reads as absent, so the next
 * claim continues the token instead of starting over.
 */
export function releaseInput(layout: TableLayout, key: string, fencingToken: number, now: number): UpdateItemCommandInput {
  const p = new Placeholders(layout);
  const condition = heldBy(p, fencingToken, now);
  return {
    TableName: layout.tableName,
    Key: itemKey(layout, key),
    ConditionExpression: condition,
    UpdateExpression: `SET ${p.field('status')} = ${p.value('released', stringValue(RELEASED))}`,
    ExpressionAttributeNames: p.names,
    ExpressionAttributeValues: p.values,
    ReturnValues: 'NONE',
  };
}
