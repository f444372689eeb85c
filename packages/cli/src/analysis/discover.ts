import { canonicalJson, contentHash } from '@idemkit/core';
import { PLAUSIBLE_TIMES, timeReader, type TimeReader } from './event-time.js';
import { forEachLeaf, type Leaf } from './leaves.js';

/** What the sample says each field is, ranked best first within each role. */
export interface DiscoveredFields {
  /** How many events the fields were discovered from. */
  sampleSize: number;
  /**
   * Ids that change with every delivery and repeat only in exact copies: the envelope `id`, a
   * correlation id. Keying on one catches redeliveries, not re-sends.
   */
  deliveryIds: string[];
  /** Ids shared by deliveries of one logical event only (a source's idempotency key): stable across re-sends. */
  sourceIds: string[];
  /** Ids shared by several logical events (a conversation, an order): what changes state. */
  entities: string[];
  /** Low-cardinality text (a status, an event type): the state an entity is in. */
  states: string[];
  /** Fields holding a time (ISO-8601 or epoch), best event-time candidate first. */
  times: string[];
  /** The event time: orders deliveries, drives the store's clock and measures gaps. */
  eventTime?: string;
  /**
   * Fields set aside when comparing content: delivery ids, and times other than the event time
   * (an envelope `time`, a send timestamp), plus those named with `--volatile`.
   */
  volatile: string[];
}

/** Overrides of {@link discoverFields}. */
export interface DiscoverOptions {
  /** The event-time path; found from the sample when absent. */
  time?: string;
  /** More volatile paths. */
  volatile?: readonly string[];
}

// A key field must be in nearly every event, or its strategy rejects the rest as malformed.
const KEY_COVERAGE = 0.9;
// Share of a field's values that must look alike for the field to count as that kind.
const MOSTLY = 0.95;
// Share of a field's repeats that must agree (copies, or same content) to decide its role.
const AGREEING = 0.9;
const MAX_STATES = 50;

