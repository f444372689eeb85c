import { randomUUID } from 'node:crypto';
import { genesysEvent, type GenesysEvent } from '../lib/events.js';
import type { HarnessOptions, PlannedFault } from './types.js';

/** How a delivery relates to the logical event it carries. */
export type DeliveryKind =
  /** The first delivery. */
  | 'original'
  /** The same envelope again (an EventBridge or Lambda retry): same `id`, same everything. */
  | 'redelivery'
  /** The source sent it again: a new envelope `id`, the same Genesys event. */
  | 'resend'
  /** The source emitted the same state change again a few ms later, with new ids throughout. */
  | 'reemit';

export interface PlannedDelivery {
  logicalId: number;
  kind: DeliveryKind;
  event: GenesysEvent;
  /** When it becomes visible, ms after the stream starts. */
  offsetMs: number;
}

export interface Stream {
  deliveries: PlannedDelivery[];
  /** The fault planned on each logical event, if any. */
  faults: Map<number, PlannedFault>;
}

const STATES = ['start', 'connected', 'end', 'wrapup'];

/**
 * A stream of Genesys Cloud conversation events with every kind of duplicate. Each logical
 * event is one (conversation, participant, state): the genesysCloud preset gives each its own key.
 *
 * No logical event repeats an earlier one's key later on (a conversation connecting again):
 * with one window anchor per key, a late redelivery of the first occurrence arriving after the
 * second re-anchored the key would run again — the documented single-anchor caveat
 * (docs/choosing-a-key-strategy.md), which this harness does not set out to measure.
 *
 * An event planned a slow handler also gets a redelivery `slowHandler.duplicateAfterMs` after its
 * original, while that handler still runs past its lease.
 */
export function makeStream(
  options: Pick<HarnessOptions, 'logicalEvents' | 'streamMs' | 'planned' | 'slowHandler'>,
  random = Math.random,
): Stream {
  const faults = planFaults(options, random);
  const deliveries: PlannedDelivery[] = [];
  const startMs = Date.now();
  const spacing = options.streamMs / options.logicalEvents;
  let conversationId = randomUUID();
  let participantId = randomUUID();
  for (let logicalId = 0; logicalId < options.logicalEvents; logicalId++) {
    const state = STATES[logicalId % STATES.length]!;
    if (state === 'start') {
      conversationId = randomUUID();
      participantId = randomUUID();
    }
    const offsetMs = Math.round(logicalId * spacing);
    const atMs = startMs + offsetMs;
    const envelopeId = randomUUID();
    const correlationId = randomUUID();
    const event = genesysEvent({ envelopeId, correlationId, conversationId, participantId, state, atMs });
    const add = (kind: DeliveryKind, copy: GenesysEvent, delayMs: number) =>
      deliveries.push({ logicalId, kind, event: copy, offsetMs: offsetMs + Math.round(delayMs) });
    add('original', event, 0);
    const fault = faults.get(logicalId);
    if (fault === 'slowHandler' || fault === 'slowHandlerNoHeartbeat') add('redelivery', event, options.slowHandler.duplicateAfterMs);
    const roll = random();
    // About half the logical events get duplicates: some racing the original, some long after it.
    if (roll < 0.2) add('redelivery', event, random() < 0.5 ? random() * 20 : random() * options.streamMs * 0.3);
    else if (roll < 0.35) add('resend', genesysEvent({ correlationId, conversationId, participantId, state, atMs }), random() * 300);
    else if (roll < 0.5) {
      const again = genesysEvent({ conversationId, participantId, state, atMs: atMs + 5 + Math.round(random() * 45) });
      add('reemit', again, random() * 50);
    }
    if (roll < 0.05) add('redelivery', event, random() * options.streamMs * 0.5);
  }
  return { deliveries, faults };
}

/** Spreads the planned faults over distinct logical events, away from the very start. */
function planFaults(options: Pick<HarnessOptions, 'logicalEvents' | 'planned'>, random: () => number): Map<number, PlannedFault> {
  const faults = new Map<number, PlannedFault>();
  const kinds = Object.entries(options.planned) as [PlannedFault, number][];
  const total = kinds.reduce((sum, [, count]) => sum + count, 0);
  if (total > options.logicalEvents / 2) throw new Error(`${total} planned faults are too many for ${options.logicalEvents} logical events`);
  const first = Math.min(5, Math.floor(options.logicalEvents / 10));
  for (const [kind, count] of kinds) {
    for (let placed = 0; placed < count; ) {
      const logicalId = first + Math.floor(random() * (options.logicalEvents - first));
      if (faults.has(logicalId)) continue;
      faults.set(logicalId, kind);
      placed += 1;
    }
  }
  return faults;
}
