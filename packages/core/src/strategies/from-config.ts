import { ConfigError } from '../errors.js';
import { describeType } from '../internal/path.js';
import { closestName } from '../internal/suggest.js';
import {
  checkExcludesInsideIncludes,
  checkKnownFields,
  checkOneWindow,
  checkPath,
  checkPathList,
  checkWindowMs,
  fieldAt,
  isRecord,
  isStrategy,
} from './checks.js';
import { anyOf, checkNoAnyOf } from './any-of.js';
import { composite } from './composite.js';
import { contentHash } from './content-hash.js';
import { eventId } from './event-id.js';
import { stateWindow } from './state-window.js';
import type { DedupKeyStrategy } from './types.js';

/** JSON config of {@link eventId}: `{ "strategy": "eventId", "path": "detail.eventId" }`. */
export interface EventIdConfig {
  strategy: 'eventId';
  /** @default 'id' */
  path?: string;
}

/** JSON config of {@link stateWindow}: entity, state and time paths and a window of at most 7 days. */
export interface StateWindowConfig {
  strategy: 'stateWindow';
  entity: string;
  state: string;
  time: string;
  windowMs: number;
}

/** JSON config of {@link contentHash}: `{ "strategy": "contentHash", "include": ["detail"], "exclude": [...] }`. */
export interface ContentHashConfig {
  strategy: 'contentHash';
  /** @default the whole event */
  include?: readonly string[];
  /** @default [] */
  exclude?: readonly string[];
}

/** JSON config of {@link composite}: `{ "strategy": "composite", "of": [ … ] }`. */
export interface CompositeConfig {
  strategy: 'composite';
  of: readonly StrategyConfig[];
}

/** JSON config of {@link anyOf}: `{ "strategy": "anyOf", "of": [ … ] }` — a duplicate when any identity matches. */
export interface AnyOfConfig {
  strategy: 'anyOf';
  of: readonly StrategyConfig[];
}

/** Any strategy that JSON config can describe (custom strategies are code only). */
export type StrategyConfig = EventIdConfig | StateWindowConfig | ContentHashConfig | CompositeConfig | AnyOfConfig;

/** The strategy names JSON config accepts. */
export const CONFIG_STRATEGIES = ['eventId', 'stateWindow', 'contentHash', 'composite', 'anyOf'] as const;

const FIELDS: Record<StrategyConfig['strategy'], readonly string[]> = {
  eventId: ['strategy', 'path'],
  stateWindow: ['strategy', 'entity', 'state', 'time', 'windowMs'],
  contentHash: ['strategy', 'include', 'exclude'],
  composite: ['strategy', 'of'],
  anyOf: ['strategy', 'of'],
};
const EXAMPLE = '{"strategy":"eventId","path":"detail.eventId"}';

/**
 * Builds a strategy from JSON config, so a Lambda can choose it through an environment variable.
 * Accepts a config object, its JSON text, or an already built strategy (returned unchanged).
 * @throws {@link ConfigError} whose `field` names the offending field, by position in nested
 * composites (`of[1].windowMs`): bad JSON (`(root)`), an unknown strategy, a missing, mistyped or
 * unknown field (a typo like `windowMS` never passes silently), a bad path or window.
 * @example
 * const strategy = strategyFromConfig(process.env.IDEMPOTENCY_STRATEGY ?? '{"strategy":"eventId"}');
 */
export function strategyFromConfig<TEvent = unknown>(
  config: StrategyConfig | DedupKeyStrategy<TEvent> | string,
): DedupKeyStrategy<TEvent>;
/** Builds a strategy from config of unknown shape (parsed JSON); validated like any config. */
export function strategyFromConfig(config: unknown): DedupKeyStrategy;
export function strategyFromConfig(config: unknown): DedupKeyStrategy {
  return build(typeof config === 'string' ? parseJson(config) : config, '');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw new ConfigError('(root)', `is an empty string; expected JSON like ${EXAMPLE}`);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ConfigError('(root)', `is not valid JSON (${(error as Error).message}); expected JSON like ${EXAMPLE}`, {
      cause: error,
    });
  }
}

// `prefix` is where this config sits: '' at the root, `of[1]` inside a composite.
function build(config: unknown, prefix: string): DedupKeyStrategy {
  if (isStrategy(config)) return config;
  if (!isRecord(config)) {
    throw new ConfigError(prefix === '' ? '(root)' : prefix, `must be a strategy config like ${EXAMPLE}, got ${describeType(config)}`);
  }
  const strategy = checkStrategy(config['strategy'], fieldAt(prefix, 'strategy'));
  // Unknown fields first: for `windowMS` "did you mean windowMs" says more than "windowMs is missing".
  checkKnownFields(config, FIELDS[strategy], prefix, strategy);
  const at = (name: string) => fieldAt(prefix, name);

  switch (strategy) {
    case 'eventId':
      return eventId(config['path'] === undefined ? {} : { path: checkPath(config['path'], at('path')).source });
    case 'stateWindow':
      return stateWindow({
        entity: checkPath(config['entity'], at('entity')).source,
        state: checkPath(config['state'], at('state')).source,
        time: checkPath(config['time'], at('time')).source,
        windowMs: checkWindowMs(config['windowMs'], at('windowMs')),
      });
    case 'contentHash': {
      const include = config['include'] === undefined ? undefined : checkPathList(config['include'], at('include'));
      const exclude =
        config['exclude'] === undefined
          ? undefined
          : checkPathList(config['exclude'], at('exclude'), { wildcards: true, allowEmpty: true });
      if (include !== undefined && exclude !== undefined) checkExcludesInsideIncludes(include, exclude, at('exclude'));
      return contentHash({
        ...(include === undefined ? {} : { include: include.map((path) => path.source) }),
        ...(exclude === undefined ? {} : { exclude: exclude.map((path) => path.source) }),
      });
    }
    case 'composite': {
      const children = buildChildren(config['of'], at('of'));
      checkNoAnyOf(children, at('of'));
      checkOneWindow(children, at('of'));
      return composite({ of: children });
    }
    case 'anyOf':
      return anyOf({ of: buildChildren(config['of'], at('of')) });
  }
}

function buildChildren(of: unknown, field: string): DedupKeyStrategy[] {
  if (of === undefined) throw new ConfigError(field, 'is missing; list the strategies to combine');
  if (!Array.isArray(of)) throw new ConfigError(field, `must be an array of strategy configs, got ${describeType(of)}`);
  if (of.length === 0) throw new ConfigError(field, 'is empty; list at least one strategy to combine');
  return of.map((child: unknown, index) => build(child, `${field}[${index}]`));
}

function checkStrategy(value: unknown, field: string): StrategyConfig['strategy'] {
  const valid = CONFIG_STRATEGIES.map((name) => `"${name}"`).join(', ');
  if (value === undefined) throw new ConfigError(field, `is missing; expected one of ${valid}`);
  if (typeof value !== 'string') throw new ConfigError(field, `must be a string, one of ${valid}; got ${describeType(value)}`);
  if ((CONFIG_STRATEGIES as readonly string[]).includes(value)) return value as StrategyConfig['strategy'];
  if (value === 'custom') {
    throw new ConfigError(field, `"custom" strategies are code only: pass custom((event) => key) instead of config; JSON config accepts ${valid}`);
  }
  const guess = closestName(value, CONFIG_STRATEGIES);
  throw new ConfigError(
    field,
    `unknown strategy ${JSON.stringify(value)}; expected one of ${valid}` + (guess === undefined ? '' : ` (did you mean "${guess}"?)`),
  );
}
