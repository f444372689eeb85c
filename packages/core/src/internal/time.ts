import { KeyExtractionError } from '../errors.js';
import { describeType, envelopeIdOf, quote, readPath, type EventPath } from './path.js';

// Epoch numbers in [1e9, 1e11) are read as seconds (years 2001 to 5138); as milliseconds that
// range is January 1970 to March 1973, when no event source existed. Everything else is ms,
// so small test times like DESIGN.md's 999 ms and 1009 ms stay milliseconds.
const SECONDS_FROM = 1e9;
const SECONDS_BELOW = 1e11;
// The largest time a Date can hold.
const MAX_EPOCH_MS = 8.64e15;
// ISO-8601 extended format (and RFC 3339's space separator): date, optional time, optional offset.
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;
const DIGITS = /^\d+$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Reads an event time at `path` as epoch milliseconds.
 * @throws {@link KeyExtractionError} naming the path and envelope id when it is missing or not a time.
 */
export function readEventTime(event: unknown, path: EventPath): number {
  return parseEventTime(readPath(event, path), path.source, envelopeIdOf(event));
}

/**
 * Converts an event time to epoch milliseconds (whole, rounded): ISO-8601 strings, epoch numbers
 * in ms or seconds (1e9 ≤ n < 1e11 means seconds), and digit-only strings read as epoch numbers.
 * @throws {@link KeyExtractionError} for `path` when the value is missing or not a valid time.
 */
export function parseEventTime(value: unknown, path: string, eventId?: string): number {
  const result = toEpochMs(value);
  if (typeof result === 'string') throw new KeyExtractionError(path, result, eventId);
  return result;
}

// Epoch ms, or the problem phrased to follow the path.
function toEpochMs(value: unknown): number | string {
  if (value === undefined) return 'is missing';
  if (value === null) return 'is null';
  if (typeof value === 'number') return fromEpochNumber(value) ?? invalid(String(value));
  if (typeof value !== 'string') return `is ${describeType(value)}, expected an ISO-8601 string or an epoch number`;
  if (value === '') return 'is empty';
  const ms = DIGITS.test(value) ? fromEpochNumber(Number(value)) : fromIso8601(value);
  return ms ?? invalid(quote(value));
}

function invalid(shown: string): string {
  return `is not a valid time (${shown}); expected ISO-8601 like 2024-03-07T10:15:30.000Z, or epoch ms or seconds`;
}

function fromEpochNumber(epoch: number): number | undefined {
  if (!Number.isFinite(epoch) || epoch < 0) return undefined;
  // Whole milliseconds: stores keep window anchors in integer columns (Postgres bigint, DynamoDB N).
  const seconds = epoch >= SECONDS_FROM && epoch < SECONDS_BELOW;
  return inRange(Math.round(seconds ? epoch * 1000 : epoch));
}

// Times before 1970 are refused too: no event source sends them, a negative number is a bug.
function inRange(ms: number): number | undefined {
  return ms >= 0 && ms <= MAX_EPOCH_MS ? ms : undefined;
}

// Parsed by hand, not by Date.parse: Date.parse accepts non-ISO text in engine-specific ways and
// reads an offset-less date-time as *local* time, which would shift windows between machines.
// Here an offset-less time is UTC, as Lambda's clock is.
function fromIso8601(text: string): number | undefined {
  const match = ISO_8601.exec(text);
  if (match === null) return undefined;
  const [, year = '', month = '', day = '', hour = '0', minute = '0', second = '0', fraction = '', zone = 'Z'] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  // Second 60 is a leap second; Date arithmetic carries it into the next minute.
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 60) return undefined;
  const offset = offsetMs(zone);
  if (offset === undefined) return undefined;
  // setUTCFullYear, not Date.UTC, which maps years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  const ms = date.getTime() + (fraction === '' ? 0 : Number(`0.${fraction}`) * 1000) - offset;
  return inRange(Math.round(ms));
}

function offsetMs(zone: string): number | undefined {
  if (zone === 'Z' || zone === 'z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes) * 60_000;
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}
