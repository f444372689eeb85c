import type { ResolvedNames } from './schema.js';

/** The record columns every statement returns, in the order {@link recordFromRow} reads them. */
const RECORD_COLUMNS = [
  'key',
  'status',
  'fencing_token',
  'lease_expires_at',
  'expires_at',
  'fingerprint',
  'result',
  'window_anchor',
  'claimed_at',
] as const;

const columnsOf = (alias: string) => RECORD_COLUMNS.map((column) => `${alias}.${column}`).join(', ');

/** The SQL text of every operation on one table. Each is a single statement; values are bind parameters only. */
export interface StoreStatements {
  /**
   * Claims a batch (a single claim is a batch of one).
   * `$1` keys text[], `$2` lease ms int8[], `$3` retention ms int8[], `$4` fingerprints text[],
   * `$5` window `at` float8[], `$6` window ms float8[], `$7` now int8, `$8` advisory-lock class int4.
   * One row per request, in request order: `ord`, `acquired`, the record columns.
   */
  claim: string;
  /**
   * Completes a batch. `$1` keys text[], `$2` tokens int8[], `$3` results text[], `$4` retention ms int8[], `$5` now int8.
   * One row per request, in request order: `ord`, `completed`, and the live record (NULLs when none) for errors.
   */
  complete: string;
  /** `$1` key, `$2` token, `$3` now; deletes one row or none. */
  release: string;
  /** `$1` key, `$2` now; the live record or no row. */
  get: string;
  /** `$1` now, `$2` batch size; deletes at most that many expired rows. */
  purge: string;
}

/**
 * Builds the statements for one table.
 *
 * **claim** — under READ COMMITTED a statement's snapshot is taken when it starts, so a plain
 * read of the existing row can miss a row another connection committed meanwhile. The claim
 * therefore never decides on a read: `INSERT … ON CONFLICT (key) DO UPDATE` locks the row that
 * is current *now* and evaluates the take-over rules against it. The update always happens
 * (a no-op `CASE … ELSE old value` when the claim loses), so `RETURNING` hands back the current
 * record to winner and loser alike. Each request gets a candidate fencing token; it acquired
 * iff the returned row carries its candidate.
 *
 * Candidate tokens are drawn from the sequence only after a transaction-scoped advisory lock on
 * each key (taken in hash order, so batches cannot deadlock on each other). Without it, a
 * claimer could draw a token, wait on a row another claimer inserted, and — if that row is
 * then rolled back or released — insert its older, smaller token after a larger one was handed
 * out. The lock is held to the end of the transaction: in autocommit, for this one statement.
 *
 * A key repeated in a batch: rows are deduplicated before the insert (one statement cannot
 * touch a row twice); the first request that the rules let take the key acquires, and every
 * other request for that key is answered with the record as the statement left it.
 */
export function storeStatements(names: ResolvedNames): StoreStatements {
  const { qualifiedTable: table, qualifiedSequence: sequence } = names;

  const claim = `WITH req AS (
  SELECT r.key, r.lease_ms, r.retention_ms, r.fingerprint, r.window_at, r.window_ms, r.ord
  FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::float8[], $6::float8[])
    WITH ORDINALITY AS r (key, lease_ms, retention_ms, fingerprint, window_at, window_ms, ord)
),
locked AS (
  SELECT count(*) AS keys FROM (
    SELECT pg_advisory_xact_lock($8::int4, k.hash)
    FROM (SELECT DISTINCT hashtext(req.key) AS hash FROM req ORDER BY 1) AS k
  ) AS l
),
cand AS (
  SELECT req.*, nextval('${sequence}') AS token FROM req CROSS JOIN locked WHERE locked.keys > 0
),
claimed AS (
  INSERT INTO ${table} AS t (${RECORD_COLUMNS.join(', ')})
  SELECT DISTINCT ON (c.key)
    c.key, 'in_progress', c.token, $7 + c.lease_ms, $7 + GREATEST(c.lease_ms, c.retention_ms),
    c.fingerprint, NULL, c.window_at, $7::int8
  FROM cand AS c
  ORDER BY c.key, c.ord
  ON CONFLICT (key) DO UPDATE SET
    (status, fencing_token, lease_expires_at, expires_at, fingerprint, result, window_anchor, claimed_at) = (
      SELECT
        CASE WHEN w.token IS NULL THEN t.status ELSE 'in_progress' END,
        COALESCE(w.token, t.fencing_token),
        CASE WHEN w.token IS NULL THEN t.lease_expires_at ELSE $7 + w.lease_ms END,
        CASE WHEN w.token IS NULL THEN t.expires_at ELSE $7 + GREATEST(w.lease_ms, w.retention_ms) END,
        CASE WHEN w.token IS NULL THEN t.fingerprint ELSE w.fingerprint END,
        CASE WHEN w.token IS NULL THEN t.result END,
        CASE WHEN w.token IS NULL THEN t.window_anchor ELSE w.window_at END,
        CASE WHEN w.token IS NULL THEN t.claimed_at ELSE $7 END
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (
        SELECT c.* FROM cand AS c
        WHERE c.key = t.key AND (
          t.expires_at <= $7
          OR (t.status = 'in_progress' AND t.lease_expires_at <= $7)
          OR (t.status = 'completed' AND c.window_at IS NOT NULL AND t.window_anchor IS NOT NULL
              AND abs(c.window_at - t.window_anchor) >= c.window_ms)
        )
        ORDER BY c.ord
        LIMIT 1
      ) AS w ON true
    )
  RETURNING ${columnsOf('t')}
)
SELECT c.ord, claimed.fencing_token = c.token AS acquired, ${columnsOf('claimed')}
FROM cand AS c
JOIN claimed ON claimed.key = c.key
ORDER BY c.ord`;

  const complete = `WITH req AS (
  SELECT r.key, r.token, r.result, r.retention_ms, r.ord
  FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[])
    WITH ORDINALITY AS r (key, token, result, retention_ms, ord)
),
firsts AS (
  SELECT DISTINCT ON (req.key, req.token) req.* FROM req ORDER BY req.key, req.token, req.ord
),
done AS (
  UPDATE ${table} AS t
  SET status = 'completed', result = f.result, expires_at = $5 + f.retention_ms
  FROM firsts AS f
  WHERE t.key = f.key AND t.fencing_token = f.token AND t.status = 'in_progress' AND t.expires_at > $5
  RETURNING f.ord
)
SELECT r.ord, done.ord IS NOT NULL AS completed, ${columnsOf('cur')}
FROM req AS r
LEFT JOIN done ON done.ord = r.ord
LEFT JOIN ${table} AS cur ON cur.key = r.key AND cur.expires_at > $5
ORDER BY r.ord`;

  const release = `DELETE FROM ${table}
WHERE key = $1 AND fencing_token = $2 AND status = 'in_progress' AND expires_at > $3`;

  const get = `SELECT ${RECORD_COLUMNS.join(', ')} FROM ${table} WHERE key = $1 AND expires_at > $2`;

  const purge = `DELETE FROM ${table}
WHERE ctid = ANY (ARRAY(
  SELECT ctid FROM ${table} WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
))`;

  return { claim, complete, release, get, purge };
}

/** The DDL plus a transaction-scoped lock, so cold starts racing to migrate wait for each other. */
export function migrateStatement(ddl: string, lockClass: number): string {
  return `SELECT pg_advisory_xact_lock(${lockClass}, 0);\n\n${ddl}`;
}
