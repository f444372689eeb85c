import type { EventRef } from '../analysis/candidate-run.js';
import { formatMs } from '../analysis/gaps.js';
import type { AnalysisReport, GapReport } from '../analysis/types.js';
import { chartBins, formatBytes, formatCount, shellQuote, warningKinds } from './shared.js';
import { COLORS, escapeHtml as esc, gapChart, strategyChart } from './svg.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#0f172a;margin:0;background:#f8fafc}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px}h3{font-size:15px;margin:20px 0 6px}
.summary{color:#475569;margin:0}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:16px;margin:12px 0}
.recommendation{border-left:4px solid ${COLORS.logical}}
code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
td code{word-break:break-all}
pre{background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border-bottom:1px solid #e2e8f0;padding:5px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#f0fdf4;font-weight:600}
.warn{color:${COLORS.warnings}}
figure{margin:0}figcaption{font-weight:600;margin-bottom:6px}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:-1px}
`;

/**
 * The report as one self-contained HTML page — inline CSS and SVG charts, no scripts, fonts or
 * network requests — with the same tables as the terminal report: candidates, warnings with
 * examples, and one gap histogram per windowed identity with the suggested window marked.
 * Field values never appear, only paths and event ids.
 */
export function renderHtml(report: AnalysisReport): string {
  const sections = [
    header(report),
    recommendation(report),
    strategies(report),
    windows(report),
    warnings(report),
    fields(report),
    input(report),
  ];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>idemkit analyze report</title><style>${STYLE}</style></head><body><main>${sections.join('\n')}</main></body></html>\n`;
}

function header(report: AnalysisReport): string {
  const { inputs } = report;
  return (
    `<h1>Choosing a key strategy: idemkit analyze</h1>` +
    `<p class="summary">${formatCount(inputs.deliveries)} deliveries from ${inputs.files.map((file) => `<code>${esc(file)}</code>`).join(', ')} ` +
    `(${formatBytes(inputs.bytes)}); estimated logical events: <strong>${formatCount(report.logicalEvents)}</strong>; ` +
    `retention ${formatMs(report.settings.retentionMs)}.</p>`
  );
}

function recommendation(report: AnalysisReport): string {
  const best = report.recommendation;
  if (best === undefined) return `<section class="card recommendation"><h2>Recommendation</h2><p>No candidate could run.</p></section>`;
  const deploy =
    best.env === undefined
      ? `<p>Not expressible in <code>IDEMKIT_STRATEGY</code>; in code:</p><pre>strategy: ${esc(best.code)}</pre>`
      : `<pre>IDEMKIT_STRATEGY=${esc(shellQuote(best.env))}</pre><p>or in code: <code>${esc(best.code)}</code></p>`;
  return `<section class="card recommendation"><h2>Recommendation: ${esc(best.label)}</h2><p>${esc(best.reason)}.</p>${deploy}</section>`;
}

