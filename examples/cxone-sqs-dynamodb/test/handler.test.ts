// Runs the Lambda's handler on SQS batches against DynamoDB Local (started by the examples'
// global setup, or DYNAMODB_ENDPOINT), in a table made for this run and deleted after. Only the
// contact-history call is replaced, so every side effect is counted.
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { appendContactHistory } from '../src/contact-history.js';
import { cxoneEvent, resent, sqsBatch, sqsRecord } from './cxone-events.js';

vi.mock('../src/contact-history.js'); // appendContactHistory becomes a vi.fn(), given an implementation below

const TABLE = `idemkit-example-cxone-${randomUUID()}`;
const ENDPOINT = inject('dynamodbEndpoint');
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const context = { functionName: 'cxone-contact-history', getRemainingTimeInMillis: () => 60_000 };
const admin = new DynamoDBClient({
  endpoint: ENDPOINT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'example', secretAccessKey: 'example' },
});

let handler: (typeof import('../src/handler.js'))['handler'];

beforeAll(async () => {
  await new DynamoDBStore({ client: admin, tableName: TABLE }).createTable();
  // What template.yaml and the Lambda runtime give the function, pointed at DynamoDB Local.
  vi.stubEnv('IDEMPOTENCY_TABLE', TABLE);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', ENDPOINT);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'example');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example');
  vi.stubEnv('IDEMKIT_LOG_LEVEL', 'error'); // keep the per-record warnings out of the test output
  ({ handler } = await import('../src/handler.js')); // it reads them as it loads, as in Lambda
});

afterAll(async () => {
  try {
    await admin.send(new DeleteTableCommand({ TableName: TABLE }));
  } finally {
    admin.destroy();
  }
});

// The contact-history service: up, except for the conversations listed in `down`.
const down = new Set<string>();
beforeEach(() => {
  vi.mocked(appendContactHistory).mockImplementation(async (entry) => {
    if (down.has(entry.conversationId)) throw new Error('contact history answered 503 Service Unavailable');
  });
});

/** The side effects since the last call, as [conversation, event type]. */
function sideEffects(): Array<[string, string]> {
  const calls = vi.mocked(appendContactHistory).mock.calls.map(([entry]): [string, string] => [entry.conversationId, entry.eventType]);
  vi.mocked(appendContactHistory).mockClear();
  return calls;
}

describe('cxone-sqs-dynamodb handler', () => {
  const [alice, bob, carol] = ['conv-alice', 'conv-bob', 'conv-carol'].map((name) => `${name}-${randomUUID().slice(0, 8)}`) as [string, string, string];
  const aliceStarted = cxoneEvent({ conversationId: alice, eventType: 'ContactStarted', at: T0 });
  const aliceEnded = cxoneEvent({ conversationId: alice, eventType: 'ContactEnded', at: T0 + 95_000 });
  const bobStarted = cxoneEvent({ conversationId: bob, eventType: 'ContactStarted', at: T0 + 1_000 });
  const carolMessage = cxoneEvent({ conversationId: carol, eventType: 'MessageAdded', at: T0 + 2_000 });

  const duplicateOfEarlierBatch = sqsRecord(resent(aliceStarted));
  const ended = sqsRecord(aliceEnded);
  const endedAgain = sqsRecord(aliceEnded); // the same event twice in one batch, under two message ids
  const notJson = sqsRecord('{"detail-type":"CXone Contact Event","detail":{"eventType":');
  const noConversation = sqsRecord({ ...resent(carolMessage), detail: { eventType: 'MessageAdded', timestamp: new Date(T0).toISOString() } });
  const failing = sqsRecord(bobStarted);
  const fresh = sqsRecord(carolMessage);
  const secondBatch = sqsBatch(duplicateOfEarlierBatch, ended, endedAgain, notJson, noConversation, failing, fresh);

  it('processes a first batch', async () => {
    await expect(handler(sqsBatch(sqsRecord(aliceStarted)), context)).resolves.toEqual({ batchItemFailures: [] });
    expect(sideEffects()).toEqual([[alice, 'ContactStarted']]);
  });

  it('reports exactly the malformed and the failing records of a mixed batch; runs each new event once', async () => {
    down.add(bob);
    const response = await handler(secondBatch, context);

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: notJson.messageId },
        { itemIdentifier: noConversation.messageId },
        { itemIdentifier: failing.messageId },
      ],
    });
    expect(sideEffects()).toEqual([
      // not aliceStarted again: a duplicate of the first batch
      [alice, 'ContactEnded'], // once, though the batch holds it twice
      [bob, 'ContactStarted'], // attempted; it threw, so its claim was released
      [carol, 'MessageAdded'],
    ]);
  });

  it('lets the returned records through once the failure is gone; the malformed ones fail again', async () => {
    down.delete(bob);
    // After the visibility timeout SQS delivers the reported records again.
    const response = await handler(sqsBatch(notJson, noConversation, failing), context);

    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: notJson.messageId }, { itemIdentifier: noConversation.messageId }] });
    expect(sideEffects()).toEqual([[bob, 'ContactStarted']]);
  });

  it('answers a redelivery of the whole batch without a single side effect', async () => {
    const response = await handler(secondBatch, context);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([notJson.messageId, noConversation.messageId]);
    expect(sideEffects()).toEqual([]);
  });

  it('keeps one completed record per logical event in the DynamoDB table, with a TTL', async () => {
    const { Items = [] } = await admin.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }));

    expect(Items).toHaveLength(4); // alice started and ended, bob started, carol's message
    const store = new DynamoDBStore({ client: admin, tableName: TABLE });
    for (const item of Items) {
      const key = item['id']?.S ?? '';
      expect(key).toMatch(/^cxone-contact-history\/appendContactHistory:niceCxone:/);
      expect(Number(item['ttl']?.N)).toBeGreaterThan(Date.now() / 1000);
      // Read back through the store's own API, whatever its item layout.
      expect((await store.get(key))?.status).toBe('completed');
    }
  });
});
