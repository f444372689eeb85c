import { MAX_WINDOW_MS } from '@idemkit/core';
import { BoundedMap } from './bounded-map.js';

/** Where one delivery falls for a windowed strategy: its key without the window, and its time. */
export interface Occurrence {
  /** Entity + state (the strategy's key); occurrences of one identity are compared. */
  identity: string;
  /** Event time, epoch ms. */
  at: number;
}

/** One bar of a gap histogram. */
export interface GapBin {
  /** Gaps from this many ms (inclusive)… */
  fromMs: number;
  /** …to this many (exclusive); absent on the last bin, which takes everything above. The first bin holds exactly 0 ms: equal event times. */
  toMs?: number;
  count: number;
  /** The smallest and largest gap seen in the bin (absent when empty). */
  minMs?: number;
  maxMs?: number;
}

/** How the suggested window was found. */
export interface WindowSuggestion {
  /** The window to deploy, in ms. */
  windowMs: number;
  /** Whether the gaps fall in two clusters with empty space between them. */
  separated: boolean;
  /** Largest gap of the re-emit cluster and smallest of the legitimate repeats, when separated. */
  reEmitMaxMs?: number;
  repeatMinMs?: number;
  /** One sentence on how the window was chosen. */
  reason: string;
}

/** The gaps between occurrences of the same entity + state, and the window they suggest. */
export interface GapHistogram {
  /** Gaps measured (every occurrence after the first of its identity within retention). */
  gaps: number;
  bins: GapBin[];
}

// Four bins per decade, from 1 ms up to the longest window a strategy accepts (7 days).
const BINS_PER_DECADE = 4;
const BIN_COUNT = Math.ceil(Math.log10(MAX_WINDOW_MS) * BINS_PER_DECADE);
// Two clusters are separate when the empty stretch between them spans at least this ratio.
const SEPARATION_RATIO = 8;
// Times kept per identity: enough to find the nearest occurrence, bounded for memory.
const TIMES_PER_IDENTITY = 16;

function edge(index: number): number {
  return 10 ** (index / BINS_PER_DECADE);
}

/** Where `ms` falls on a histogram's axis, in bins: 0 for 0 ms, then 1 + a quarter decade per bin (fractional between edges). */
export function binPosition(ms: number): number {
  return ms < 1 ? 0 : 1 + Math.log10(ms) * BINS_PER_DECADE;
}

/** An empty histogram: the 0 ms bin, then bins of a quarter decade from 1 ms to 7 days and beyond. */
export function emptyHistogram(): GapHistogram {
  const bins: GapBin[] = [{ fromMs: 0, toMs: 1, count: 0 }];
  for (let i = 0; i < BIN_COUNT; i++) bins.push({ fromMs: edge(i), ...(i === BIN_COUNT - 1 ? {} : { toMs: edge(i + 1) }), count: 0 });
  return { gaps: 0, bins };
}

/** Counts one gap into its bin. */
export function addGap(histogram: GapHistogram, gapMs: number): void {
  const index = Math.min(BIN_COUNT, Math.floor(binPosition(gapMs) + 1e-9));
  const bin = histogram.bins[index]!;
  bin.count++;
  bin.minMs = bin.minMs === undefined ? gapMs : Math.min(bin.minMs, gapMs);
  bin.maxMs = bin.maxMs === undefined ? gapMs : Math.max(bin.maxMs, gapMs);
  histogram.gaps++;
}

/**
 * Measures, for one windowed strategy, the gap from each occurrence to the nearest earlier-seen
 * occurrence of the same identity (either side in event time: captures are not in order). Memory
 * is bounded like the store's: identities are forgotten after retention or beyond `maxEntries`.
 */
export class GapCollector {
  /** The histogram so far. */
  readonly histogram = emptyHistogram();
  private readonly seen: BoundedMap<string, number[]>;

  constructor(
    private readonly occurrenceOf: (event: unknown) => Occurrence | undefined,
    retentionMs: number,
    maxEntries: number,
  ) {
    this.seen = new BoundedMap(maxEntries, retentionMs);
  }

