/**
 * `@idemkit/cli`: `idemkit analyze`, which runs candidate key strategies over your own captured
 * events with the engine's real semantics and recommends the one that runs each logical event
 * once. The same analysis is available as a library: {@link analyze} and its renderers.
 * @packageDocumentation
 */
export { analyze, ANALYZE_DEFAULTS } from './analysis/analyze.js';
export type { AnalysisReport, AnalyzeOptions, GapReport, Progress, Recommendation, StrategyReport } from './analysis/types.js';
export type { EventRef, RunTally, WarningExample, WarningTally } from './analysis/candidate-run.js';
export type { Family } from './analysis/candidates.js';
export type { DiscoveredFields } from './analysis/discover.js';
export { suggestWindow, formatMs, type GapBin, type GapHistogram, type WindowSuggestion } from './analysis/gaps.js';
export { readCaptures, emptyTally, type CaptureEvent, type MalformedRecord, type ReadOptions, type ReadTally } from './input/read-captures.js';
export { renderText, type TextOptions } from './report/text.js';
export { renderHtml } from './report/html.js';
export { main, EXIT, type CliIo } from './cli/main.js';
export type { ProgressStream } from './cli/progress.js';
