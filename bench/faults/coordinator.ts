import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStore } from '@idemkit/dynamodb';
import { PostgresStore } from '@idemkit/postgres';
import { Redis } from 'ioredis';
import { deleteKeys } from '../contenders/redis.js';
import { localDynamoDBClient } from '../lib/dynamodb-local.js';
import { DATABASE_URL, REDIS_URL, runId as newRunId } from '../lib/env.js';
import { newClient, type Client } from '../lib/pg.js';
import { cutterFor } from './cuts.js';
import { COLD_START_MIGRATED, HOOK_THREW, LATE_COMPLETION_REFUSED, LOST_REPLY, PARTIAL_BATCH } from './labels.js';
import { createSchema, dropSchema, NOW_MS } from './schema.js';
import { PG_STORE_TABLE, storeConnectionName } from './stores.js';
import { makeStream, type Stream } from './stream.js';
import { CuttableProxy } from './tcp-proxy.js';
import type { HarnessOptions, HarnessReport, PlannedFault, WorkerConfig } from './types.js';
import { WorkerPool } from './workers.js';

/**
 * Runs the fault harness once on one store: ≥ 6 worker processes consume a stream of Genesys
 * events with duplicates through makeIdempotent, while handlers fail, workers are SIGKILLed
 * mid-handler, handlers outlive their lease (slow ones with the heartbeat on and off), and the
 * store's connections are cut. Then counts, from the ledger, the logical events that took effect
 * twice or never.
 */
