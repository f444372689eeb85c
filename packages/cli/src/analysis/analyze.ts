import { contentHash, type DedupKeyStrategy } from '@idemkit/core';
import { resolveStrategy } from '@idemkit/eventbridge';
import { emptyTally, readCaptures, type ReadTally } from '../input/read-captures.js';
import { BoundedMap } from './bounded-map.js';
import { CandidateRun, type Delivery } from './candidate-run.js';
import { planCandidates, type CandidateSet, type Plan, type WindowedShape } from './candidates.js';
import { orderedDeliveries, type OrderingOptions, type OrderingTally } from './deliveries.js';
import { discoverFields, type DiscoveredFields } from './discover.js';
import { timeReader } from './event-time.js';
import { GapCollector, suggestWindow } from './gaps.js';
import { LogicalEvents } from './logical-events.js';
import { recommend } from './recommend.js';
import type { AnalysisReport, AnalyzeOptions, GapReport, Progress, StrategyReport } from './types.js';

/** Defaults of {@link AnalyzeOptions}. */
export const ANALYZE_DEFAULTS = {
  retentionMs: 3_600_000,
  maxEntries: 25_000,
  reorderBuffer: 2_000,
  sampleSize: 2_000,
  examples: 5,
} as const;

// Deliveries kept whole, to show which fields differ between an example and its counterpart.
const RECENT_DELIVERIES = 1_024;

type Settings = { -readonly [K in keyof typeof ANALYZE_DEFAULTS]: number };

interface Collecting {
  shape: WindowedShape;
  collector: GapCollector;
}

/**
 * Runs candidate key strategies over captured events and judges each, to choose one before it
 * goes live. Three reads of the capture, each streaming in bounded memory:
 * 1. a sample (the first `sampleSize` events) finds the fields and builds the candidates;
 * 2. the gaps between occurrences of each windowed identity choose its window (skipped with `windowMs`);
 * 3. every candidate runs through the engine over an in-memory store whose clock is the event
 *    time, in event-time order, and is judged against the capture's estimated logical events.
 * @throws {@link ConfigError} for a bad `strategies` entry; the file system's error for an unreadable file.
 * @example
 * const report = await analyze({ files: ['capture.jsonl.gz'] });
 * console.log(report.recommendation?.env); // '{"preset":"genesysCloud","windowMs":5000}'
 */
export async function analyze(options: AnalyzeOptions): Promise<AnalysisReport> {
  const settings: Settings = {
    retentionMs: options.retentionMs ?? ANALYZE_DEFAULTS.retentionMs,
    maxEntries: options.maxEntries ?? ANALYZE_DEFAULTS.maxEntries,
    reorderBuffer: options.reorderBuffer ?? ANALYZE_DEFAULTS.reorderBuffer,
    sampleSize: options.sampleSize ?? ANALYZE_DEFAULTS.sampleSize,
    examples: options.examples ?? ANALYZE_DEFAULTS.examples,
  };
  const given = (options.strategies ?? []).map((text) => ({ text, ...resolveGiven(text) }));
  const sample = await readSample(options.files, settings.sampleSize);
  const fields = discoverFields(sample, {
    ...(options.time === undefined ? {} : { time: options.time }),
    ...(options.volatile === undefined ? {} : { volatile: options.volatile }),
  });
  const set = planCandidates(fields, sample, {
    given,
    discover: options.discover ?? true,
    ...(options.entity === undefined ? {} : { entity: options.entity }),
    ...(options.state === undefined ? {} : { state: options.state }),
  });
  sample.length = 0; // planned: the sample's events need not stay in memory through the reads
  const eventTime = fields.eventTime === undefined ? undefined : timeReader(fields.eventTime);
  const ordering: OrderingOptions = { reorderBuffer: settings.reorderBuffer, ...(eventTime === undefined ? {} : { eventTime }) };
  const progress = (phase: Progress['phase'], tally: ReadTally) => () =>
    options.onProgress?.({ phase, events: tally.events, bytesRead: tally.bytesRead, totalBytes: tally.totalBytes });

  const collecting: Collecting[] = set.shapes.map((shape) => ({
    shape,
    collector: new GapCollector((event) => shape.occurrenceOf(event), settings.retentionMs, settings.maxEntries),
  }));
  // Without a given window, a read of its own measures the gaps first: they choose the windows.
  const gapsFirst = options.windowMs === undefined && set.shapes.some((shape) => shape.fixedMs === undefined);
  if (gapsFirst) {
    const tally = emptyTally();
    let now = -Infinity;
    for await (const delivery of orderedDeliveries(options.files, tally, { late: 0, withoutEventTime: 0 }, { ...ordering, onRead: progress('gaps', tally) })) {
      now = Math.max(now, delivery.at);
      for (const { collector } of collecting) collector.add(delivery.event, now);
    }
  }
  const windowOf = (id: string | undefined) => {
    const shape = set.shapes.find((candidate) => candidate.id === id);
    if (shape === undefined) return undefined;
    return shape.fixedMs ?? options.windowMs ?? gapReports(collecting).find((gap) => gap.id === id)?.suggestion.windowMs;
  };

  const read = emptyTally();
  const order: OrderingTally = { late: 0, withoutEventTime: 0 };
  const run = await runCandidates(options.files, { fields, set, settings, windowOf, read, order }, {
    ...ordering,
    onRead: progress('run', read),
  }, gapsFirst ? [] : collecting);

  const recommendation = recommend(run.strategies);
  const referenceWindowMs = windowOf(set.reference?.id);
  return {
    inputs: {
      files: [...options.files],
      bytes: read.totalBytes,
      deliveries: read.events,
      malformed: read.malformed,
      malformedExamples: read.malformedExamples,
      noise: read.noise,
      late: order.late,
      withoutEventTime: order.withoutEventTime,
    },
    settings: { ...settings, ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }) },
    fields,
    logicalEvents: run.logicalEvents,
    ...(set.reference === undefined || referenceWindowMs === undefined
      ? {}
      : { reference: { id: set.reference.id, label: set.reference.label, windowMs: referenceWindowMs } }),
    gaps: gapReports(collecting),
    strategies: run.strategies,
    ...(recommendation === undefined ? {} : { recommendation }),
  };
}

