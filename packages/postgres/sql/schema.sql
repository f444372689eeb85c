-- idemkit: the PostgresStore tables (@idemkit/postgres), idemkit schema 2.
-- Idempotent: creates what is missing, upgrades a table made by the previous release (schema 1)
-- in place and keeps its records; safe to run more than once.
-- Times are epoch milliseconds: the application's clock, or the server's with serverClock.

-- Never take a schema back: stop if a newer release has migrated it.
DO $idemkit$
BEGIN
  IF substring(obj_description(to_regproc('"public"."idemkit_records_claim"'), 'pg_proc') FROM '^idemkit schema (\d+)$')::int > 2 THEN
    RAISE EXCEPTION '"public"."idemkit_records" has a newer idemkit schema than 2: upgrade @idemkit/postgres';
  END IF;
END
$idemkit$;

-- Fencing tokens come from a sequence, so they keep increasing across deleted and purged rows.
CREATE SEQUENCE IF NOT EXISTS "public"."idemkit_records_fencing_token_seq" AS bigint;

-- One row per occurrence: an unwindowed key has at most one live occurrence, a windowed key one
-- per logical event it accepted within its retention.
CREATE TABLE IF NOT EXISTS "public"."idemkit_records" (
  key              text COLLATE "C" NOT NULL,
  status           text             NOT NULL CHECK (status IN ('in_progress', 'completed')),
  fencing_token    bigint           NOT NULL,
  lease_expires_at bigint           NOT NULL,
  expires_at       bigint           NOT NULL,
  fingerprint      text,
  -- The handler's result as JSON text, byte for byte (text, not jsonb, which would reorder keys).
  result           text,
  window_anchor    double precision,
  claimed_at       bigint           NOT NULL,
  owner            text,
  CONSTRAINT "idemkit_records_pkey" PRIMARY KEY (key, fencing_token)
);

-- Schema 1 (the first release) kept one row per key: its primary key was (key) alone, it had
-- no owner, and an index on expires_at (dropped: it made every completion a non-HOT update, and
-- purgeExpired() sweeps the table instead). Each of its rows becomes the one occurrence of its key.
-- Only run when needed, so a current table takes no lock here.
DO $idemkit$
DECLARE
  old_key name;
BEGIN
  SELECT conname INTO old_key FROM pg_constraint
  WHERE conrelid = '"public"."idemkit_records"'::regclass AND contype = 'p' AND cardinality(conkey) = 1;
  IF old_key IS NOT NULL THEN
    EXECUTE format('ALTER TABLE "public"."idemkit_records" ADD COLUMN IF NOT EXISTS owner text, DROP CONSTRAINT %I, '
      'ADD CONSTRAINT "idemkit_records_pkey" PRIMARY KEY (key, fencing_token)', old_key);
    DROP INDEX IF EXISTS "public"."idemkit_records_expires_at_idx";
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_depend WHERE objid = '"public"."idemkit_records_fencing_token_seq"'::regclass AND refobjid = '"public"."idemkit_records"'::regclass) THEN
    ALTER SEQUENCE "public"."idemkit_records_fencing_token_seq" OWNED BY "public"."idemkit_records".fencing_token;
  END IF;
END
$idemkit$;

-- The ordering guard: per entity, the newest version applied and the one whose handler runs.
-- Versions are order-preserving ASCII text, compared bytewise (COLLATE "C").
CREATE TABLE IF NOT EXISTS "public"."idemkit_records_versions" (
  entity                   text COLLATE "C" PRIMARY KEY,
  applied                  text COLLATE "C",
  pending_version          text COLLATE "C",
  pending_lease_expires_at bigint,
  pending_claimed_at       bigint,
  pending_owner            text,
  -- The last token handed out; the pending version's token while there is one.
  fencing_token            bigint           NOT NULL,
  expires_at               bigint           NOT NULL
);

