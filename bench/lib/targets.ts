// The targets of issue 12, checked against one run's figures: the table docs/benchmarks.md opens with.
import type { StoreKind } from '../contenders/types.js';
import type { BenchReport } from './report.js';
import { num, type Row } from './table.js';

interface Target {
  store: StoreKind | 'any';
  scenario: string;
  /** Who idemkit is divided by, and which idemkit row (the default `idemkit` unless named). */
  against: string;
  ours?: string;
  minimum: number;
}

const TARGETS: Target[] = [
  { store: 'redis', scenario: 'new events', against: 'Powertools', minimum: 1.2 },
  { store: 'redis', scenario: 'new events', against: 'raw', minimum: 0.75 },
  { store: 'redis', scenario: 'completed duplicates', against: 'Powertools', minimum: 2.0 },
  { store: 'redis', scenario: 'completed duplicates', against: 'raw', minimum: 0.8 },
  { store: 'redis', scenario: 'SQS batch of 10 (3 dup)', against: 'Powertools', minimum: 3.0 },
  { store: 'redis', scenario: 'SQS batch of 10 (3 dup)', against: 'raw', ours: "idemkit, completion: 'batch'", minimum: 0.6 },
  { store: 'dynamodb', scenario: 'new events', against: 'Powertools', minimum: 1.0 },
  { store: 'dynamodb', scenario: 'new events', against: 'raw', minimum: 0.85 },
  { store: 'dynamodb', scenario: 'completed duplicates', against: 'Powertools', minimum: 1.0 },
  { store: 'dynamodb', scenario: 'completed duplicates', against: 'raw', minimum: 0.85 },
  { store: 'postgres', scenario: 'new events', against: 'raw', minimum: 0.8 },
  { store: 'postgres', scenario: 'completed duplicates', against: 'raw', minimum: 0.8 },
];

/** Where a store's time goes when idemkit makes no more round trips and is still slower. */
const PER_CALL_WORK: Record<string, string> = {
  redis: 'the completion\'s compare-and-set script (an `EVALSHA` costs the server about twice a `SET` before its first line runs, and Redis 7.0 has no native compare-and-set), then per-call client work in the store and the engine (~9 µs of CPU an event over raw\'s, in process)',
  dynamodb: 'client CPU per request (the AWS SDK\'s ~1 ms per request on this machine, and the store\'s own work)',
  postgres: 'the claim function (advisory lock, token sequence, take-over rules)',
};

/** Where an SQS batch's time goes on Redis now that its claims are one pipeline of native commands. */
const BATCH_WORK: Record<string, string> = {
  redis: 'client CPU per record (bodies parsed and judged against each other, a claim request and an outcome each: ~1 ms a batch of 10 against raw\'s ~0.5 ms)',
};

/**
 * Where one scenario's time goes on one store, when it is not the store's per-call work in
 * general; keyed `store/scenario`, or `store/scenario/contender` when it differs by whom idemkit is compared with.
 */
const SCENARIO_WORK: Record<string, string> = {
  'dynamodb/new events/Powertools':
    'the request shapes, not client work (with every request answered in process both clients take about as long: 1,571 and 1,587 µs an event against 1,614 and 1,659, `bench/dynamodb-client.ts`, two runs on 2026-12-07): on DynamoDB Local the `UpdateItem` claim cost ×1.10–1.19 of the same item as a `PutItem` (which would need `dynamodb:PutItem` in every role) and the completion ×1.06–1.12 of Powertools\' flat update (`bench/dynamodb-shapes.ts`, two runs on 2026-12-03)',
  'dynamodb/new events/raw':
    'client work, then the request shapes: with every request answered in process (`bench/dynamodb-client.ts`, two runs on 2026-12-07) a new event costs idemkit\'s client 1,571 and 1,587 µs against raw\'s 1,339 and 1,382, of which 114 µs more in the AWS SDK in both (the occurrence\'s six fields — fencing token, lease, retention, claim time, nonce, status — against raw\'s three attributes) and 76–84 µs idemkit\'s own work; on DynamoDB Local the `UpdateItem` claim and the conditioned completion cost more than a `PutItem` and a flat update, as against Powertools',
  'dynamodb/completed duplicates':
    'a larger request and reply (the claim carries the whole occurrence, the refusal returns the item with its result: ~0.04 ms more at the HTTP handler than raw\'s) and the refusal\'s unmarshalling and judging in the client (~0.06 ms)',
};

function workOf(target: Target): string {
  const batch = target.scenario.startsWith('SQS batch') ? BATCH_WORK[target.store] : undefined;
  const scenario = `${target.store}/${target.scenario}`;
  return batch ?? SCENARIO_WORK[`${scenario}/${target.against}`] ?? SCENARIO_WORK[scenario] ?? PER_CALL_WORK[target.store] ?? 'per-call work';
}

export const TARGET_HEADER: Row = ['store', 'scenario', 'idemkit ÷', 'target', 'measured', 'met?'];

/** One row per target of issue 12, with this run's ratio (events/s) and whether it was met. */
export function targetRows(report: BenchReport): Row[] {
  const rows = TARGETS.map((target): Row => {
    const results = report.stores.find((store) => store.store === target.store)?.results ?? [];
    const stats = (contender: string) => results.find((result) => result.scenario === target.scenario && result.contender === contender)?.stats;
    const ours = stats(target.ours ?? 'idemkit');
    const theirs = stats(target.against);
    const ratio = ours !== undefined && theirs !== undefined ? ours.eventsPerSecond / theirs.eventsPerSecond : Number.NaN;
    if (ours === undefined || theirs === undefined) return row(target, ratio, 'not measured in this run');
    const trips = `round trips/event ${num(ours.roundTripsPerEvent, 2)} vs ${num(theirs.roundTripsPerEvent, 2)}`;
    const why =
      ours.roundTripsPerEvent > theirs.roundTripsPerEvent + 0.01
        ? `idemkit makes more round trips (${trips})`
        : `not round trips (${trips}): ${workOf(target)} (see "Where idemkit is slower")`;
    return row(target, ratio, why);
  });
  const results = report.strategies.results;
  const hash = results.find((result) => result.name === 'contentHash')?.opsPerSecond;
  const baseline = results.find((result) => result.name.startsWith('JSON.stringify'))?.opsPerSecond;
  const hashTarget: Target = {
    store: 'any',
    scenario: `\`contentHash\` on the ${report.strategies.eventBytes}-byte Genesys event`,
    against: 'JSON.stringify + SHA-256',
    minimum: 0.5,
  };
  const hashWhy = `the canonical encoder's single pass is still ${num((baseline ?? Number.NaN) / (hash ?? Number.NaN), 1)}× the time of JSON.stringify + SHA-256`;
  rows.push(row(hashTarget, hash !== undefined && baseline !== undefined ? hash / baseline : Number.NaN, hashWhy));
  return rows;
}

/** `why`: one line on what the figures say about a miss (printed only when the target is missed). */
function row(target: Target, ratio: number, why: string): Row {
  const label = target.ours === undefined ? target.against : `${target.against} (idemkit row: ${target.ours})`;
  const met = ratio >= target.minimum;
  return [
    target.store,
    target.scenario,
    label,
    `≥ ×${num(target.minimum, 2)}`,
    Number.isFinite(ratio) ? `×${num(ratio, 2)}` : 'not measured',
    met ? 'met' : `**missed**: ${why}`,
  ];
}
