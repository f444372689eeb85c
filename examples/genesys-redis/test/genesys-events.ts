// Genesys Cloud conversation events as its EventBridge integration delivers them.
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import type { GenesysCloudDetail } from '@idemkit/eventbridge';

export type GenesysEvent = EventBridgeEvent<string, GenesysCloudDetail>;

const ORG_ID = '6f1c2d3e-0000-4000-a000-000000000001';

/**
 * One change of a conversation: `topic` is what follows the conversation id in the topic name
 * (`user.start`, `acw`, `customer.end`…); `eventTime` is when it happened at Genesys (epoch ms).
 */
export function genesysEvent(options: {
  conversationId: string;
  participantId: string;
  topic: string;
  eventTime: number;
  eventBody?: Record<string, unknown>;
}): GenesysEvent {
  const topicName = `v2.detail.events.conversation.${options.conversationId}.${options.topic}`;
  return {
    version: '0',
    id: randomUUID(), // the EventBridge envelope id: new on every send
    'detail-type': topicName,
    source: `aws.partner/genesys.com/cloud/${ORG_ID}/crm-sync`,
    account: '123456789012',
    time: new Date(options.eventTime + 40).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: {
      topicName,
      version: '2',
      eventBody: {
        eventTime: options.eventTime,
        conversationId: options.conversationId,
        participantId: options.participantId,
        mediaType: 'VOICE',
        direction: 'INBOUND',
        queueId: '0c7f5cd2-ffb0-4a39-a8fe-1f3ed6a2c3d5',
        ...options.eventBody,
      },
      metadata: { CorrelationId: randomUUID() }, // new on every emission
      timestamp: new Date(options.eventTime + 12).toISOString(),
    },
  };
}

/** The same event sent again with a new envelope id (a re-send): everything else equal. */
export function resent(event: GenesysEvent): GenesysEvent {
  return { ...structuredClone(event), id: randomUUID() };
}

/** The same change emitted again by Genesys `afterMs` later: new envelope id, CorrelationId and times. */
export function reEmitted(event: GenesysEvent, afterMs: number): GenesysEvent {
  const copy = structuredClone(event);
  const eventTime = Number(copy.detail.eventBody.eventTime) + afterMs;
  copy.id = randomUUID();
  copy.time = new Date(eventTime + 40).toISOString();
  copy.detail.eventBody.eventTime = eventTime;
  copy.detail.metadata = { CorrelationId: randomUUID() };
  copy.detail.timestamp = new Date(eventTime + 12).toISOString();
  return copy;
}