export async function runHarness(options: HarnessOptions): Promise<HarnessReport> {
  if (options.workers < 6) throw new Error('the harness runs at least 6 workers');
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const runId = newRunId('faults');
  const schema = runId;
  const admin = newClient({ connectionString: DATABASE_URL, application_name: `${runId}_admin` });
  await admin.connect();
  const cleanups: (() => Promise<unknown>)[] = [() => dropSchema(admin, schema)];
  let pool: WorkerPool | undefined;
  let cutTimer: NodeJS.Timeout | undefined;
  try {
    await createSchema(admin, schema);
    const tools = await prepareStore(options, runId, admin, cleanups);
    const workerConfig = (worker: string): WorkerConfig => ({
      store: options.store,
      worker,
      runId,
      schema,
      databaseUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      ...(tools.proxy ? { dynamodbEndpoint: tools.proxy.url, dynamodbTable: runId } : {}),
      visibilityMs: options.visibilityMs,
      leaseMarginMs: options.leaseMarginMs,
      slowHandler: options.slowHandler,
      // Every second worker runs hooks that throw: no delivery may fail because of them.
      throwingHooks: Number(worker.slice(1)) % 2 === 0,
      coldStartMigrate: options.store === 'postgres',
      // Two workers in ten consume batches (never planned faults, so never killed and replaced), the others one at a time.
      batch: worker === 'w3' || worker === 'w7',
    });

    log(`${options.store}: starting ${options.workers} workers`);
    pool = new WorkerPool(workerConfig, log);
    await pool.start(options.workers);
    log(`${options.store}: workers ready after ${Date.now() - started} ms`);

    const stream = makeStream(options);
    await enqueue(admin, schema, stream);
    log(`${options.store}: ${options.logicalEvents} logical events, ${stream.deliveries.length} deliveries queued`);

    let burst: NodeJS.Timeout | undefined;
    if (options.store === 'postgres' && options.coldStartBurst > 0) {
      // Halfway through the stream, while every worker claims: a burst of cold starts, each migrating.
      burst = setTimeout(() => {
        log(`${options.store}: ${options.coldStartBurst} more workers cold-start at once, migrating`);
        pool!.start(options.coldStartBurst).catch((error: Error) => log(`cold-start burst: ${error.message}`));
      }, options.streamMs / 2);
      cleanups.push(async () => clearTimeout(burst));
    }

    const cut = cutterFor(options.store, tools, storeConnectionName(runId, ''));
    let connectionsCut = 0;
    cutTimer = setInterval(() => {
      cut()
        .then((count) => {
          connectionsCut += count;
          log(`${options.store}: cut ${count} store connections`);
        })
        .catch((error: Error) => log(`connection cut failed: ${error.message}`));
    }, options.cutEveryMs);

    // Counted from the stream's start: starting the workers can take seconds on a loaded machine.
    const unacked = await waitUntilAcked(admin, schema, Date.now() + options.deadlineMs);
    log(`${options.store}: ${unacked === 0 ? 'every delivery acknowledged' : `${unacked} deliveries left`} after ${Date.now() - started} ms`);
    clearInterval(cutTimer);
    await pool.stop();
    const outcome = await countEffects(admin, schema);
    const counters = pool.counters;
    return {
      store: options.store,
      logicalEvents: options.logicalEvents,
      deliveries: stream.deliveries.length,
      receives: outcome.receives,
      faults: {
        handlerError: counters['fault: handler error'] ?? 0,
        workerKilled: pool.kills,
        connectionCut: connectionsCut,
        leaseLapsed: counters['fault: lease lapsed, taken over'] ?? 0,
        slowHandler: counters['fault: slow handler, heartbeat on'] ?? 0,
        slowHandlerNoHeartbeat: counters['fault: slow handler, heartbeat off'] ?? 0,
        lostReply: (counters[`${LOST_REPLY}, claim`] ?? 0) + (counters[`${LOST_REPLY}, completion`] ?? 0),
        hookThrew: counters[HOOK_THREW] ?? 0,
        coldStartMigration: counters[COLD_START_MIGRATED] ?? 0,
        partialBatch: counters[PARTIAL_BATCH] ?? 0,
      },
      planned: options.planned,
      doubleEffects: outcome.doubles,
      slowHandlers: {
        heartbeat: { slowRuns: counters['fault: slow handler, heartbeat on'] ?? 0, doubleEffects: outcome.doublesOf['slowHandler'] ?? 0 },
        noHeartbeat: {
          slowRuns: counters['fault: slow handler, heartbeat off'] ?? 0,
          doubleEffects: outcome.doublesOf['slowHandlerNoHeartbeat'] ?? 0,
        },
      },
      doubleEffectRows: outcome.doubleRows,
      lostEvents: outcome.lost,
      unacked,
      staleWritesRefused: counters['stale ledger write refused'] ?? 0,
      lateCompletionsRefused: counters[LATE_COMPLETION_REFUSED] ?? 0,
      completionsLost: Object.entries(counters)
        .filter(([name]) => name.startsWith('idemkit error: idempotency: could not record completion'))
        .reduce((sum, [, count]) => sum + count, 0),
      counters,
      elapsedMs: Date.now() - started,
    };
  } finally {
    clearInterval(cutTimer);
    await pool?.stop().catch(() => undefined);
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: Error) => log(`cleanup: ${error.message}`));
    await admin.end();
  }
}

/** Creates what the store needs and returns the tools that cut its connections. */
async function prepareStore(options: HarnessOptions, runId: string, admin: Client, cleanups: (() => Promise<unknown>)[]) {
  switch (options.store) {
    case 'postgres':
      // Not migrated here: the workers do it as they start, all at once (fault coldStartMigration).
      return { postgres: admin };
    case 'redis': {
      const redis = new Redis(REDIS_URL, { connectionName: `${runId}_admin` });
      cleanups.push(async () => {
        await deleteKeys(redis, runId);
        redis.disconnect();
      });
      return { redis };
    }
    case 'dynamodb': {
      if (options.dynamodbEndpoint === undefined) throw new Error('store "dynamodb" needs dynamodbEndpoint');
      const client = localDynamoDBClient(options.dynamodbEndpoint);
      await new DynamoDBStore({ client, tableName: runId }).createTable();
      const proxy = await CuttableProxy.start(options.dynamodbEndpoint);
      cleanups.push(async () => {
        await proxy.close();
        await client.send(new DeleteTableCommand({ TableName: runId }));
        client.destroy();
      });
      return { proxy };
    }
  }
}

