// The handler as the stack's NodejsFunction bundles it (ESM with the banner; CommonJS too), run in
// a plain Node process from a directory with no node_modules, against DynamoDB Local, with the
// CRM a local HTTP service that counts the activities it is asked to create.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bundleDir, bundleHandler, invokeBundle, storesIn } from '../../test/support/bundle.js';
import { LOCAL_AWS_ENV, localTable } from '../../cxone-sqs-dynamodb/test/local-table.js';
import { httpSink, type HttpSink } from '../../test/support/http-sink.js';
import { genesysEvent } from '../../genesys-redis/test/genesys-events.js';

const ENDPOINT = inject('dynamodbEndpoint');
const out = bundleDir();
let crm: HttpSink;
let table: Awaited<ReturnType<typeof localTable>>;

beforeAll(async () => {
  crm = await httpSink();
  table = await localTable(ENDPOINT, 'idemkit-example-cdk');
});

afterAll(async () => {
  out.remove();
  await crm.close();
  await table?.drop();
});

describe.each(['esm', 'cjs'] as const)('cdk-genesys-dynamodb handler bundled as %s', (format) => {
  it('holds the DynamoDB store and no other, and runs a duplicate delivery once', async () => {
    const bundle = await bundleHandler('examples/cdk-genesys-dynamodb/src/handler.ts', { format, outdir: out.dir, minify: true });
    expect(storesIn(bundle.inputs)).toEqual(['dynamodb']);

    const event = genesysEvent({ conversationId: randomUUID(), participantId: randomUUID(), topic: 'user.start', eventTime: Date.UTC(2026, 10, 2, 9) });
    const before = crm.received.length;
    const { deliveries, loadError } = await invokeBundle(
      bundle,
      [event, event],
      // What the stack and the Lambda runtime give the function, pointed at DynamoDB Local.
      {
        ...LOCAL_AWS_ENV,
        IDEMKIT_STORE: `dynamodb://${table.tableName}?endpoint=${encodeURIComponent(ENDPOINT)}`,
        IDEMKIT_LOG_LEVEL: 'warn',
        CRM_URL: crm.url,
      },
      'genesys-activity-log',
    );

    expect(loadError).toBeUndefined();
    const activity = { result: { activityId: `activities-${before + 1}` } };
    expect(deliveries).toEqual([activity, activity]);
    expect(crm.received.slice(before)).toEqual([expect.objectContaining({ conversationId: event.detail.eventBody.conversationId })]);
  });
});
