// The prose of docs/benchmarks.md that explains the numbers; kept apart from the rendering.
import { STORE_TITLES, type BenchReport } from './report.js';
import { num } from './table.js';

/** How contenders are set up and what is counted. */
export const HOW_COUNTED: string[] = [
  '- Every contender wraps the same handler, keyed on the EventBridge envelope `id`, records kept an hour, the lease (Powertools: in-progress expiry) taken from a Lambda context with 60 s left; Powertools without its local cache and idemkit without `localCache` in the main tables; both caches are on in their own table.',
  '- idemkit: `makeIdempotent` and `makeIdempotentSqs` from `@idemkit/eventbridge` (logging off), loaded as published: the built packages (`dist`), not the TypeScript sources (`bench/lib/loader.mjs`). Postgres: `preparedStatements: true`, plus a row with the default (`false`); the raw statements are prepared too.',
  '- Powertools: `makeIdempotent` over `CachePersistenceLayer` (on `@redis/client`) and `DynamoDBPersistenceLayer`; an SQS batch is the record function made idempotent and called per record, as its docs show. Postgres has no Powertools layer.',
  '- raw: the fewest commands a correct claim needs, without leases, fencing, windows or expiry checks: Redis `SET NX GET` + `SET`; DynamoDB conditional `PutItem` (returning the old item when the condition fails) + `UpdateItem`; Postgres `INSERT … ON CONFLICT DO UPDATE … RETURNING` + `UPDATE`. A batch: one pipeline or one statement per step (DynamoDB has no conditional batch write: parallel single writes).',
  '- PostgreSQL tables start with 10 000 completed keys and are `ANALYZE`d before each scenario, the state autovacuum keeps a table in use in (see the last note below for why it matters).',
  '- Each server is measured with nothing else of the bench running: DynamoDB Local (a JVM, which takes most of a core for tens of seconds as it boots) is started only for its own bench and stopped after it, and every contender sends it new events for 8 s before anything is measured, so its JIT has compiled the request shapes of every contender. The stand-in Lambda context costs next to nothing to make, as the runtime hands a real one to the handler for free.',
  '- Calls run one after another, as one Lambda instance runs one invocation at a time; the hot-key scenario runs 50 callers at once on a key whose handler takes 2 ms. Latency is per call: an SQS batch is one call of 10 events.',
  '- Round trips are counted at the client: ioredis commands (a pipeline counts once), each `get`/`set`/`del` of the Powertools cache client, each `pg` query, each HTTP request of the AWS SDK (after its retry step, so retries count).',
];

