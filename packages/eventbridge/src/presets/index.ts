import { CONFIG_STRATEGIES, ConfigError, strategyFromConfig, type DedupKeyStrategy, type StrategyConfig } from '@idemkit/core';
import { likelyMeant } from '../suggest.js';
import { genesysCloud } from './genesys-cloud.js';
import type { PresetStrategy } from './named.js';
import { niceCxone } from './nice-cxone.js';

export {
  genesysCloud,
  GENESYS_CLOUD_WINDOW_MS,
  type GenesysCloudDetail,
  type GenesysCloudEvent,
  type GenesysCloudOptions,
} from './genesys-cloud.js';
export {
  niceCxone,
  NICE_CXONE_WINDOW_MS,
  NO_IDEMPOTENCY_KEY,
  type NiceCxoneDetail,
  type NiceCxoneEvent,
  type NiceCxoneOptions,
} from './nice-cxone.js';
export type { PresetStrategy } from './named.js';

/** Every preset, by the name config uses: `{ "preset": "genesysCloud" }`. */
export const presets = { genesysCloud, niceCxone } as const;

/** The name of a preset. */
export type PresetName = keyof typeof presets;

/** The options of one preset, e.g. `GenesysCloudOptions` for `genesysCloud`. */
export type PresetOptions<P extends PresetName> = NonNullable<Parameters<(typeof presets)[P]>[0]>;

/**
 * The event a preset's handler receives, e.g. `GenesysCloudEvent` for `genesysCloud`: with a
 * preset in code, the wrappers type the handler's `event` (and its `detail`) as this.
 */
export type PresetEvent<P extends PresetName> = ReturnType<(typeof presets)[P]> extends PresetStrategy<infer TEvent> ? TEvent : never;

/** One preset chosen by config, with its options beside the name: `{ "preset": "genesysCloud", "windowMs": 2000 }`. */
export type PresetConfigOf<P extends PresetName> = { preset: P } & PresetOptions<P>;

/** A preset chosen by config, with its options beside the name: `{ "preset": "niceCxone", "windowMs": 2000 }`. */
export type PresetConfig = { [P in PresetName]: PresetConfigOf<P> }[PresetName];

/**
 * Everything a wrapper's `strategy` accepts: a strategy, core's JSON config, a preset config,
 * or either as JSON text (a bare preset name such as `genesysCloud` works too).
 */
export type StrategyInput<TEvent = unknown> = DedupKeyStrategy<TEvent> | StrategyConfig | PresetConfig | string;

const PRESET_NAMES = Object.keys(presets) as PresetName[];

/**
 * Builds the strategy a wrapper will use, so you can preview it:
 * `previewStrategy(resolveStrategy({ preset: 'genesysCloud' }), capturedEvents)`.
 * Presets are resolved here; everything else goes to core's `strategyFromConfig`.
 * @throws {@link ConfigError} naming the offending field (`preset`, `windowMs`, `of[1].path`…).
 * @example
 * resolveStrategy('{"preset":"genesysCloud"}').name; // 'genesysCloud'
 * resolveStrategy({ strategy: 'eventId', path: 'detail.eventId' }).name; // 'eventId'
 */
export function resolveStrategy<TEvent = unknown>(input: StrategyInput<TEvent>): DedupKeyStrategy<TEvent>;
/** Builds a strategy from input of unknown shape (parsed JSON); validated like any config. */
export function resolveStrategy(input: unknown): DedupKeyStrategy;
export function resolveStrategy(input: unknown): DedupKeyStrategy {
  if (typeof input === 'string') {
    const text = input.trim();
    if ((PRESET_NAMES as string[]).includes(text)) return presets[text as PresetName]();
    if (/^[\w.-]+$/.test(text)) throw bareWordError(text);
    if (text.startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return strategyFromConfig(input); // core phrases the JSON error
      }
      return resolveStrategy(parsed);
    }
    return strategyFromConfig(input);
  }
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, 'preset')) {
    const { preset, ...options } = input as { preset: unknown };
    return presetByName(preset)(options);
  }
  return strategyFromConfig(withPresetChildren(input));
}

/**
 * `anyOf` and `composite` configs may name presets among their children
 * (`{"strategy":"anyOf","of":[{"strategy":"eventId"},{"preset":"genesysCloud"}]}`): those children
 * are built here, and core validates the rest. An error inside names its place, `of[1].preset`.
 */
function withPresetChildren(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || !Array.isArray((input as { of?: unknown }).of)) return input;
  const config = input as { of: unknown[] };
  return {
    ...config,
    of: config.of.map((child, index) => {
      if (typeof child !== 'object' || child === null) return child;
      try {
        return Object.hasOwn(child, 'preset') ? resolveStrategy(child) : withPresetChildren(child);
      } catch (error) {
        if (error instanceof ConfigError) {
          const problem = error.message.replace(/^\[idemkit\] invalid config at "[^"]*": /, '');
          throw new ConfigError(`of[${index}].${error.field}`, problem, { cause: error });
        }
        throw error;
      }
    }),
  };
}

function presetByName(name: unknown): (options: Record<string, unknown>) => DedupKeyStrategy {
  if (typeof name === 'string' && (PRESET_NAMES as string[]).includes(name)) {
    return presets[name as PresetName] as (options: Record<string, unknown>) => DedupKeyStrategy;
  }
  const guess = typeof name === 'string' ? likelyMeant(name, PRESET_NAMES) : undefined;
  throw new ConfigError(
    'preset',
    `unknown preset ${JSON.stringify(name)}${guess === undefined ? '' : ` (did you mean "${guess}"?)`}; ` +
      `expected one of ${PRESET_NAMES.map((p) => `"${p}"`).join(', ')}`,
  );
}

// A bare word is a preset name or nothing: say which preset (or strategy) it looks like, instead
// of the JSON parser's complaint about its first letter.
function bareWordError(word: string): ConfigError {
  const preset = likelyMeant(word, PRESET_NAMES);
  if (preset !== undefined) {
    return new ConfigError('(root)', `${JSON.stringify(word)} is not a preset; did you mean the preset "${preset}"? Write ${preset} or {"preset":"${preset}"}`);
  }
  const strategy = likelyMeant(word, CONFIG_STRATEGIES);
  if (strategy !== undefined) {
    return new ConfigError('(root)', `${JSON.stringify(word)} is not a preset; strategies are JSON: did you mean {"strategy":"${strategy}"}?`);
  }
  return new ConfigError(
    '(root)',
    `${JSON.stringify(word)} is neither a preset (${PRESET_NAMES.join(', ')}) nor JSON strategy config like {"strategy":"eventId","path":"detail.eventId"}`,
  );
}