function strategies(report: AnalysisReport): string {
  const rows = report.strategies
    .map(
      (s) =>
        `<tr${s.id === report.recommendation?.id ? ' class="best"' : ''}><td>${s.id === report.recommendation?.id ? '★ ' : ''}${esc(s.label)}</td>` +
        `<td class="n">${formatCount(s.deliveries)}</td><td class="n">${formatCount(s.runs)}</td><td class="n">${formatCount(s.duplicates)}</td>` +
        `<td class="n">${formatCount(s.invalid)}</td><td class="n${s.falseSuppressions.count > 0 ? ' warn' : ''}">${formatCount(s.falseSuppressions.count)}</td>` +
        `<td class="n${s.missedDuplicates.count > 0 ? ' warn' : ''}">${formatCount(s.missedDuplicates.count)}</td>` +
        `<td><code>${esc(s.env ?? s.code)}</code></td></tr>`,
    )
    .join('');
  return (
    `<section><h2>Strategies</h2><div class="card"><figure><figcaption>Handler runs, duplicates suppressed and warnings</figcaption>${strategyChart(report)}</figure></div>` +
    `<table><thead><tr><th>strategy</th><th class="n">deliveries</th><th class="n">runs</th><th class="n">duplicates</th><th class="n">invalid</th>` +
    `<th class="n">false suppressions</th><th class="n">missed duplicates</th><th>IDEMKIT_STRATEGY / code</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function windows(report: AnalysisReport): string {
  if (report.gaps.length === 0) return `<section><h2>Choosing windowMs</h2><p>No windowed candidate: the capture has no entity + state + time fields a window could use.</p></section>`;
  const legend =
    `<p class="legend">Gaps between occurrences of the same entity + state, on a log scale:` +
    `<span style="background:${COLORS.reEmit}"></span>below the suggested window (re-emits, duplicates)` +
    `<span style="background:${COLORS.repeat}"></span>above it (legitimate repeats)` +
    `<span style="background:${COLORS.marker}"></span>suggested window</p>`;
  return `<section><h2>Choosing windowMs</h2>${legend}${report.gaps.map(gapFigure).join('')}</section>`;
}

function gapFigure(gap: GapReport): string {
  const { bins } = chartBins(gap);
  const rows = bins
    .filter((bin) => bin.count > 0)
    .map((bin) => `<tr><td>${esc(formatMs(bin.fromMs))} – ${bin.toMs === undefined ? '' : esc(formatMs(bin.toMs))}</td><td class="n">${formatCount(bin.count)}</td></tr>`)
    .join('');
  return (
    `<div class="card"><figure><figcaption>${esc(gap.label)}: ${formatCount(gap.histogram.gaps)} gaps</figcaption>${gapChart(gap)}</figure>` +
    `<p>${esc(gap.suggestion.reason)}.</p>` +
    (rows === '' ? '' : `<details><summary>bins</summary><table><thead><tr><th>gap</th><th class="n">occurrences</th></tr></thead><tbody>${rows}</tbody></table></details>`) +
    `</div>`
  );
}

function warnings(report: AnalysisReport): string {
  const parts = warningKinds.map(({ field, title, explain }) => {
    const flagged = report.strategies.filter((s) => s[field].count > 0);
    if (flagged.length === 0) return `<h3>${esc(title)}</h3><p>None: ${esc(explain)}.</p>`;
    const rows = flagged
      .flatMap((s) =>
        s[field].examples.map(
          (example, index) =>
            `<tr><td>${index === 0 ? `${esc(s.label)} (${formatCount(s[field].count)})` : ''}</td><td>${ref(example.event)}</td>` +
            `<td>${example.counterpart === undefined ? '' : ref(example.counterpart)}</td><td>${example.differingFields.map((path) => `<code>${esc(path)}</code>`).join(', ')}</td></tr>`,
        ),
      )
      .join('');
    return (
      `<h3>${esc(title)}</h3><p>${esc(explain)}.</p><table><thead><tr><th>strategy (count)</th><th>delivery</th>` +
      `<th>judged against</th><th>differing fields</th></tr></thead><tbody>${rows}</tbody></table>`
    );
  });
  return `<section><h2>Warnings</h2>${parts.join('')}</section>`;
}

function ref(event: EventRef): string {
  return `<code>${esc(event.id ?? '(no id)')}</code><br><small>${esc(`${event.file}:${event.line}`)}${event.time === undefined ? '' : ` · ${esc(event.time)}`}</small>`;
}

function fields(report: AnalysisReport): string {
  const { fields } = report;
  const row = (role: string, paths: readonly string[]) =>
    `<tr><td>${esc(role)}</td><td>${paths.length === 0 ? 'none' : paths.map((path) => `<code>${esc(path)}</code>`).join(', ')}</td></tr>`;
  return (
    `<section><h2>Fields found in ${formatCount(fields.sampleSize)} sampled events</h2><table><tbody>` +
    row('event time', fields.eventTime === undefined ? [] : [fields.eventTime]) +
    row('delivery ids', fields.deliveryIds) +
    row('source ids', fields.sourceIds) +
    row('entities', fields.entities) +
    row('states', fields.states) +
    row('times', fields.times) +
    row('volatile (set aside when comparing content)', fields.volatile) +
    `</tbody></table></section>`
  );
}

function input(report: AnalysisReport): string {
  const { inputs } = report;
  const notes = [
    `${formatCount(inputs.malformed)} malformed records (skipped)`,
    `${formatCount(inputs.noise)} log lines without JSON (skipped)`,
    `${formatCount(inputs.late)} deliveries later than the reorder buffer (${formatCount(report.settings.reorderBuffer)}) reaches`,
  ];
  const rows = inputs.malformedExamples.map((bad) => `<tr><td><code>${esc(`${bad.file}:${bad.line}`)}</code></td><td>${esc(bad.problem)}</td></tr>`).join('');
  return (
    `<section><h2>Input</h2><p>${notes.join(' · ')}.</p>` +
    (rows === '' ? '' : `<table><thead><tr><th>where</th><th>problem</th></tr></thead><tbody>${rows}</tbody></table>`) +
    `</section>`
  );
}
