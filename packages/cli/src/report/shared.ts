import { binPosition, type GapBin } from '../analysis/gaps.js';
import type { GapReport } from '../analysis/types.js';

/** The two warnings, in the order reports show them, with how each reads. */
export const warningKinds = [
  {
    field: 'falseSuppressions',
    title: 'Suspected false suppressions',
    explain: 'same key, but materially different content: a real change would be dropped',
  },
  {
    field: 'missedDuplicates',
    title: 'Suspected missed duplicates',
    explain: 'different keys for the same content, or for the same entity + state within the window: the handler would run twice',
  },
] as const;

/** What a gap chart draws: the bins from the first filled one to the last (and the marker), and where the marker goes. */
export interface ChartBins {
  bins: GapBin[];
  /** Index (in `bins`) of the first bin at or above the suggested window: the marker goes before it. */
  marker: number;
  /** The suggested window's exact position on the axis, in bins from the first drawn. */
  markerPosition: number;
}

/** The stretch of a gap histogram worth drawing, with the suggested window placed on it. */
export function chartBins(gap: GapReport): ChartBins {
  const filled = gap.histogram.bins.flatMap((bin, index) => (bin.count > 0 ? [index] : []));
  const windowAt = binPosition(gap.suggestion.windowMs);
  const markerBin = Math.ceil(windowAt - 1e-9);
  if (filled.length === 0) return { bins: [], marker: 0, markerPosition: 0 };
  const start = Math.min(filled[0]!, markerBin);
  const end = Math.max(filled[filled.length - 1]!, markerBin - 1);
  return { bins: gap.histogram.bins.slice(start, end + 1), marker: markerBin - start, markerPosition: windowAt - start };
}

/** `12,345`. */
export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** `512 B`, `3.2 MB`, `1.0 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** Single-quotes a value for a POSIX shell: `'{"preset":"genesysCloud"}'`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
