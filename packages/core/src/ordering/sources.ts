// Where the ordering guard reads an event's entity and version, from paths or functions, and the
// checks that turn JSON config into those readers. Each check throws a ConfigError naming its field.
import { ConfigError, KeyExtractionError } from '../errors.js';
import { describeType, envelopeIdOf, keyValueProblem, quote, readKeyField, readPath, type EventPath } from '../internal/path.js';
import { closestName } from '../internal/suggest.js';
import { parseEventTime } from '../internal/time.js';
import { checkPath, fieldAt, isRecord } from '../strategies/checks.js';
import { formatKey } from '../strategies/key-format.js';
import { encodeVersion, type Version, type VersionElement } from './version.js';

/** Where the guard reads an entity: a path like `detail.conversationId`, or a function. */
export type EntitySource<TEvent = unknown> = string | ((event: TEvent) => string);

/**
 * One element of a version, in config. A bare path lets the value decide: an ISO-8601 time
 * becomes epoch ms, a number or a string of digits an integer (an epoch, a sequence number),
 * anything else text. `{ "time": path }`, `{ "sequence": path }` and `{ "text": path }` insist on
 * one kind: `time` also reads epoch seconds (as ms), for a field that mixes ISO strings and epochs.
 */
export type VersionElementSource = string | { time: string } | { sequence: string } | { text: string };

/**
 * Where the guard reads a version: one element, a tuple of them (each later element breaks the
 * ties of the ones before, e.g. `["detail.eventTime", "id"]`), or a function.
 */
export type VersionSource<TEvent = unknown> =
  | VersionElementSource
  | readonly VersionElementSource[]
  | ((event: TEvent) => Version);

/** An event's place in its entity's order: what the guard claims. */
export interface EventVersion {
  /** The full, namespaced entity key. */
  entity: string;
  /** The version as read from the event, e.g. `[1709806530000, 'evt-1']`. */
  version: Version;
  /** The version as stores compare it ({@link encodeVersion}). */
  encoded: string;
}

/** Reads an event's entity and version; throws {@link KeyExtractionError} naming the path. */
export type VersionReader<TEvent> = (event: TEvent) => EventVersion;

const KINDS = ['time', 'sequence', 'text'] as const;
type ElementKind = (typeof KINDS)[number] | 'auto';
const DIGITS = /^\d+$/;
// A string that starts like a date is meant as a time: a bad one is an error, not text.
const DATE_START = /^\d{4}-\d{2}-\d{2}/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// Entity keys start with `@ordering`, which no strategy name can spell (names have no `@`), so an
// entity key never equals a dedup key even where a store keeps both in one keyspace.
const ENTITY_SEGMENT = 'ordering';

/**
 * Builds the reader of an event's entity and version under `namespace`, checking the config.
 * @param prefix - where the config sits, for error fields: `''`, or `ordering` inside engine options.
 * @throws {@link ConfigError} naming the field (`entity`, `version[1].time`, …).
 */
export function versionReader<TEvent>(
  entity: unknown,
  version: unknown,
  namespace: string,
  prefix = '',
): VersionReader<TEvent> {
  const entityOf = entityReader<TEvent>(entity, fieldAt(prefix, 'entity'));
  const versionOf = versionOfReader<TEvent>(version, fieldAt(prefix, 'version'));
  return (event) => {
    const { label, value } = entityOf(event);
    const read = versionOf(event);
    return { entity: `${namespace}:@${formatKey(ENTITY_SEGMENT, [{ label, value }])}`, version: read, encoded: encoded(read, event) };
  };
}

// Paths only yield valid elements; a version function may return anything.
function encoded(version: Version, event: unknown): string {
  try {
    return encodeVersion(version);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new KeyExtractionError('<version>', `returned ${describeVersion(version)}, which is not a version: ${error.message.replace(/^\[idemkit\] invalid config at "[^"]*": /, '')}`, envelopeIdOf(event));
  }
}

