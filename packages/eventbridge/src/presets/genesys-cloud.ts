import { composite, custom, KeyExtractionError, stateWindow } from '@idemkit/core';
import type { EventBridgeEventLike } from '../types.js';
import { envelopeId, read, renamed, type PresetStrategy } from './named.js';
import { checkPresetOptions } from './options.js';

/** Default window of {@link genesysCloud}: twice the 500 ms re-emit gap seen from Genesys Cloud. */
export const GENESYS_CLOUD_WINDOW_MS = 1_000;

/** Options of {@link genesysCloud}. */
export interface GenesysCloudOptions {
  /**
   * Deliveries of one participant's same topic whose `eventBody.eventTime`s are closer than
   * this are one logical event. Keep it well below the time a real repeat takes (minutes).
   * @default 1000
   */
  windowMs?: number;
}

/** The Genesys Cloud fields the preset reads, for typing handlers. */
export interface GenesysCloudDetail {
  /** E.g. `v2.detail.events.conversation.{conversationId}.customer.start`. */
  topicName: string;
  eventBody: {
    /** When the change happened at Genesys: the window is measured on it. */
    eventTime: string | number;
    conversationId: string;
    participantId: string;
    [field: string]: unknown;
  };
  metadata?: { CorrelationId?: string; [field: string]: unknown };
  timestamp?: string;
  [field: string]: unknown;
}

/** A Genesys Cloud event as EventBridge delivers it: what a handler wrapped with {@link genesysCloud} receives. */
export type GenesysCloudEvent = EventBridgeEventLike<GenesysCloudDetail>;

/**
 * Key strategy for Genesys Cloud events delivered through the EventBridge integration.
 *
 * **Key:** `genesysCloud:<conversationId>:<participantId>:<topic without the conversation id>`,
 * with a sliding window of `windowMs` (default 1000) over `detail.eventBody.eventTime`.
 *
 * **Why these fields** (the failure modes of DESIGN.md):
 * - *Exact redelivery* (EventBridge or Lambda retry): every field is equal, so the key and
 *   the event time are equal — duplicate.
 * - *Re-send with a new envelope id*: `id` is not in the key, and the Genesys fields are the
 *   same — duplicate. Keying on `id` (or on `detail.metadata.CorrelationId`, or on
 *   `detail.timestamp`, which change with each send) would let it through (failure mode 5).
 * - *A state change re-emitted a few ms later with new ids* (failure mode 3): only the
 *   conversation, participant and topic are stable, and the event time moves by milliseconds;
 *   the window catches it. It slides (failure mode 4 is avoided too: equal times are duplicates,
 *   not errors).
 * - *A reopened conversation's second wrap-up, minutes later*: same key, but the event time is
 *   far outside the window — processed. Keying on the conversation alone would drop it.
 * - *Two participants starting at the same millisecond*: the participant id keeps them apart —
 *   both processed.
 *
 * The topic name carries the state (`customer.start`, `user.end`, `acw`…); the conversation id
 * is removed from it because it is already in the key. Events lacking one of these fields
 * fail with a `KeyExtractionError` naming the path: for other Genesys topics (users, queues),
 * use a strategy of your own.
 * @throws {@link ConfigError} for an unknown option or a bad `windowMs`.
 * @example
 * ```ts
 * makeIdempotent(handler, { strategy: genesysCloud({ windowMs: 2_000 }) });
 * // or by config: { "preset": "genesysCloud" } / IDEMKIT_STRATEGY='{"preset":"genesysCloud"}'
 * ```
 */
export function genesysCloud(options: GenesysCloudOptions = {}): PresetStrategy<GenesysCloudEvent> {
  const record = checkPresetOptions(options, ['windowMs'], 'genesysCloud');
  const windowMs = (record['windowMs'] as number | undefined) ?? GENESYS_CLOUD_WINDOW_MS;
  const inner = composite({
    of: [
      stateWindow({
        entity: 'detail.eventBody.conversationId',
        state: 'detail.eventBody.participantId',
        time: 'detail.eventBody.eventTime',
        windowMs,
      }),
      custom(topicState, 'topic'),
    ],
  });
  return renamed('genesysCloud', inner, windowMs);
}

// `v2.detail.events.conversation.<id>.customer.start` → `v2.detail.events.conversation.customer.start`.
function topicState(event: unknown): string {
  const topic = read(event, ['detail', 'topicName']);
  if (typeof topic !== 'string' || topic.trim() === '') {
    const problem = topic === undefined ? 'is missing' : typeof topic === 'string' ? 'is empty' : 'is not a string';
    throw new KeyExtractionError('detail.topicName', problem, envelopeId(event));
  }
  const conversationId = read(event, ['detail', 'eventBody', 'conversationId']);
  return topic
    .split('.')
    .filter((segment) => segment !== conversationId)
    .join('.');
}
