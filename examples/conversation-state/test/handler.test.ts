// Runs the handler against the real PostgreSQL at DATABASE_URL, in a schema made for this run (by
// src/migrate.ts) and dropped after. Several Lambda instances — each with its own pool of one
// connection, as in Lambda — take batches off one simulated SQS queue.
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeVersion } from '@idemkit/core';
import { manualClock, type ManualClock } from '@idemkit/core/testing';
import { createCounters } from '@idemkit/eventbridge';
import { createHandler, type ConversationEvent } from '../src/handler.js';
import { migrate } from '../src/migrate.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `idemkit_example_${randomBytes(5).toString('hex')}`;
// Every connection of this run carries this application_name, to find its lock waits in pg_locks.
const APPLICATION_NAME = SCHEMA;
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 3, application_name: APPLICATION_NAME });
const instancePools: pg.Pool[] = [];
const writesRefused = { count: 0 };

beforeAll(async () => {
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `This example's test needs PostgreSQL at ${DATABASE_URL.replace(/:[^:@/]*@/, ':***@')} (set DATABASE_URL for another): ` +
        `${(error as Error).message}. Start it with \`bash scripts/ensure-services.sh\` from the repository root.`,
    );
  }
  await migrate(pool, SCHEMA);
});

afterAll(async () => {
  await Promise.all(instancePools.map((instancePool) => instancePool.end()));
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  } finally {
    await pool.end();
  }
});

type Handler = ReturnType<typeof createHandler>;

/** One Lambda instance: its own connection, the shared schema. */
function lambdaInstance(options: { clock?: ManualClock; metrics?: ReturnType<typeof createCounters> } = {}): Handler {
  const instancePool = new pg.Pool({ connectionString: DATABASE_URL, max: 1, application_name: APPLICATION_NAME });
  instancePools.push(instancePool);
  // Counts the handler's state writes that changed nothing: without lapsed leases the guard lets
  // only newer events through, so there must be none.
  const query = instancePool.query.bind(instancePool) as (text: string, values: unknown[]) => Promise<pg.QueryResult>;
  instancePool.query = (async (text: string, values: unknown[]) => {
    const result = await query(text, values);
    if (typeof text === 'string' && text.includes('conversation_state') && result.rowCount === 0) writesRefused.count++;
    return result;
  }) as typeof instancePool.query;
  return createHandler(
    instancePool,
    { schema: SCHEMA, ...(options.clock === undefined ? {} : { clock: options.clock.now }) },
    { env: false, logLevel: 'off', ...(options.metrics === undefined ? {} : { metrics: options.metrics }) },
  );
}

const context = () => ({ functionName: 'conversation-state', awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 30_000 });

/** A Genesys Cloud conversation event as the EventBridge integration sends it. */
function stateChange(conversationId: string, participantId: string, topic: string, second: number): ConversationEvent {
  const topicName = `v2.detail.events.conversation.${conversationId}.${topic}`;
  const eventTime = T0 + second * 1_000;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': topicName,
    source: 'aws.partner/genesys.com/cloud/6f1c2d3e-0000-4000-a000-000000000001/conversation-state',
    account: '123456789012',
    time: new Date(eventTime + 40).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { topicName, version: '2', eventBody: { eventTime, conversationId, participantId, mediaType: 'VOICE' } },
  };
}

/** The same event sent again by Genesys: a new envelope id, everything else equal. */
const resent = (event: ConversationEvent): ConversationEvent => ({ ...structuredClone(event), id: randomUUID() });

