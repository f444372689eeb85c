// Waiting duplicates (`inProgress.wait`): what a duplicate that meets a running claim costs while it
// waits for the result instead of failing with "in progress". Per store: a first delivery runs a
// handler of a given length; ten duplicates arrive as it starts and wait; each poll is one claim.
// Reports round trips per waiting duplicate (counted at the client, on the waiters' own
// connection) and how long after the first delivery completed each duplicate had its answer.
//
//   tsx bench/scenarios/waiting-duplicates.ts                     every store
//   tsx bench/scenarios/waiting-duplicates.ts --store redis       one store (redis, postgres, dynamodb)
//   tsx bench/scenarios/waiting-duplicates.ts --quick             fewer rounds
//
// A benchmark, not a test: it asserts that the handler ran once per event and that every
// duplicate got its result, never how fast.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyEngine, type IdempotencyStore } from '@idemkit/core';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { PostgresStore } from '@idemkit/postgres';
import { RedisStore } from '@idemkit/redis';
import { Redis } from 'ioredis';
import { deleteKeys } from '../contenders/redis.js';
import type { StoreKind } from '../contenders/types.js';
import { localDynamoDBClient, startDynamoDB } from '../lib/dynamodb-local.js';
import { DATABASE_URL, REDIS_URL, runId } from '../lib/env.js';
import { newPool } from '../lib/pg.js';
import { STORE_TITLES } from '../lib/report.js';
import { countDynamoDB, countIoredis, countPg, type RoundTripCounter } from '../lib/round-trips.js';
import { percentile } from '../lib/stats.js';
import { num, textTable } from '../lib/table.js';

/** One setting measured: how long the first delivery's handler runs, and the waiters' first poll interval. */
export interface WaitCase {
  handlerMs: number;
  pollMs: number;
}

/** What the waiting duplicates of one case cost. */
export interface WaitResult extends WaitCase {
  store: StoreKind;
  duplicates: number;
  /** Store round trips per waiting duplicate: its first claim plus its polls. */
  roundTripsPerDuplicate: number;
  /** How long after the first delivery completed a duplicate had its answer, ms. */
  answerLagP50Ms: number;
  answerLagMaxMs: number;
}

export const WAIT_CASES: readonly WaitCase[] = [
  { handlerMs: 100, pollMs: 100 },
  { handlerMs: 500, pollMs: 100 },
  { handlerMs: 2_000, pollMs: 100 },
  { handlerMs: 2_000, pollMs: 25 },
];
const DUPLICATES = 10;
const MAX_WAIT_MS = 10_000;

/** A store for the first deliveries and one for the waiters, each on its own counted connection. */
interface WaitStores {
  first: IdempotencyStore;
  waiters: IdempotencyStore;
  waiterRoundTrips: RoundTripCounter;
  close(): Promise<void>;
}

async function openStores(kind: StoreKind, dynamodbEndpoint: string | undefined): Promise<WaitStores> {
  const id = runId('waiting');
  switch (kind) {
    case 'redis': {
      const [firstClient, waiterClient] = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
      return {
        first: new RedisStore({ client: firstClient, prefix: id }),
        waiters: new RedisStore({ client: waiterClient, prefix: id }),
        waiterRoundTrips: countIoredis(waiterClient),
        async close() {
          await deleteKeys(firstClient, id);
          await Promise.all([firstClient.quit(), waiterClient.quit()]);
        },
      };
    }
    case 'postgres': {
      const [firstPool, waiterPool] = [newPool({ connectionString: DATABASE_URL, max: 2 }), newPool({ connectionString: DATABASE_URL, max: DUPLICATES })];
      const names = { schema: id, table: 'idemkit_records' };
      const first = new PostgresStore({ client: firstPool, ...names });
      await first.migrate();
      return {
        first,
        waiters: new PostgresStore({ client: waiterPool, ...names }),
        waiterRoundTrips: countPg(waiterPool),
        async close() {
          await firstPool.query(`DROP SCHEMA IF EXISTS "${id}" CASCADE`);
          await Promise.all([firstPool.end(), waiterPool.end()]);
        },
      };
    }
    case 'dynamodb': {
      const tableName = id.replace(/_/g, '-');
      const [firstClient, waiterClient] = [localDynamoDBClient(dynamodbEndpoint!), localDynamoDBClient(dynamodbEndpoint!)];
      const first = new DynamoDBStore({ client: firstClient, tableName });
      await first.createTable();
      return {
        first,
        waiters: new DynamoDBStore({ client: waiterClient, tableName }),
        waiterRoundTrips: countDynamoDB(waiterClient),
        async close() {
          await firstClient.send(new DeleteTableCommand({ TableName: tableName }));
          firstClient.destroy();
          waiterClient.destroy();
        },
      };
    }
  }
}

