// NICE CXone → EventBridge → this Lambda → PostgreSQL: records each CXone event as one row of
// `interactions`, once.
//
// The dedup claim and the INSERT run in one transaction on one connection, so they commit
// together or roll back together: never a row whose claim says "not done" (a retry would insert
// it again), never a claim that says "done" for a row that is missing. A concurrent delivery of
// the same event waits on the claim until this transaction ends, then returns its result.
import type { EventBridgeEvent } from 'aws-lambda';
import pg from 'pg';
import { IdempotencyEngine } from '@idemkit/core';
import { niceCxone, type NiceCxoneDetail } from '@idemkit/eventbridge';
import { PostgresStore } from '@idemkit/postgres';

export type CxoneEvent = EventBridgeEvent<string, NiceCxoneDetail>;
export interface Recorded {
  interactionId: string;
}

/** The handler, on `pool`; `schema` holds both `interactions` and idemkit's records. */
export function createHandler(pool: pg.Pool, { schema = 'public' } = {}) {
  const store = new PostgresStore({ client: pool, schema });
  const strategy = niceCxone(); // conversation + event type + CXone's IdempotencyKey, 1 s sliding window
  const interactions = `"${schema}".interactions`;

  return async function recordInteraction(event: CxoneEvent): Promise<Recorded> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      // The same store, on this transaction's connection: the claim is part of the transaction.
      const engine = new IdempotencyEngine<CxoneEvent, Recorded>({
        store: store.withClient(client),
        strategy,
        namespace: 'interactions',
        retentionMs: 24 * 60 * 60 * 1000, // a day: above the longest redelivery delay you expect
      });
      const recorded = await engine.run(event, async ({ id, detail }) => {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO ${interactions} (conversation_id, event_type, occurred_at, event_id) VALUES ($1, $2, $3, $4) RETURNING id`,
          [detail.conversationId, detail.eventType, new Date(detail.timestamp), id],
        );
        return { interactionId: rows[0]!.id }; // a duplicate delivery gets this back
      });
      // The store is transactional, so a completion that could not be recorded has already thrown
      // (IdempotencyStoreError) and we roll back below instead of committing a half-done event.
      await client.query('COMMIT');
      return recorded;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined); // undoes the claim with the INSERT
      throw error;
    } finally {
      client.release();
    }
  };
}

// One connection per Lambda instance, which handles one event at a time; RDS Proxy shares the
// database's connections between instances.
export const handler = createHandler(new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 }));