const record = (event: ConversationEvent): SQSRecord =>
  ({ messageId: randomUUID(), body: JSON.stringify(event), eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:conversation-state' }) as SQSRecord;

const versionOf = (event: ConversationEvent) =>
  encodeVersion([event.detail.eventBody.eventTime as number, event.detail.eventBody.participantId, event.detail.topicName]);

async function stateOf(conversationId: string): Promise<{ state: string; participant_id: string; version: string } | undefined> {
  const { rows } = await pool.query(`SELECT state, participant_id, version FROM "${SCHEMA}".conversation_state WHERE conversation_id = $1`, [
    conversationId,
  ]);
  return rows[0];
}

/**
 * SQS in front of `instances`: each takes up to 10 records at a time; a record it reports in
 * `batchItemFailures` goes back to the end of the queue as SQS would hand it out again.
 */
async function drain(instances: readonly Handler[], deliveries: readonly ConversationEvent[]): Promise<void> {
  const queue = deliveries.map(record);
  let busy = 0;
  let batches = 0;
  await Promise.all(
    instances.map(async (instance) => {
      while (queue.length > 0 || busy > 0) {
        const batch = queue.splice(0, 10);
        if (batch.length > 0) {
          if (++batches > 1_000) throw new Error('the queue never drained');
          busy++;
          const { batchItemFailures } = await instance({ Records: batch }, context()).finally(() => busy--);
          const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
          queue.push(...batch.filter((sent) => failed.has(sent.messageId)).map((sent) => record(JSON.parse(sent.body))));
        }
        // Give the other instances their turn (a failed record is invisible for a while in SQS).
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }),
  );
}

describe('conversation-state handler', () => {
  it('keeps every conversation on its newest event over shuffled batches with redeliveries, re-sends and tied times, on 4 instances', async () => {
    const instances = Array.from({ length: 4 }, () => lambdaInstance());
    const changes = fc.uniqueArray(
      fc.record({
        conversation: fc.integer({ min: 0, max: 2 }),
        participant: fc.integer({ min: 0, max: 2 }),
        topic: fc.constantFrom('customer.start', 'user.start', 'acw'),
        second: fc.integer({ min: 0, max: 2 }),
      }),
      { minLength: 1, maxLength: 15, selector: (change) => JSON.stringify(change) },
    );
    const streams = changes.chain((specs) => {
      const run = randomUUID().slice(0, 8);
      const events = specs.map((spec) => stateChange(`conv-${run}-${spec.conversation}`, `p-${spec.participant}`, spec.topic, spec.second));
      return fc
        .array(fc.tuple(fc.nat({ max: events.length - 1 }), fc.boolean()), { maxLength: 8 })
        .map((copies) => [...events, ...copies.map(([index, same]) => (same ? structuredClone(events[index]!) : resent(events[index]!)))])
        .chain((deliveries) => fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }))
        .map((deliveries) => ({ events, deliveries }));
    });

    await fc.assert(
      fc.asyncProperty(streams, async ({ events, deliveries }) => {
        writesRefused.count = 0;
        await drain(instances, deliveries);
        expect(writesRefused.count).toBe(0);
        const newest = new Map<string, ConversationEvent>();
        for (const event of events) {
          const best = newest.get(event.detail.eventBody.conversationId);
          if (best === undefined || versionOf(event) > versionOf(best)) newest.set(event.detail.eventBody.conversationId, event);
        }
        for (const [conversationId, event] of newest) {
          expect(await stateOf(conversationId)).toEqual({
            state: event.detail.topicName.split(`${conversationId}.`)[1],
            participant_id: event.detail.eventBody.participantId,
            version: versionOf(event),
          });
        }
      }),
      { numRuns: 12 },
    );
  });

  it('acknowledges a stale event without writing it, and counts it', async () => {
    const metrics = createCounters();
    const handler = lambdaInstance({ metrics });
    const conversationId = `conv-${randomUUID()}`;
    const ended = stateChange(conversationId, 'p-agent', 'acw', 90);
    const started = stateChange(conversationId, 'p-agent', 'user.start', 10); // retried, arrives late

    await expect(handler({ Records: [record(ended)] }, context())).resolves.toEqual({ batchItemFailures: [] });
    await expect(handler({ Records: [record(started)] }, context())).resolves.toEqual({ batchItemFailures: [] });
    await expect(handler({ Records: [record(resent(started))] }, context())).resolves.toEqual({ batchItemFailures: [] });

    expect(await stateOf(conversationId)).toMatchObject({ state: 'acw', version: versionOf(ended) });
    expect(metrics.snapshot()).toMatchObject({ processed: 1, stale: 1, duplicate: 1 });
  });

  it('a handler that outlived its lease cannot put its older state over the newer one, and its retry is stale', async () => {
    const clock = manualClock(T0);
    const slow = lambdaInstance({ clock });
    const fast = lambdaInstance({ clock });
    const conversationId = `conv-${randomUUID()}`;
    const lock = randomInt(1, 2 ** 31);
    // Writes of participant p-slow wait for an advisory lock the test holds: the slow instance's
    // UPSERT stops there, after it claimed its version, while the fast one runs.
    await pool.query(`
      CREATE FUNCTION "${SCHEMA}".hold_slow_writer() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.participant_id = 'p-slow' THEN PERFORM pg_advisory_xact_lock_shared(${lock}); END IF; RETURN NEW; END $$;
      CREATE TRIGGER hold_slow_writer BEFORE INSERT ON "${SCHEMA}".conversation_state
        FOR EACH ROW EXECUTE FUNCTION "${SCHEMA}".hold_slow_writer();`);
    const gate = await pool.connect();
    try {
      await gate.query('SELECT pg_advisory_lock($1)', [lock]);
      const older = record(stateChange(conversationId, 'p-slow', 'user.start', 5));
      const slowBatch = slow({ Records: [older] }, context());
      slowBatch.catch(() => undefined); // awaited below
      await advisoryWaits(1);

      clock.advance(31_001); // past the slow claim's lease (remaining time + 1 s margin)
      const newer = stateChange(conversationId, 'p-fast', 'acw', 7);
      await expect(fast({ Records: [record(newer)] }, context())).resolves.toEqual({ batchItemFailures: [] });

      await gate.query('SELECT pg_advisory_unlock($1)', [lock]);
      // The slow UPSERT found a newer version in the row and changed nothing; its claim was lost,
      // so SQS gets the record back — and then it is stale.
      await expect(slowBatch).resolves.toEqual({ batchItemFailures: [{ itemIdentifier: older.messageId }] });
      expect(await stateOf(conversationId)).toMatchObject({ participant_id: 'p-fast', version: versionOf(newer) });
      await expect(fast({ Records: [record(JSON.parse(older.body))] }, context())).resolves.toEqual({ batchItemFailures: [] });
      expect(await stateOf(conversationId)).toMatchObject({ participant_id: 'p-fast' });
    } finally {
      await gate.query('SELECT pg_advisory_unlock_all()');
      gate.release();
      await pool.query(`DROP TRIGGER hold_slow_writer ON "${SCHEMA}".conversation_state; DROP FUNCTION "${SCHEMA}".hold_slow_writer()`);
    }
  });
});

/** Waits, by asking the server (no sleeping), until `count` of this run's statements wait on an advisory lock. */
async function advisoryWaits(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE a.application_name = $1 AND l.locktype = 'advisory' AND NOT l.granted`,
      [APPLICATION_NAME],
    );
    if (rows[0]!.n >= count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} advisory lock waits, saw ${rows[0]!.n}`);
  }
}