-- Claims a batch in one call (a single claim is a batch of one). A PL/pgSQL function and not a
-- plain statement: each query in it takes its snapshot after the keys' advisory locks are held, so
-- it sees every claim committed before them; a plain statement's READ COMMITTED snapshot predates
-- its own lock wait, and would miss the occurrence the previous lock holder just committed.
CREATE OR REPLACE FUNCTION "public"."idemkit_records_claim"(
  p_first int4[], p_lease_ms int8[], p_retention_ms int8[], p_fingerprint text[], p_owner text[],
  p_key text[], p_window_at float8[], p_window_ms float8[], p_now int8
) RETURNS TABLE (
  item int4, acquired boolean, key text, status text, fencing_token bigint, lease_expires_at bigint,
  expires_at bigint, fingerprint text, result text, window_anchor double precision, claimed_at bigint, owner text
) LANGUAGE plpgsql VOLATILE AS $idemkit$
#variable_conflict use_column
DECLARE
  v_now       bigint;
  v_hash      int4;
  v_first     int4;
  v_last      int4;
  v_row       record;
  v_running   record;
  v_refused   boolean;
  v_prune     int4[];
  v_replacing boolean;
  v_locked    boolean;
BEGIN
  -- Reads after the lock see newer commits only under READ COMMITTED (a REPEATABLE READ snapshot
  -- would predate a claim committed while this one waited).
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = '0A000',
      MESSAGE = 'idemkit claims need READ COMMITTED, not ' || current_setting('transaction_isolation');
  END IF;
  -- Every key of the batch, in hash order, so two batches never wait on each other crosswise.
  IF cardinality(p_key) = 1 THEN
    PERFORM pg_advisory_xact_lock(-1268257866, hashtext(p_key[1]));
  ELSE
    FOREACH v_hash IN ARRAY ARRAY(SELECT DISTINCT hashtext(k) FROM unnest(p_key) AS k ORDER BY 1) LOOP
      PERFORM pg_advisory_xact_lock(-1268257866, v_hash);
    END LOOP;
  END IF;
  v_now := coalesce(p_now, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint);

  -- Requests in order: each one sees what the earlier ones wrote.
  <<items>>
  FOR v_item IN 1 .. cardinality(p_first) LOOP
    v_first := p_first[v_item];
    v_last := coalesce(p_first[v_item + 1], cardinality(p_key) + 1) - 1;
    v_locked := false;
    LOOP
      v_refused := false;
      v_replacing := false;
      v_prune := '{}';
      FOR j IN v_first .. v_last LOOP
        -- This identity's blocking occurrence if it has one (a completed one first), else one it
        -- replaces (live), else an expired one to delete.
        SELECT o.*, (o.expires_at > v_now AND NOT (o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner[v_item], false)))) AS blocking, o.expires_at > v_now AS live
          INTO v_row
        FROM "public"."idemkit_records" AS o
        WHERE o.key = p_key[j] AND (o.expires_at <= v_now OR (p_window_at[j] IS NULL OR o.window_anchor IS NULL OR abs(p_window_at[j] - o.window_anchor) < p_window_ms[j]))
        ORDER BY blocking DESC, live DESC, o.status <> 'completed', o.fencing_token
        LIMIT 1;
        CONTINUE WHEN NOT FOUND;
        IF v_row.blocking AND v_row.status = 'completed' THEN
          -- The first identity that meets a completed occurrence: nothing outranks it.
          item := v_item; acquired := false; key := v_row.key; status := v_row.status;
          fencing_token := v_row.fencing_token; lease_expires_at := v_row.lease_expires_at; expires_at := v_row.expires_at;
          fingerprint := v_row.fingerprint; result := v_row.result; window_anchor := v_row.window_anchor;
          claimed_at := v_row.claimed_at; owner := v_row.owner;
          RETURN NEXT;
          CONTINUE items;
        ELSIF v_row.blocking THEN
          IF NOT v_refused THEN
            v_running := v_row;
            v_refused := true;
          END IF;
        ELSE
          v_prune := v_prune || j;
          v_replacing := v_replacing OR v_row.live;
        END IF;
      END LOOP;
      IF v_refused THEN
        v_row := v_running;
        item := v_item; acquired := false; key := v_row.key; status := v_row.status;
          fencing_token := v_row.fencing_token; lease_expires_at := v_row.lease_expires_at; expires_at := v_row.expires_at;
          fingerprint := v_row.fingerprint; result := v_row.result; window_anchor := v_row.window_anchor;
          claimed_at := v_row.claimed_at; owner := v_row.owner;
          RETURN NEXT;
          CONTINUE items;
      END IF;
      EXIT WHEN NOT v_replacing OR v_locked;
      -- Claims about to be replaced: lock them, then judge again with a fresh snapshot.
      PERFORM 1
      FROM generate_series(v_first, v_last) AS j
      JOIN "public"."idemkit_records" AS o ON o.key = p_key[j]
      WHERE o.expires_at > v_now AND (p_window_at[j] IS NULL OR o.window_anchor IS NULL OR abs(p_window_at[j] - o.window_anchor) < p_window_ms[j]) AND o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner[v_item], false))
      ORDER BY o.key, o.fencing_token
      FOR UPDATE OF o;
      v_locked := true;
    END LOOP;

    -- Acquired: drop what the claim replaces (and the keys' expired occurrences), add one occurrence per identity.
    IF cardinality(v_prune) > 0 THEN
      DELETE FROM "public"."idemkit_records" AS o
      USING unnest(v_prune) AS j
      WHERE o.key = p_key[j] AND (o.expires_at <= v_now OR ((p_window_at[j] IS NULL OR o.window_anchor IS NULL OR abs(p_window_at[j] - o.window_anchor) < p_window_ms[j]) AND o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner[v_item], false))));
    END IF;
    FOR j IN v_first .. v_last LOOP
      INSERT INTO "public"."idemkit_records" AS o (key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at, owner)
      VALUES (p_key[j], 'in_progress', nextval('"public"."idemkit_records_fencing_token_seq"'), v_now + p_lease_ms[v_item],
              v_now + greatest(p_lease_ms[v_item], p_retention_ms[v_item]), p_fingerprint[v_item], NULL,
              p_window_at[j], v_now, p_owner[v_item])
      RETURNING o.key, o.status, o.fencing_token, o.lease_expires_at, o.expires_at, o.fingerprint, o.result,
                o.window_anchor, o.claimed_at, o.owner
      INTO key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at, owner;
      item := v_item;
      acquired := true;
      RETURN NEXT;
    END LOOP;
  END LOOP;
