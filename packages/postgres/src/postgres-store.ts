import { createHash } from 'node:crypto';
import {
  assertPositiveInteger,
  assertPositiveMs,
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
  ConfigError,
  IdempotencyStoreError,
  identitiesOf,
  LeaseLostError,
  systemClock,
  type ClaimOutcome,
  type ClaimRequest,
  type Clock,
  type CompleteOutcome,
  type CompleteRequest,
  type ExtendLeaseRequest,
  type IdempotencyRecord,
  type IdempotencyStore,
  type IdentityToken,
  type VersionClaimOutcome,
  type VersionClaimRequest,
  type VersionRecord,
  type VersionStore,
} from '@idemkit/core';
import { STORE_NAME, toStoreError } from './errors.js';
import { migrateSchema } from './migrate.js';
import { recordFromRow, versionFromRow, type RecordRow, type VersionRow } from './records.js';
import { resolveNames, type ResolvedNames } from './schema.js';
import { storeStatements, type StoreStatements } from './sql.js';
import type { MigrateOptions, PgQueryable, PostgresStoreOptions, PurgeOptions } from './types.js';

type ClaimRow = RecordRow & { item: number; acquired: boolean };
type LostRow = RecordRow & { lost_key: string | null; lost_token: string | null };
type CompleteManyRow = LostRow & { item: number; completed: boolean };
type ClaimVersionRow = VersionRow & { verdict: VersionClaimOutcome['status'] };

/**
 * The idemkit store on PostgreSQL (`pg`): each operation is one SQL statement and one round
 * trip, correct under READ COMMITTED with any number of connections. Pass a `Pool` for
 * autocommit, or a client inside `BEGIN` so a claim commits or rolls back with your own writes.
 * It is the ordering guard's {@link VersionStore} too.
 *
 * @example
 * ```ts
 * import pg from 'pg';
 * import { PostgresStore } from '@idemkit/postgres';
 *
 * const store = new PostgresStore({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) });
 * await store.migrate(); // once, or run @idemkit/postgres/sql/schema.sql with your migrations
 * ```
 */
export class PostgresStore implements IdempotencyStore, VersionStore {
  /** Store name used in errors and logs. */
  readonly name = STORE_NAME;
  /** The schema holding the tables. */
  readonly schema: string;
  /** The table of occurrences. */
  readonly table: string;
  /** Whether statements run inside the caller's transaction (see {@link PostgresStore.inTransaction}). */
  readonly transactional: boolean;
  /** Whether leases and retention follow the server's clock (see {@link PostgresStoreOptions.serverClock}). */
  readonly serverClock: boolean;
  /** `"schema"."table"`, quoted, for your own queries against the occurrences. */
  readonly qualifiedTable: string;
  /** `"schema"."<table>_versions"`, quoted: the ordering guard's table. */
  readonly qualifiedVersions: string;

  private readonly client: PgQueryable;
  private readonly clock: Clock;
  private readonly names: ResolvedNames;
  private readonly statements: StoreStatements;
  private readonly options: PostgresStoreOptions;
  /** Statement text → prepared-statement name; empty unless `preparedStatements` is on. */
  private readonly statementNames = new Map<string, string>();

  /** @throws {@link ConfigError} when `client` is missing or `schema`/`table` is not a plain SQL identifier. */
  constructor(options: PostgresStoreOptions) {
    if (typeof options?.client?.query !== 'function') {
      throw new ConfigError('client', 'must be a pg Pool, Client or PoolClient (something with query())');
    }
    this.options = { ...options };
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.names = resolveNames(options);
    this.schema = this.names.schema;
    this.table = this.names.table;
    this.transactional = options.transactional ?? false;
    this.serverClock = options.serverClock ?? false;
    this.qualifiedTable = this.names.qualifiedTable;
    this.qualifiedVersions = this.names.qualifiedVersions;
    this.statements = storeStatements(this.names);
    if (options.preparedStatements === true) {
      for (const [operation, text] of Object.entries(this.statements)) {
        this.statementNames.set(text, statementName(operation, text));
      }
    }
  }

  /**
   * A store whose every statement runs on `client`, a connection you have put inside `BEGIN`:
   * the claim, the completion and your own writes commit together, and a `ROLLBACK` undoes
   * the claim too. Other claimers of the same key wait until your transaction ends.
   *
   * @example
   * ```ts
   * const client = await pool.connect();
   * try {
   *   await client.query('BEGIN');
   *   const store = PostgresStore.inTransaction(client);
   *   const claim = await store.claim({ key, leaseMs: 30_000, retentionMs: 86_400_000 });
   *   if (claim.acquired) {
   *     await client.query('INSERT INTO orders (id, total) VALUES ($1, $2)', [id, total]);
   *     await store.complete({ key, fencingToken: claim.fencingToken, result: '"ok"', retentionMs: 86_400_000 });
   *   }
   *   await client.query('COMMIT');
   * } catch (error) {
   *   await client.query('ROLLBACK');
   *   throw error;
   * } finally {
   *   client.release();
   * }
   * ```
   */
  static inTransaction(client: PgQueryable, options: Omit<PostgresStoreOptions, 'client'> = {}): PostgresStore {
    return new PostgresStore({ ...options, client, transactional: true });
  }

