import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import {
  CONFIG_STRATEGIES,
  MAX_WINDOW_MS,
  custom,
  eventId,
  strategyFromConfig,
  type StrategyConfig,
} from '../src/strategies/index.js';

function fieldOf(config: unknown): string {
  try {
    strategyFromConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).field;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(config)}`);
}

const window = { strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 };

describe('strategyFromConfig builds', () => {
  it('every JSON strategy from an object and from JSON text', () => {
    const configs: StrategyConfig[] = [
      { strategy: 'eventId' },
      { strategy: 'eventId', path: 'detail.eventId' },
      { strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 },
      { strategy: 'contentHash', include: ['detail'], exclude: ['detail.metadata.timestamp'] },
      { strategy: 'contentHash' },
      { strategy: 'composite', of: [{ strategy: 'eventId', path: 'detail.tenantId' }, { strategy: 'contentHash' }] },
    ];
    const names = configs.map((config) => strategyFromConfig(config).name);
    expect(names).toEqual(['eventId', 'eventId', 'stateWindow', 'contentHash', 'contentHash', 'composite']);
    expect(configs.map((config) => strategyFromConfig(JSON.stringify(config)).name)).toEqual(names);
  });

  it('strategies that key as their factories do', () => {
    const event = { id: 'env-1', detail: { eventId: 'e-1', conversationId: 'c', status: 's', timestamp: 1_709_806_530_000 } };
    expect(strategyFromConfig({ strategy: 'eventId', path: 'detail.eventId' }).keyFor(event).key).toBe('eventId:e-1');
    const windowed = strategyFromConfig(window).keyFor(event);
    expect(windowed).toMatchObject({ key: 'stateWindow:c:s', window: { at: 1_709_806_530_000, windowMs: 500 } });
  });

  it('returns an already built strategy unchanged', () => {
    const strategy = custom(() => 'k');
    expect(strategyFromConfig(strategy)).toBe(strategy);
  });

  it('accepts built strategies inside a composite', () => {
    const strategy = strategyFromConfig({ strategy: 'composite', of: [eventId(), window] });
    expect(strategy.keyFor({ id: 'a', detail: { conversationId: 'c', status: 's', timestamp: 1 } }).key).toBe('composite:a:c:s');
  });

  it('lists the strategies it accepts', () => {
    expect([...CONFIG_STRATEGIES]).toEqual(['eventId', 'stateWindow', 'contentHash', 'composite', 'anyOf']);
  });
});

describe('strategyFromConfig names the bad field', () => {
  it.each<[string, unknown]>([
    ['(root)', '{"strategy": "eventId"'],
    ['(root)', ''],
    ['(root)', 'null'],
    ['(root)', []],
    ['(root)', 42],
    ['strategy', {}],
    ['strategy', { strategy: 7 }],
    ['strategy', { strategy: 'eventid2' }],
    ['strategy', { strategy: 'custom' }],
    ['path', { strategy: 'eventId', path: '' }],
    ['path', { strategy: 'eventId', path: 5 }],
    ['path', { strategy: 'eventId', path: null }],
    ['path', { strategy: 'eventId', path: 'detail..id' }],
    ['path', { strategy: 'eventId', path: 'detail.*' }],
    ['patch', { strategy: 'eventId', patch: 'id' }],
    ['entity', { ...window, entity: undefined }],
    ['state', { ...window, state: ['a'] }],
    ['time', { ...window, time: ' detail.timestamp' }],
    ['windowMs', { ...window, windowMs: undefined }],
    ['windowMs', { ...window, windowMs: '500' }],
    ['windowMs', { ...window, windowMs: -1 }],
    ['windowMs', { ...window, windowMs: 0 }],
    ['windowMs', { ...window, windowMs: 2.5 }],
    ['windowMs', { ...window, windowMs: MAX_WINDOW_MS + 1 }],
    ['windowMS', { strategy: 'stateWindow', entity: 'a', state: 'b', time: 'c', windowMS: 500 }],
    ['include', { strategy: 'contentHash', include: 'detail' }],
    ['include', { strategy: 'contentHash', include: [] }],
    ['include[1]', { strategy: 'contentHash', include: ['detail', 3] }],
    ['exclude[0]', { strategy: 'contentHash', include: ['detail'], exclude: ['metadata.timestamp'] }],
    ['exclude[0]', { strategy: 'contentHash', exclude: ['a..b'] }],
    ['of', { strategy: 'composite' }],
    ['of', { strategy: 'composite', of: [] }],
    ['of', { strategy: 'composite', of: { strategy: 'eventId' } }],
    ['of', { strategy: 'composite', of: [window, { strategy: 'eventId' }, window] }],
    ['of[1]', { strategy: 'composite', of: [{ strategy: 'eventId' }, 'eventId'] }],
    ['of[1].windowMs', { strategy: 'composite', of: [{ strategy: 'eventId' }, { ...window, windowMs: 1.5 }] }],
    ['of[0].strategy', { strategy: 'composite', of: [{ strategy: 'nope' }] }],
    ['of[0].exclude[0]', { strategy: 'composite', of: [{ strategy: 'contentHash', include: ['a'], exclude: ['b.c'] }] }],
    ['of[1].of[0].windowMS', { strategy: 'composite', of: [{ strategy: 'eventId' }, { strategy: 'composite', of: [{ ...window, windowMS: 1 }] }] }],
    ['of', { strategy: 'composite', of: [window, { strategy: 'composite', of: [window] }] }],
  ])('%s for %j', (field, config) => {
    expect(fieldOf(config)).toBe(field);
  });

  it('suggests the field a typo meant', () => {
    expect(() => strategyFromConfig({ ...window, windowMs: undefined, windowMS: 500 })).toThrow('did you mean "windowMs"?');
  });

  it('lists the valid strategies for an unknown one', () => {
    expect(() => strategyFromConfig({ strategy: 'bucket' })).toThrow('"eventId", "stateWindow", "contentHash", "composite"');
  });

  it('keeps the JSON parse error as cause', () => {
    try {
      strategyFromConfig('{oops');
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).cause).toBeInstanceOf(SyntaxError);
    }
  });
});