END
$idemkit$;

-- Claims one request with a single identity: the batch function's statements for one identity,
-- with scalar parameters (see idemkit_records_claim for why it is a function).
CREATE OR REPLACE FUNCTION "public"."idemkit_records_claim_one"(
  p_lease_ms int8, p_retention_ms int8, p_fingerprint text, p_owner text,
  p_key text, p_window_at float8, p_window_ms float8, p_now int8
) RETURNS TABLE (
  item int4, acquired boolean, key text, status text, fencing_token bigint, lease_expires_at bigint,
  expires_at bigint, fingerprint text, result text, window_anchor double precision, claimed_at bigint, owner text
) LANGUAGE plpgsql VOLATILE AS $idemkit$
#variable_conflict use_column
DECLARE
  v_now    bigint;
  v_row    record;
  v_prune  boolean;
  v_locked boolean := false;
BEGIN
  -- Reads after the lock see newer commits only under READ COMMITTED (a REPEATABLE READ snapshot
  -- would predate a claim committed while this one waited).
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION USING ERRCODE = '0A000',
      MESSAGE = 'idemkit claims need READ COMMITTED, not ' || current_setting('transaction_isolation');
  END IF;
  PERFORM pg_advisory_xact_lock(-1268257866, hashtext(p_key));
  v_now := coalesce(p_now, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint);
  LOOP
    v_prune := false;
    SELECT o.*, (o.expires_at > v_now AND NOT (o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner, false)))) AS blocking, o.expires_at > v_now AS live
          INTO v_row
        FROM "public"."idemkit_records" AS o
        WHERE o.key = p_key AND (o.expires_at <= v_now OR (p_window_at IS NULL OR o.window_anchor IS NULL OR abs(p_window_at - o.window_anchor) < p_window_ms))
        ORDER BY blocking DESC, live DESC, o.status <> 'completed', o.fencing_token
        LIMIT 1;
    EXIT WHEN NOT FOUND;
    IF v_row.blocking THEN
      item := 1; acquired := false; key := v_row.key; status := v_row.status;
          fencing_token := v_row.fencing_token; lease_expires_at := v_row.lease_expires_at; expires_at := v_row.expires_at;
          fingerprint := v_row.fingerprint; result := v_row.result; window_anchor := v_row.window_anchor;
          claimed_at := v_row.claimed_at; owner := v_row.owner;
          RETURN NEXT;
      RETURN;
    END IF;
    v_prune := true;
    EXIT WHEN NOT v_row.live OR v_locked;
    -- The claim about to be replaced: lock it, then judge again with a fresh snapshot.
    PERFORM 1 FROM "public"."idemkit_records" AS o
    WHERE o.key = p_key AND o.expires_at > v_now AND (p_window_at IS NULL OR o.window_anchor IS NULL OR abs(p_window_at - o.window_anchor) < p_window_ms) AND o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner, false))
    ORDER BY o.fencing_token
    FOR UPDATE OF o;
    v_locked := true;
  END LOOP;
  IF v_prune THEN
    DELETE FROM "public"."idemkit_records" AS o WHERE o.key = p_key AND (o.expires_at <= v_now OR ((p_window_at IS NULL OR o.window_anchor IS NULL OR abs(p_window_at - o.window_anchor) < p_window_ms) AND o.status = 'in_progress' AND (o.lease_expires_at <= v_now OR coalesce(o.owner = p_owner, false))));
  END IF;
  INSERT INTO "public"."idemkit_records" AS o (key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at, owner)
      VALUES (p_key, 'in_progress', nextval('"public"."idemkit_records_fencing_token_seq"'), v_now + p_lease_ms,
              v_now + greatest(p_lease_ms, p_retention_ms), p_fingerprint, NULL,
              p_window_at, v_now, p_owner)
      RETURNING o.key, o.status, o.fencing_token, o.lease_expires_at, o.expires_at, o.fingerprint, o.result,
                o.window_anchor, o.claimed_at, o.owner
      INTO key, status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at, owner;
      item := 1;
      acquired := true;
      RETURN NEXT;
