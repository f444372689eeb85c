import type { StoreKind } from '../contenders/types.js';
import type { BundleFigures } from '../bundle-size.js';
import type { MemoryResult } from '../scenarios/memory.js';
import type { ScenarioResult } from '../scenarios/measure.js';
import type { StrategyResult } from '../scenarios/strategies.js';
import type { MachineDescription } from './machine.js';
import { EXTRAPOLATED_KEYS, type StorageFigure } from './storage.js';
import { mib, num, type Row } from './table.js';

/** Everything one `pnpm bench` run measured. */
export interface BenchReport {
  date: Date;
  machine: MachineDescription;
  /** 1-minute load average when the store benches started and when they ended: how busy the machine was. */
  loadAverage: [number, number];
  settings: string;
  /** `git rev-parse --short HEAD` when the run started, and the packages whose sources had uncommitted changes. */
  commit: { hash: string; dirtyPackages: string[] };
  stores: {
    store: StoreKind;
    server: string;
    results: ScenarioResult[];
    cache?: ScenarioResult[];
    /** New events at 1, 8 and 64 concurrent callers. */
    scaling: { callers: number; results: ScenarioResult[] }[];
    storage: StorageFigure[];
    /** CPU time the hypervisor took while this store's bench ran, in per cent (Linux only). */
    stealPercent?: number;
  }[];
  strategies: { eventBytes: number; results: StrategyResult[] };
  memory: MemoryResult[];
  /** Cold start: the wrapped handler per store, bundled as CDK's NodejsFunction does. */
  bundles: BundleFigures[];
}

export const STORE_TITLES: Record<StoreKind, string> = {
  redis: 'Redis',
  dynamodb: 'DynamoDB Local',
  postgres: 'PostgreSQL',
};

export const STORE_HEADER: Row = [
  'scenario',
  'contender',
  'events/s',
  'p50 ms',
  'p99 ms',
  'round trips/event',
  'idemkit ÷ this: events/s',
  'p50',
  'round trips',
  'verdict',
  'check',
];

/** One row per scenario and contender; ratios are idemkit's number divided by this contender's. */
export function storeRows(results: readonly ScenarioResult[]): Row[] {
  return results.map((result) => {
    const ours = results.find((other) => other.scenario === result.scenario && other.contender === 'idemkit')!.stats;
    const { stats } = result;
    const isUs = result.contender === 'idemkit';
    const ratio = (a: number, b: number) => (isUs ? '' : `×${num(a / b, 2)}`);
    return [
      result.scenario,
      result.contender,
      num(stats.eventsPerSecond),
      num(stats.p50Ms, 2),
      num(stats.p99Ms, 2),
      num(stats.roundTripsPerEvent, 2),
      ratio(ours.eventsPerSecond, stats.eventsPerSecond),
      ratio(ours.p50Ms, stats.p50Ms),
      ratio(ours.roundTripsPerEvent, stats.roundTripsPerEvent),
      isUs ? '' : verdict(ours.eventsPerSecond / stats.eventsPerSecond),
      result.note ?? '',
    ];
  });
}

/** Within ±5 % is noise on this kind of machine; outside it the table says who is faster. */
export function verdict(throughputRatio: number): string {
  if (throughputRatio >= 1.05) return `idemkit ${num(throughputRatio, 2)}× faster`;
  if (throughputRatio <= 0.95) return `idemkit SLOWER (${num(1 / throughputRatio, 2)}× less throughput)`;
  return 'same (±5 %)';
}

/** The comparisons idemkit lost, for the notes under the tables. */
export function slowerRows(report: BenchReport): string[] {
  return report.stores.flatMap(({ store, results }) =>
    results.flatMap((result) => {
      if (result.contender === 'idemkit') return [];
      const ours = results.find((other) => other.scenario === result.scenario && other.contender === 'idemkit')!.stats;
      const ratio = ours.eventsPerSecond / result.stats.eventsPerSecond;
      return ratio <= 0.95
        ? [`${STORE_TITLES[store]}, ${result.scenario}: idemkit ${num(ours.eventsPerSecond)} events/s vs ${result.contender} ${num(result.stats.eventsPerSecond)} (×${num(ratio, 2)})`]
        : [];
    }),
  );
}

export const CACHE_HEADER: Row = ['contender', 'events/s', 'p50 ms', 'p99 ms', 'round trips/event', 'idemkit, localCache ÷ this: events/s', 'verdict'];

/**
 * Completed duplicates with the in-process caches on (idemkit `localCache: true`, Powertools
 * `useLocalCache: true`), next to both without, from the same run; ratios are idemkit-with-cache's.
 */
