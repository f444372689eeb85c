// The handler as SAM's and CDK's esbuild builds ship it: bundled as ESM and as CommonJS, loaded in
// a plain Node process from a directory with no node_modules (as in /var/task), against DynamoDB
// Local, with the contact history a local HTTP service that counts the entries it is sent.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleDir, bundleHandler, invokeBundle, storesIn } from '../../test/support/bundle.js';
import { LOCAL_AWS_ENV, localTable } from './local-table.js';
import { httpSink, type HttpSink } from '../../test/support/http-sink.js';
import { cxoneEvent, sqsBatch, sqsRecord } from './cxone-events.js';

const ENDPOINT = inject('dynamodbEndpoint');
const out = bundleDir();
let history: HttpSink;
let table: Awaited<ReturnType<typeof localTable>>;

beforeAll(async () => {
  history = await httpSink();
  table = await localTable(ENDPOINT, 'idemkit-example-bundle');
});

afterAll(async () => {
  out.remove();
  await history.close();
  await table?.drop();
});

describe.each(['esm', 'cjs'] as const)('cxone-sqs-dynamodb handler bundled as %s', (format) => {
  it('holds the DynamoDB store and no other, and runs a batch delivered twice once', async () => {
    const bundle = await bundleHandler('examples/cxone-sqs-dynamodb/src/handler.ts', { format, outdir: out.dir });
    expect(storesIn(bundle.inputs)).toEqual(['dynamodb']);

    const event = cxoneEvent({ conversationId: `conv-${randomUUID()}`, eventType: 'ContactStarted', at: Date.UTC(2026, 10, 2, 9) });
    const batch = sqsBatch(sqsRecord(event));
    const before = history.received.length;
    const { deliveries, loadError } = await invokeBundle(
      bundle,
      [batch, batch],
      // What template.yaml and the Lambda runtime give the function, pointed at DynamoDB Local.
      { ...LOCAL_AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: ENDPOINT, IDEMPOTENCY_TABLE: table.tableName, CONTACT_HISTORY_URL: history.url, IDEMKIT_LOG_LEVEL: 'warn' },
      'cxone-contact-history',
    );

    expect(loadError).toBeUndefined();
    expect(deliveries).toEqual([{ result: { batchItemFailures: [] } }, { result: { batchItemFailures: [] } }]);
    expect(history.received.slice(before)).toEqual([expect.objectContaining({ conversationId: event.detail.conversationId, eventType: 'ContactStarted' })]);
  });
});
