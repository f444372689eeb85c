// Validation shared by the factories (fields named as options: `windowMs`) and by
// strategyFromConfig (fields named by position: `of[1].windowMs`). Each check throws a
// ConfigError naming the field it was given.
import { ConfigError } from '../errors.js';
import { describeType, parsePath, segmentMatches, type EventPath, type PathSegment } from '../internal/path.js';
import { closestName } from '../internal/suggest.js';
import { isStrategyName } from './key-format.js';
import type { DedupKeyStrategy } from './types.js';

/** Longest allowed window. Beyond a week no source redelivers, and records would outlive any sane retention. */
export const MAX_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** Joins a config position and a field name: `of[1]` + `windowMs` → `of[1].windowMs`. */
export function fieldAt(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

/** Whether a value is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a value is already a strategy: it has a `keyFor` function. */
export function isStrategy(value: unknown): value is DedupKeyStrategy {
  return isRecord(value) && typeof value['keyFor'] === 'function';
}

/** The window size a strategy declares through a numeric `windowMs`, if any. */
export function windowMsOf(strategy: DedupKeyStrategy): number | undefined {
  const windowMs = (strategy as { windowMs?: unknown }).windowMs;
  return typeof windowMs === 'number' ? windowMs : undefined;
}

/** Checks that a factory got an options object, e.g. catches `eventId('detail.id')`. */
export function checkOptions(value: unknown, example: string): Record<string, unknown> {
  if (isRecord(value)) return value;
  throw new ConfigError('(root)', `expected an options object like ${example}, got ${describeType(value)}`);
}

/** Rejects fields a strategy does not know, so a typo like `windowMS` cannot pass silently. */
export function checkKnownFields(
  options: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  strategy: string,
): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const guess = closestName(name, known);
    throw new ConfigError(
      fieldAt(prefix, name),
      `is not a field of the ${strategy} strategy; ` +
        (guess === undefined ? `its fields are ${known.map((k) => `"${k}"`).join(', ')}` : `did you mean "${guess}"?`),
    );
  }
}

/** Checks and parses one path; `*` segments only where `wildcards` is set (exclude paths). */
export function checkPath(value: unknown, field: string, wildcards = false): EventPath {
  if (value === undefined) throw new ConfigError(field, 'is missing; expected a path like "detail.conversationId"');
  if (typeof value !== 'string') {
    throw new ConfigError(field, `must be a path string like "detail.conversationId", got ${describeType(value)}`);
  }
  try {
    return parsePath(value, { wildcards });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new ConfigError(field, `path ${JSON.stringify(value)} ${error.message}`, { cause: error });
  }
}

/** Checks a list of paths (positions named `include[2]`), rejecting repeats. */
export function checkPathList(
  value: unknown,
  field: string,
  options: { wildcards?: boolean; allowEmpty?: boolean } = {},
): EventPath[] {
  if (!Array.isArray(value)) throw new ConfigError(field, `must be an array of paths, got ${describeType(value)}`);
  if (value.length === 0 && options.allowEmpty !== true) {
    throw new ConfigError(field, 'is empty; list at least one path, or leave the field out');
  }
  const paths = value.map((item: unknown, index) => checkPath(item, `${field}[${index}]`, options.wildcards));
  paths.forEach((path, index) => {
    if (paths.findIndex((other) => other.source === path.source) !== index) {
      throw new ConfigError(`${field}[${index}]`, `repeats ${JSON.stringify(path.source)}`);
    }
  });
  return paths;
}

/** Checks a window: a whole, positive number of milliseconds, at most 7 days. */
export function checkWindowMs(value: unknown, field: string): number {
  if (value === undefined) throw new ConfigError(field, 'is missing; expected milliseconds, e.g. 500');
  if (typeof value !== 'number') throw new ConfigError(field, `must be a number of milliseconds, got ${describeType(value)}`);
  if (!Number.isInteger(value)) throw new ConfigError(field, `must be a whole number of milliseconds, got ${value}`);
  if (value <= 0) throw new ConfigError(field, `must be positive, got ${value}`);
  if (value > MAX_WINDOW_MS) throw new ConfigError(field, `must be at most ${MAX_WINDOW_MS} (7 days), got ${value}`);
  return value;
}

/**
 * Checks that each exclude path lies strictly inside some include path: one outside every include
 * would never remove anything (a typo), one covering a whole include would leave nothing to hash.
 */
export function checkExcludesInsideIncludes(include: readonly EventPath[], exclude: readonly EventPath[], field: string): void {
  exclude.forEach((excluded, index) => {
    let inside = false;
    for (const included of include) {
      if (!sharePrefix(excluded.segments, included.segments)) continue;
      if (excluded.segments.length <= included.segments.length) {
        throw new ConfigError(
          `${field}[${index}]`,
          `${JSON.stringify(excluded.source)} removes all of the included path ${JSON.stringify(included.source)}`,
        );
      }
      inside = true;
    }
    if (!inside) {
      throw new ConfigError(
        `${field}[${index}]`,
        `${JSON.stringify(excluded.source)} lies outside every include path, so it would never remove anything`,
      );
    }
  });
}

// Whether the shorter path's segments all match the longer one's (an exclude `*` matches anything).
function sharePrefix(excluded: readonly PathSegment[], included: readonly PathSegment[]): boolean {
  const length = Math.min(excluded.length, included.length);
  for (let i = 0; i < length; i++) {
    const ex = excluded[i];
    const inc = included[i];
    if (ex === undefined || inc === undefined) return false;
    const incStep = inc.kind === 'index' ? inc.index : inc.kind === 'key' ? inc.key : undefined;
    if (incStep !== undefined && !segmentMatches(ex, incStep)) return false;
  }
  return true;
}

/** Checks a strategy name used as the key's first segment. */
export function checkStrategyName(value: unknown, field: string): string {
  if (isStrategyName(value)) return value;
  throw new ConfigError(
    field,
    `must be 1-64 letters, digits, "_", "." or "-" (it starts every key), got ${typeof value === 'string' ? JSON.stringify(value) : describeType(value)}`,
  );
}

/** Checks composite children: a non-empty array of strategies, at most one of them windowed. */
export function checkChildren(value: unknown, field: string, { oneWindow = true } = {}): DedupKeyStrategy[] {
  if (value === undefined) throw new ConfigError(field, 'is missing; list the strategies to combine');
  if (!Array.isArray(value)) throw new ConfigError(field, `must be an array of strategies, got ${describeType(value)}`);
  if (value.length === 0) throw new ConfigError(field, 'is empty; list at least one strategy to combine');
  value.forEach((child: unknown, index) => {
    if (!isStrategy(child)) throw new ConfigError(`${field}[${index}]`, `must be a strategy (an object with keyFor), got ${describeType(child)}`);
  });
  const children = value as DedupKeyStrategy[];
  if (oneWindow) checkOneWindow(children, field);
  return children;
}

/** A key carries one window, so at most one child may be windowed. */
export function checkOneWindow(children: readonly DedupKeyStrategy[], field: string): void {
  const windowed = children.flatMap((child, index) => (windowMsOf(child) === undefined ? [] : [`${field}[${index}]`]));
  if (windowed.length > 1) {
    throw new ConfigError(field, `has ${windowed.length} windowed strategies (${windowed.join(', ')}); a key carries at most one window`);
  }
}