export function cacheRows(results: readonly ScenarioResult[], cache: readonly ScenarioResult[]): Row[] {
  const uncached = results.filter((result) => result.scenario === cache[0]?.scenario && ['idemkit', 'Powertools'].includes(result.contender));
  const ours = cache.find((result) => result.contender === 'idemkit, localCache')!.stats;
  return [...cache, ...uncached].map(({ contender, stats }) => {
    const isUs = contender === 'idemkit, localCache';
    return [
      contender,
      num(stats.eventsPerSecond),
      num(stats.p50Ms, 3),
      num(stats.p99Ms, 3),
      num(stats.roundTripsPerEvent, 2),
      isUs ? '' : `×${num(ours.eventsPerSecond / stats.eventsPerSecond, 2)}`,
      isUs ? '' : verdict(ours.eventsPerSecond / stats.eventsPerSecond),
    ];
  });
}

export const STRATEGY_HEADER: Row = ['strategy', 'keys/s', 'vs JSON.stringify + SHA-256', 'config'];

export function strategyRows(results: readonly StrategyResult[]): Row[] {
  const baseline = results.find((result) => result.name.startsWith('JSON.stringify'))!.opsPerSecond;
  return results.map((result) => [result.name, num(result.opsPerSecond), `×${num(result.opsPerSecond / baseline, 2)}`, `\`${result.config}\``]);
}

export const MEMORY_HEADER: Row = ['completed keys', 'heap', 'bytes/key', 'time to claim + complete all'];

export function memoryRows(results: readonly MemoryResult[]): Row[] {
  return results.map((result) => [num(result.keys), mib(result.heapBytes), num(result.bytesPerKey), `${num(result.elapsedMs)} ms`]);
}

export const BUNDLE_HEADER: Row = ['contender', 'store', 'bundle (minified)', 'gzip', 'cold import (median)', 'stores in the bundle', 'idemkit ÷ Powertools: bytes', 'import time'];

/** One row per bundle; the ratios compare idemkit's bundle with Powertools' on the same store. */
export function bundleRows(bundles: readonly BundleFigures[]): Row[] {
  const kib = (bytes: number) => `${num(bytes / 1024, 1)} KiB`;
  return bundles.map((row) => {
    const theirs = row.contender === 'Powertools' ? bundles.find((other) => other.contender === 'idemkit' && other.store === row.store) : undefined;
    return [
      row.contender,
      row.store,
      kib(row.bytes),
      kib(row.gzipBytes),
      `${num(row.coldImportMs, 1)} ms`,
      row.storesInBundle.join(', ') || '–',
      theirs === undefined ? '' : `×${num(theirs.bytes / row.bytes, 2)}`,
      theirs === undefined ? '' : `×${num(theirs.coldImportMs / row.coldImportMs, 2)}`,
    ];
  });
}

export const SCALING_HEADER: Row = ['callers', 'contender', 'events/s', 'p50 ms', 'p99 ms', '× its 1-caller events/s', 'idemkit ÷ this: events/s'];

/** Throughput per caller count; the growth column is each contender's own, the ratio idemkit's. */
export function scalingRows(scaling: readonly { callers: number; results: readonly ScenarioResult[] }[]): Row[] {
  const single = scaling[0]?.results ?? [];
  return scaling.flatMap(({ callers, results }) => {
    const ours = results.find((result) => result.contender === 'idemkit')?.stats.eventsPerSecond ?? Number.NaN;
    return results.map(({ contender, stats }) => {
      const one = single.find((result) => result.contender === contender)?.stats.eventsPerSecond ?? Number.NaN;
      return [
        String(callers),
        contender,
        num(stats.eventsPerSecond),
        num(stats.p50Ms, 2),
        num(stats.p99Ms, 2),
        `×${num(stats.eventsPerSecond / one, 2)}`,
        contender === 'idemkit' ? '' : `×${num(ours / stats.eventsPerSecond, 2)}`,
      ];
    });
  });
}

export const STORAGE_HEADER: Row = ['contender', 'records measured', 'bytes per completed key', `${num(EXTRAPOLATED_KEYS)} keys (extrapolated)`, 'idemkit ÷ this', 'how'];

export function storageRows(storage: readonly StorageFigure[]): Row[] {
  const ours = storage.find((figure) => figure.contender === 'idemkit')?.bytesPerKey ?? Number.NaN;
  return storage.map((figure) => [
    figure.contender,
    num(figure.sampled),
    num(figure.bytesPerKey),
    mib(figure.bytesPerKey * EXTRAPOLATED_KEYS),
    figure.contender === 'idemkit' ? '' : `×${num(ours / figure.bytesPerKey, 2)}`,
    figure.method,
  ]);
}
