// Loads every built package through its `exports` map, the way a user's Lambda would, from a
// package outside core (this bench package depends on all of them), both as ESM and as CJS.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const expectations = {
  '@idemkit/core': ['idempotent', 'IdempotencyEngine', 'MemoryStore', 'strategyFromConfig'],
  '@idemkit/core/testing': ['runStoreConformance', 'manualClock', 'createBarrier'],
  '@idemkit/redis': ['RedisStore'],
  '@idemkit/postgres': ['PostgresStore'],
  '@idemkit/dynamodb': ['DynamoDBStore'],
  '@idemkit/eventbridge': ['makeIdempotent', 'makeIdempotentSqs'],
  '@idemkit/eventbridge/redis': ['redisLoader'],
  '@idemkit/eventbridge/postgres': ['postgresLoader'],
  '@idemkit/eventbridge/dynamodb': ['dynamodbLoader'],
};

let failures = 0;
for (const [specifier, names] of Object.entries(expectations)) {
  const esm = await import(specifier);
  const cjs = require(specifier);
  for (const [format, module] of [['esm', esm], ['cjs', cjs]]) {
    const missing = names.filter((name) => typeof module[name] !== 'function');
    if (missing.length > 0) {
      failures += 1;
      console.error(`${specifier} (${format}) lacks ${missing.join(', ')}`);
    }
  }
}
if (failures > 0) process.exit(1);
console.log(`exports: ${Object.keys(expectations).length} entry points load as ESM and CJS`);