/** Measures every case on one store, `rounds` events per case. */
export async function measureWaitingDuplicates(
  kind: StoreKind,
  options: { rounds: number; dynamodbEndpoint?: string; cases?: readonly WaitCase[] },
): Promise<WaitResult[]> {
  const stores = await openStores(kind, options.dynamodbEndpoint);
  try {
    const results: WaitResult[] = [];
    for (const setting of options.cases ?? WAIT_CASES) results.push(await measureCase(kind, stores, setting, options.rounds));
    return results;
  } finally {
    await stores.close();
  }
}

async function measureCase(kind: StoreKind, stores: WaitStores, setting: WaitCase, rounds: number): Promise<WaitResult> {
  const strategy = { strategy: 'eventId' } as const;
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const firstEngine = new IdempotencyEngine<{ id: string }, string>({ store: stores.first, strategy, namespace });
  const waitEngine = new IdempotencyEngine<{ id: string }, string>({
    store: stores.waiters,
    strategy,
    namespace,
    inProgress: { wait: { maxMs: MAX_WAIT_MS, pollMs: setting.pollMs } },
  });
  const lags: number[] = [];
  let roundTrips = 0;
  for (let round = 0; round < rounds; round++) {
    const event = { id: randomUUID() };
    let runs = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    let completedAt = 0;
    const first = firstEngine
      .run(event, async () => {
        runs += 1;
        started();
        await new Promise((resolve) => setTimeout(resolve, setting.handlerMs));
        return 'first result';
      })
      .then((result) => ((completedAt = performance.now()), result));
    await running;
    const before = stores.waiterRoundTrips.count;
    const answers = await Promise.all(
      Array.from({ length: DUPLICATES }, async () => {
        const result = await waitEngine.run(event, async () => {
          runs += 1;
          return 'a duplicate ran the handler';
        });
        return { result, at: performance.now() };
      }),
    );
    await first;
    roundTrips += stores.waiterRoundTrips.count - before;
    if (runs !== 1) throw new Error(`${kind}: the handler ran ${runs} times for one event`);
    for (const answer of answers) {
      if (answer.result !== 'first result') throw new Error(`${kind}: a waiting duplicate answered ${JSON.stringify(answer.result)}`);
      lags.push(Math.max(0, answer.at - completedAt));
    }
  }
  const sorted = lags.sort((a, b) => a - b);
  return {
    store: kind,
    ...setting,
    duplicates: rounds * DUPLICATES,
    roundTripsPerDuplicate: roundTrips / (rounds * DUPLICATES),
    answerLagP50Ms: percentile(sorted, 0.5),
    answerLagMaxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/** Column titles of {@link waitRows}. */
export const WAIT_HEADER = [
  'store',
  'handler',
  'pollMs',
  'waiting duplicates',
  'round trips per waiting duplicate',
  'answer after completion, p50',
  'max',
];

/** One row per store and case. */
export function waitRows(results: readonly WaitResult[]): string[][] {
  return results.map((result) => [
    STORE_TITLES[result.store],
    `${num(result.handlerMs)} ms`,
    num(result.pollMs),
    num(result.duplicates),
    num(result.roundTripsPerDuplicate, 1),
    `${num(result.answerLagP50Ms, 0)} ms`,
    `${num(result.answerLagMaxMs, 0)} ms`,
  ]);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const storeArg = args[args.indexOf('--store') + 1];
  const kinds = (args.includes('--store') && storeArg ? storeArg.split(',') : ['redis', 'postgres', 'dynamodb']) as StoreKind[];
  const rounds = args.includes('--quick') ? 2 : 5;
  const dynamodb = kinds.includes('dynamodb') ? await startDynamoDB() : undefined;
  try {
    const results: WaitResult[] = [];
    for (const kind of kinds) {
      process.stderr.write(`waiting duplicates on ${kind}…\n`);
      results.push(...(await measureWaitingDuplicates(kind, { rounds, ...(dynamodb ? { dynamodbEndpoint: dynamodb.endpoint } : {}) })));
    }
    console.log(`\nWaiting duplicates (inProgress.wait, maxMs ${MAX_WAIT_MS}; ${DUPLICATES} duplicates per event)\n${textTable(WAIT_HEADER, waitRows(results))}`);
  } finally {
    await dynamodb?.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
