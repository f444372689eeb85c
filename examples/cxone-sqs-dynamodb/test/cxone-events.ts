// NICE CXone events as a bridge puts them on EventBridge, and the SQS records an EventBridge rule
// delivers them in (the whole event as the body).
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { NiceCxoneDetail } from '@idemkit/eventbridge';

export type CxoneEvent = EventBridgeEvent<string, NiceCxoneDetail>;

/** One CXone event: `at` is when it happened at CXone (epoch ms). */
export function cxoneEvent(options: { conversationId: string; eventType: string; at: number }): CxoneEvent {
  return {
    version: '0',
    id: randomUUID(), // the EventBridge envelope id: new on every send
    'detail-type': 'CXone Contact Event',
    source: 'nice.cxone.bridge',
    account: '123456789012',
    time: new Date(options.at + 25).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventType: options.eventType,
      conversationId: options.conversationId,
      IdempotencyKey: randomUUID(), // CXone's own: the same on every re-send of this event
      timestamp: new Date(options.at).toISOString(),
      tenantId: '11eb2b6c-4c5d-4a1f-9a0e-0242ac110002',
      channel: 'chat',
    },
  };
}

/** The same event re-sent by the bridge: a new envelope id, everything else equal. */
export function resent(event: CxoneEvent): CxoneEvent {
  return { ...structuredClone(event), id: randomUUID() };
}

/** An SQS record as Lambda receives it; an object body is JSON-encoded, a string is used as is. */
export function sqsRecord(body: unknown): SQSRecord {
  const messageId = randomUUID();
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1793610000000',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1793610000005',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:cxone-contact-events',
    awsRegion: 'eu-west-1',
  };
}

/** The batch Lambda hands the function. */
export function sqsBatch(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
