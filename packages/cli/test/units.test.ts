import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../src/analysis/bounded-map.js';
import { addGap, emptyHistogram, formatMs, GapCollector, suggestWindow } from '../src/analysis/gaps.js';
import { LogicalEvents } from '../src/analysis/logical-events.js';
import { ReorderBuffer } from '../src/analysis/reorder-buffer.js';
import { chartBins } from '../src/report/shared.js';

const histogramOf = (gaps: readonly number[]) => {
  const histogram = emptyHistogram();
  for (const gap of gaps) addGap(histogram, gap);
  return histogram;
};

describe('suggestWindow', () => {
  it('puts the window between the re-emit cluster and the legitimate repeats when each is narrower than the space between them', () => {
    // A cluster: gaps from `base` up to `spread` times it. Re-emits within a second, repeats from a minute.
    const cluster = (base: fc.Arbitrary<number>, spread: number) =>
      base.chain((from) => fc.array(fc.integer({ min: from, max: Math.round(from * spread) }), { minLength: 1, maxLength: 40 }));
    fc.assert(
      fc.property(cluster(fc.integer({ min: 1, max: 250 }), 4), cluster(fc.integer({ min: 60_000, max: 600_000 }), 6), fc.nat(5), (reEmits, repeats, copies) => {
        const suggestion = suggestWindow(histogramOf([...Array<number>(copies).fill(0), ...reEmits, ...repeats]), 1_000);
        expect(suggestion.separated).toBe(true);
        expect(suggestion.windowMs).toBeGreaterThan(Math.max(...reEmits));
        expect(suggestion.windowMs).toBeLessThanOrEqual(Math.min(...repeats));
      }),
    );
  });

  it('lands on the geometric middle, rounded to 1, 2 or 5 × 10ⁿ', () => {
    // re-emits up to 400 ms, repeats from 160 s: √(400 · 160000) = 8000, nearest of 5000 / 10000 on the log scale
    expect(suggestWindow(histogramOf([0, 10, 400, 160_000, 300_000]), 1_000)).toMatchObject({ windowMs: 10_000, reEmitMaxMs: 400, repeatMinMs: 160_000 });
  });

  it('keeps the fallback when the gaps form one continuous spread', () => {
    const spread = Array.from({ length: 40 }, (_, i) => Math.round(10 * 1.5 ** i));
    expect(suggestWindow(histogramOf(spread), 1_000)).toMatchObject({ windowMs: 1_000, separated: false });
    expect(suggestWindow(emptyHistogram(), 1_500)).toMatchObject({ windowMs: 1_500, separated: false });
  });

  it('reads equal-time copies plus one cluster far above as copies and repeats, plus a near one as re-emits', () => {
    const far = suggestWindow(histogramOf([0, 0, 120_000, 200_000]), 1_000);
    expect(far.separated).toBe(true);
    expect(far.windowMs).toBeGreaterThan(0);
    expect(far.windowMs).toBeLessThanOrEqual(120_000);
    expect(suggestWindow(histogramOf([0, 0, 30, 50]), 1_000)).toMatchObject({ windowMs: 1_000, separated: false });
  });
});

describe('the gap histogram', () => {
  it('counts exactly-equal times apart, and bins the rest in quarter decades', () => {
    const histogram = histogramOf([0, 1, 1.5, 9, 10, 999, 1_000]);
    const counted = histogram.bins.filter((bin) => bin.count > 0).map((bin) => [formatMs(bin.fromMs), bin.count]);
    expect(counted).toEqual([['0 ms', 1], ['1 ms', 2], ['5.6 ms', 1], ['10 ms', 1], ['562 ms', 1], ['1 s', 1]]);
    expect(histogram.gaps).toBe(7);
  });

  it('measures each occurrence against the nearest remembered one of its identity, in either direction', () => {
    const collector = new GapCollector((event) => event as { identity: string; at: number }, 60_000, 100);
    for (const [identity, at] of [['a', 1_000], ['a', 1_300], ['b', 1_000], ['a', 1_000], ['a', 900]] as const) collector.add({ identity, at }, 2_000);
    const counted = collector.histogram.bins.filter((bin) => bin.count > 0).map((bin) => [bin.minMs, bin.count]);
    expect(counted).toEqual([[0, 1], [100, 1], [300, 1]]);
  });

  it('draws from the first filled bin to the last, with the marker inside', () => {
    const gap = { id: 'x', label: 'x', histogram: histogramOf([20, 300, 200_000]), suggestion: suggestWindow(histogramOf([20, 300, 200_000]), 1_000) };
    const { bins, marker } = chartBins(gap);
    expect(bins[0]!.count).toBe(1);
    expect(bins.at(-1)!.count).toBe(1);
    expect(bins[marker - 1]!.fromMs).toBeLessThan(gap.suggestion.windowMs);
    expect(bins[marker]!.fromMs).toBeGreaterThanOrEqual(gap.suggestion.windowMs);
  });
});

