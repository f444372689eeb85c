-- The business table: one row per NICE CXone event. Unqualified, so it lands in the schema your
-- migration tool (or src/migrate.ts) puts first on the search_path.
--
-- Note what is *not* here: no unique constraint on the event. Duplicates are kept out by
-- idemkit's claim, taken in the same transaction as the INSERT.
CREATE TABLE IF NOT EXISTS interactions (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  conversation_id text        NOT NULL,
  event_type      text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  event_id        text        NOT NULL, -- the EventBridge envelope id of the delivery that recorded it
  recorded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS interactions_conversation_idx ON interactions (conversation_id, occurred_at);
