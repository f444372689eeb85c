// `pnpm bench`: idemkit vs Powertools idempotency vs the raw store commands, on the same machine
// and servers, plus key-strategy throughput and the MemoryStore footprint. Prints the tables and
// writes docs/benchmarks.md. A benchmark, not a test: it asserts correctness, never speed.
//
//   node --import ./bench/lib/loader.mjs bench/run.ts            full run (~5 minutes), writes docs/benchmarks.md
//   node --import ./bench/lib/loader.mjs bench/run.ts --quick    short rounds, prints only (add --out <file> to write)
//
// idemkit is measured as published: the built packages (lib/loader.mjs), rebuilt first when stale.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { measureBundles } from './bundle-size.js';
import { dynamodbBench } from './contenders/dynamodb.js';
import { postgresBench } from './contenders/postgres.js';
import { redisBench } from './contenders/redis.js';
import type { StoreBench } from './contenders/types.js';
import { startDynamoDB } from './lib/dynamodb-local.js';
import { ensureBuilt } from './lib/built.js';
import { cpuTimes, stealPercent } from './lib/cpu-steal.js';
import { REPO_ROOT } from './lib/env.js';
import { describeMachine } from './lib/machine.js';
import { renderMarkdown } from './lib/markdown.js';
import {
  BUNDLE_HEADER,
  bundleRows,
  CACHE_HEADER,
  cacheRows,
  MEMORY_HEADER,
  memoryRows,
  SCALING_HEADER,
  scalingRows,
  STORAGE_HEADER,
  storageRows,
  STORE_HEADER,
  STORE_TITLES,
  storeRows,
  STRATEGY_HEADER,
  strategyRows,
  type BenchReport,
} from './lib/report.js';
import { TARGET_HEADER, targetRows } from './lib/targets.js';
import { textTable } from './lib/table.js';
import { CALLER_COUNTS, concurrentNewEvents } from './scenarios/concurrency.js';
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
// Many short rounds rather than a few long ones: this machine's speed drifts over seconds, and
// finer turns spread the drift evenly over the contenders.
const measure: MeasureOptions = quick ? { warmupMs: 200, roundMs: 300, rounds: 1 } : { warmupMs: 500, roundMs: 200, rounds: 15 };
// The scaling rows are three more scenarios per store: shorter rounds keep the whole run near 5 minutes.
const scalingMeasure: MeasureOptions = quick ? measure : { warmupMs: 300, roundMs: 200, rounds: 6 };
const scenarios = [newEvents, completedDuplicates, sqsBatch, hotKey];

ensureBuilt((line) => process.stderr.write(`${line}\n`));
if (!process.execArgv.some((arg) => arg.includes('loader.mjs'))) {
  process.stderr.write('bench: run through `npx pnpm@10 bench` (node --import ./bench/lib/loader.mjs), which loads idemkit as published\n');
}

const git = (...gitArgs: string[]) => execFileSync('git', gitArgs, { cwd: REPO_ROOT, encoding: 'utf8' });
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A store's bench, and what stops the server started for it (DynamoDB Local), if any. */
type StoreSetup = () => Promise<{ bench: StoreBench; stop?: () => Promise<void> }>;

/**
 * DynamoDB Local is started only for its own bench and stopped after it: a JVM booting (class
 * loading, JIT) takes most of a core for tens of seconds, and on this 2-core machine it slowed
 * the Redis rounds that used to run beside it, the contenders with more client CPU the most.
 */
const storeSetups: StoreSetup[] = [
  async () => ({ bench: await redisBench() }),
  async () => {
    log('starting DynamoDB Local…');
    const dynamodb = await startDynamoDB();
    try {
      return { bench: await dynamodbBench(dynamodb.endpoint), stop: () => dynamodb.stop() };
    } catch (error) {
      await dynamodb.stop();
      throw error;
    }
  },
  async () => ({ bench: await postgresBench() }),
];

async function benchStores(): Promise<BenchReport['stores']> {
  const stores: BenchReport['stores'] = [];
  for (const setup of storeSetups) {
    const cpuBefore = cpuTimes();
    const { bench, stop } = await setup();
    try {
      await bench.warmUp?.();
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
      const scaling = [];
      const scaled = bench.contenders.filter((contender) => ['idemkit', 'Powertools', 'raw'].includes(contender.name));
      for (const callers of CALLER_COUNTS) {
        log(`${STORE_TITLES[bench.store]}: new events, ${callers} concurrent callers`);
        scaling.push({ callers, results: await measureScenario(concurrentNewEvents(callers), scaled, scalingMeasure) });
      }
      log(`${STORE_TITLES[bench.store]}: storage per completed key`);
      const storage = (await bench.storage?.()) ?? [];
      const steal = stealPercent(cpuBefore, cpuTimes());
      stores.push({
        store: bench.store,
        server: bench.server,
        results,
        ...(cache === undefined ? {} : { cache }),
        scaling,
        storage,
        ...(steal === undefined ? {} : { stealPercent: steal }),
      });
    } finally {
      await bench.close();
      await stop?.();
    }
  }
  return stores;
}

// Other engineers share this working tree: the doc names the commit and the packages whose
// sources had uncommitted changes when the run started (what was measured on top of it).
const commit = {
  hash: git('rev-parse', '--short', 'HEAD').trim(),
  dirtyPackages: [
    ...new Set(
      git('status', '--porcelain', '--', 'packages')
        .split('\n')
        .filter((line) => /^.. packages\/[^/]+\/src\//.test(line))
        .map((line) => line.slice(3).split('/').slice(0, 2).join('/')),
    ),
  ],
};
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
  commit,
  machine: describeMachine(stores.map((store) => store.server)),
  loadAverage: [loadAtStart, os.loadavg()[0]!],
  settings: `${measure.rounds} interleaved rounds of ${measure.roundMs} ms per contender and scenario, after ${measure.warmupMs} ms of warm-up`,
  stores,
  strategies,
  memory,
  bundles,
};

console.log(`commit ${commit.hash}${commit.dirtyPackages.length > 0 ? ` (+ uncommitted: ${commit.dirtyPackages.join(', ')})` : ''}`);
console.log(`\nIssue 12 targets\n${textTable(TARGET_HEADER, targetRows(report))}`);
for (const { server, results, cache, scaling, storage } of stores) {
  console.log(`\n${server}\n${textTable(STORE_HEADER, storeRows(results))}`);
  console.log(`\n${server}, concurrency\n${textTable(SCALING_HEADER, scalingRows(scaling))}`);
  console.log(`\n${server}, storage\n${textTable(STORAGE_HEADER, storageRows(storage))}`);
  if (cache !== undefined) console.log(`\n${server}, in-process caches\n${textTable(CACHE_HEADER, cacheRows(results, cache))}`);
}
console.log(`\nKey strategies on a ${strategies.eventBytes}-byte Genesys event\n${textTable(STRATEGY_HEADER, strategyRows(strategies.results))}`);
console.log(`\nCold start\n${textTable(BUNDLE_HEADER, bundleRows(bundles))}`);
console.log(`\nMemoryStore footprint\n${textTable(MEMORY_HEADER, memoryRows(memory))}`);
if (out !== undefined) {
  writeFileSync(out, renderMarkdown(report));
  console.log(`\nwrote ${out}`);
}
