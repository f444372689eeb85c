// Realistic deliveries: Genesys Cloud events as its EventBridge integration sends them, NICE
// CXone events as a bridge puts them on a bus, and the SQS records that carry them.
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { GenesysCloudDetail, NiceCxoneDetail } from '../../src/index.js';

export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const ORG = '6f1c2d3e-0000-4000-a000-000000000001';

/** A generic EventBridge event (`detail.orderId` and friends). */
export function orderEvent(orderId = `o-${randomUUID().slice(0, 8)}`, id = randomUUID()): EventBridgeEvent<'OrderPlaced', { orderId: string; total: number }> {
  return {
    version: '0',
    id,
    'detail-type': 'OrderPlaced',
    source: 'shop.orders',
    account: '123456789012',
    time: new Date(T0).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: { orderId, total: 42 },
  };
}

export interface GenesysOptions {
  conversationId: string;
  participantId: string;
  /** The part of the topic after the conversation id: `customer.start`, `user.start`, `acw`… */
  topic: string;
  /** `eventBody.eventTime`, epoch ms. */
  eventTime: number;
  /** The EventBridge envelope id; new per send. */
  envelopeId?: string;
  /** `metadata.CorrelationId`; new per emission. */
  correlationId?: string;
  eventBody?: Record<string, unknown>;
}

/** A Genesys Cloud conversation detail event, as the EventBridge integration delivers it. */
export function genesysEvent(options: GenesysOptions): EventBridgeEvent<string, GenesysCloudDetail> {
  const topicName = `v2.detail.events.conversation.${options.conversationId}.${options.topic}`;
  return {
    version: '0',
    id: options.envelopeId ?? randomUUID(),
    'detail-type': topicName,
    source: `aws.partner/genesys.com/cloud/${ORG}/idemkit-tests`,
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
        sessionId: randomUUIDFrom(options.participantId),
        mediaType: 'VOICE',
        provider: 'Edge',
        direction: 'INBOUND',
        queueId: '0c7f5cd2-ffb0-4a39-a8fe-1f3ed6a2c3d5',
        divisionId: 'c3c0e5a8-8a6a-4fd5-b1a8-6b3dcd0b5e21',
        ...options.eventBody,
      },
      metadata: { CorrelationId: options.correlationId ?? randomUUID() },
      timestamp: new Date(options.eventTime + 12).toISOString(),
    },
  };
}

/** The same event sent again by the source: new envelope id, everything else equal. */
export function resent<T extends { id: string }>(event: T): T {
  return { ...structuredClone(event), id: randomUUID() };
}

export interface CxoneOptions {
  conversationId: string;
  eventType: string;
  /** `detail.timestamp`, epoch ms (sent as ISO-8601). */
  at: number;
  idempotencyKey?: string | null;
  envelopeId?: string;
}

/** A NICE CXone event bridged into EventBridge. */
export function cxoneEvent(options: CxoneOptions): EventBridgeEvent<'CXone Event', NiceCxoneDetail> {
  const detail: NiceCxoneDetail = {
    eventType: options.eventType,
    conversationId: options.conversationId,
    timestamp: new Date(options.at).toISOString(),
    tenantId: '11eb2b6c-4c5d-4a1f-9a0e-0242ac110002',
    channel: 'chat',
  };
  if (options.idempotencyKey !== null) detail.IdempotencyKey = options.idempotencyKey ?? randomUUID();
  return {
    version: '0',
    id: options.envelopeId ?? randomUUID(),
    'detail-type': 'CXone Event',
    source: 'nice.cxone.bridge',
    account: '123456789012',
    time: new Date(options.at + 25).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** One SQS record carrying `body` (an object is JSON-encoded; a string is used as is). */
export function sqsRecord(body: unknown, options: { messageId?: string; fifo?: boolean } = {}): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  const queue = options.fifo ? 'crm-sync.fifo' : 'crm-sync';
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(T0),
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: String(T0 + 5),
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:${queue}`,
    awsRegion: 'eu-west-1',
  };
}

/** An SQS batch of records. */
export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

function randomUUIDFrom(seed: string): string {
  return `${seed.slice(0, 8)}-5e55-4000-a000-${seed.slice(-12).padStart(12, '0')}`;
}
