import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { GenesysEvent } from '../lib/events.js';
import { lambdaContext, type LambdaContextLike } from '../lib/lambda-context.js';
import type { RoundTripCounter } from '../lib/round-trips.js';
import { LEASE_MS, RETENTION_SECONDS, Workload, type Contender, type SqsRecordLike, type StoreKind } from './types.js';

/**
 * Powertools idempotency with the settings idemkit gets: key on the envelope id (`id`), one-hour
 * expiry, in-progress expiry from the Lambda context, no local cache unless `useLocalCache` (the
 * in-process cache rows, against idemkit's `localCache`).
 * A batch is what the Powertools docs show: the record function made idempotent, called per record.
 * Each wrapper gets its own persistence layer, because a layer is configured once by its first wrapper.
 */
export function powertoolsContender(
  kind: StoreKind,
  persistenceLayer: () => BasePersistenceLayer,
  roundTrips: RoundTripCounter,
  keyPrefix: string,
  useLocalCache = false,
): Contender {
  const workload = new Workload();
  const config = () => new IdempotencyConfig({ eventKeyJmesPath: 'id', expiresAfterSeconds: RETENTION_SECONDS, useLocalCache });
  const handler = makeIdempotent(async (event: GenesysEvent, _context: LambdaContextLike) => workload.run(event), {
    persistenceStore: persistenceLayer(),
    config: config(),
    keyPrefix,
  });
  const recordConfig = config();
  const processRecord = makeIdempotent(async (event: GenesysEvent) => workload.run(event), {
    persistenceStore: persistenceLayer(),
    config: recordConfig,
    keyPrefix,
  });
  return {
    name: useLocalCache ? 'Powertools, useLocalCache' : 'Powertools',
    store: kind,
    workload,
    roundTrips,
    handle: (event) => handler(event, lambdaContext(LEASE_MS)),
    async handleBatch(records: readonly SqsRecordLike[]) {
      recordConfig.registerLambdaContext(lambdaContext(LEASE_MS) as Parameters<IdempotencyConfig['registerLambdaContext']>[0]);
      const failed: string[] = [];
      for (const record of records) {
        try {
          await processRecord(JSON.parse(record.body) as GenesysEvent);
        } catch {
          failed.push(record.messageId);
        }
      }
      return failed;
    },
  };
}
