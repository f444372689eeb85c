import { CLAIM_ONE_PARAMETERS, CLAIM_PARAMETERS } from './claim-function.js';
import { COMPLETE_ONE_PARAMETERS, completeOneUpdate } from './complete-function.js';
import { RECORD_COLUMNS, VERSION_COLUMNS, columnsOf } from './records.js';
import type { ResolvedNames } from './schema.js';

/**
 * "Now" in a statement: the caller's clock as a bind parameter, or, when that parameter is NULL
 * (`serverClock`), the server's time when the statement started. `statement_timestamp()` is
 * stable, so every use in one statement reads the same instant.
 */
const nowOf = (parameter: number) =>
  `coalesce($${parameter}::int8, floor(extract(epoch FROM statement_timestamp()) * 1000)::int8)`;

/** The SQL text of every operation on one table. Each is a single statement; values are bind parameters only. */
export interface StoreStatements {
  /** Calls the claim function (see claim-function.ts); parameters as {@link CLAIM_PARAMETERS}. */
  claim: string;
  /** Calls the single claim function, for one request with one identity; parameters as {@link CLAIM_ONE_PARAMETERS}. */
  claimOne: string;
  /**
   * Completes one claim with a single identity: `$1` key, `$2` token, `$3` result, `$4` retention ms, `$5` now.
   * Updates one row (completed) or none (the claim is gone: read {@link currentOne} for the error).
   */
  completeOne: string;
  /** The same completion through `<table>_complete_one` (sent unprepared); one row, `n`: rows updated. */
  completeOneCall: string;
  /** `$1` key, `$2` token, `$3` now; the key's live occurrence with that token, else its newest, or no row. */
  currentOne: string;
  /**
   * Completes a batch, each item all or nothing over its identities. `$1` item per identity int4[],
   * `$2` keys text[], `$3` tokens int8[], `$4` results text[] per item, `$5` retention ms int8[] per item, `$6` now.
   * One row per item: `item`, `completed`, the first identity lost (`lost_key`, `lost_token`) and its live record.
   */
  completeMany: string;
  /** `$1` key, `$2` token, `$3` now; deletes one in-progress occurrence or none. */
  releaseOne: string;
  /** `$1` keys text[], `$2` tokens int8[], `$3` now; deletes each in-progress occurrence still held; returns the `n` of each. */
  releaseMany: string;
  /**
   * `$1` keys text[], `$2` tokens int8[], `$3` lease ms, `$4` now; all or nothing.
   * One row: the first identity that lost its claim (`lost_key`, `lost_token`, NULL when none) and its live occurrence.
   */
  extendLease: string;
  /** `$1` key, `$2` token or NULL (the most recent claim), `$3` now; the live occurrence or no row. */
  get: string;
  /**
   * `$1` now, `$2` batch size, `$3` the `ctid` the previous batch stopped at (`(0,0)` to start);
   * deletes at most that many expired occurrences past it. One row: `deleted`, and `last`, where
   * the next batch starts (NULL when none was found).
   */
  purge: string;
  /** Same for version rows. */
  purgeVersions: string;
  /**
   * `$1` entity, `$2` version, `$3` lease ms, `$4` retention ms, `$5` owner, `$6` now.
   * One row: the version record as the claim left it, and `verdict` (`acquired`, `stale`, `duplicate`, `in_progress`).
   */
  claimVersion: string;
  /** `$1` entity, `$2` token, `$3` retention ms, `$4` now; one row updated or none. */
  completeVersion: string;
  /** `$1` entity, `$2` token, `$3` now; one row updated or none. */
  releaseVersion: string;
  /** `$1` entity, `$2` now; the live version record or no row. */
  getVersion: string;
}

/**
 * Builds the statements for one table.
 *
 * **claim** calls the claim function, which decides and writes under per-key advisory locks
 * with reads that start after the locks (see claim-function.ts for why a plain statement
 * cannot: under READ COMMITTED its snapshot predates its own lock wait).
 *
 * **complete / extendLease** decide on rows that already exist, so a plain statement is enough:
 * `SELECT … FOR UPDATE` returns the *current* version of each row it locks (READ COMMITTED
 * re-reads a row changed by a concurrent transaction and re-checks the condition), and skips one
 * a take-over has deleted. The rows are locked in key and token order, as the claim function
 * locks the occurrences it replaces, so the two never wait on each other crosswise. The update
 * then changes exactly the locked rows, only when every identity of the item was held.
 *
 * **claimVersion** meets the one row of its entity through `INSERT … ON CONFLICT (entity) DO
 * UPDATE`, which locks the row that is current *now*, not as the snapshot saw it, and evaluates
 * the ordering rules against it. Its candidate token is drawn after a transaction-scoped advisory
 * lock on the entity: drawn before, a claimer could wait on a row that is then rolled back and
 * insert its older, smaller token after a larger one was handed out.
 */
