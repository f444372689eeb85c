import type { MalformedRecord } from '../input/read-captures.js';
import type { Family } from './candidates.js';
import type { RunTally } from './candidate-run.js';
import type { DiscoveredFields } from './discover.js';
import type { GapHistogram, WindowSuggestion } from './gaps.js';

/** Options of `analyze`. */
export interface AnalyzeOptions {
  /** Capture files: JSONL, JSON arrays, SQS events, CloudWatch Logs exports, or gzip of any. */
  files: readonly string[];
  /** More candidates: strategy JSON config, preset config, or a preset name (`--strategy`). */
  strategies?: readonly string[];
  /**
   * Build candidates from the fields found in the capture and from the presets; with `false`
   * only `strategies` run.
   * @default true
   */
  discover?: boolean;
  /** Use this window for every windowed candidate instead of choosing it from the gaps (saves one read). */
  windowMs?: number;
  /**
   * How long the store remembers a key, in event time: set it to what you deploy.
   * @default 3600000 (the engine's default, one hour)
   */
  retentionMs?: number;
  /**
   * Most occurrences the in-memory store of each candidate holds: memory stays bounded by it
   * (about 1 KB per occurrence and candidate at most). When a candidate's keys within retention
   * exceed it, its store forgets early and the report says so (`storeFull`).
   * @default 25000
   */
  maxEntries?: number;
  /**
   * Deliveries held back to put them in event-time order; 0 keeps arrival order.
   * @default 2000
   */
  reorderBuffer?: number;
  /**
   * Events read to discover fields.
   * @default 2000
   */
  sampleSize?: number;
  /**
   * Examples kept per warning.
   * @default 5
   */
  examples?: number;
  /** The event-time path, instead of the one found. */
  time?: string;
  /** The entity and state of the identity to judge duplicates by, instead of the ones found. */
  entity?: string;
  state?: string;
  /** More fields to set aside when comparing content (`--volatile`). */
  volatile?: readonly string[];
  /** Called while reading, for a progress bar. */
  onProgress?: (progress: Progress) => void;
}

/** Where a long analysis stands. */
export interface Progress {
  /** `gaps`: measuring gaps to choose windows; `run`: running the candidates. */
  phase: 'gaps' | 'run';
  events: number;
  bytesRead: number;
  totalBytes: number;
}

/** One windowed identity's gaps and the window they suggest. */
export interface GapReport {
  /** The identity: a preset name or `stateWindow(entity, state)`. */
  id: string;
  label: string;
  histogram: GapHistogram;
  suggestion: WindowSuggestion;
}

/** What one candidate strategy did, with how to deploy it. */
export interface StrategyReport extends RunTally {
  /** Short id within the report: `s1`, `s2`… */
  id: string;
  family: Family;
  label: string;
  /** Its JSON config (core's, or a preset's `{ "preset": … }`). */
  config: unknown;
  /** The same in code. */
  code: string;
  /** The `IDEMKIT_STRATEGY` value that deploys it, when the wrapper's config can express it. */
  env?: string;
  /** Its window, for windowed candidates. */
  windowMs?: number;
  /** Suspected false suppressions + suspected missed duplicates + events it could build no key for. */
  warnings: number;
}

/** The candidate to deploy. */
export interface Recommendation {
  id: string;
  label: string;
  warnings: number;
  config: unknown;
  code: string;
  env?: string;
  /** Why it was chosen over the others. */
  reason: string;
}

/** Everything `analyze` found: the input, the fields, the gaps, every candidate and the recommendation. */
export interface AnalysisReport {
  inputs: {
    files: string[];
    bytes: number;
    deliveries: number;
    malformed: number;
    malformedExamples: MalformedRecord[];
    /** Log lines without JSON, skipped. */
    noise: number;
    /** Deliveries released out of event-time order: later than the reorder buffer reaches. */
    late: number;
    withoutEventTime: number;
  };
  settings: {
    retentionMs: number;
    maxEntries: number;
    reorderBuffer: number;
    sampleSize: number;
    examples: number;
    /** The window given with `--window-ms`, if any. */
    windowMs?: number;
  };
  fields: DiscoveredFields;
  /** Estimated logical events in the capture (see `LogicalEvents`). */
  logicalEvents: number;
  /** The identity duplicates are judged by (same entity + state), and its window. */
  reference?: { id: string; label: string; windowMs: number };
  gaps: GapReport[];
  strategies: StrategyReport[];
  recommendation?: Recommendation;
}
