-- The business table: each conversation's current state, one row per conversation. Unqualified,
-- so it lands in the schema your migration tool (or src/migrate.ts) puts first on the search_path.
--
-- `version` is the ordering guard's version of the event that wrote the row, as text that sorts
-- bytewise (COLLATE "C") in event order. The UPSERT only ever replaces a row with a newer version,
-- so the row stays right even when a handler outlived its lease, or after idemkit has forgotten a
-- conversation (its version record expired) and a very late event arrives.
CREATE TABLE IF NOT EXISTS conversation_state (
  conversation_id text        PRIMARY KEY,
  state           text        NOT NULL, -- the topic after the conversation id: customer.start, acw, …
  participant_id  text        NOT NULL,
  event_time      timestamptz NOT NULL,
  event_id        text        NOT NULL, -- the EventBridge envelope id of the delivery that wrote it
  version         text        COLLATE "C" NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
