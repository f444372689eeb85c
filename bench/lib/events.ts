import { randomUUID } from 'node:crypto';

// Genesys Cloud conversation events as EventBridge delivers them (the shape of examples/demo).

/** An EventBridge envelope around a Genesys Cloud conversation event. */
export interface GenesysEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    topicName: string;
    version: string;
    eventBody: {
      eventTime: string;
      conversationId: string;
      participantId: string;
      state: string;
      mediaType: string;
      direction: string;
      queueId: string;
      [extra: string]: unknown;
    };
    metadata: { CorrelationId: string };
    timestamp: string;
  };
}

/** What makes one event: the envelope id, the source's own event id, and the state change it reports. */
export interface GenesysEventSpec {
  envelopeId?: string;
  correlationId?: string;
  conversationId?: string;
  participantId?: string;
  state?: string;
  /** The event time, epoch ms. */
  atMs?: number;
}

const ORG = '6f1c2d3e-0000-4000-a000-000000000001';
const QUEUE = 'eda1555d-4042-4d31-a531-212964b67bb6';

/** One event; anything not given is fresh (new ids, now). */
export function genesysEvent(spec: GenesysEventSpec = {}): GenesysEvent {
  const conversationId = spec.conversationId ?? randomUUID();
  const state = spec.state ?? 'connected';
  const atMs = spec.atMs ?? Date.now();
  const topicName = `v2.detail.events.conversation.${conversationId}.customer.${state}`;
  return {
    version: '0',
    id: spec.envelopeId ?? randomUUID(),
    'detail-type': topicName,
    source: `aws.partner/genesys.com/cloud/${ORG}/idemkit-bench`,
    account: '123456789012',
    time: new Date(atMs + 40).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      topicName,
      version: '2',
      eventBody: {
        eventTime: new Date(atMs).toISOString(),
        conversationId,
        participantId: spec.participantId ?? randomUUID(),
        state,
        mediaType: 'VOICE',
        direction: 'INBOUND',
        queueId: QUEUE,
      },
      metadata: { CorrelationId: spec.correlationId ?? randomUUID() },
      timestamp: new Date(atMs + 12).toISOString(),
    },
  };
}

/**
 * A ~2 KB event: a conversation event with the participant attributes and segments Genesys
 * sends on a routed call, which is what a content hash has to walk.
 */
export function genesysEvent2k(spec: GenesysEventSpec = {}): GenesysEvent {
  const event = genesysEvent(spec);
  Object.assign(event.detail.eventBody, {
    ani: 'tel:+14155550123',
    dnis: 'tel:+18005550199',
    divisionId: '0c3a4d3b-6a0f-4c1e-9f4b-2b1c7e0d9a11',
    externalContactId: 'b8e3f1a2-5d44-4c2f-8e61-3f2a1c9d7e05',
    wrapupCode: null,
    attributes: {
      'Customer.Tier': 'gold',
      'Customer.Language': 'en-US',
      'IVR.Path': 'main>billing>agent',
      'IVR.Intent': 'dispute-charge',
      'CRM.AccountId': 'ACC-0048213377',
      'CRM.CaseId': 'CASE-20261102-004512',
    },
    segments: Array.from({ length: 4 }, (_, index) => ({
      segmentType: ['ivr', 'interact', 'hold', 'wrapup'][index],
      segmentStart: new Date(Date.UTC(2026, 10, 2, 9, 0, index * 30)).toISOString(),
      segmentEnd: new Date(Date.UTC(2026, 10, 2, 9, 0, index * 30 + 29)).toISOString(),
      queueId: QUEUE,
      disconnectType: index === 3 ? 'client' : null,
      requestedRoutingSkillIds: ['a1f0c2d4-0000-4000-a000-0000000000b1'],
    })),
  });
  return event;
}

/** JSON size of an event in bytes. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