/** Why idemkit can be slower than a comparison: the notes under "Where idemkit is slower". */
export const WHY_SLOWER: string[] = [
  'idemkit never takes more round trips than the raw commands for a single event (it takes fewer than Powertools for duplicates and contended keys: one, where Powertools needs a failed `SET NX` and a `GET`). Where it is slower, the time goes into work the raw commands and Powertools skip:',
  '',
  '- **Redis.** A claim of one identity is a native `SET … NX GET`, as raw\'s, but its value is the key\'s occurrence history (MessagePack, encoded in the client and sent as a Buffer, which ioredis assembles piece by piece: 3–6 µs more client CPU per command here than a string) and a refused claim decodes that history and judges it by the claim rules; the completion is a compare-and-set script (`GET`, compare, `SET`: about 4.7 µs of server time where raw\'s plain `SET` takes 1.5 µs) so that only the current holder can complete. Most of that is the script call itself, and Redis 7.0 has no native command that compares before it writes: with `INFO commandstats` on 2026-12-03 (a slow day for this machine: every figure ~3× the quiet one just given), a `SET` took 4.2 µs, an `EVALSHA` of a script that only returns 1, with the same arguments, 8.5, the compare-and-set 18.5, and a variant with one inner `SET … XX GET` instead of `GET` + `SET` 16–17 (it would also need a restore path for a value that is not the claim\'s). Redis 8.4 and Valkey 8.1 add `SET … IFEQ`, a native compare-and-set; this machine has Redis 7.0 only, so idemkit neither uses nor measures it. In process, with a stub client that answers at once (2026-12-03, best of 20 rounds), a new event costs raw\'s loop 7 µs of CPU, idemkit\'s two store calls alone 12.4 and the whole wrapped handler 16 (~3 µs of it the promise hooks that `currentClaim()`\'s `AsyncLocalStorage` turns on, which Node 20 then runs for every promise in the process). The rest is per-call work in the engine and the wrapper (key, claim request, outcome): measured side by side (2026-12-02), a duplicate costs ~10 µs more client CPU than raw\'s (~43 against ~30 µs, on ten promises against raw\'s two; with promise hooks on, as any `AsyncLocalStorage` turns them on, each one costs), with the same server wait. An SQS batch is claimed with one pipeline of the same native claims (until 2026-12-02 one script call judged every record in Lua: ~290 µs more server time per batch of 10); what is left is client CPU, ~1 ms per batch against raw\'s ~0.5 ms (bodies parsed and judged against each other, a claim request and an outcome per record, and with `completion: \'batch\'` one pipeline of compare-and-set scripts where raw pipelines plain `SET`s; until 2026-12-02 that was one call of the full completion script). Powertools has no fencing, and a refused claim costs it a second command.',
  '- **PostgreSQL.** The claim is one call of a PL/pgSQL function that takes a transaction-scoped advisory lock per key (so fencing tokens can never be handed out of order), draws a token and applies the take-over rules; the raw `INSERT … ON CONFLICT` does none of that. A request with one identity calls `<table>_claim_one`, the same statements with scalar parameters (since 2026-12-02; before, every claim went through the batch function and its arrays). Measured committed, one connection, 2026-12-02: the single function takes ~320–330 µs per claim, the batch function ~360, a plain statement that only locks, draws a token and inserts ~290, and the raw `INSERT … ON CONFLICT` ~265; the completion `UPDATE` takes ~310 µs against raw\'s ~285, the difference being the wider row (ten columns against four), not the statement (a bare `UPDATE` of the same row takes the same). That is server CPU, which a machine with slow commit flushes hides (the 906e254 run: 1.35 ms per raw event, idemkit at ×0.86) and a fast one shows (this machine on 2026-12-02: 0.47 ms, idemkit at ×0.54–0.57 with the batch function). Without prepared statements every call is parsed and planned, which is what the `preparedStatements: false` row costs: since 2026-12-02 its completion calls `<table>_complete_one`, the same `UPDATE` in a function, whose call is cheap to plan while PL/pgSQL keeps the `UPDATE`\'s plan (×0.61 → ×0.66 of raw on new events, measured side by side); turn prepared statements on unless PgBouncer in transaction mode (before 1.21) sits in between.',
  '- **DynamoDB Local.** Equal round trips. A new key\'s claim is an `UpdateItem` conditioned on `attribute_not_exists` alone, as the raw `PutItem` is (an `UpdateItem`, whose `Key` is checked against the table\'s key schema, so a misconfigured store fails before any effect); it writes the occurrence as one map. The completion of a claim this process wrote, the item untouched since (its counter still the claim\'s token), is conditioned on that counter alone and writes the completed occurrence as one value; any other write since fails the condition and the completion is judged from the returned item. Until f63800f every completion updated fields inside the map under a condition on token, status and expiry: 1.32 ms a request against 1.25 now, one client each, interleaved (2026-12-03). Powertools\' and raw\'s completions set attributes unconditionally (Powertools would overwrite a record another instance took over). What separates idemkit from Powertools on new events and duplicates is the request shapes, not client work: with every HTTP request answered in process (`bench/dynamodb-client.ts`: the three contenders interleaved in one process, their clients given a handler that answers `200 {}` at once; two runs on 2026-12-07, 4 000 new events each), a new event costs the whole client path about the same in both: 1,571 and 1,587 µs against Powertools\' 1,614 and 1,659. Against raw it is client work first: raw\'s client takes 1,339 and 1,382 µs. Split by the CPU profile\'s samples, the AWS SDK spends 114 µs more on idemkit\'s two requests than on raw\'s in both runs (serialising, signing and log-filtering the occurrence\'s six fields — status, fencing token, lease, retention, claim time, nonce — and the expression placeholders, against raw\'s three attributes), and idemkit\'s own code (engine, expressions, slot memory) takes 76–84 µs. (An earlier scratch measurement through a trivial local HTTP server, 2026-12-03, had found 1.40 ms of CPU against Powertools\' 1.51 and raw\'s 1.30: the same order, with sockets in the path and without the split by owner.) Compared in pairs on DynamoDB Local (`bench/dynamodb-shapes.ts`: alternating runs of 20 requests, median of the pair ratios; two runs on 2026-12-03, the first with a scratch copy of it, 148 and 150 pairs, quartiles ±10–25 %): idemkit\'s claim as an `UpdateItem` cost ×1.19 and ×1.10 of the same item written by a `PutItem`, and its completion ×1.12 and ×1.06 of Powertools\' unconditional flat `UpdateItem`; the refused claim (×1.10, then ×0.94 of the same as a `PutItem`) and the occurrence stored as a map (×1.13, then ×1.04 of the same as one string) did not repeat. idemkit keeps the `UpdateItem` claim: a `PutItem` claim would need `dynamodb:PutItem` in every role, where the docs grant `UpdateItem` and `GetItem` only, and would no longer catch a sort key the table lacks; and the windowed claims, lease extensions and holder guards set conditions on fields inside the map. On the service both writes are billed alike. An earlier single measurement (2026-12-03, 20 rounds of 150 new events) had found the bare requests equal: these differences are within one run\'s noise and show only over many alternating pairs. A duplicate, timed on one client each against raw\'s refused `PutItem` (2026-12-02, 7 300 each): 1.00 ms against 0.90, of which 0.52 against 0.48 ms at the HTTP handler (the claim request carries the whole occurrence, and the refusal returns the item with its result) and the rest client CPU (the returned item unmarshalled, the occurrence judged by the claim rules). DynamoDB Local (Java, in memory) is far slower than the service, so its absolute numbers say little about AWS; the round trips do.',
  "- **SQS batches.** By default `makeIdempotentSqs` claims the whole batch in one call and sends each record's completion right after its handler (7 completions for 7 new records), the next record running while it travels; the batch answers once all have landed, and a crash in the middle of a batch repeats only the records whose completions were in flight. `completion: 'batch'` (its own row) records all completions in one `completeMany` after the last handler, the same two round trips per batch as raw, at the cost of repeating every record that ran if the Lambda crashes before that call. idemkit also sends the repeat inside the batch to the store (its answer marks it a repeat); raw drops it in memory first.",
  '- **A cold-start trap with `preparedStatements: true`.** After five executions PostgreSQL may cache a generic plan for a prepared statement (PL/pgSQL does the same for the statements inside a function: the claim functions\', and the completion\'s `<table>_complete_one` an unprepared store calls), made from the table statistics of that moment. On a new, nearly empty table the plan for the completion statement is a sequential scan, and it stays cached while the table grows, until an `ANALYZE` invalidates it: measured here, about 9 ms per completion at 10 000 rows against 0.9 ms after `ANALYZE`. Autovacuum analyzes a new table early and often, so a deployment recovers by itself; a few minutes of benchmark on a fresh table would measure the trap instead of the steady state.',
];