/** Writes the ground truth and the deliveries; visibility is measured on the database clock. */
async function enqueue(db: Client, schema: string, stream: Stream): Promise<void> {
  const logicalIds = [...new Set(stream.deliveries.map((delivery) => delivery.logicalId))];
  await db.query(`INSERT INTO "${schema}".logical_events SELECT * FROM unnest($1::int[], $2::text[])`, [
    logicalIds,
    logicalIds.map((id) => stream.faults.get(id) ?? null),
  ]);
  await db.query(
    `INSERT INTO "${schema}".deliveries (logical_id, kind, body, visible_at)
     SELECT l, k, b, ${NOW_MS} + o FROM unnest($1::int[], $2::text[], $3::text[], $4::int8[]) AS d (l, k, b, o)`,
    [
      stream.deliveries.map((delivery) => delivery.logicalId),
      stream.deliveries.map((delivery) => delivery.kind),
      stream.deliveries.map((delivery) => JSON.stringify(delivery.event)),
      stream.deliveries.map((delivery) => delivery.offsetMs),
    ],
  );
}

/** Polls until every delivery is acknowledged or the deadline passes; returns how many are left. */
async function waitUntilAcked(db: Client, schema: string, deadline: number): Promise<number> {
  for (;;) {
    const { rows } = await db.query<{ left: string }>(`SELECT count(*) AS left FROM "${schema}".deliveries WHERE NOT acked`);
    const left = Number(rows[0]!.left);
    if (left === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Double effects and lost events, from the ledger against the ground truth. The slow handlers
 * without a heartbeat are expected to double: they are counted apart (`doublesOf`), by fault.
 */
async function countEffects(
  db: Client,
  schema: string,
): Promise<{ doubles: number; lost: number; receives: number; doubleRows: string[]; doublesOf: Record<string, number> }> {
  const perEvent = `
    SELECT l.logical_id, l.fault, count(g.logical_id) AS effects
    FROM "${schema}".logical_events AS l LEFT JOIN "${schema}".ledger AS g USING (logical_id)
    GROUP BY l.logical_id, l.fault`;
  const { rows } = await db.query<{ doubles: string; lost: string; receives: string }>(`
    SELECT
      count(*) FILTER (WHERE effects > 1 AND fault IS DISTINCT FROM '${EXPECTED_TO_DOUBLE}') AS doubles,
      count(*) FILTER (WHERE effects = 0) AS lost,
      (SELECT sum(receives) FROM "${schema}".deliveries) AS receives
    FROM (${perEvent}) AS per_event`);
  const row = rows[0]!;
  const byFault = await db.query<{ fault: string; doubles: string }>(`
    SELECT fault, count(*) FILTER (WHERE effects > 1) AS doubles FROM (${perEvent}) AS per_event
    WHERE fault IS NOT NULL GROUP BY fault`);
  const details = await db.query<{ line: string }>(`
    SELECT 'logical event ' || g.logical_id || ': ' || string_agg(g.fencing_token || '@' || g.worker || ' ' || to_char(g.at, 'HH24:MI:SS.MS'), ', ' ORDER BY g.at) AS line
    FROM "${schema}".ledger AS g JOIN "${schema}".logical_events AS l USING (logical_id)
    WHERE l.fault IS DISTINCT FROM '${EXPECTED_TO_DOUBLE}'
    GROUP BY g.logical_id HAVING count(*) > 1`);
  return {
    doubles: Number(row.doubles),
    lost: Number(row.lost),
    receives: Number(row.receives),
    doubleRows: details.rows.map((detail) => detail.line),
    doublesOf: Object.fromEntries(byFault.rows.map((entry) => [entry.fault, Number(entry.doubles)])),
  };
}

/** The planned fault whose logical events take effect twice by design: slow handlers without a heartbeat. */
const EXPECTED_TO_DOUBLE: PlannedFault = 'slowHandlerNoHeartbeat';
