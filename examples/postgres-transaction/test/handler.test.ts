// Runs the handler against the real PostgreSQL at DATABASE_URL, in a schema made for this run
// (by src/migrate.ts) and dropped after.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBarrier } from '@idemkit/core/testing';
import { createHandler, type CxoneEvent } from '../src/handler.js';
import { migrate } from '../src/migrate.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCHEMA = `idemkit_example_${randomBytes(5).toString('hex')}`;
const CONCURRENT = 10;
// Every connection of this run carries this application_name, to find its lock waits in pg_locks.
const APPLICATION_NAME = SCHEMA;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: CONCURRENT + 2, application_name: APPLICATION_NAME });
const handler = createHandler(pool, { schema: SCHEMA });

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
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${SCHEMA}" CASCADE`);
  } finally {
    await pool.end();
  }
});

/** A NICE CXone event as its bridge puts it on EventBridge. */
function cxoneEvent(conversationId: string, eventType = 'ContactStarted'): CxoneEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CXone Contact Event',
    source: 'nice.cxone.bridge',
    account: '123456789012',
    time: '2026-11-02T09:00:00.025Z',
    region: 'eu-west-1',
    resources: [],
    detail: { eventType, conversationId, IdempotencyKey: randomUUID(), timestamp: '2026-11-02T09:00:00.000Z', channel: 'chat' },
  };
}

/** The same event re-sent with a new envelope id. */
const resent = (event: CxoneEvent): CxoneEvent => ({ ...structuredClone(event), id: randomUUID() });

const newConversation = () => `conv-${randomUUID()}`;

/** The business rows of one conversation. */
async function interactions(conversationId: string): Promise<Array<{ id: string; event_id: string }>> {
  const { rows } = await pool.query(`SELECT id, event_id FROM "${SCHEMA}".interactions WHERE conversation_id = $1 ORDER BY id`, [conversationId]);
  return rows;
}

/** The status of every idemkit record whose key mentions the conversation. */
async function claims(conversationId: string): Promise<string[]> {
  const { rows } = await pool.query<{ status: string }>(`SELECT status FROM "${SCHEMA}".idemkit_records WHERE position($1 in key) > 0`, [
    conversationId,
  ]);
  return rows.map((row) => row.status);
}

describe('postgres-transaction handler', () => {
  it('writes nothing twice for a redelivery or a re-send', async () => {
    const conversationId = newConversation();
    const started = cxoneEvent(conversationId);

    const first = await handler(started);
    expect(await handler(structuredClone(started))).toEqual(first);
    expect(await handler(resent(started))).toEqual(first);

    expect(await interactions(conversationId)).toEqual([{ id: first.interactionId, event_id: started.id }]);
    expect(await claims(conversationId)).toEqual(['completed']);
  });

  it('rolls the claim back with a failed INSERT, so the retry records the event', async () => {
    const conversationId = newConversation();
    const started = cxoneEvent(conversationId);
    // The database refuses this conversation's INSERT for a while (NOT VALID: checked on new rows only).
    await pool.query(`ALTER TABLE "${SCHEMA}".interactions ADD CONSTRAINT refuse_one CHECK (conversation_id <> '${conversationId}') NOT VALID`);

    await expect(handler(started)).rejects.toMatchObject({ code: '23514', constraint: 'refuse_one' });
    expect(await interactions(conversationId)).toEqual([]);
    expect(await claims(conversationId)).toEqual([]); // the claim did not survive the rollback

    await pool.query(`ALTER TABLE "${SCHEMA}".interactions DROP CONSTRAINT refuse_one`);
    const retried = await handler(started);
    expect(await interactions(conversationId)).toEqual([{ id: retried.interactionId, event_id: started.id }]);
    expect(await claims(conversationId)).toEqual(['completed']);
  });

  it('fails, rather than losing the row, when recording the completion fails inside the transaction', async () => {
    const conversationId = newConversation();
    const started = cxoneEvent(conversationId);
    // A trigger refuses to complete any claim: the INSERT succeeded, but the transaction is now aborted.
    await pool.query(`
      CREATE FUNCTION "${SCHEMA}".refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'simulated: completion refused'; END $$;
      CREATE TRIGGER refuse_completion BEFORE UPDATE ON "${SCHEMA}".idemkit_records
        FOR EACH ROW WHEN (NEW.status = 'completed') EXECUTE FUNCTION "${SCHEMA}".refuse_completion();`);

    try {
      await expect(handler(started)).rejects.toMatchObject({ name: 'IdempotencyStoreError', message: expect.stringContaining('completion refused') });
    } finally {
      await pool.query(`DROP TRIGGER refuse_completion ON "${SCHEMA}".idemkit_records; DROP FUNCTION "${SCHEMA}".refuse_completion()`);
    }
    expect(await interactions(conversationId)).toEqual([]);
    expect(await claims(conversationId)).toEqual([]);

    const retried = await handler(started);
    expect(await interactions(conversationId)).toEqual([{ id: retried.interactionId, event_id: started.id }]);
  });

  it(`records one row for ${CONCURRENT} concurrent deliveries of one event`, async () => {
    const conversationId = newConversation();
    const started = cxoneEvent(conversationId);
    const deliveries = Array.from({ length: CONCURRENT }, (_, i) => (i % 2 === 0 ? structuredClone(started) : resent(started)));

    // Hold back every INSERT into `interactions` until all deliveries are in flight: then none can
    // finish early, and the lock waits show where each one stands.
    const gate = await pool.connect();
    try {
      await gate.query('BEGIN');
      await gate.query(`LOCK TABLE "${SCHEMA}".interactions IN SHARE MODE`);

      const barrier = createBarrier(CONCURRENT);
      const results = deliveries.map(async (delivery) => {
        await barrier.wait();
        return handler(delivery);
      });
      results.forEach((result) => result.catch(() => undefined)); // awaited below

      // One delivery claimed the event and waits to INSERT; the other nine wait on its claim.
      expect(await lockWaits(CONCURRENT)).toEqual({ advisory: CONCURRENT - 1, relation: 1 });
      await gate.query('COMMIT');

      const answers = await Promise.all(results);
      expect(new Set(answers.map((answer) => answer.interactionId)).size).toBe(1);
      expect(await interactions(conversationId)).toHaveLength(1);
      expect(await claims(conversationId)).toEqual(['completed']);
    } finally {
      await gate.query('ROLLBACK').catch(() => undefined);
      gate.release();
    }
  });
});

/** Waits (by asking the server, not by sleeping) until `count` of this run's statements wait on a lock; returns them by lock type. */
async function lockWaits(count: number): Promise<Record<string, number>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await pool.query<{ locktype: string; n: number }>(
      `SELECT l.locktype, count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE a.application_name = $1 AND NOT l.granted GROUP BY l.locktype`,
      [APPLICATION_NAME],
    );
    const waits = Object.fromEntries(rows.map((row) => [row.locktype, row.n]));
    if (rows.reduce((sum, row) => sum + row.n, 0) >= count) return waits;
    if (Date.now() > deadline) throw new Error(`expected ${count} lock waits, saw ${JSON.stringify(waits)}`);
  }
}