export function storeStatements(names: ResolvedNames): StoreStatements {
  const { qualifiedTable: table, qualifiedVersions: versions, qualifiedSequence: sequence } = names;
  const call = (fn: string, types: readonly string[]) => `SELECT * FROM ${fn}(${types.map((type, i) => `$${i + 1}::${type}`).join(', ')})`;
  const claim = call(names.qualifiedClaimFunction, CLAIM_PARAMETERS);
  const claimOne = call(names.qualifiedClaimOneFunction, CLAIM_ONE_PARAMETERS);

  // The key's live occurrence a refused completion reports: the one with the token if it lives,
  // else the newest. Read on its own (currentOne) or beside each item of a batch (currentOf).
  const currentSelect = (key: string, token: string, now: string) => `SELECT ${RECORD_COLUMNS.join(', ')} FROM ${table} AS c
WHERE c.key = ${key} AND c.expires_at > ${now}
ORDER BY c.fencing_token = ${token} DESC, c.fencing_token DESC
LIMIT 1`;
  const currentOf = (key: string, token: string, now: string) => `LEFT JOIN LATERAL (
${currentSelect(key, token, now)}
) AS cur ON true`;

  // `req`: the identities named by a keys array and a tokens array, numbered `n` in request order.
  const identities = (keys: number, tokens: number) => `req AS (
  SELECT r.key, r.token, r.n FROM unnest($${keys}::text[], $${tokens}::int8[]) WITH ORDINALITY AS r (key, token, n)
)`;
  // `held`: the in-progress, live occurrences `req` names, locked in key and token order (see above).
  const heldOf = (select: string, now: string, condition = '') => `held AS (
  SELECT ${select}
  FROM ${table} AS o
  JOIN req ON o.key = req.key AND o.fencing_token = req.token
  WHERE o.status = 'in_progress' AND o.expires_at > ${now}${condition}
  ORDER BY o.key, o.fencing_token
  FOR UPDATE OF o
)`;

  // A plain UPDATE, the statement the raw commands use: a CTE that also read the current record
  // for a refusal cost every completion ~150 µs more, for the rare completion that is refused,
  // which now reads it with a second statement (currentOne). The decision is the UPDATE's alone.
  const completeOne = completeOneUpdate(names, { key: '$1', token: '$2', result: '$3', retentionMs: '$4', now: nowOf(5) });
  const completeOneCall = `${call(names.qualifiedCompleteOneFunction, COMPLETE_ONE_PARAMETERS)} AS n`;
  const currentOne = currentSelect('$1', '$2', nowOf(3));

  // An identity repeated in a batch is completed by its first item only; later items fail on it.
  const completeMany = `WITH req AS (
  SELECT r.item, r.key, r.token, r.n
  FROM unnest($1::int4[], $2::text[], $3::int8[]) WITH ORDINALITY AS r (item, key, token, n)
),
items AS (
  SELECT i.result, i.retention_ms, i.item::int4
  FROM unnest($4::text[], $5::int8[]) WITH ORDINALITY AS i (result, retention_ms, item)
),
${heldOf('o.key, o.fencing_token', nowOf(6))},
judged AS (
  SELECT req.*, held.key IS NOT NULL AND req.n = min(req.n) OVER (PARTITION BY req.key, req.token) AS ok
  FROM req
  LEFT JOIN held ON held.key = req.key AND held.fencing_token = req.token
),
whole AS (
  SELECT judged.item FROM judged GROUP BY judged.item HAVING bool_and(judged.ok)
),
done AS (
  UPDATE ${table} AS o
  SET status = 'completed', result = items.result, expires_at = ${nowOf(6)} + items.retention_ms
  FROM judged
  JOIN whole ON whole.item = judged.item
  JOIN items ON items.item = judged.item
  WHERE o.key = judged.key AND o.fencing_token = judged.token
  RETURNING judged.item
),
lost AS (
  SELECT DISTINCT ON (judged.item) judged.item, judged.key, judged.token
  FROM judged WHERE NOT judged.ok
  ORDER BY judged.item, judged.n
)
SELECT items.item, EXISTS (SELECT 1 FROM done WHERE done.item = items.item) AS completed,
  lost.key AS lost_key, lost.token AS lost_token, ${columnsOf('cur')}
FROM items
LEFT JOIN lost ON lost.item = items.item
${currentOf('lost.key', 'lost.token', nowOf(6))}
ORDER BY items.item`;

  const releaseOne = `DELETE FROM ${table}
WHERE key = $1 AND fencing_token = $2 AND status = 'in_progress' AND expires_at > ${nowOf(3)}`;

  // Locks first, then deletes exactly the rows it locked.
  const releaseMany = `WITH ${identities(1, 2)},
${heldOf('o.ctid, req.n', nowOf(3))},
gone AS (
  DELETE FROM ${table} AS o USING held WHERE o.ctid = held.ctid RETURNING held.n
)
SELECT n FROM gone`;

  const extendLease = `WITH ${identities(1, 2)},
${heldOf('o.key, o.fencing_token', nowOf(4), ` AND o.lease_expires_at > ${nowOf(4)}`)},
lost AS (
  SELECT req.key, req.token FROM req
  WHERE NOT EXISTS (SELECT 1 FROM held WHERE held.key = req.key AND held.fencing_token = req.token)
  ORDER BY req.n
  LIMIT 1
),
done AS (
  UPDATE ${table} AS o
  SET lease_expires_at = ${nowOf(4)} + $3, expires_at = greatest(o.expires_at, ${nowOf(4)} + $3)
  FROM held
  WHERE o.key = held.key AND o.fencing_token = held.fencing_token AND NOT EXISTS (SELECT 1 FROM lost)
  RETURNING 1
)
SELECT lost.key AS lost_key, lost.token AS lost_token, ${columnsOf('cur')}
FROM (SELECT 1) AS one
LEFT JOIN lost ON true
LEFT JOIN LATERAL (
  SELECT ${RECORD_COLUMNS.join(', ')} FROM ${table} AS c
  WHERE c.key = lost.key AND c.fencing_token = lost.token AND c.expires_at > ${nowOf(4)}
) AS cur ON true`;

  const get = `SELECT ${RECORD_COLUMNS.join(', ')} FROM ${table}
WHERE key = $1 AND ($2::int8 IS NULL OR fencing_token = $2) AND expires_at > ${nowOf(3)}
ORDER BY fencing_token DESC
LIMIT 1`;

  // No index on expires_at (it would make every completion a non-HOT update): a purge sweeps the
  // table once, in physical order, each batch a TID range scan from where the previous one stopped.
  const purgeOf = (target: string) => `WITH doomed AS (
  SELECT ctid FROM ${target}
  WHERE ctid > $3::tid AND expires_at <= ${nowOf(1)}
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
gone AS (
  DELETE FROM ${target} WHERE ctid = ANY (ARRAY(SELECT ctid FROM doomed)) RETURNING 1
)
SELECT (SELECT count(*) FROM gone)::int AS deleted, (SELECT max(ctid) FROM doomed)::text AS last`;

  const versionColumns = VERSION_COLUMNS.map((column) => `v.${column}`).join(', ');
  // An expired record counts as absent: the claim starts it afresh, applied version included.
  const claimVersion = `WITH locked AS (
  SELECT pg_advisory_xact_lock(${names.versionLockClass}, hashtext($1)) AS held
),
cand AS (
  SELECT nextval('${sequence}') AS token, ${nowOf(6)} AS now FROM locked
),
claimed AS (
  INSERT INTO ${versions} AS v (${VERSION_COLUMNS.join(', ')})
  SELECT $1, NULL, $2, cand.now + $3, cand.now, $5, cand.token, cand.now + greatest($3, $4) FROM cand
  ON CONFLICT (entity) DO UPDATE SET
    (applied, pending_version, pending_lease_expires_at, pending_claimed_at, pending_owner, fencing_token, expires_at) = (
      SELECT
        CASE WHEN d.fresh THEN NULL ELSE v.applied END,
        CASE WHEN d.acquire THEN excluded.pending_version ELSE v.pending_version END,
        CASE WHEN d.acquire THEN excluded.pending_lease_expires_at ELSE v.pending_lease_expires_at END,
        CASE WHEN d.acquire THEN excluded.pending_claimed_at ELSE v.pending_claimed_at END,
        CASE WHEN d.acquire THEN excluded.pending_owner ELSE v.pending_owner END,
        CASE WHEN d.acquire THEN excluded.fencing_token ELSE v.fencing_token END,
        CASE WHEN d.fresh THEN excluded.expires_at
             WHEN d.acquire THEN greatest(v.expires_at, excluded.expires_at)
             ELSE v.expires_at END
      -- excluded.pending_claimed_at is this statement's now.
      FROM (SELECT f.fresh, f.fresh OR NOT (
        (v.applied IS NOT NULL AND excluded.pending_version <= v.applied)
        OR (v.pending_version IS NOT NULL AND v.pending_lease_expires_at > excluded.pending_claimed_at
            AND (excluded.pending_owner IS NULL OR v.pending_owner IS DISTINCT FROM excluded.pending_owner))
      ) AS acquire
      FROM (SELECT v.expires_at <= excluded.pending_claimed_at AS fresh) AS f) AS d
    )
  RETURNING ${versionColumns}
)
SELECT claimed.*,
  CASE WHEN claimed.fencing_token = cand.token THEN 'acquired'
       WHEN $2 COLLATE "C" < claimed.applied THEN 'stale'
       WHEN $2 COLLATE "C" = claimed.applied THEN 'duplicate'
       ELSE 'in_progress' END AS verdict
FROM claimed, cand`;

  const completeVersion = `UPDATE ${versions}
SET applied = pending_version, pending_version = NULL, pending_lease_expires_at = NULL, pending_claimed_at = NULL,
  pending_owner = NULL, expires_at = ${nowOf(4)} + $3
WHERE entity = $1 AND fencing_token = $2 AND pending_version IS NOT NULL AND expires_at > ${nowOf(4)}`;

  const releaseVersion = `UPDATE ${versions}
SET pending_version = NULL, pending_lease_expires_at = NULL, pending_claimed_at = NULL, pending_owner = NULL
WHERE entity = $1 AND fencing_token = $2 AND pending_version IS NOT NULL AND expires_at > ${nowOf(3)}`;

  const getVersion = `SELECT ${VERSION_COLUMNS.join(', ')} FROM ${versions} WHERE entity = $1 AND expires_at > ${nowOf(2)}`;

  return {
    claim,
    claimOne,
    completeOne,
    completeOneCall,
    currentOne,
    completeMany,
    releaseOne,
    releaseMany,
    extendLease,
    get,
    purge: purgeOf(table),
    purgeVersions: purgeOf(versions),
    claimVersion,
    completeVersion,
    releaseVersion,
    getVersion,
  };
}