  /**
   * The same store (names, clock, options) on another client inside your transaction: like
   * {@link PostgresStore.inTransaction}, with this store's settings.
   */
  withClient(client: PgQueryable): PostgresStore {
    return new PostgresStore({ ...this.options, client, transactional: true });
  }

  /**
   * Brings the tables, sequence, indexes and claim function to this release's shape: creates
   * what is missing and upgrades a table made by the previous release in place, keeping its
   * records. The DDL is {@link schemaSql} (for the default names, the file `sql/schema.sql`).
   *
   * Safe for any number of processes at once, and beside running claims: when the schema is
   * current it only reads one catalog row (no lock); otherwise migrations of the schema take
   * turns, and each DDL lock request waits at most `lockTimeoutMs` before the attempt is retried.
   *
   * @throws {@link IdempotencyStoreError} — `retryable: true` when the server cannot be reached
   * (a caller may then carry on without the store, e.g. with `failOpen`), `false` for a missing
   * privilege or a schema from a newer release.
   */
  async migrate(options: MigrateOptions = {}): Promise<void> {
    await migrateSchema(this.client, this.names, options);
  }

  /** Claims one request (all its identities) in one statement; a refused claim gets the blocking record from the same statement. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const [outcome] = await this.claimBatch('claim', [request]);
    return outcome!;
  }

  /** Claims a whole batch (an SQS batch) in one statement, each request judged after the earlier ones; outcomes in request order. */
  async claimMany(requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    return this.claimBatch('claimMany', requests);
  }

  /**
   * Marks the claim completed with its result, in one statement, only while every identity's
   * token still names an in-progress occurrence.
   * @throws {@link LeaseLostError} naming the first identity whose claim is gone (with its current record).
   */
  async complete(request: CompleteRequest): Promise<void> {
    assertValidCompletion(request);
    if (request.also !== undefined && request.also.length > 0) {
      const [outcome] = await this.completeBatch('complete', [request]);
      if (!outcome!.ok) throw outcome!.error;
      return;
    }
    const now = this.now();
    const values = [request.key, request.fencingToken, request.result ?? null, request.retentionMs, now];
    // Prepared, the plain UPDATE; unprepared, the same UPDATE in a function, whose call is cheap to plan.
    const completed = this.options.preparedStatements === true ? await this.completeByStatement(values) : await this.completeByFunction(values);
    if (completed) return;
    // Refused: what holds the key now, read after the refusal (it can only have moved on since).
    const { rows } = await this.run('complete', this.statements.currentOne, [request.key, request.fencingToken, now]);
    const row = rows[0] as RecordRow | undefined;
    throw new LeaseLostError(request.key, request.fencingToken, row === undefined ? undefined : recordFromRow(row));
  }

  private async completeByStatement(values: unknown[]): Promise<boolean> {
    return (await this.run('complete', this.statements.completeOne, values)).rowCount === 1;
  }

  private async completeByFunction(values: unknown[]): Promise<boolean> {
    const row = (await this.run('complete', this.statements.completeOneCall, values)).rows[0] as { n: number | string } | undefined;
    return Number(row?.n) === 1;
  }

  /** Completes a whole batch in one statement; a stale token (or an invalid item) fails its own item only. */
  async completeMany(requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    const outcomes: Array<CompleteOutcome | undefined> = requests.map((request) => {
      try {
        assertValidCompletion(request);
        return undefined;
      } catch (error) {
        return { ok: false, error: error as Error };
      }
    });
    const valid = requests.filter((_, i) => outcomes[i] === undefined);
    const landed = await this.completeBatch('completeMany', valid);
    return outcomes.map((outcome) => outcome ?? landed.shift()!);
  }

  /**
   * Deletes the in-progress occurrence of `key` (and of each of `also`'s identities still held)
   * named by its token, in one statement.
   * @returns whether `key`'s occurrence was released (false: its token was stale).
   */
  async release(key: string, fencingToken: number, also: readonly IdentityToken[] = []): Promise<boolean> {
    assertValidRelease(key, fencingToken, also);
    if (also.length === 0) {
      const { rowCount } = await this.run('release', this.statements.releaseOne, [key, fencingToken, this.now()]);
      return rowCount === 1;
    }
    const identities = [{ key, fencingToken }, ...also];
    const { rows } = await this.run('release', this.statements.releaseMany, [
      identities.map((identity) => identity.key),
      identities.map((identity) => identity.fencingToken),
      this.now(),
    ]);
    return (rows as Array<{ n: string | number }>).some((row) => Number(row.n) === 1);
  }

