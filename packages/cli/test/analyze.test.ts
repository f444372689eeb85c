import { ConfigError, eventId, IdempotencyEngine, MemoryStore, stateWindow, anyOf } from '@idemkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.js';
import type { AnalysisReport, StrategyReport } from '../src/analysis/types.js';
import { genesysCapture, ordersCapture, type GeneratedCapture } from './support/captures.js';
import { jsonl, tempDir } from './support/files.js';
import { genesysTime, notOnce, orderTime, runsPerLogicalEvent, strategyOf } from './support/replay.js';

const dir = tempDir();
const byLabel = (report: AnalysisReport, label: string): StrategyReport => {
  const found = report.strategies.find((s) => s.label === label);
  if (found === undefined) throw new Error(`no candidate ${label} in ${report.strategies.map((s) => s.label).join(' | ')}`);
  return found;
};
const write = async (name: string, capture: GeneratedCapture) => dir.write(name, jsonl(capture.events));

describe('a Genesys Cloud capture with every kind of duplicate', () => {
  const capture = genesysCapture({ seed: 11 });
  let report: AnalysisReport;
  beforeAll(async () => {
    report = await analyze({ files: [await write('genesys.jsonl', capture)] });
  });

  it('holds redeliveries, re-sends, re-emits, bucket-boundary pairs, legitimate repeats and late redeliveries', () => {
    for (const kind of ['repeat', 'redelivery', 'resend', 'reEmit', 'bucketBoundary', 'lateRedelivery'] as const) {
      expect(capture.kinds[kind], kind).toBeGreaterThan(0);
    }
  });

  it('recommends a strategy that runs each logical event exactly once when replayed in arrival order', async () => {
    const recommended = report.recommendation!;
    expect(recommended.warnings).toBe(0);
    const runs = await runsPerLogicalEvent(capture, strategyOf(recommended.config), genesysTime);
    expect(notOnce(capture, runs)).toEqual([]);
  });

  it('the replay would catch a wrong recommendation: the envelope id runs re-sends and re-emits twice', async () => {
    const runs = await runsPerLogicalEvent(capture, eventId(), genesysTime);
    expect(notOnce(capture, runs).length).toBeGreaterThan(0);
    const extra = [...runs.values()].reduce((sum, count) => sum + count - 1, 0);
    expect(extra).toBe(capture.kinds.resend + capture.kinds.reEmit + capture.kinds.bucketBoundary);
  });

  it('recommends the Genesys Cloud preset, deployable through IDEMKIT_STRATEGY', () => {
    const recommended = report.recommendation!;
    expect(recommended.label).toMatch(/^genesysCloud\(/);
    expect(JSON.parse(recommended.env!)).toEqual({ preset: 'genesysCloud', windowMs: expect.any(Number) });
    expect(byLabel(report, recommended.label).runs).toBe(capture.logicalEvents);
  });

  it('estimates the logical events the capture really holds', () => {
    expect(report.logicalEvents).toBe(capture.logicalEvents);
    expect(report.inputs.deliveries).toBe(capture.events.length);
  });

  it('flags the envelope id: re-sends and re-emits are suspected missed duplicates, with both deliveries named', () => {
    const envelope = byLabel(report, 'eventId(id)');
    expect(envelope.falseSuppressions.count).toBe(0);
    expect(envelope.missedDuplicates.count).toBe(capture.kinds.resend + capture.kinds.reEmit + capture.kinds.bucketBoundary);
    const example = envelope.missedDuplicates.examples[0]!;
    expect(example.event.id).not.toBe(example.counterpart?.id);
    expect(example.event.line).toBeGreaterThan(example.counterpart!.line);
  });

  it('flags the conversation id alone: its suppressions of later changes are suspected false suppressions, with the fields that differ', () => {
    const coarse = byLabel(report, 'eventId(detail.eventBody.conversationId)');
    // One run per conversation: every other logical event of it is dropped, at least once each.
    expect(coarse.falseSuppressions.count).toBeGreaterThanOrEqual(capture.logicalEvents - coarse.runs);
    expect(coarse.falseSuppressions.count).toBeLessThanOrEqual(coarse.duplicates);
    expect(coarse.falseSuppressions.examples[0]!.differingFields).toContain('detail.topicName');
    // Volatile fields differ between every two deliveries: they are never blamed.
    for (const example of coarse.falseSuppressions.examples) expect(example.differingFields).not.toContain('id');
  });

  it('finds the roles of the fields from the sample', () => {
    expect(report.fields.eventTime).toBe('detail.eventBody.eventTime');
    expect(report.fields.deliveryIds).toEqual(expect.arrayContaining(['id', 'detail.metadata.CorrelationId']));
    expect(report.fields.entities.slice(0, 2)).toEqual(expect.arrayContaining(['detail.eventBody.conversationId', 'detail.eventBody.participantId']));
    expect(report.fields.volatile).toEqual(expect.arrayContaining(['id', 'time', 'detail.timestamp', 'detail.metadata.CorrelationId']));
  });

  it('suggests a window above every re-emit gap and below every legitimate repeat', () => {
    const gaps = report.gaps.find((gap) => gap.id === 'genesysCloud')!;
    expect(gaps.suggestion.separated).toBe(true);
    expect(gaps.suggestion.windowMs).toBeGreaterThan(450); // re-emits come up to 450 ms later
    expect(gaps.suggestion.windowMs).toBeLessThanOrEqual(2 * 60_000); // repeats come 2 minutes or more later
    expect(report.reference).toEqual({ id: 'genesysCloud', label: 'genesysCloud key', windowMs: gaps.suggestion.windowMs });
  });

  it('runs anyOf(envelope id, preset) too, deployable as IDEMKIT_STRATEGY (presets may nest in anyOf)', () => {
    const either = report.strategies.find((s) => s.family === 'anyOf')!;
    expect(either.label).toMatch(/^anyOf\(eventId\(id\), genesysCloud\(/);
    expect(JSON.parse(either.env!)).toMatchObject({ strategy: 'anyOf', of: [{ strategy: 'eventId' }, { preset: 'genesysCloud' }] });
    expect(either.code).toMatch(/^anyOf\(\[eventId\(\), genesysCloud\(/);
    expect(either.warnings).toBe(0);
  });
});

describe('a late redelivery after a legitimate repeat', () => {
  // Every first wrap-up that is repeated gets a late copy, and no reorder buffer keeps arrival
  // order: the copy reaches the engine after the repeat, so only a window that remembers
  // every occurrence (or anyOf with the envelope id) still recognises it.
  const capture = genesysCapture({ seed: 23, rates: { lateRedelivery: 1 } });
  let report: AnalysisReport;
  beforeAll(async () => {
    report = await analyze({ files: [await write('late.jsonl', capture)], reorderBuffer: 0 });
  });

  it('reaches the engine after the repeat', () => {
    expect(capture.kinds.lateRedelivery).toBeGreaterThan(5);
    expect(report.inputs.late).toBeGreaterThanOrEqual(capture.kinds.lateRedelivery);
  });

  it('is a duplicate for every windowed candidate, not a missed duplicate', () => {
    const windowed = report.strategies.filter((s) => s.windowMs !== undefined);
    expect(windowed.length).toBeGreaterThan(2);
    for (const s of windowed) expect({ label: s.label, missed: s.missedDuplicates.count }).toEqual({ label: s.label, missed: 0 });
  });

  it('leaves the recommendation running each logical event once', async () => {
    const runs = await runsPerLogicalEvent(capture, strategyOf(report.recommendation!.config), genesysTime);
    expect(notOnce(capture, runs)).toEqual([]);
  });

  it('is recognised by the engine itself: original, repeat three minutes later, then the late copy', async () => {
    const at = (ms: number) => ({ id: `e-${ms}`, detail: { c: 'c-1', s: 'acw', t: Date.UTC(2024, 2, 7) + ms } });
    const original = at(0);
    const stream = [original, at(180_000), original];
    for (const strategy of [stateWindow({ entity: 'detail.c', state: 'detail.s', time: 'detail.t', windowMs: 1_000 }), anyOf([eventId(), stateWindow({ entity: 'detail.c', state: 'detail.s', time: 'detail.t', windowMs: 1_000 })])]) {
      let now = Date.UTC(2024, 2, 7);
      const engine = new IdempotencyEngine({ store: new MemoryStore({ clock: () => now }), strategy, storeResult: false });
      let runs = 0;
      for (const event of stream) {
        now = Math.max(now, event.detail.t);
        await engine.run(event, () => {
          runs++;
          return null;
        });
      }
      expect({ strategy: strategy.name, runs }).toEqual({ strategy: strategy.name, runs: 2 });
    }
  });
});

describe('a capture no preset fits (order status changes)', () => {
  const capture = ordersCapture({ seed: 5 });
  let report: AnalysisReport;
  beforeAll(async () => {
    report = await analyze({ files: [await write('orders.jsonl', capture)] });
  });

  it('recommends order + status + time window, which runs each logical event once', async () => {
    const recommended = report.recommendation!;
    expect(recommended.config).toEqual({ strategy: 'stateWindow', entity: 'detail.orderId', state: 'detail.status', time: 'detail.updatedAt', windowMs: expect.any(Number) });
    expect(notOnce(capture, await runsPerLogicalEvent(capture, strategyOf(recommended.config), orderTime))).toEqual([]);
  });

  it('offers no preset, and flags both the fresh per-send id and the order id alone', () => {
    expect(report.strategies.some((s) => s.family === 'preset')).toBe(false);
    expect(byLabel(report, 'eventId(detail.eventId)').missedDuplicates.count).toBeGreaterThan(0);
    expect(byLabel(report, 'eventId(detail.orderId)').falseSuppressions.count).toBeGreaterThan(0);
  });
});

describe('generated streams', () => {
  it('for any mix of duplicates, from either source, the recommendation runs each logical event once', async () => {
    const rate = fc.double({ min: 0, max: 0.6, noNaN: true });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.constantFrom('genesys', 'orders'),
        fc.integer({ min: 6, max: 30 }),
        fc.record({ redelivery: rate, resend: rate, reEmit: rate, bucketBoundary: fc.double({ min: 0, max: 0.2, noNaN: true }), lateRedelivery: rate }),
        fc.constantFrom(0, 2_000),
        async (seed, source, entities, rates, reorderBuffer) => {
          const capture = source === 'genesys' ? genesysCapture({ seed, entities, rates }) : ordersCapture({ seed, entities, rates });
          const file = await write(`stream-${source}-${seed}.jsonl`, capture);
          const report = await analyze({ files: [file], reorderBuffer });
          const runs = await runsPerLogicalEvent(capture, strategyOf(report.recommendation!.config), source === 'genesys' ? genesysTime : orderTime);
          expect(notOnce(capture, runs)).toEqual([]);
        },
      ),
      { numRuns: Number(process.env.CLI_STREAM_RUNS ?? 8) },
    );
  });
});

describe('options', () => {
  const capture = genesysCapture({ seed: 3, entities: 20 });
  let file: string;
  beforeAll(async () => {
    file = await write('options.jsonl', capture);
  });

  it('--strategy adds candidates: core config, preset config, a bare preset name', async () => {
    const report = await analyze({
      files: [file],
      discover: false,
      strategies: ['{"strategy":"eventId","path":"detail.metadata.CorrelationId"}', '{"preset":"genesysCloud","windowMs":2000}', 'niceCxone'],
    });
    expect(report.strategies.map((s) => [s.family, s.label, s.env])).toEqual([
      ['given', '--strategy #1 (eventId)', '{"strategy":"eventId","path":"detail.metadata.CorrelationId"}'],
      ['given', '--strategy #2 (genesysCloud)', '{"preset":"genesysCloud","windowMs":2000}'],
      ['given', '--strategy #3 (niceCxone)', 'niceCxone'],
    ]);
    // The CXone preset reads none of these events: every one is a key it cannot build.
    expect(report.strategies[2]!.invalid).toBe(capture.events.length);
    expect(report.strategies[2]!.invalidExamples[0]!.problem).toMatch(/detail\.conversationId/);
    expect(report.recommendation!.label).toBe('--strategy #2 (genesysCloud)');
  });

  it('a bad --strategy is a ConfigError naming the field', async () => {
    await expect(analyze({ files: [file], strategies: ['{"strategy":"stateWindow","entity":"a","state":"b","time":"c","windowMS":5}'] })).rejects.toThrow(ConfigError);
  });

  it('--window-ms sets every window, still charts the gaps, and matches what choosing that window gives', async () => {
    const chosen = await analyze({ files: [file] });
    const windowMs = chosen.reference!.windowMs;
    const given = await analyze({ files: [file], windowMs });
    expect(given.strategies.filter((s) => s.windowMs !== undefined).every((s) => s.windowMs === windowMs)).toBe(true);
    expect(given.gaps.map((gap) => gap.histogram)).toEqual(chosen.gaps.map((gap) => gap.histogram));
    expect(byLabel(given, chosen.recommendation!.label).warnings).toBe(0);
  });

  it('--max-entries bounds each store, and a store that forgot keys before their retention says so', async () => {
    const report = await analyze({ files: [file], maxEntries: 8 });
    expect(byLabel(report, 'eventId(id)').storeFull).toBe(true);
    const roomy = await analyze({ files: [file] });
    expect(roomy.strategies.some((s) => s.storeFull)).toBe(false);
  });

  it('--retention-ms is event time: a copy arriving after retention runs again', async () => {
    const base = { version: '0', detail: { orderId: 'ord-100001', status: 'paid' } };
    const events = [
      { ...base, id: 'a', time: '2024-03-07T10:00:00.000Z' },
      { ...base, id: 'b', time: '2024-03-07T10:00:30.000Z', detail: { orderId: 'ord-100002', status: 'paid' } },
      { ...base, id: 'a', time: '2024-03-07T10:00:00.000Z' },
      { ...base, id: 'c', time: '2024-03-07T10:02:00.000Z', detail: { orderId: 'ord-100003', status: 'paid' } },
      { ...base, id: 'a', time: '2024-03-07T10:00:00.000Z' },
    ];
    const short = await dir.write('retention.jsonl', jsonl(events));
    const report = await analyze({ files: [short], discover: false, strategies: ['{"strategy":"eventId"}'], retentionMs: 60_000, reorderBuffer: 0 });
    // The first copy is within a minute of event time and is a duplicate; the last comes two minutes on, past retention.
    expect(report.strategies[0]).toMatchObject({ runs: 4, duplicates: 1 });
  });
});