/**
 * What migrate() reads first, without taking a lock: the mark on each of the schema's functions that exists.
 * `$1` schema, `$2` the function names (text[]); one row per function found, `name` and `mark`.
 */
export const schemaMarkQuery = `SELECT p.proname::text AS name, obj_description(p.oid, 'pg_proc') AS mark
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = $1 AND p.proname = ANY ($2::text[])`;

/**
 * The DDL as one simple query, so it runs in one implicit transaction: wait (up to `waitMs`) for
 * any other migration of the schema, then run the DDL with a short `lock_timeout`, so a DDL
 * lock request never queues long in front of running claims (it fails and migrate() retries).
 * The caller's `lock_timeout` is put back at the end, for a client inside its own transaction.
 */
export function migrationQuery(ddl: string, migrationLock: number, waitMs: number, lockTimeoutMs: number): string {
  return [
    `SELECT set_config('idemkit.lock_timeout', current_setting('lock_timeout'), true);`,
    `SELECT set_config('lock_timeout', '${Math.floor(waitMs)}ms', true);`,
    `SELECT pg_advisory_xact_lock(${migrationLock}::int8);`,
    `SELECT set_config('lock_timeout', '${Math.floor(lockTimeoutMs)}ms', true);`,
    ddl,
    `SELECT set_config('lock_timeout', current_setting('idemkit.lock_timeout'), true);`,
  ].join('\n');
}
