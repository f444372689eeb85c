import type { EventRef, WarningTally } from '../analysis/candidate-run.js';
import { formatMs } from '../analysis/gaps.js';
import type { AnalysisReport, GapReport, StrategyReport } from '../analysis/types.js';
import { chartBins, formatBytes, formatCount, shellQuote, warningKinds } from './shared.js';

/** Options of {@link renderText}. */
export interface TextOptions {
  /**
   * Line width to fit the table and the histogram into.
   * @default 100
   */
  width?: number;
}

const NUMBER_COLUMNS = [
  ['runs', 'runs'],
  ['dupl.', 'duplicates'],
  ['invalid', 'invalid'],
  ['false supp.', 'falseSuppressions'],
  ['missed dup.', 'missedDuplicates'],
] as const;
const BAR = '█';

/**
 * The report for people: what was read, a table of every candidate, the warnings with examples,
 * the gap histogram with the suggested window, and the recommendation with its `IDEMKIT_STRATEGY`.
 * @example
 * process.stdout.write(renderText(await analyze({ files: ['capture.jsonl'] }), { width: process.stdout.columns }));
 */
export function renderText(report: AnalysisReport, options: TextOptions = {}): string {
  const width = Math.max(60, options.width ?? 100);
  const out: string[] = [];
  out.push(...summary(report), '');
  out.push(...table(report, width), '');
  out.push(...warnings(report), '');
  const [first, ...others] = report.gaps;
  if (first !== undefined) {
    out.push(...histogram(first, width), '');
    for (const gap of others) out.push(`  ${gap.label}: ${gap.suggestion.reason}`);
    if (others.length > 0) out.push('');
  }
  out.push(...recommendation(report));
  return `${out.join('\n')}\n`;
}

function summary(report: AnalysisReport): string[] {
  const { inputs, fields, settings } = report;
  const lines = [
    `idemkit analyze: ${formatCount(inputs.deliveries)} deliveries from ${inputs.files.length} file${inputs.files.length === 1 ? '' : 's'} (${formatBytes(inputs.bytes)})`,
    `  estimated logical events: ${formatCount(report.logicalEvents)}` +
      (report.reference === undefined ? '' : ` (same content, or same ${report.reference.label} within ${formatMs(report.reference.windowMs)})`),
    `  event time: ${fields.eventTime ?? 'none found (arrival order)'} · retention ${formatMs(settings.retentionMs)} · volatile: ${fields.volatile.join(', ') || 'none'}`,
  ];
  if (inputs.malformed > 0) {
    const where = inputs.malformedExamples.map((bad) => `${bad.file}:${bad.line} ${bad.problem}`);
    lines.push(`  malformed records: ${formatCount(inputs.malformed)} (skipped)`, ...where.map((text) => `    ${text}`));
    if (inputs.malformed > where.length) lines.push(`    … and ${formatCount(inputs.malformed - where.length)} more`);
  }
  if (inputs.noise > 0) lines.push(`  log lines without JSON: ${formatCount(inputs.noise)} (skipped)`);
  if (inputs.late > 0) {
    lines.push(`  ${formatCount(inputs.late)} deliveries arrived later than the reorder buffer (${formatCount(settings.reorderBuffer)}) reaches; they ran where they arrived`);
  }
  if (inputs.withoutEventTime > 0 && fields.eventTime !== undefined) {
    lines.push(`  ${formatCount(inputs.withoutEventTime)} deliveries have no ${fields.eventTime}; they keep their arrival position`);
  }
  return lines;
}

function table(report: AnalysisReport, width: number): string[] {
  const numbers = report.strategies.map((s) => NUMBER_COLUMNS.map(([, field]) => formatCount(valueOf(s, field))));
  const widths = NUMBER_COLUMNS.map(([title], i) => Math.max(title.length, ...numbers.map((row) => row[i]!.length)));
  const numbersWidth = widths.reduce((sum, w) => sum + w + 2, 0);
  const labelWidth = Math.max(20, width - numbersWidth - 6);
  const header = `    ${'strategy'.padEnd(labelWidth)}${NUMBER_COLUMNS.map(([title], i) => `  ${title.padStart(widths[i]!)}`).join('')}`;
  const lines = [header, `    ${'─'.repeat(header.length - 4)}`];
  report.strategies.forEach((s, row) => {
    const mark = s.id === report.recommendation?.id ? ' ★ ' : '   ';
    const [firstLine = '', ...rest] = wrap(s.label, labelWidth);
    lines.push(`${mark} ${firstLine.padEnd(labelWidth)}${numbers[row]!.map((cell, i) => `  ${cell.padStart(widths[i]!)}`).join('')}`);
    for (const more of rest) lines.push(`     ${more}`);
  });
  if (report.strategies.some((s) => s.storeFull)) {
    lines.push('    (some candidates filled their in-memory store before retention passed; raise --max-entries for exact numbers)');
  }
  return lines;
}

