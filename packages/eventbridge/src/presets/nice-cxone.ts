import { composite, ConfigError, custom, KeyExtractionError, stateWindow, type DedupKeyStrategy } from '@idemkit/core';
import type { EventBridgeEventLike } from '../types.js';
import { envelopeId, read, renamed, type PresetStrategy } from './named.js';
import { checkPresetOptions } from './options.js';

/** Default window of {@link niceCxone}. */
export const NICE_CXONE_WINDOW_MS = 1_000;

/** The key part used when an event carries no `IdempotencyKey`. */
export const NO_IDEMPOTENCY_KEY = '-';

/** Options of {@link niceCxone}. */
export interface NiceCxoneOptions {
  /**
   * Deliveries of one conversation's same event type (and same `IdempotencyKey`) whose
   * `detail.timestamp`s are closer than this are one logical event.
   * @default 1000
   */
  windowMs?: number;
  /**
   * Put the source's `detail.IdempotencyKey` in the key (when present). Turn off only if
   * your bridge re-emits one change with fresh `IdempotencyKey`s.
   * @default true
   */
  idempotencyKey?: boolean;
}

/** The NICE CXone fields the preset reads, for typing handlers. */
export interface NiceCxoneDetail {
  eventType: string;
  /** The source's own idempotency key, identical across re-sends of one event. */
  IdempotencyKey?: string;
  conversationId: string;
  /** When the event happened at CXone: the window is measured on it. */
  timestamp: string | number;
  [field: string]: unknown;
}

/** A NICE CXone event as its bridge puts it on EventBridge: what a handler wrapped with {@link niceCxone} receives. */
export type NiceCxoneEvent = EventBridgeEventLike<NiceCxoneDetail>;

/**
 * Key strategy for NICE CXone events bridged into EventBridge.
 *
 * **Key:** `niceCxone:<conversationId>:<eventType>:<IdempotencyKey or ->`, with a sliding
 * window of `windowMs` (default 1000) over `detail.timestamp`.
 *
 * **Why these fields** (the failure modes of DESIGN.md):
 * - *Exact redelivery*: every field is equal — duplicate.
 * - *Re-send by the bridge with a new envelope id*: `id` is not in the key; the
 *   `IdempotencyKey` and the timestamp are the source's, identical across re-sends —
 *   duplicate, however late the re-send arrives (the window compares event times, not arrival).
 * - *A conversation that legitimately starts again*: it is a new event at the source, with
 *   a new `IdempotencyKey` — processed; and if a bridge reused the key for the same
 *   conversation, its timestamp is far outside the window — processed too. Keying on the
 *   `IdempotencyKey` alone would rely on the first; keying on the conversation alone would
 *   drop the restart (failure mode 5).
 * - *Two different events of one type in one conversation within the window* (two messages
 *   in one second): their `IdempotencyKey`s differ — both processed. Without an
 *   `IdempotencyKey` the key falls back to conversation + type + window, which merges them;
 *   that is the price of catching re-sends on events that carry no key of their own.
 *
 * Events lacking `conversationId`, `eventType` or `timestamp` fail with a `KeyExtractionError`
 * naming the path.
 * @throws {@link ConfigError} for an unknown option or a bad `windowMs`.
 * @example
 * ```ts
 * makeIdempotent(handler, { strategy: niceCxone() });
 * // or by config: { "preset": "niceCxone", "windowMs": 2000 }
 * ```
 */
export function niceCxone(options: NiceCxoneOptions = {}): PresetStrategy<NiceCxoneEvent> {
  const record = checkPresetOptions(options, ['windowMs', 'idempotencyKey'], 'niceCxone');
  const windowMs = (record['windowMs'] as number | undefined) ?? NICE_CXONE_WINDOW_MS;
  const useKey = record['idempotencyKey'] ?? true;
  if (typeof useKey !== 'boolean') {
    throw new ConfigError('idempotencyKey', `must be true or false, got ${JSON.stringify(useKey)}`);
  }
  const of: DedupKeyStrategy[] = [
    stateWindow({ entity: 'detail.conversationId', state: 'detail.eventType', time: 'detail.timestamp', windowMs }),
  ];
  if (useKey) of.push(custom(idempotencyKeyOf, 'IdempotencyKey'));
  return renamed('niceCxone', composite({ of }), windowMs);
}

function idempotencyKeyOf(event: unknown): string {
  const value = read(event, ['detail', 'IdempotencyKey']);
  if (value === undefined || value === null || value === '') return NO_IDEMPOTENCY_KEY;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new KeyExtractionError('detail.IdempotencyKey', 'is neither a string nor a number', envelopeId(event));
}
