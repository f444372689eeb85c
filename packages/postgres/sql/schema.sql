-- idemkit: the PostgresStore table (@idemkit/postgres). Idempotent: safe to run more than once.
-- Times are epoch milliseconds, written from the application's clock (never the server's now()).

-- Fencing tokens come from a sequence, so they keep increasing across deleted and purged rows.
CREATE SEQUENCE IF NOT EXISTS "public"."idemkit_records_fencing_token_seq" AS bigint;

CREATE TABLE IF NOT EXISTS "public"."idemkit_records" (
  key              text COLLATE "C" PRIMARY KEY,
  status           text             NOT NULL CHECK (status IN ('in_progress', 'completed')),
  fencing_token    bigint           NOT NULL,
  lease_expires_at bigint           NOT NULL,
  expires_at       bigint           NOT NULL,
  fingerprint      text,
  -- The handler's result as JSON text, byte for byte (text, not jsonb, which would reorder keys).
  result           text,
  window_anchor    double precision,
  claimed_at       bigint           NOT NULL
);

ALTER SEQUENCE "public"."idemkit_records_fencing_token_seq" OWNED BY "public"."idemkit_records".fencing_token;

-- For purgeExpired(): finds rows past their retention.
CREATE INDEX IF NOT EXISTS "idemkit_records_expires_at_idx" ON "public"."idemkit_records" (expires_at);