END
$idemkit$;

-- Completes one claim with a single identity: the UPDATE a store with prepared statements sends
-- itself, in a function so that an unprepared call is not parsed and planned each time.
CREATE OR REPLACE FUNCTION "public"."idemkit_records_complete_one"(
  p_key text, p_token int8, p_result text, p_retention_ms int8, p_now int8
) RETURNS int4 LANGUAGE plpgsql VOLATILE AS $idemkit$
DECLARE
  v_now  bigint := coalesce(p_now, floor(extract(epoch FROM statement_timestamp()) * 1000)::bigint);
  v_rows int4;
BEGIN
  UPDATE "public"."idemkit_records" AS o SET status = 'completed', result = p_result, expires_at = v_now + p_retention_ms
  WHERE o.key = p_key AND o.fencing_token = p_token AND o.status = 'in_progress' AND o.expires_at > v_now;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$idemkit$;

-- Written last: migrate() reads them (without taking a lock) to know the schema is current.
COMMENT ON FUNCTION "public"."idemkit_records_claim_one" IS 'idemkit schema 2';
COMMENT ON FUNCTION "public"."idemkit_records_complete_one" IS 'idemkit schema 2';
COMMENT ON FUNCTION "public"."idemkit_records_claim" IS 'idemkit schema 2';