  /** Takes one delivery, at analysis time `now`. */
  add(event: unknown, now: number): void {
    const occurrence = this.occurrenceOf(event);
    if (occurrence === undefined) return;
    const times = this.seen.get(occurrence.identity, now);
    if (times === undefined) {
      this.seen.set(occurrence.identity, [occurrence.at], now);
      return;
    }
    let nearest = Infinity;
    for (const at of times) nearest = Math.min(nearest, Math.abs(occurrence.at - at));
    addGap(this.histogram, nearest);
    times.push(occurrence.at);
    if (times.length > TIMES_PER_IDENTITY) times.shift();
    this.seen.set(occurrence.identity, times, now);
  }
}

/**
 * Suggests a window from the gaps: finds the widest empty stretch (on the log scale) between two
 * non-empty bins above 0 ms — the re-emit cluster below it, the legitimate repeats above — and
 * puts the window at the geometric middle of the stretch, rounded to 1, 2 or 5 × 10ⁿ ms inside it,
 * so both sides get the same safety factor. Equal event times (0 ms) always count as duplicates.
 * Without a stretch of at least 8× there is no clear separation, and `fallbackMs` is suggested.
 */
export function suggestWindow(histogram: GapHistogram, fallbackMs: number): WindowSuggestion {
  const filled = histogram.bins.filter((bin) => bin.count > 0 && bin.fromMs >= 1);
  let best: { low: number; high: number } | undefined;
  for (let i = 1; i < filled.length; i++) {
    const low = filled[i - 1]!.maxMs!;
    const high = filled[i]!.minMs!;
    if (best === undefined || high / low > best.high / best.low) best = { low, high };
  }
  const zeros = histogram.bins[0]!.count;
  const separated = (pair: typeof best): pair is { low: number; high: number } => pair !== undefined && pair.high / pair.low >= SEPARATION_RATIO;
  if (!separated(best) && zeros > 0 && filled.length > 0) {
    // Equal-time copies and one cluster above: the cluster is taken as legitimate repeats only
    // when it lies far above the fallback; otherwise it is read as re-emits, and the fallback stands.
    const lowest = filled[0]!.minMs!;
    if (lowest >= fallbackMs * SEPARATION_RATIO) best = { low: 1, high: lowest };
  }
  if (!separated(best)) {
    return {
      windowMs: fallbackMs,
      separated: false,
      reason:
        histogram.gaps === 0
          ? `no entity + state occurred twice within retention; ${fallbackMs} ms is the default`
          : `the gaps show no clear separation between re-emits and repeats; ${fallbackMs} ms is the default`,
    };
  }
  const windowMs = Math.min(niceBetween(best.low, best.high), MAX_WINDOW_MS);
  return {
    windowMs,
    separated: true,
    reEmitMaxMs: best.low,
    repeatMinMs: best.high,
    reason: `re-emits reach ${formatMs(best.low)}, legitimate repeats start at ${formatMs(best.high)}; ${formatMs(windowMs)} lies between them`,
  };
}

// The 1-2-5 number nearest the geometric middle of (low, high], on the log scale.
function niceBetween(low: number, high: number): number {
  const middle = Math.sqrt(low * high);
  let best: number | undefined;
  const decade = Math.floor(Math.log10(middle));
  for (let power = decade - 1; power <= decade + 1; power++) {
    for (const step of [1, 2, 5]) {
      const nice = step * 10 ** power;
      if (nice <= low || nice > high || !Number.isInteger(nice)) continue;
      if (best === undefined || Math.abs(Math.log(nice / middle)) < Math.abs(Math.log(best / middle))) best = nice;
    }
  }
  return best ?? Math.ceil(middle);
}

/** A duration the way people read it: `0 ms`, `450 ms`, `2.5 s`, `3 min`, `1.5 h`, `2 d`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const round = (value: number) => (value >= 10 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString());
  if (ms < 1000) return `${round(ms)} ms`;
  if (ms < 60_000) return `${round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${round(ms / 60_000)} min`;
  if (ms < 86_400_000) return `${round(ms / 3_600_000)} h`;
  return `${round(ms / 86_400_000)} d`;
}