describe('ReorderBuffer', () => {
  it('releases in event-time order whatever the arrival order, when it holds everything', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 100 }), (times) => {
        const buffer = new ReorderBuffer<{ at: number; seq: number }>(times.length);
        const released = [...times.map((at, seq) => buffer.push({ at, seq })).filter((item) => item !== undefined), ...buffer.drain()];
        expect(released.map((item) => item!.at)).toEqual([...times].sort((a, b) => a - b));
        expect(buffer.late).toBe(0);
      }),
    );
  });

  it('with capacity k, restores order for deliveries at most k places late, and counts the later ones', () => {
    const buffer = new ReorderBuffer<{ at: number; seq: number }>(2);
    const arrivals = [10, 20, 5, 30, 40, 50, 1];
    const released = [...arrivals.map((at, seq) => buffer.push({ at, seq })), ...buffer.drain()].filter((item) => item !== undefined);
    expect(released.map((item) => item!.at)).toEqual([5, 10, 20, 30, 1, 40, 50]);
    expect(buffer.late).toBe(1);
  });

  it('keeps equal times in arrival order, and with capacity 0 keeps arrival order', () => {
    const buffer = new ReorderBuffer<{ at: number; seq: number }>(10);
    [7, 7, 7].forEach((at, seq) => buffer.push({ at, seq }));
    expect([...buffer.drain()].map((item) => item.seq)).toEqual([0, 1, 2]);
    const none = new ReorderBuffer<{ at: number; seq: number }>(0);
    expect([3, 1, 2].map((at, seq) => none.push({ at, seq })!.at)).toEqual([3, 1, 2]);
    expect(none.late).toBe(2);
  });
});

describe('BoundedMap', () => {
  it('forgets an entry after its horizon of event time, and the least recently written beyond its size', () => {
    const map = new BoundedMap<string, number>(2, 1_000);
    map.set('a', 1, 0);
    map.set('b', 2, 500);
    expect(map.get('a', 999)).toBe(1);
    expect(map.get('a', 1_000)).toBeUndefined();
    map.set('c', 3, 1_100);
    map.set('b', 4, 1_200); // rewriting moves b to the back
    map.set('d', 5, 1_300);
    expect([map.get('b', 1_300), map.get('c', 1_300), map.get('d', 1_300)]).toEqual([4, undefined, 5]);
    expect(map.size).toBe(2);
  });
});

describe('LogicalEvents', () => {
  const events = (options: { gapMs: number }) =>
    new LogicalEvents({
      contentOf: (event) => JSON.stringify((event as { body: unknown }).body),
      occurrenceOf: (event) => (event as { occurrence: { identity: string; at: number } }).occurrence,
      gapMs: options.gapMs,
      retentionMs: 3_600_000,
      maxEntries: 1_000,
    });
  const delivery = (body: string, identity: string, at: number) => ({ body, occurrence: { identity, at } });

  it('joins equal content at any distance, and the same identity only within the gap of its first occurrence', () => {
    const logical = events({ gapMs: 500 });
    const assigned = [
      delivery('x', 'c1:accepted', 1_000), // 1
      delivery('x', 'c1:accepted', 1_000), // copy → 1
      delivery('y', 'c1:accepted', 1_300), // re-emit 300 ms later → 1
      delivery('z', 'c1:accepted', 1_800), // 800 ms after the first occurrence → 2
      delivery('w', 'c1:accepted', 181_000), // three minutes later → 3
      delivery('x', 'c1:accepted', 1_000), // late copy of the first → 1
    ].map((event, index) => logical.assign(event, 2_000 + index));
    expect(assigned).toEqual([1, 1, 1, 2, 3, 1]);
    expect(logical.count).toBe(3);
  });
});