function describeVersion(version: unknown): string {
  return Array.isArray(version) ? `a tuple of ${version.length}` : describeType(version);
}

function entityReader<TEvent>(source: unknown, field: string): (event: TEvent) => { label: string; value: string } {
  if (typeof source === 'function') {
    const fn = source as (event: TEvent) => unknown;
    return (event) => {
      const value = fn(event);
      const problem = typeof value === 'string' ? keyValueProblem(value) : `returned ${describeType(value)}, expected a non-empty string`;
      if (problem !== undefined) throw new KeyExtractionError('<entity>', problem, envelopeIdOf(event));
      return { label: '<entity>', value: value as string };
    };
  }
  const path = checkPath(source, field);
  return (event) => ({ label: path.source, value: readKeyField(event, path) });
}

function versionOfReader<TEvent>(source: unknown, field: string): (event: TEvent) => Version {
  if (typeof source === 'function') return source as (event: TEvent) => Version;
  if (source === undefined) throw new ConfigError(field, 'is missing; expected a path like "detail.eventTime", or a tuple like ["detail.eventTime", "id"]');
  if (!Array.isArray(source)) {
    const read = elementReader(source, field);
    return (event) => read(event);
  }
  if (source.length === 0) throw new ConfigError(field, 'is empty; list at least one path, e.g. ["detail.eventTime", "id"]');
  const readers = source.map((element: unknown, index) => elementReader(element, `${field}[${index}]`));
  return (event) => readers.map((read) => read(event));
}

function elementReader(source: unknown, field: string): (event: unknown) => VersionElement {
  if (typeof source === 'string' || source === undefined) return reads('auto', checkPath(source, field));
  if (!isRecord(source)) {
    throw new ConfigError(field, `must be a path, or { "time" | "sequence" | "text": path }, got ${describeType(source)}`);
  }
  const names = Object.keys(source);
  const unknown = names.find((name) => !(KINDS as readonly string[]).includes(name));
  if (unknown !== undefined) {
    const guess = closestName(unknown, KINDS);
    throw new ConfigError(
      fieldAt(field, unknown),
      `is not a kind of version element; ` + (guess === undefined ? `write { "time" | "sequence" | "text": path }` : `did you mean "${guess}"?`),
    );
  }
  if (names.length !== 1) throw new ConfigError(field, `must name one kind, "time", "sequence" or "text", got ${names.length}`);
  const kind = names[0] as (typeof KINDS)[number];
  return reads(kind, checkPath(source[kind], fieldAt(field, kind)));
}

function reads(kind: ElementKind, path: EventPath): (event: unknown) => VersionElement {
  switch (kind) {
    case 'time':
      return (event) => parseEventTime(readPath(event, path), path.source, envelopeIdOf(event));
    case 'text':
      return (event) => readKeyField(event, path);
    case 'sequence':
      return (event) => wholeNumber(readPath(event, path), path, event, 'a non-negative whole number or a string of digits');
    case 'auto':
      return (event) => {
        const value = readPath(event, path);
        if (typeof value === 'string' && DATE_START.test(value)) return parseEventTime(value, path.source, envelopeIdOf(event));
        if (typeof value === 'number' || (typeof value === 'string' && DIGITS.test(value))) {
          return wholeNumber(value, path, event, 'a non-negative whole number (for fractional epoch seconds write { "time": path })');
        }
        return readKeyField(event, path);
      };
  }
}

// A sequence number or an epoch, exactly: digit strings past 2^53 − 1 become bigints, not rounded floats.
function wholeNumber(value: unknown, path: EventPath, event: unknown, expected: string): VersionElement {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && DIGITS.test(value)) {
    const big = BigInt(value);
    return big <= MAX_SAFE ? Number(big) : big;
  }
  const shown =
    typeof value === 'number' ? `is ${value}` : typeof value === 'string' ? `is ${quote(value)}` : (keyValueProblem(value) ?? `is ${describeType(value)}`);
  throw new KeyExtractionError(path.source, `${shown}, expected ${expected}`, envelopeIdOf(event));
}
