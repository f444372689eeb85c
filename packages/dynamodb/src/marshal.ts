import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError, keyInMessage, type IdempotencyRecord } from '@idemkit/core';
import { ITEM, isSlot, SLOT, STATUS, VERSION, type TableLayout } from './layout.js';

/** An item as the SDK carries it. */
export type Item = Record<string, AttributeValue>;

/** One occurrence as its item holds it: the slot attribute's name and the record it decodes to. */
export interface Slot {
  name: string;
  record: IdempotencyRecord;
  /** The nonce of the request that last wrote it (see {@link SLOT.nonce}). */
  nonce?: string;
}

/** A key's item, decoded. */
export interface KeyItem {
  /** The counter's value: the item's revision and the floor of the next token. */
  fence: number;
  /** windowMs of the bucket layout (0: none), present while the item may hold windowed slots. */
  window?: number;
  prune?: number;
  /** The TTL attribute, epoch seconds. */
  ttl?: number;
  /** Every slot, expired or not, oldest claim first. */
  slots: Slot[];
}

/** Decodes a key's item; undefined when there is none. Anything but an idemkit record is a store error. */
export function readKeyItem(item: Item | undefined, layout: TableLayout): KeyItem | undefined {
  if (item === undefined || Object.keys(item).length === 0) return undefined;
  const key = readKey(item, layout);
  if (item[ITEM.fence] === undefined) {
    const what = item[VERSION.fence] === undefined ? 'it has no fencing counter' : 'it is an ordering-guard (version) record';
    throw malformed(key, layout, what);
  }
  const decoded: KeyItem = { fence: readNumber(item, ITEM.fence, key, layout), slots: [] };
  if (item[ITEM.window] !== undefined) decoded.window = readNumber(item, ITEM.window, key, layout);
  if (item[ITEM.prune] !== undefined) decoded.prune = readNumber(item, ITEM.prune, key, layout);
  if (item[layout.ttlAttribute] !== undefined) decoded.ttl = readNumber(item, layout.ttlAttribute, key, layout);
  for (const [name, value] of Object.entries(item)) {
    if (isSlot(name)) decoded.slots.push(readSlot(name, value, key, layout));
  }
  // Claim order (tokens grow with every claim), as the claim rules read a history: of several
  // occurrences that block a claim, the refusal names the oldest, whatever order DynamoDB lists them.
  decoded.slots.sort((a, b) => a.record.fencingToken - b.record.fencingToken);
  return decoded;
}

/** The slots of an item still within their retention. */
export function liveSlots(item: KeyItem | undefined, now: number): Slot[] {
  return item === undefined ? [] : item.slots.filter((slot) => slot.record.expiresAt > now);
}

/** The live occurrence claimed with `fencingToken`, or (without one) the most recently claimed live one. */
export function findLive(item: KeyItem | undefined, now: number, fencingToken?: number): Slot | undefined {
  const live = liveSlots(item, now);
  if (fencingToken !== undefined) return live.find((slot) => slot.record.fencingToken === fencingToken);
  return live.reduce<Slot | undefined>((latest, slot) => (latest === undefined || slot.record.fencingToken > latest.record.fencingToken ? slot : latest), undefined);
}

/** A slot's stored value: the record without its key (the item's key), plus the writer's nonce. */
export function slotValue(record: IdempotencyRecord, nonce: string): AttributeValue {
  const fields: Item = {
    [SLOT.status]: stringValue(record.status === 'completed' ? STATUS.completed : STATUS.inProgress),
    [SLOT.token]: numberValue(record.fencingToken),
    [SLOT.lease]: numberValue(record.leaseExpiresAt),
    [SLOT.expiresAt]: numberValue(record.expiresAt),
    [SLOT.claimedAt]: numberValue(record.claimedAt),
    [SLOT.nonce]: stringValue(nonce),
  };
  if (record.windowAnchor !== undefined) fields[SLOT.anchor] = numberValue(record.windowAnchor);
  if (record.fingerprint !== undefined) fields[SLOT.fingerprint] = stringValue(record.fingerprint);
  if (record.result !== undefined) fields[SLOT.result] = stringValue(record.result);
  if (record.owner !== undefined) fields[SLOT.owner] = stringValue(record.owner);
  return { M: fields };
}

/** A number attribute value; DynamoDB carries numbers as decimal text. */
export function numberValue(value: number): AttributeValue {
  return { N: String(value) };
}

/** A string attribute value; the empty string is kept (DynamoDB allows it outside keys). */
export function stringValue(value: string): AttributeValue {
  return { S: value };
}

function readSlot(name: string, value: AttributeValue, key: string, layout: TableLayout): Slot {
  const fields = value.M;
  if (fields === undefined) throw malformed(key, layout, `slot "${name}" is not a map`);
  const at = `slot "${name}" field`;
  const stored = readString(fields, SLOT.status, key, layout, at);
  if (stored !== STATUS.inProgress && stored !== STATUS.completed) {
    throw malformed(key, layout, `slot "${name}" has status "${stored}"`);
  }
  const record: IdempotencyRecord = {
    key,
    status: stored === STATUS.completed ? 'completed' : 'in_progress',
    fencingToken: readNumber(fields, SLOT.token, key, layout, at),
    leaseExpiresAt: readNumber(fields, SLOT.lease, key, layout, at),
    expiresAt: readNumber(fields, SLOT.expiresAt, key, layout, at),
    claimedAt: readNumber(fields, SLOT.claimedAt, key, layout, at),
  };
  if (fields[SLOT.anchor] !== undefined) record.windowAnchor = readNumber(fields, SLOT.anchor, key, layout, at);
  if (fields[SLOT.fingerprint] !== undefined) record.fingerprint = readString(fields, SLOT.fingerprint, key, layout, at);
  if (fields[SLOT.result] !== undefined) record.result = readString(fields, SLOT.result, key, layout, at);
  if (fields[SLOT.owner] !== undefined) record.owner = readString(fields, SLOT.owner, key, layout, at);
  const slot: Slot = { name, record };
  if (fields[SLOT.nonce] !== undefined) slot.nonce = readString(fields, SLOT.nonce, key, layout, at);
  return slot;
}

/** The item's partition key value, which is the record's key. */
export function readKey(item: Item, layout: TableLayout): string {
  return item[layout.partitionKey]?.S ?? '?';
}

export function readString(item: Item, attribute: string, key: string, layout: TableLayout, at = 'attribute'): string {
  const value = item[attribute]?.S;
  if (value === undefined) throw malformed(key, layout, `${at} "${attribute}" is missing or not a string`);
  return value;
}

export function readNumber(item: Item, attribute: string, key: string, layout: TableLayout, at = 'attribute'): number {
  const text = item[attribute]?.N;
  const value = text === undefined ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw malformed(key, layout, `${at} "${attribute}" is missing or not a number`);
  return value;
}

/** Reports an item idemkit did not write; never misread as a record. The key appears hashed, as in every idemkit message. */
export function malformed(key: string, layout: TableLayout, problem: string): IdempotencyStoreError {
  return new IdempotencyStoreError(
    'dynamodb',
    `item ${keyInMessage(key)} in table "${layout.tableName}" is not an idemkit record: ${problem}`,
    { retryable: false },
  );
}