/** Under the key-strategy table. */
export const STRATEGY_NOTES: string[] = [
  '`contentHash` is the one strategy slower than the baseline: before hashing, it builds a canonical encoding of the selected fields in JavaScript (keys sorted, RFC 8785 number formatting, excluded paths removed), where the baseline hands the event to V8\'s native `JSON.stringify` as it is — so the baseline\'s key changes with key order and with every volatile field, which is the bug the strategy exists to avoid. The others read a few paths and format them; the preset adds a composite and the topic parsing.',
];

/** Under the MemoryStore table. */
export const MEMORY_NOTES: string[] = [
  'About 200 bytes per completed key: the flattened key string (~110 bytes with its map entry) and one fixed-shape occurrence whose times are small integers relative to the store\'s start (unboxed). At the default `maxEntries` (10 000) that is ~2 MB; a million keys need ~200 MB of heap, so past a few hundred thousand keys a shared store (Redis, DynamoDB, Postgres) is the better home — and the only correct one once more than one instance consumes the events.',
];

/**
 * Server-side cost per call, before and after the lean operations of issue 12. Measured apart
 * from the run (the counters are per server, not per contender); how is said under each table.
 */
export const SERVER_COST: string[] = [
  '### Server-side cost per call, before and after',
  '',
  'Redis, `INFO commandstats` (µs of server time per call, its inner `GET`/`SET` included), 20 000 calls through `makeIdempotent` per row on this machine, Redis 7.0 ([store-redis.md](store-redis.md#costs)):',
  '',
  '| call | 0.1: scripts with `TYPE`/`HMGET` checks and a fence key | 0.2 scripts (still used with `clock: \'server\'` or before Redis 7.0) | 0.2: native claim, compare-and-set completion | raw command |',
  '| --- | --- | --- | --- | --- |',
  '| claim of a new key | 17.5 | 9.6–11.5 | 1.5 (`SET … NX GET`) | 1.5 (`SET … NX GET`) |',
  '| duplicate of a completed key | 9–11 | 6–9 | 0.8 (`SET … NX GET`, nothing written) | 0.8 |',
  '| completion | 9 | 7–11.5 | 4.7 (compare-and-set script) | 1.5 (`SET`) |',
  '',
  'PostgreSQL ([store-postgres.md](store-postgres.md#costs)): one statement per call. 0.1 claimed in one `WITH … INSERT … ON CONFLICT DO UPDATE` statement (an advisory lock and `nextval` of the fencing sequence per key) on a table with an index on `expires_at`, which every completion had to update; 0.2 claims in one call of a PL/pgSQL function (a refusal is answered without writing) on a table with the primary key only. Measured with `EXPLAIN (ANALYZE, WAL)`: a new event writes ≈440 bytes of WAL against ≈430 for the bare `INSERT … ON CONFLICT` + `UPDATE`, a completion is a HOT update (no index on `expires_at`), and a refused claim writes nothing (no WAL, no commit flush).',
  '',
  'DynamoDB: one request per call in both versions; 0.2\'s claim condition starts with `attribute_not_exists(id) OR …`, so a new key is judged by its first clause, and the expressions name only the slots a window can meet ([store-dynamodb.md](store-dynamodb.md#costs)).',
  '',
  '### Client-side cost, before and after (2026-12-02, same machine)',
  '',
  'Two full runs of this bench 20 minutes apart on the same machine and harness (`c5aa639`): the package sources of `c85cc19` (before) and of `c5aa639` (after: a settled round trip leaves the Redis store\'s deadline queue at once instead of living through garbage collections until its timer, one promise per single-identity claim and completion instead of several async frames, duplicates answered without promises of their own, 64-bit reads without a BigInt, no regex per key). idemkit on Redis, events/s and ÷ raw:',
  '',
  '| scenario | before | after | ÷ raw, before → after |',
  '| --- | --- | --- | --- |',
  '| new events | 5,740 | 6,949 | ×0.67 → ×0.79 |',
  '| completed duplicates | 12,359 | 14,895 | ×0.71 → ×0.75 |',
  '| SQS batch of 10 (3 dup) | 8,070 | 7,125 | ×0.46 → ×0.41 (a path these changes barely touch: run-to-run noise, as side-by-side reruns of both versions showed, ×1.6–2.2 vs Powertools either way) |',
  '',
  'The same machine was 1.5–3× faster at round trips and commit flushes in that run than in the run before it (`906e254`: raw Redis 3,141 new events/s against 8,846, raw PostgreSQL 581 against 1,796), so the same client and server CPU weighed more in each event: ratios of runs on a machine in different states do not compare.',
  '',
  '### Before and after the single claim function and the pipelined `completeMany` (2026-12-02, same machine)',
  '',
  'The package sources of `1e568c2` (before) and of `1097692` (after: PostgreSQL claims of one identity through `<table>_claim_one`, Redis `completeMany` as one pipeline of compare-and-sets; for the `preparedStatements: false` row, `6d4ae0a`: unprepared completions through `<table>_complete_one`), each built and run through this harness, alternating before, after, before, after within 10 minutes (10 rounds of 200 ms per contender; the raw rows moved by up to 15 % between runs, so each ratio is against the raw row of its own run). idemkit ÷ raw, two runs each:',
  '',
  '| store | scenario | before | after |',
  '| --- | --- | --- | --- |',
  '| PostgreSQL | new events | ×0.71, ×0.72 (1,258 and 1,250 events/s) | ×0.85, ×0.76 (1,283 and 1,311 events/s) |',
  '| PostgreSQL | completed duplicates | ×2.25, ×2.19 (7,681 and 7,253) | ×2.45, ×2.53 (8,100 and 7,761) |',
  '| PostgreSQL | new events, `preparedStatements: false` | ×0.61 (1,027) | ×0.66, ×0.66 (1,085 and 1,145) |',
  "| Redis | SQS batch of 10 (3 dup), `completion: 'batch'` | ×0.63, ×0.60 | ×0.64, ×0.67 |",

];

