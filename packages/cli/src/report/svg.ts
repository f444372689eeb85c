import { formatMs } from '../analysis/gaps.js';
import type { AnalysisReport, GapReport } from '../analysis/types.js';
import { chartBins, formatCount } from './shared.js';

/** Colours the charts share with the page's legend. */
export const COLORS = {
  reEmit: '#ea580c',
  repeat: '#2563eb',
  marker: '#dc2626',
  runs: '#2563eb',
  duplicates: '#94a3b8',
  warnings: '#dc2626',
  logical: '#16a34a',
  axis: '#334155',
  grid: '#e2e8f0',
} as const;

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const GAP = { width: 760, height: 300, left: 56, right: 16, top: 30, bottom: 64 } as const;

/**
 * The gap histogram as inline SVG: one bar per quarter decade (log scale), bars below the
 * suggested window in the re-emit colour and above it in the repeat colour, and the window as a
 * dashed line between them.
 */
export function gapChart(gap: GapReport): string {
  const { bins, markerPosition } = chartBins(gap);
  const plotWidth = GAP.width - GAP.left - GAP.right;
  const plotHeight = GAP.height - GAP.top - GAP.bottom;
  const baseline = GAP.top + plotHeight;
  const parts: string[] = [];
  if (bins.length === 0) {
    parts.push(text(GAP.width / 2, GAP.height / 2, 'no entity + state occurred twice within retention', { anchor: 'middle' }));
  } else {
    const max = Math.max(...bins.map((bin) => bin.count));
    const step = plotWidth / bins.length;
    for (const tick of [0, 0.5, 1]) {
      const y = baseline - tick * plotHeight;
      parts.push(`<line x1="${GAP.left}" y1="${y}" x2="${GAP.left + plotWidth}" y2="${y}" stroke="${COLORS.grid}"/>`);
      parts.push(text(GAP.left - 6, y + 4, formatCount(Math.round(tick * max)), { anchor: 'end' }));
    }
    const labelEvery = Math.ceil(bins.length / 18);
    bins.forEach((bin, index) => {
      const x = GAP.left + index * step;
      const height = bin.count === 0 ? 0 : Math.max(2, (bin.count / max) * plotHeight);
      const fill = index + 0.5 < markerPosition ? COLORS.reEmit : COLORS.repeat;
      if (height > 0) {
        parts.push(
          `<rect class="bar" x="${(x + 1).toFixed(1)}" y="${(baseline - height).toFixed(1)}" width="${Math.max(1, step - 2).toFixed(1)}" height="${height.toFixed(1)}" fill="${fill}"><title>${escapeHtml(`${formatMs(bin.fromMs)}–${bin.toMs === undefined ? '' : formatMs(bin.toMs)}: ${formatCount(bin.count)}`)}</title></rect>`,
        );
      }
      if (index % labelEvery === 0) {
        const lx = x + step / 2;
        parts.push(`<text x="${lx.toFixed(1)}" y="${baseline + 14}" font-size="11" fill="${COLORS.axis}" text-anchor="end" transform="rotate(-40 ${lx.toFixed(1)} ${baseline + 14})">${escapeHtml(formatMs(bin.fromMs))}</text>`);
      }
    });
    parts.push(`<line x1="${GAP.left}" y1="${baseline}" x2="${GAP.left + plotWidth}" y2="${baseline}" stroke="${COLORS.axis}"/>`);
    const mx = GAP.left + Math.min(bins.length, Math.max(0, markerPosition)) * step;
    parts.push(`<line class="marker" x1="${mx.toFixed(1)}" y1="${GAP.top - 8}" x2="${mx.toFixed(1)}" y2="${baseline}" stroke="${COLORS.marker}" stroke-width="3" stroke-dasharray="6 4"/>`);
    const label = `suggested windowMs ${gap.suggestion.windowMs} (${formatMs(gap.suggestion.windowMs)})`;
    // 12 px text is about 7 px a character: keep the label inside the chart on whichever side fits.
    const anchor = mx + 6 + label.length * 7 > GAP.width - GAP.right ? 'end' : 'start';
    parts.push(text(mx + (anchor === 'start' ? 6 : -6), GAP.top - 12, label, { anchor, fill: COLORS.marker, bold: true }));
  }
  return svg('gaps', gap.id, GAP.width, GAP.height, `Gaps between occurrences of the same ${gap.label}`, parts);
}

