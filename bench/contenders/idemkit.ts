import type { IdempotencyStore } from '@idemkit/core';
import { makeIdempotent, makeIdempotentSqs } from '@idemkit/eventbridge';
import type { GenesysEvent } from '../lib/events.js';
import { lambdaContext, type LambdaContextLike } from '../lib/lambda-context.js';
import type { RoundTripCounter } from '../lib/round-trips.js';
import { LEASE_MS, RETENTION_SECONDS, Workload, type Contender, type SqsRecordLike, type StoreKind } from './types.js';

/**
 * idemkit on one store, the way a Lambda uses it: `makeIdempotent` keyed on the envelope id,
 * `makeIdempotentSqs` for batches (one `claimMany` per batch); the lease follows the context.
 * Logging off and no `IDEMKIT_*` variables, so nothing but the idempotency work is measured.
 */
export function idemkitContender(
  kind: StoreKind,
  store: IdempotencyStore,
  roundTrips: RoundTripCounter,
  name = 'idemkit',
  /** When an SQS batch's completions are recorded: per record (the default) or in one completeMany. */
  completion: 'each' | 'batch' = 'each',
  /** `localCache: true`: warm repeats of completed keys are answered in process, with no round trip. */
  localCache = false,
): Contender {
  const workload = new Workload();
  const config = {
    store,
    strategy: { strategy: 'eventId' },
    namespace: 'bench',
    retentionMs: RETENTION_SECONDS * 1000,
    logLevel: 'off',
    env: false,
    ...(localCache ? { localCache: true } : {}),
  } as const;
  const handler = makeIdempotent(async (event: GenesysEvent, _context: LambdaContextLike) => workload.run(event), config);
  const batchHandler = makeIdempotentSqs(async (event: GenesysEvent) => workload.run(event), {
    ...config,
    namespace: 'bench',
    body: 'envelope',
    completion,
  });
  return {
    name,
    store: kind,
    workload,
    roundTrips,
    handle: (event) => handler(event, lambdaContext(LEASE_MS)),
    async handleBatch(records: readonly SqsRecordLike[]) {
      const { batchItemFailures } = await batchHandler({ Records: [...records] }, lambdaContext(LEASE_MS));
      return batchItemFailures.map((failure) => failure.itemIdentifier);
    },
  };
}