function valueOf(s: StrategyReport, field: (typeof NUMBER_COLUMNS)[number][1]): number {
  const value = s[field];
  return typeof value === 'number' ? value : value.count;
}

function warnings(report: AnalysisReport): string[] {
  const lines: string[] = [];
  for (const { field, title, explain } of warningKinds) {
    const flagged = report.strategies.filter((s) => s[field].count > 0);
    lines.push(`${title} (${explain})`);
    if (flagged.length === 0) lines.push('  none');
    for (const s of flagged) lines.push(`  ${s.label}: ${formatCount(s[field].count)}`, ...examples(s[field]));
  }
  const invalid = report.strategies.filter((s) => s.invalid > 0);
  if (invalid.length > 0) {
    lines.push('Events a strategy could build no key for (the wrapper would fail them as malformed)');
    for (const s of invalid) {
      lines.push(`  ${s.label}: ${formatCount(s.invalid)}`, ...s.invalidExamples.map((bad) => `    ${where(bad)}: ${bad.problem}`));
    }
  }
  return lines;
}

function examples(tally: WarningTally): string[] {
  return tally.examples.map((example) => {
    const against = example.counterpart === undefined ? '' : ` vs ${where(example.counterpart)}`;
    const fields = example.differingFields.length === 0 ? '' : ` — differs in ${example.differingFields.slice(0, 6).join(', ')}${example.differingFields.length > 6 ? ', …' : ''}`;
    return `    e.g. ${where(example.event)}${against}${fields}`;
  });
}

function where(ref: EventRef): string {
  return `${ref.id ?? '(no id)'} (${ref.file}:${ref.line})`;
}

function histogram(gap: GapReport, width: number): string[] {
  const { bins, marker } = chartBins(gap);
  const lines = [`Gaps between occurrences of the same ${gap.label} (${formatCount(gap.histogram.gaps)} gaps, log scale)`];
  if (bins.length === 0) return [...lines, '  none: no entity + state occurred twice within retention', `  ${gap.suggestion.reason}`];
  const max = Math.max(...bins.map((bin) => bin.count));
  const labelWidth = Math.max(...bins.map((bin) => formatMs(bin.fromMs).length));
  const barWidth = Math.max(10, width - labelWidth - 16);
  for (const [index, bin] of bins.entries()) {
    if (index === marker) lines.push(`  ${'─'.repeat(labelWidth)}─┼─ suggested windowMs ${gap.suggestion.windowMs} (${formatMs(gap.suggestion.windowMs)}) ──`);
    const length = bin.count === 0 ? 0 : Math.max(1, Math.round((bin.count / max) * barWidth));
    lines.push(`  ${formatMs(bin.fromMs).padStart(labelWidth)} │${BAR.repeat(length)}${bin.count === 0 ? '' : ` ${formatCount(bin.count)}`}`);
  }
  if (marker >= bins.length) lines.push(`  ${'─'.repeat(labelWidth)}─┴─ suggested windowMs ${gap.suggestion.windowMs} (${formatMs(gap.suggestion.windowMs)}) ──`);
  lines.push(`  ${gap.suggestion.reason}`);
  return lines;
}

function recommendation(report: AnalysisReport): string[] {
  const best = report.recommendation;
  if (best === undefined) return ['No recommendation: no candidate could run (no events, or no strategy).'];
  const lines = [`Recommendation: ${best.label} — ${best.reason}`];
  if (best.env !== undefined) lines.push(`  IDEMKIT_STRATEGY=${shellQuote(best.env)}`);
  else lines.push('  not expressible in IDEMKIT_STRATEGY; in code:', `  strategy: ${best.code}`);
  return lines;
}

// Breaks a label at ", " so long strategy descriptions stay in their column.
function wrap(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const piece of text.split(/(?<=, )/)) {
    if (line !== '' && line.length + piece.length > width) {
      lines.push(line.trimEnd());
      line = '';
    }
    line += piece;
  }
  if (line !== '') lines.push(line);
  return lines;
}