async function readSample(files: readonly string[], size: number): Promise<Record<string, unknown>[]> {
  const sample: Record<string, unknown>[] = [];
  if (size <= 0) return sample;
  for await (const { event } of readCaptures(files, emptyTally())) {
    sample.push(event);
    if (sample.length >= size) break;
  }
  return sample;
}

function gapReports(collecting: readonly Collecting[]): GapReport[] {
  return collecting.map(({ shape, collector }) => ({
    id: shape.id,
    label: shape.label,
    histogram: collector.histogram,
    suggestion: suggestWindow(collector.histogram, shape.fallbackMs),
  }));
}

interface RunContext {
  fields: DiscoveredFields;
  set: CandidateSet;
  settings: Settings;
  windowOf: (id: string | undefined) => number | undefined;
  read: ReadTally;
  order: OrderingTally;
}

// The last read: each delivery, in event-time order, to every candidate (and to the gap
// collectors still to fill, when the window was given).
async function runCandidates(
  files: readonly string[],
  context: RunContext,
  ordering: OrderingOptions,
  collecting: readonly Collecting[],
): Promise<{ strategies: StrategyReport[]; logicalEvents: number }> {
  const { fields, set, settings, windowOf } = context;
  // Epoch 0 until the first delivery: the stores read the clock when they are made.
  let now = 0;
  const clock = () => now;
  const recent = new BoundedMap<number, Delivery>(RECENT_DELIVERIES, settings.retentionMs);
  const volatile = new Set(fields.volatile);
  const runOptions = { clock, retentionMs: settings.retentionMs, maxEntries: settings.maxEntries, examples: settings.examples, recent, volatile };
  const candidates = set.plans.map((plan: Plan, index) => {
    const windowMs = windowOf(plan.windowFrom);
    const described = plan.describe(windowMs);
    return { id: `s${index + 1}`, plan, described, windowMs, run: new CandidateRun(plan.build(windowMs), runOptions) };
  });
  const material = contentHash(fields.volatile.length === 0 ? {} : { exclude: fields.volatile });
  const reference = set.reference;
  const logical = new LogicalEvents({
    contentOf: (event) => material.keyFor(event).key,
    ...(reference === undefined ? {} : { occurrenceOf: (event: unknown) => reference.occurrenceOf(event) }),
    gapMs: windowOf(reference?.id) ?? 1,
    retentionMs: settings.retentionMs,
    maxEntries: settings.maxEntries,
  });
  for await (const ordered of orderedDeliveries(files, context.read, context.order, ordering)) {
    now = Math.max(now, ordered.at);
    const delivery: Delivery = { ...ordered, logical: logical.assign(ordered.event, now) };
    recent.set(delivery.seq, delivery, now);
    for (const candidate of candidates) await candidate.run.deliver(delivery);
    for (const { collector } of collecting) collector.add(delivery.event, now);
  }
  const strategies = candidates.map(({ id, plan, described, windowMs, run }): StrategyReport => ({
    id,
    family: plan.family,
    ...described,
    ...deployable(described.config),
    ...(windowMs === undefined ? {} : { windowMs }),
    ...run.tally,
    warnings: run.tally.falseSuppressions.count + run.tally.missedDuplicates.count + run.tally.invalid,
  }));
  return { strategies, logicalEvents: logical.count };
}

function resolveGiven(text: string): { config: unknown; strategy: DedupKeyStrategy } {
  const strategy = resolveStrategy(text);
  const trimmed = text.trim();
  return { config: trimmed.startsWith('{') ? (JSON.parse(trimmed) as unknown) : trimmed, strategy };
}

// Deployable through IDEMKIT_STRATEGY when the wrapper's own resolver accepts the config.
function deployable(config: unknown): { env?: string } {
  try {
    resolveStrategy(config);
  } catch {
    return {};
  }
  return { env: typeof config === 'string' ? config : JSON.stringify(config) };
}
