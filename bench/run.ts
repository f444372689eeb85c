// `pnpm bench`: idemkit vs Powertools idempotency vs the raw store commands, on the same machine
// and servers, plus key-strategy throughput and the MemoryStore footprint. Prints the tables and
// writes docs/benchmarks.md. A benchmark, not a test: it asserts correctness, never speed.
//
//   tsx bench/run.ts            full run (~2.5 minutes), writes docs/benchmarks.md
//   tsx bench/run.ts --quick    short rounds, prints only (add --out <file> to write)
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { measureBundles } from './bundle-size.js';
import { dynamodbBench } from './contenders/dynamodb.js';
import { postgresBench } from './contenders/postgres.js';
import { redisBench } from './contenders/redis.js';
import type { StoreBench } from './contenders/types.js';
import { startDynamoDB } from './lib/dynamodb-local.js';
import { REPO_ROOT } from './lib/env.js';
import { describeMachine } from './lib/machine.js';
import { renderMarkdown } from './lib/markdown.js';
import { BUNDLE_HEADER, bundleRows, CACHE_HEADER, cacheRows, MEMORY_HEADER, memoryRows, STORE_HEADER, STORE_TITLES, storeRows, STRATEGY_HEADER, strategyRows, type BenchReport } from './lib/report.js';
import { textTable } from './lib/table.js';
import { completedDuplicates } from './scenarios/duplicates.js';
import { hotKey } from './scenarios/hot-key.js';
import { measureScenario, type MeasureOptions, type ScenarioResult } from './scenarios/measure.js';
import { measureMemory } from './scenarios/memory.js';
import { newEvents } from './scenarios/new-events.js';
import { sqsBatch } from './scenarios/sqs-batch.js';
import { measureStrategies } from './scenarios/strategies.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args[outIndex + 1] : quick ? undefined : join(REPO_ROOT, 'docs', 'benchmarks.md');
const measure: MeasureOptions = quick ? { warmupMs: 200, roundMs: 300, rounds: 1 } : { warmupMs: 500, roundMs: 500, rounds: 5 };
const scenarios = [newEvents, completedDuplicates, sqsBatch, hotKey];

const log = (line: string) => process.stderr.write(`${line}\n`);

async function benchStores(): Promise<BenchReport['stores']> {
  const stores: BenchReport['stores'] = [];
  log('starting DynamoDB Local…');
  const dynamodb = await startDynamoDB();
  try {
    const factories: (() => Promise<StoreBench>)[] = [redisBench, () => dynamodbBench(dynamodb.endpoint), postgresBench];
    for (const factory of factories) {
      const bench = await factory();
      try {
        const results = [];
        for (const scenario of scenarios) {
          log(`${STORE_TITLES[bench.store]}: ${scenario.name}`);
          await bench.beforeScenario?.();
          results.push(...(await measureScenario(scenario, bench.contenders, measure)));
        }
        let cache: ScenarioResult[] | undefined;
        if (bench.cacheContenders !== undefined) {
          log(`${STORE_TITLES[bench.store]}: completed duplicates, in-process caches`);
          cache = await measureScenario(completedDuplicates, bench.cacheContenders, measure);
        }
        stores.push({ store: bench.store, server: bench.server, results, ...(cache === undefined ? {} : { cache }) });
      } finally {
        await bench.close();
      }
    }
  } finally {
    await dynamodb.stop();
  }
  return stores;
}

const loadAtStart = os.loadavg()[0]!;
const stores = await benchStores();
log('key strategies…');
const strategies = await measureStrategies(quick ? 300 : 1500);
log('cold start: bundles…');
const bundles = await measureBundles();
log('MemoryStore footprint…');
const memory = await measureMemory(quick ? [100_000] : [100_000, 1_000_000]);

const report: BenchReport = {
  date: new Date(),
  machine: describeMachine(stores.map((store) => store.server)),
  loadAverage: [loadAtStart, os.loadavg()[0]!],
  settings: `${measure.rounds} interleaved rounds of ${measure.roundMs} ms per contender and scenario, after ${measure.warmupMs} ms of warm-up`,
  stores,
  strategies,
  memory,
  bundles,
};

for (const { server, results, cache } of stores) {
  console.log(`\n${server}\n${textTable(STORE_HEADER, storeRows(results))}`);
  if (cache !== undefined) console.log(`\n${server}, in-process caches\n${textTable(CACHE_HEADER, cacheRows(results, cache))}`);
}
console.log(`\nKey strategies on a ${strategies.eventBytes}-byte Genesys event\n${textTable(STRATEGY_HEADER, strategyRows(strategies.results))}`);
console.log(`\nCold start\n${textTable(BUNDLE_HEADER, bundleRows(bundles))}`);
console.log(`\nMemoryStore footprint\n${textTable(MEMORY_HEADER, memoryRows(memory))}`);
if (out !== undefined) {
  writeFileSync(out, renderMarkdown(report));
  console.log(`\nwrote ${out}`);
}
