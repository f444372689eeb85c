import type { Queryable } from '../lib/pg.js';

// The harness's own tables, in a schema made for one run and dropped after it:
//   deliveries      the work queue (SQS-like: receive hides a delivery for the visibility timeout;
//                   one not acknowledged in time becomes visible again)
//   logical_events  ground truth: one row per real change, with the fault planned on it
//   fence           the highest fencing token seen per idempotency key, guarding the ledger
//   ledger          the side effect: one row per execution, NO unique constraint, so a double effect shows
//   faults_fired    each planned fault fires once (the retry then succeeds)
//   busy_answers    deliveries answered "in progress elsewhere", per logical event, by when their claim began

/** Creates the run's schema and tables. */
export async function createSchema(db: Queryable, schema: string): Promise<void> {
  await db.query(`
    CREATE SCHEMA "${schema}";
    CREATE TABLE "${schema}".deliveries (
      id         serial PRIMARY KEY,
      logical_id int     NOT NULL,
      kind       text    NOT NULL,
      body       text    NOT NULL,
      visible_at bigint  NOT NULL,
      receipt    int     NOT NULL DEFAULT 0,
      receives   int     NOT NULL DEFAULT 0,
      acked      boolean NOT NULL DEFAULT false
    );
    CREATE INDEX ON "${schema}".deliveries (visible_at) WHERE NOT acked;
    CREATE TABLE "${schema}".logical_events (logical_id int PRIMARY KEY, fault text);
    CREATE TABLE "${schema}".fence (logical_key text PRIMARY KEY, token bigint NOT NULL);
    CREATE TABLE "${schema}".ledger (
      logical_id    int         NOT NULL,
      fencing_token bigint      NOT NULL,
      worker        text        NOT NULL,
      at            timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE TABLE "${schema}".faults_fired (logical_id int, kind text, PRIMARY KEY (logical_id, kind));
    CREATE TABLE "${schema}".busy_answers (logical_id int NOT NULL, at bigint NOT NULL);
  `);
}

/** Drops the run's schema and everything in it. */
export async function dropSchema(db: Queryable, schema: string): Promise<void> {
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** The database's clock in epoch ms: every process reads time from one place, so visibility is consistent. */
export const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
