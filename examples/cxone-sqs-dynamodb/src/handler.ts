// NICE CXone → EventBridge → SQS → this Lambda: appends each CXone event to the customer's
// contact history, once, and reports per-record failures back to SQS.
//
// SQS delivers at least once, and the CXone bridge may re-send an event with a new envelope id.
// makeIdempotentSqs claims every record's key in DynamoDB (one conditional write each), runs the
// function for new events only, and returns { batchItemFailures } for the records that must come
// back: the function threw, the key is in progress elsewhere, or the body is malformed.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeEvent } from 'aws-lambda';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { makeIdempotentSqs, type NiceCxoneDetail } from '@idemkit/eventbridge';
import { appendContactHistory } from './contact-history.js';

// Created once per Lambda instance, outside the handler, so warm invocations reuse the connection.
const store = new DynamoDBStore({ client: new DynamoDBClient({}), tableName: process.env.IDEMPOTENCY_TABLE! });

export const handler = makeIdempotentSqs(
  async (event: EventBridgeEvent<string, NiceCxoneDetail>) => {
    const { conversationId, eventType, timestamp } = event.detail;
    await appendContactHistory({ conversationId, eventType, occurredAt: new Date(timestamp).toISOString() });
  },
  {
    store,
    // Key: conversation + event type + CXone's IdempotencyKey, with a 1 s sliding window over
    // detail.timestamp: a re-send is a duplicate however late it comes, a restarted contact is not.
    strategy: { preset: 'niceCxone' },
    name: 'appendContactHistory', // fixed, so keys survive minification
    retentionMs: 24 * 60 * 60 * 1000, // a day: above the longest redelivery delay you expect
  },
);
