// Genesys Cloud → EventBridge → SQS → this Lambda → PostgreSQL: keeps each conversation's current
// state, one row per conversation, on its newest event — however late, often and out of order
// the events arrive.
//
// Genesys Cloud does not promise order, a standard SQS queue reorders, and a retried record can
// come back minutes later, behind newer ones. Two checks run before the function:
//   1. dedup (the genesysCloud preset): a redelivery, or a re-send of one state change, is a
//      duplicate and does nothing;
//   2. the ordering guard: the event must be newer than the last one applied to its conversation.
//      An older one is *stale*: acknowledged (not in batchItemFailures, so never retried), counted,
//      logged, and the function does not run. While another event of the conversation runs
//      elsewhere, the record is reported failed and SQS hands it out again later.
import type { EventBridgeEvent } from 'aws-lambda';
import pg from 'pg';
import { currentClaim, type Clock } from '@idemkit/core';
import { makeIdempotentSqs, type GenesysCloudDetail, type SqsIdempotencyConfig } from '@idemkit/eventbridge';
import { PostgresStore } from '@idemkit/postgres';

export type ConversationEvent = EventBridgeEvent<string, GenesysCloudDetail>;

/**
 * An event's version: its time at Genesys, then — for two changes in the same millisecond — its
 * participant and topic. Every element is one a re-send keeps (the envelope `id` is not), so the
 * same events pick the same winner whichever copy of each arrives.
 */
export const ORDERING = {
  entity: 'detail.eventBody.conversationId',
  version: ['detail.eventBody.eventTime', 'detail.eventBody.participantId', 'detail.topicName'],
};

/** The handler on `pool`; `schema` holds both `conversation_state` and idemkit's tables. */
export function createHandler(
  pool: pg.Pool,
  { schema = 'public', clock }: { schema?: string; clock?: Clock } = {},
  config: SqsIdempotencyConfig<ConversationEvent> = {},
) {
  // Autocommit on the pool: each claim and version is one statement, committed at once.
  const store = new PostgresStore({ client: pool, schema, ...(clock === undefined ? {} : { clock }) });
  const table = `"${schema}".conversation_state`;

  return makeIdempotentSqs(
    async (event: ConversationEvent) => {
      const { conversationId, participantId, eventTime } = event.detail.eventBody;
      // The version this event holds while it runs: written beside the state, so the row only
      // ever moves forwards — even for a handler that outlived its lease while a newer one ran.
      const { encoded } = currentClaim()!.ordering!;
      await pool.query(
        `INSERT INTO ${table} AS s (conversation_id, state, participant_id, event_time, event_id, version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (conversation_id) DO UPDATE
           SET state = EXCLUDED.state, participant_id = EXCLUDED.participant_id, event_time = EXCLUDED.event_time,
               event_id = EXCLUDED.event_id, version = EXCLUDED.version, updated_at = now()
           WHERE s.version < EXCLUDED.version`,
        [conversationId, stateOf(event), participantId, new Date(eventTime), event.id, encoded],
      );
    },
    {
      store, // versions live in the same store, in its versions table
      strategy: { preset: 'genesysCloud' },
      ordering: ORDERING,
      name: 'conversationState', // fixed, so keys survive minification
      retentionMs: 24 * 60 * 60 * 1000, // dedup: a day, above the longest redelivery delay you expect
      ...config,
    },
  );
}

/** `v2.detail.events.conversation.<id>.customer.start` → `customer.start`. */
function stateOf(event: ConversationEvent): string {
  const marker = `${event.detail.eventBody.conversationId}.`;
  const topic = event.detail.topicName;
  return topic.slice(topic.indexOf(marker) + marker.length);
}

// One connection per Lambda instance, which handles one batch at a time; RDS Proxy shares the
// database's connections between instances.
export const handler = createHandler(new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 }));
