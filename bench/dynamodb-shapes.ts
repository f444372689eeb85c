// What DynamoDB Local charges for the parts of idemkit's requests: the requests its wrapped
// handler (and Powertools') really sends for a new event and its duplicate, recorded at the
// client, compared in pairs with variants of them (the same item as a PutItem, the completion
// without its condition, its slot as one string). The scenario tables show idemkit's DynamoDB
// rows a few per cent behind Powertools'; this says which request parts that comes from.
//
//   node --import ./bench/lib/loader.mjs bench/dynamodb-shapes.ts [--quick]     (~1 minute; prints a table)
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { createIdTable } from './contenders/dynamodb.js';
import { idemkitContender } from './contenders/idemkit.js';
import { powertoolsContender } from './contenders/powertools.js';
import type { Contender } from './contenders/types.js';
import { localDynamoDBClient, startDynamoDB } from './lib/dynamodb-local.js';
import { runId } from './lib/env.js';
import { genesysEvent } from './lib/events.js';
import { asPut, comparePair, keyOf, mapsAsStrings, recorder, withoutCondition, type RecordedRequest, type Shape } from './lib/request-shapes.js';
import { countDynamoDB } from './lib/round-trips.js';
import { num, textTable } from './lib/table.js';

const quick = process.argv.includes('--quick');
const options = quick ? { perRun: 5, runs: 4 } : { perRun: 20, runs: 150 };
/** Sent before anything is timed, so DynamoDB Local's JIT has compiled every shape. */
const WARM_UP_EVENTS = quick ? 20 : 1_500;

/** A contender's requests for one new event (claim, completion) and for its completed duplicate. */
async function recordEvent(contender: Contender, record: ReturnType<typeof recorder>) {
  const event = genesysEvent();
  const [claim, completion, ...extra] = await record(() => contender.handle(event));
  const [refused, ...extraRefused] = await record(() => contender.handle(event));
  if (claim === undefined || completion === undefined || refused === undefined || extra.length > 0 || extraRefused.length > 0) {
    throw new Error(`${contender.name}: expected a claim and a completion for a new event and one request for its duplicate`);
  }
  return { claim, completion, refused };
}

const dynamo = await startDynamoDB();
const admin = localDynamoDBClient(dynamo.endpoint);
const name = runId('shapes').replace(/_/g, '-');
const tables = { idemkit: `${name}-idemkit`, powertools: `${name}-powertools` };
try {
  const idemkitClient = localDynamoDBClient(dynamo.endpoint);
  const powertoolsClient = localDynamoDBClient(dynamo.endpoint);
  const store = new DynamoDBStore({ client: idemkitClient, tableName: tables.idemkit });
  await store.createTable();
  await createIdTable(admin, tables.powertools);
  const idemkit = idemkitContender('dynamodb', store, countDynamoDB(idemkitClient));
  const powertools = powertoolsContender(
    'dynamodb',
    () => new DynamoDBPersistenceLayer({ tableName: tables.powertools, awsSdkV3Client: powertoolsClient }),
    countDynamoDB(powertoolsClient),
    'shapes',
  );
  for (let i = 0; i < WARM_UP_EVENTS; i++) for (const contender of [idemkit, powertools]) await contender.handle(genesysEvent());

  const ours = await recordEvent(idemkit, recorder(idemkitClient));
  const theirs = await recordEvent(powertools, recorder(powertoolsClient));
  // Both tables are keyed by `id`: Powertools' layout and idemkit's default.
  const oursKey = keyOf(ours.claim, 'id');
  const theirsKey = keyOf(theirs.claim, 'id');
  const shape = (label: string, key: string, timed: RecordedRequest, setup: RecordedRequest[] = [], refused = false): Shape => ({ label, key, timed, setup, refused });
  // A completion is timed after its own claim, a refused claim after its claim and completion.
  const ourClaim = shape("idemkit's claim (UpdateItem)", oursKey, ours.claim);
  const ourRefused = shape("idemkit's refused claim (UpdateItem)", oursKey, ours.refused, [ours.claim, ours.completion], true);
  const ourCompletion = shape("idemkit's completion", oursKey, ours.completion, [ours.claim]);
  const pairs: [Shape, Shape][] = [
    [ourClaim, shape('the same item as a PutItem', oursKey, asPut(ours.claim))],
    [ourRefused, { ...ourRefused, label: 'the same as a PutItem', timed: asPut(ours.refused) }],
    [ourClaim, shape("Powertools' claim (PutItem)", theirsKey, theirs.claim)],
    [ourRefused, shape("Powertools' refused claim (PutItem)", theirsKey, theirs.refused, [theirs.claim, theirs.completion], true)],
    [ourCompletion, shape("Powertools' completion", theirsKey, theirs.completion, [theirs.claim])],
    [ourCompletion, { ...ourCompletion, label: 'the same without its condition', timed: withoutCondition(ours.completion) }],
    [ourCompletion, { ...ourCompletion, label: 'the same, its slot as one string', timed: mapsAsStrings(ours.completion) }],
  ];
  const rows = [];
  for (const [a, b] of pairs) {
    process.stderr.write(`${a.label} vs ${b.label}…\n`);
    const figure = await comparePair(admin, a, b, options);
    rows.push([
      figure.a,
      figure.b,
      num(figure.aMicroseconds),
      num(figure.bMicroseconds),
      `×${num(figure.ratio.median, 2)}`,
      `×${num(figure.ratio.lower, 2)} – ×${num(figure.ratio.upper, 2)}`,
    ]);
  }
  console.log(`DynamoDB Local, ${options.runs} alternating runs of ${options.perRun} fresh keys per request shape`);
  console.log(textTable(['request A', 'request B', 'A µs (median run)', 'B µs (median run)', 'A ÷ B (median of run pairs)', 'quartiles'], rows));
  for (const client of [idemkitClient, powertoolsClient]) client.destroy();
} finally {
  await Promise.allSettled(Object.values(tables).map((TableName) => admin.send(new DeleteTableCommand({ TableName }))));
  admin.destroy();
  await dynamo.stop();
}