/** Raw new events/s per store in the `382eae9` run (published before the single claim function): the machine state it was measured in. */
const EARLIER_RAW_NEW_EVENTS = { commit: '382eae9', redis: 9_084, dynamodb: 185, postgres: 2_347 } as const;

/**
 * How this run's machine state compares with the `382eae9` run's, from the raw rows (the floor of
 * each store, whose code never changes): slower round trips hide client CPU, so ratios of runs in
 * different states do not compare.
 */
export function machineStateNote(report: BenchReport): string[] {
  const parts = (['redis', 'dynamodb', 'postgres'] as const).flatMap((store) => {
    const raw = report.stores
      .find((entry) => entry.store === store)
      ?.results.find((result) => result.scenario === 'new events' && result.contender === 'raw')?.stats.eventsPerSecond;
    if (raw === undefined) return [];
    return [`${STORE_TITLES[store]} ${num(raw, 0)} against ${num(EARLIER_RAW_NEW_EVENTS[store], 0)}`];
  });
  if (parts.length === 0) return [];
  return [
    `The machine in this run against the \`${EARLIER_RAW_NEW_EVENTS.commit}\` run, raw new events/s (the floor each store\'s raw commands reach, code unchanged): ${parts.join(', ')}. ` +
      'Where round trips or commits are slower, client CPU weighs less in each event and the ratios rise with the same code; where they are faster, the ratios fall. ' +
      'Compare before/after rows measured in one state, as above, rather than this run with another.',
  ];
}
