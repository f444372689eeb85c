// Cold start, per store: a handler wrapped with makeIdempotent, bundled by esbuild as CDK's
// NodejsFunction does (ESM, the createRequire banner, minified, everything bundled), then its
// bundle size and the time a fresh Node process takes to import it (what Lambda's init phase
// pays for it), median of several processes. Also which stores' code each bundle holds: a
// handler on one store must hold that store only.
//
//   npx tsx bench/bundle-size.ts            (prints a table; `measureBundles()` returns the rows)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleDir, bundleHandler, storesIn } from '../examples/test/support/bundle.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRATCH = 'bench/.scratch/bundle-size';
const IMPORT_RUNS = 7;

// Each handler builds its store at module load, as a Lambda should (outside the handler), without
// connecting: what a cold start evaluates before the first event.
const IDEMKIT_STORES: Record<string, string> = {
  memory: `import { MemoryStore } from '@idemkit/core';
const store = new MemoryStore();`,
  redis: `import { RedisStore } from '@idemkit/redis';
import { Redis } from 'ioredis';
const store = new RedisStore({ client: new Redis({ lazyConnect: true }) });`,
  postgres: `import { PostgresStore } from '@idemkit/postgres';
import pg from 'pg';
const store = new PostgresStore({ client: new pg.Pool({ max: 1 }) });`,
  dynamodb: `import { DynamoDBStore } from '@idemkit/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const store = new DynamoDBStore({ client: new DynamoDBClient({ region: 'us-east-1' }), tableName: 'idempotency' });`,
};

// Powertools on the stores it has a layer for: Redis through its cache layer (on @redis/client,
// the client its docs show) and DynamoDB; the same handler, keyed on the envelope id.
const POWERTOOLS_LAYERS: Record<string, string> = {
  redis: `import { CachePersistenceLayer } from '@aws-lambda-powertools/idempotency/cache';
import { createClient } from '@redis/client';
const persistenceStore = new CachePersistenceLayer({ client: createClient({ url: 'redis://127.0.0.1:6379' }) });`,
  dynamodb: `import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }) });`,
};

const HANDLERS: { contender: 'idemkit' | 'Powertools'; store: string; source: string }[] = [
  ...Object.entries(IDEMKIT_STORES).map(([store, setup]) => ({
    contender: 'idemkit' as const,
    store,
    source: `import { genesysCloud, makeIdempotent } from '@idemkit/eventbridge';
${setup}
export const handler = makeIdempotent(async (event) => event.detail.eventBody.conversationId, { store, strategy: genesysCloud(), name: 'bench' });
`,
  })),
  ...Object.entries(POWERTOOLS_LAYERS).map(([store, setup]) => ({
    contender: 'Powertools' as const,
    store,
    source: `import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
${setup}
export const handler = makeIdempotent(async (event) => event.detail.eventBody.conversationId, { persistenceStore, config: new IdempotencyConfig({ eventKeyJmesPath: 'id' }) });
`,
  })),
];

/** One store's figures. */
export interface BundleFigures {
  contender: 'idemkit' | 'Powertools';
  store: string;
  bytes: number;
  gzipBytes: number;
  /** Median time to `import()` the bundle in a fresh process, ms. */
  coldImportMs: number;
  /** The stores whose code the bundle holds (should be just `store`, none for memory). */
  storesInBundle: string[];
}

/** Bundles and measures the wrapped handler of every store. */
export async function measureBundles(): Promise<BundleFigures[]> {
  mkdirSync(join(ROOT, SCRATCH), { recursive: true });
  const out = bundleDir();
  try {
    const rows: BundleFigures[] = [];
    for (const { contender, store, source } of HANDLERS) {
      const entry = join(SCRATCH, `${contender.toLowerCase()}-${store}-handler.ts`);
      writeFileSync(join(ROOT, entry), source);
      const bundle = await bundleHandler(entry, { format: 'esm', outdir: out.dir, minify: true });
      rows.push({
        contender,
        store,
        bytes: bundle.bytes,
        gzipBytes: gzipSync(readFileSync(bundle.file)).length,
        coldImportMs: median(Array.from({ length: IMPORT_RUNS }, () => coldImportMs(bundle.file))),
        storesInBundle: storesInBundle(bundle.inputs),
      });
    }
    return rows;
  } finally {
    out.remove();
  }
}

// A fresh process per measurement: nothing cached, as in a new Lambda execution environment.
function coldImportMs(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t);`;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return Number(output.trim());
}

// The examples' check knows idemkit's drivers; Powertools' Redis layer runs on @redis/client.
function storesInBundle(inputs: readonly string[]): string[] {
  const stores = storesIn(inputs);
  return !stores.includes('redis') && inputs.some((input) => input.includes('/@redis/client/')) ? ['redis', ...stores] : stores;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await measureBundles();
  console.log('contender   store     bundle (min)   gzip       cold import   stores in the bundle');
  for (const row of rows) {
    console.log(
      `${row.contender.padEnd(11)} ${row.store.padEnd(9)} ${`${(row.bytes / 1024).toFixed(1)} KiB`.padStart(12)}   ${`${(row.gzipBytes / 1024).toFixed(1)} KiB`.padStart(9)}` +
        `  ${`${row.coldImportMs.toFixed(1)} ms`.padStart(10)}    ${row.storesInBundle.join(', ') || '-'}`,
    );
  }
}