const ROW = 30;
const STRATEGY = { width: 860, left: 340, right: 20, top: 40, bottom: 24 } as const;

/** Every candidate's runs, duplicates and warnings as bars, against the estimated logical events. */
export function strategyChart(report: AnalysisReport): string {
  const rows = report.strategies;
  const height = STRATEGY.top + rows.length * ROW + STRATEGY.bottom;
  const plotWidth = STRATEGY.width - STRATEGY.left - STRATEGY.right;
  const max = Math.max(1, ...rows.map((s) => s.deliveries));
  const scale = (value: number) => (value / max) * plotWidth;
  const parts: string[] = [];
  const legend: [string, string][] = [
    ['handler runs', COLORS.runs],
    ['duplicates suppressed', COLORS.duplicates],
    ['warnings', COLORS.warnings],
  ];
  legend.forEach(([label, color], index) => {
    const x = STRATEGY.left + index * 170;
    parts.push(`<rect x="${x}" y="10" width="12" height="12" fill="${color}"/>`, text(x + 18, 21, label));
  });
  rows.forEach((s, index) => {
    const y = STRATEGY.top + index * ROW;
    const label = s.label.length > 44 ? `${s.label.slice(0, 43)}…` : s.label;
    parts.push(text(STRATEGY.left - 8, y + 17, `${s.id === report.recommendation?.id ? '★ ' : ''}${label}`, { anchor: 'end' }));
    const bars: [number, string][] = [
      [s.runs, COLORS.runs],
      [s.duplicates, COLORS.duplicates],
      [s.warnings, COLORS.warnings],
    ];
    bars.forEach(([value, color], bar) => {
      if (value === 0) return;
      parts.push(`<rect class="bar" x="${STRATEGY.left}" y="${y + 3 + bar * 8}" width="${Math.max(2, scale(value)).toFixed(1)}" height="7" fill="${color}"><title>${escapeHtml(`${s.label}: ${formatCount(value)}`)}</title></rect>`);
    });
  });
  const lx = STRATEGY.left + scale(report.logicalEvents);
  const bottom = STRATEGY.top + rows.length * ROW;
  parts.push(`<line x1="${lx.toFixed(1)}" y1="${STRATEGY.top - 6}" x2="${lx.toFixed(1)}" y2="${bottom}" stroke="${COLORS.logical}" stroke-width="2" stroke-dasharray="4 3"/>`);
  parts.push(text(lx, bottom + 16, `estimated logical events: ${formatCount(report.logicalEvents)}`, { anchor: 'middle', fill: COLORS.logical }));
  return svg('strategies', 'all', STRATEGY.width, height, 'Handler runs, duplicates and warnings per strategy', parts);
}

function svg(kind: string, id: string, width: number, height: number, title: string, parts: string[]): string {
  return (
    `<svg class="chart" data-chart="${escapeHtml(kind)}" data-id="${escapeHtml(id)}" xmlns="http://www.w3.org/2000/svg" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="system-ui, sans-serif">` +
    `<title>${escapeHtml(title)}</title><rect width="100%" height="100%" fill="#ffffff"/>${parts.join('')}</svg>`
  );
}

function text(x: number, y: number, content: string, style: { anchor?: string; fill?: string; bold?: boolean } = {}): string {
  return (
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="12" fill="${style.fill ?? COLORS.axis}" text-anchor="${style.anchor ?? 'start'}"` +
    `${style.bold ? ' font-weight="600"' : ''}>${escapeHtml(content)}</text>`
  );
}