// Ids: a letter or digit first, then id punctuation, with at least one digit (uuids, arns, ulids).
const ID_TEXT = /^(?=.*\d)[A-Za-z0-9][A-Za-z0-9_\-:./#]{5,}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;
const EPOCH_TEXT = /^\d{9,16}$/;
const ENTITY_NAME = /conversation|contact|order|session|case|ticket|account|customer|entity|aggregate|interaction|call|user|participant/i;
const STATE_NAME = /^(status|state|eventType|type|action|phase|stage|event|kind|detail-type|topic)$/i;
const EVENT_TIME_NAME = /^(eventTime|eventTimestamp|occurredAt|occurred|happenedAt)$/i;
const TIME_NAME = /time|timestamp|date|At$/;

interface ValueSeen {
  first: number;
  repeats: number;
  copies: number;
}

interface Profile {
  path: string;
  present: number;
  strings: number;
  idShaped: number;
  times: number;
  reader: TimeReader;
  values: Map<string, ValueSeen>;
}

/**
 * Classifies the fields of a sample of events by what they behave like — delivery ids, source
 * ids, entities, states, times — so candidates can be built over them. Roles are decided by how
 * values repeat: a delivery id repeats only in exact copies; a source id repeats across deliveries
 * with the same content; an entity repeats across different content.
 */
export function discoverFields(sample: readonly unknown[], options: DiscoverOptions = {}): DiscoveredFields {
  const copiesKey = sample.map((event) => canonicalJson(event));
  const profiles = profile(sample, copiesKey);
  const n = sample.length;
  const covered = (p: Profile) => p.present >= KEY_COVERAGE * n;
  const idLike = (p: Profile) => p.idShaped >= MOSTLY * p.present && p.values.size >= 2;

  const times = profiles
    .filter((p) => p.present > 0 && p.times >= MOSTLY * p.present && p.values.size >= 2)
    .sort((a, b) => timeScore(b) - timeScore(a));
  const eventTime = options.time ?? times.find(covered)?.path;
  const timePaths = new Set(times.map((p) => p.path));

  const isDeliveryId = (p: Profile) => {
    const { repeats, copies } = repeatsOf(p);
    return idLike(p) && !timePaths.has(p.path) && (repeats === 0 || copies >= AGREEING * repeats);
  };
  const deliveryIds = profiles.filter(isDeliveryId).map((p) => p.path);
  const volatile = unique([
    ...deliveryIds,
    ...times.map((p) => p.path).filter((path) => path !== eventTime),
    ...(options.volatile ?? []),
  ]);

  // With volatile fields set aside, re-sends of one event look alike: that tells source ids from entities.
  const material = materialKeys(sample, volatile);
  const ids = profiles.filter((p) => covered(p) && idLike(p) && !timePaths.has(p.path) && !deliveryIds.includes(p.path));
  const sameContent = new Map(ids.map((p) => [p.path, sameContentShare(p.path, sample, material)]));
  const sourceIds = ids.filter((p) => (sameContent.get(p.path) ?? 0) >= AGREEING).map((p) => p.path);
  const entities = ids
    .filter((p) => !sourceIds.includes(p.path))
    .sort((a, b) => entityScore(b, n) - entityScore(a, n))
    .map((p) => p.path);
  const states = profiles
    .filter(
      (p) =>
        covered(p) &&
        p.strings >= MOSTLY * p.present &&
        p.idShaped < 0.5 * p.present &&
        p.values.size >= 2 &&
        p.values.size <= MAX_STATES &&
        p.values.size <= 0.5 * p.present &&
        !timePaths.has(p.path),
    )
    .sort((a, b) => stateScore(b) - stateScore(a) || a.values.size - b.values.size)
    .map((p) => p.path);

  return {
    sampleSize: n,
    deliveryIds,
    sourceIds,
    entities,
    states,
    times: times.map((p) => p.path),
    ...(eventTime === undefined ? {} : { eventTime }),
    volatile,
  };
}

function profile(sample: readonly unknown[], copiesKey: readonly string[]): Profile[] {
  const byPath = new Map<string, Profile>();
  sample.forEach((event, index) => {
    forEachLeaf(event, (path, leaf) => {
      let p = byPath.get(path);
      if (p === undefined) {
        p = { path, present: 0, strings: 0, idShaped: 0, times: 0, reader: timeReader(path), values: new Map() };
        byPath.set(path, p);
      }
      p.present++;
      if (typeof leaf === 'string') p.strings++;
      if (isIdShaped(leaf)) p.idShaped++;
      if (mayBeTime(leaf) && isPlausibleTime(p.reader(event))) p.times++;
      const value = `${typeof leaf}:${String(leaf)}`;
      const seen = p.values.get(value);
      if (seen === undefined) p.values.set(value, { first: index, repeats: 0, copies: 0 });
      else {
        seen.repeats++;
        if (copiesKey[index] === copiesKey[seen.first]) seen.copies++;
      }
    });
  });
  return [...byPath.values()];
}

function repeatsOf(p: Profile): { repeats: number; copies: number } {
  let repeats = 0;
  let copies = 0;
  for (const seen of p.values.values()) {
    repeats += seen.repeats;
    copies += seen.copies;
  }
  return { repeats, copies };
}

function isIdShaped(leaf: Leaf): boolean {
  if (typeof leaf === 'string') return ID_TEXT.test(leaf);
  return typeof leaf === 'number' && Number.isSafeInteger(leaf) && leaf >= 1000;
}

// A cheap look first: the engine's reader is exact, but building its error for every other leaf is not free.
function mayBeTime(leaf: Leaf): boolean {
  if (typeof leaf === 'number') return leaf >= PLAUSIBLE_TIMES.from / 1000;
  return typeof leaf === 'string' && (ISO_DATE.test(leaf) || EPOCH_TEXT.test(leaf));
}

function isPlausibleTime(at: number | undefined): boolean {
  return at !== undefined && at >= PLAUSIBLE_TIMES.from && at < PLAUSIBLE_TIMES.to;
}

/** Each event's content with the volatile fields set aside, as the engine's contentHash sees it. */
export function materialKeys(sample: readonly unknown[], volatile: readonly string[]): string[] {
  const strategy = contentHash(volatile.length === 0 ? {} : { exclude: [...volatile] });
  return sample.map((event) => strategy.keyFor(event).key);
}

// Of the events repeating a value of `path`, the share whose content equals the value's first event's.
function sameContentShare(path: string, sample: readonly unknown[], material: readonly string[]): number {
  const first = new Map<string, number>();
  let repeats = 0;
  let same = 0;
  sample.forEach((event, index) => {
    const value = valueAt(event, path);
    if (value === undefined) return;
    const at = first.get(value);
    if (at === undefined) {
      first.set(value, index);
      return;
    }
    repeats++;
    if (material[at] === material[index]) same++;
  });
  return repeats === 0 ? 0 : same / repeats;
}

function valueAt(event: unknown, path: string): string | undefined {
  let current = event;
  for (const step of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current === undefined || (typeof current === 'object' && current !== null) ? undefined : `${typeof current}:${String(current)}`;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

// The source's own event time beats a send time, and both beat the EventBridge envelope's `time`.
function timeScore(p: Profile): number {
  const name = lastSegment(p.path);
  return (EVENT_TIME_NAME.test(name) ? 3 : TIME_NAME.test(name) ? 1 : 0) + (p.path.includes('.') ? 2 : 0);
}

// A named entity first; then the field that groups the most deliveries together.
function entityScore(p: Profile, n: number): number {
  const name = lastSegment(p.path);
  return (ENTITY_NAME.test(name) ? 3 : 0) + (/(Id|_id|ID)$/.test(name) ? 1 : 0) + (1 - p.values.size / Math.max(n, 1));
}

function stateScore(p: Profile): number {
  const name = lastSegment(p.path);
  return STATE_NAME.test(name) ? 3 : /status|state|type/i.test(name) ? 1 : 0;
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}