  /**
   * Moves the lease of every identity of a running claim to now + `leaseMs`, in one statement, all or nothing.
   * @throws {@link LeaseLostError} naming the first identity whose claim is gone, completed or lapsed.
   */
  async extendLease(request: ExtendLeaseRequest): Promise<void> {
    assertValidExtension(request);
    const identities = [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])];
    const { rows } = await this.run('extendLease', this.statements.extendLease, [
      identities.map((identity) => identity.key),
      identities.map((identity) => identity.fencingToken),
      request.leaseMs,
      this.now(),
    ]);
    const row = rows[0] as LostRow;
    if (row.lost_key !== null) throw new LeaseLostError(row.lost_key, Number(row.lost_token), recordFromRow(row));
  }

  /** Reads a live occurrence of a key: the one claimed with `fencingToken`, or the most recently claimed one. */
  async get(key: string, fencingToken?: number): Promise<IdempotencyRecord | undefined> {
    const { rows } = await this.run('get', this.statements.get, [key, fencingToken ?? null, this.now()]);
    const row = rows[0] as RecordRow | undefined;
    return row === undefined ? undefined : recordFromRow(row);
  }

  /** Claims a version of an entity (the ordering guard) in one statement. */
  async claimVersion(request: VersionClaimRequest): Promise<VersionClaimOutcome> {
    assertValidVersionClaim(request);
    const { rows } = await this.run('claimVersion', this.statements.claimVersion, [
      request.entity,
      request.version,
      request.leaseMs,
      request.retentionMs,
      request.owner ?? null,
      this.now(),
    ]);
    const row = rows[0] as ClaimVersionRow;
    const record = versionFromRow(row);
    return row.verdict === 'acquired'
      ? { status: 'acquired', fencingToken: record.fencingToken, record }
      : { status: row.verdict, record };
  }

  /**
   * Makes the pending version claimed with `fencingToken` the applied one.
   * @throws {@link LeaseLostError} when that token is no longer pending.
   */
  async completeVersion(entity: string, fencingToken: number, retentionMs: number): Promise<void> {
    assertPositiveMs('retentionMs', retentionMs);
    const { rowCount } = await this.run('completeVersion', this.statements.completeVersion, [
      entity,
      fencingToken,
      retentionMs,
      this.now(),
    ]);
    if (rowCount !== 1) throw new LeaseLostError(entity, fencingToken);
  }

  /** Drops the pending version claimed with `fencingToken`; the applied version stays. */
  async releaseVersion(entity: string, fencingToken: number): Promise<boolean> {
    const { rowCount } = await this.run('releaseVersion', this.statements.releaseVersion, [entity, fencingToken, this.now()]);
    return rowCount === 1;
  }

  /** Reads the live version record of an entity. */
  async getVersion(entity: string): Promise<VersionRecord | undefined> {
    const { rows } = await this.run('getVersion', this.statements.getVersion, [entity, this.now()]);
    const row = rows[0] as VersionRow | undefined;
    return row === undefined ? undefined : versionFromRow(row);
  }

  /**
   * Deletes occurrences and version records past their retention, `batchSize` rows per
   * statement, until a batch comes up short (or `maxBatches` ran, per table). Expired rows
   * already count as absent; this only reclaims space. Each run sweeps each table once, in
   * physical order (a TID range scan per batch, PostgreSQL 14+), so it needs no index on
   * `expires_at`; rows locked by a running claim are skipped until the next run. Run it from a
   * schedule (an EventBridge Scheduler rule, `pg_cron`), not on the request path.
   * @returns how many rows were deleted.
   */
  async purgeExpired(options: PurgeOptions = {}): Promise<number> {
    const batchSize = options.batchSize ?? 1000;
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    assertPositiveInteger('batchSize', batchSize, 'rows');
    if (maxBatches !== Number.POSITIVE_INFINITY) assertPositiveInteger('maxBatches', maxBatches, 'batches');
    if (options.now !== undefined && !Number.isFinite(options.now)) {
      throw new ConfigError('now', `must be a finite epoch-ms number, got ${String(options.now)}`);
    }
    const now = options.now === undefined ? this.now() : Math.floor(options.now);
    let deleted = 0;
    for (const statement of [this.statements.purge, this.statements.purgeVersions]) {
      let after = '(0,0)';
      for (let batch = 0; batch < maxBatches; batch++) {
        const { rows } = await this.run('purgeExpired', statement, [now, batchSize, after]);
        const { deleted: count, last } = rows[0] as { deleted: number; last: string | null };
        deleted += count;
        if (last === null || count < batchSize) break;
        after = last;
      }
    }
    return deleted;
  }

  private async claimBatch(operation: string, requests: readonly ClaimRequest[]): Promise<ClaimOutcome[]> {
    requests.forEach(assertValidClaim);
    if (requests.length === 0) return [];
    if (requests.length === 1 && (requests[0]!.also === undefined || requests[0]!.also.length === 0)) {
      return [await this.claimOne(operation, requests[0]!)];
    }
    const identities = requests.map(identitiesOf);
    const first: number[] = [];
    let next = 1;
    for (const list of identities) {
      first.push(next);
      next += list.length;
    }
    const flat = identities.flat();
    const { rows } = await this.run(operation, this.statements.claim, [
      first,
      requests.map((request) => request.leaseMs),
      requests.map((request) => request.retentionMs),
      requests.map((request) => request.fingerprint ?? null),
      requests.map((request) => request.owner ?? null),
      flat.map((identity) => identity.key),
      flat.map((identity) => identity.window?.at ?? null),
      flat.map((identity) => identity.window?.windowMs ?? null),
      this.now(),
    ]);
    const byItem = new Map<number, ClaimRow[]>();
    for (const row of rows as ClaimRow[]) {
      const item = Number(row.item);
      byItem.set(item, [...(byItem.get(item) ?? []), row]);
    }
    return requests.map((request, i) => outcomeOf(request, byItem.get(i + 1) ?? []));
  }

  /** One request with one identity, through the single claim function: the same decision, with scalar parameters. */
  private async claimOne(operation: string, request: ClaimRequest): Promise<ClaimOutcome> {
    const { rows } = await this.run(operation, this.statements.claimOne, [
      request.leaseMs,
      request.retentionMs,
      request.fingerprint ?? null,
      request.owner ?? null,
      request.key,
      request.window?.at ?? null,
      request.window?.windowMs ?? null,
      this.now(),
    ]);
    return outcomeOf(request, rows as ClaimRow[]);
  }

  private async completeBatch(operation: string, requests: readonly CompleteRequest[]): Promise<CompleteOutcome[]> {
    if (requests.length === 0) return [];
    const items: number[] = [];
    const identities: IdentityToken[] = [];
    requests.forEach((request, i) => {
      for (const identity of [{ key: request.key, fencingToken: request.fencingToken }, ...(request.also ?? [])]) {
        items.push(i + 1);
        identities.push(identity);
      }
    });
    const { rows } = await this.run(operation, this.statements.completeMany, [
      items,
      identities.map((identity) => identity.key),
      identities.map((identity) => identity.fencingToken),
      requests.map((request) => request.result ?? null),
      requests.map((request) => request.retentionMs),
      this.now(),
    ]);
    return (rows as CompleteManyRow[]).map((row): CompleteOutcome => {
      if (row.completed) return { ok: true };
      return { ok: false, error: new LeaseLostError(row.lost_key!, Number(row.lost_token), recordFromRow(row)) };
    });
  }

  /** Runs one statement, named when `preparedStatements` is on, and wraps any failure. */
  private async run(operation: string, text: string, values: unknown[]) {
    const name = this.statementNames.get(text);
    try {
      return await this.client.query(name === undefined ? { text, values } : { name, text, values });
    } catch (error) {
      throw toStoreError(error, { operation, table: this.qualifiedTable });
    }
  }

  /** The clock in whole milliseconds (the time columns are `bigint`), or null: the statements read the server's. */
  private now(): number | null {
    return this.serverClock ? null : Math.floor(this.clock());
  }
}

/** A claim's outcome from the function's rows for it: one per identity when acquired, the blocking record when refused. */
function outcomeOf(request: ClaimRequest, rows: readonly ClaimRow[]): ClaimOutcome {
  const records = rows.map((row) => recordFromRow(row)!);
  if (records.length === 0) {
    throw new IdempotencyStoreError(STORE_NAME, "the claim function answered nothing for a request of the batch", { retryable: false });
  }
  if (rows[0]!.acquired !== true) return { acquired: false, record: records[0]! };
  const byKey = new Map(records.map((record) => [record.key, record]));
  const record = byKey.get(request.key)!;
  const outcome: ClaimOutcome = { acquired: true, fencingToken: record.fencingToken, record };
  if (request.also !== undefined && request.also.length > 0) {
    outcome.also = request.also.map((identity) => ({ key: identity.key, fencingToken: byKey.get(identity.key)!.fencingToken }));
  }
  return outcome;
}

/** `idemkit_<operation>_<hash of the text>`: unique per statement text, as `pg` requires of a name. */
function statementName(operation: string, text: string): string {
  return `idemkit_${operation}_${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
}
