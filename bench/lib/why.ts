// The prose of docs/benchmarks.md that explains the numbers; kept apart from the rendering.

/** How contenders are set up and what is counted. */
export const HOW_COUNTED: string[] = [
  '- Every contender wraps the same handler, keyed on the EventBridge envelope `id`, records kept an hour, the lease (Powertools: in-progress expiry) taken from a Lambda context with 60 s left; Powertools without its local cache and idemkit without `localCache` in the main tables; both caches are on in their own table.',
  '- idemkit: `makeIdempotent` and `makeIdempotentSqs` from `@idemkit/eventbridge` (logging off), loaded as published: the built packages (`dist`), not the TypeScript sources (`bench/lib/loader.mjs`). Postgres: `preparedStatements: true`, plus a row with the default (`false`); the raw statements are prepared too.',
  '- Powertools: `makeIdempotent` over `CachePersistenceLayer` (on `@redis/client`) and `DynamoDBPersistenceLayer`; an SQS batch is the record function made idempotent and called per record, as its docs show. Postgres has no Powertools layer.',
  '- raw: the fewest commands a correct claim needs, without leases, fencing, windows or expiry checks: Redis `SET NX GET` + `SET`; DynamoDB conditional `PutItem` (returning the old item when the condition fails) + `UpdateItem`; Postgres `INSERT … ON CONFLICT DO UPDATE … RETURNING` + `UPDATE`. A batch: one pipeline or one statement per step (DynamoDB has no conditional batch write: parallel single writes).',
  '- PostgreSQL tables start with 10 000 completed keys and are `ANALYZE`d before each scenario, the state autovacuum keeps a table in use in (see the last note below for why it matters).',
  '- Calls run one after another, as one Lambda instance runs one invocation at a time; the hot-key scenario runs 50 callers at once on a key whose handler takes 2 ms. Latency is per call: an SQS batch is one call of 10 events.',
  '- Round trips are counted at the client: ioredis commands (a pipeline counts once), each `get`/`set`/`del` of the Powertools cache client, each `pg` query, each HTTP request of the AWS SDK (after its retry step, so retries count).',
];

/** Why idemkit can be slower than a comparison: the notes under "Where idemkit is slower". */
export const WHY_SLOWER: string[] = [
  'idemkit never takes more round trips than the raw commands for a single event (it takes fewer than Powertools for duplicates and contended keys: one, where Powertools needs a failed `SET NX` and a `GET`). Where it is slower, the time goes into work the raw commands and Powertools skip:',
  '',
  '- **Redis.** Each claim and each completion is one Lua script call that applies the lease, window, expiry and fencing rules inside the server and checks that the value it finds is idemkit\'s, where raw sends one `SET`; the difference per call is script time in the server (`INFO commandstats`) and a longer request and reply to encode and decode. Powertools has no fencing, and a refused claim costs it a second command.',
  '- **PostgreSQL.** The claim is one call of a PL/pgSQL function that takes a transaction-scoped advisory lock per key (so fencing tokens can never be handed out of order), draws a token and applies the take-over rules; the raw `INSERT … ON CONFLICT` does none of that. Without prepared statements the call is parsed and planned every time, which is what the `preparedStatements: false` row costs; turn them on unless PgBouncer in transaction mode (before 1.21) sits in between.',
  '- **DynamoDB Local.** Equal round trips; idemkit\'s claim is an `UpdateItem` whose condition expression encodes lease take-over, expiry and windows and returns the new item, where the raw `PutItem` checks `attribute_not_exists` only and Powertools\' checks three simpler cases. DynamoDB Local (Java, in memory) evaluates expressions far more slowly than the service, so its absolute numbers say little about AWS; the round trips do.',
  "- **SQS batches.** By default `makeIdempotentSqs` claims the whole batch in one call but completes each record right after its handler (7 completions for 7 new records): a crash in the middle of a batch then repeats only the record in flight. `completion: 'batch'` (its own row) records all completions in one `completeMany` after the last handler, the same two round trips per batch as raw, at the cost of repeating every record that ran if the Lambda crashes before that call. idemkit also sends the repeat inside the batch to the store (its answer marks it a repeat); raw drops it in memory first.",
  '- **A cold-start trap with `preparedStatements: true`.** After five executions PostgreSQL may cache a generic plan for a prepared statement, made from the table statistics of that moment. On a new, nearly empty table the plan for the completion statement is a sequential scan, and it stays cached while the table grows, until an `ANALYZE` invalidates it: measured here, about 9 ms per completion at 10 000 rows against 0.9 ms after `ANALYZE`. Autovacuum analyzes a new table early and often, so a deployment recovers by itself; a few minutes of benchmark on a fresh table would measure the trap instead of the steady state.',
];

/** Under the key-strategy table. */
export const STRATEGY_NOTES: string[] = [
  '`contentHash` is the one strategy slower than the baseline: before hashing, it builds a canonical encoding of the selected fields in JavaScript (keys sorted, RFC 8785 number formatting, excluded paths removed), where the baseline hands the event to V8\'s native `JSON.stringify` as it is — so the baseline\'s key changes with key order and with every volatile field, which is the bug the strategy exists to avoid. The others read a few paths and format them; the preset adds a composite and the topic parsing.',
];

/** Under the MemoryStore table. */
export const MEMORY_NOTES: string[] = [
  'About 200 bytes per completed key: the flattened key string (~110 bytes with its map entry) and one fixed-shape occurrence whose times are small integers relative to the store\'s start (unboxed). At the default `maxEntries` (10 000) that is ~2 MB; a million keys need ~200 MB of heap, so past a few hundred thousand keys a shared store (Redis, DynamoDB, Postgres) is the better home — and the only correct one once more than one instance consumes the events.',
];
