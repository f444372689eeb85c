import { describe, expect, it } from 'vitest';
import {
  anyOf,
  composite,
  contentHash,
  custom,
  eventId,
  formatKey,
  MAX_KEY_LENGTH,
  MAX_WINDOW_MS,
  previewStrategy,
  stateWindow,
  strategyFromConfig,
  type DedupKeyStrategy,
} from '../src/index.js';
import { configErrorOf } from './support/config-error.js';

// Edges of the key strategies the other strategy tests leave open: the exact text of the factories'
// configuration errors (the field and what was expected there), the shape of the keys and preview
// entries (no `window`/`also` members set to undefined), window handling in composite and anyOf,
// exclude paths that meet array indices, and the boundaries of key length and window size.

// 2024-03-07T10:15:30.000Z.
const T0 = 1_709_806_530_000;
const genesys = (overrides: Record<string, unknown> = {}) => ({
  id: 'env-1',
  detail: { conversationId: 'conv-1', status: 'accepted', timestamp: T0, tenantId: 't-9', ...overrides },
});
const window500 = () => stateWindow({ entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 });

/** The full message of the ConfigError `build` throws, after checking the field it names. */
function configMessage(build: () => unknown, field: string): string {
  const error = configErrorOf(build);
  expect(error.field).toBe(field);
  return error.message;
}

describe('factories reject what is not an options object, showing an example', () => {
  it.each<[string, () => unknown, string]>([
    ['eventId given a path string', () => eventId('detail.id' as never), 'expected an options object like { path: "detail.eventId" }, got a string'],
    ['stateWindow given nothing', () => stateWindow(undefined as never), 'expected an options object like { entity, state, time, windowMs }, got undefined'],
    [
      'contentHash given a path string',
      () => contentHash('detail' as never),
      'expected an options object like { include: ["detail"], exclude: ["detail.metadata.timestamp"] }, got a string',
    ],
    ['composite given nothing', () => composite(undefined as never), 'expected an options object like { of: [eventId(), stateWindow({ … })] }, got undefined'],
  ])('%s', (_label, build, problem) => {
    expect(configMessage(build, '(root)')).toBe(`[idemkit] invalid config at "(root)": ${problem}`);
  });
});

describe('factories name an unknown field and the strategy it is not part of', () => {
  it.each<[string, () => unknown, string, string]>([
    ['stateWindow', () => stateWindow({ entity: 'a', state: 'b', time: 'c', windowMs: 5, windowMS: 5 } as never), 'windowMS', 'is not a field of the stateWindow strategy; did you mean "windowMs"?'],
    ['contentHash', () => contentHash({ includes: ['detail'] } as never), 'includes', 'is not a field of the contentHash strategy; did you mean "include"?'],
    ['composite', () => composite({ of: [eventId()], off: 1 } as never), 'off', 'is not a field of the composite strategy; did you mean "of"?'],
  ])('%s', (_label, build, field, problem) => {
    expect(configMessage(build, field)).toBe(`[idemkit] invalid config at "${field}": ${problem}`);
  });
});

describe('factories name the bad path option', () => {
  it('eventId names `path` for a malformed path', () => {
    expect(configMessage(() => eventId({ path: 'a..b' }), 'path')).toBe(
      '[idemkit] invalid config at "path": path "a..b" has an empty segment (two dots, or a dot at an end)',
    );
  });

  it('stateWindow names `state` when it is missing', () => {
    expect(configMessage(() => stateWindow({ entity: 'a', time: 'c', windowMs: 5 } as never), 'state')).toBe(
      '[idemkit] invalid config at "state": is missing; expected a path like "detail.conversationId"',
    );
  });
});

describe('composite and anyOf say what their `of` list lacks', () => {
  it.each<[string, unknown, string]>([
    ['missing', {}, 'is missing; list the strategies to combine'],
    ['not an array', { of: 'eventId' }, 'must be an array of strategies, got a string'],
    ['an object instead of an array', { of: { strategy: 'eventId' } }, 'must be an array of strategies, got an object'],
    ['empty', { of: [] }, 'is empty; list at least one strategy to combine'],
  ])('composite with `of` %s', (_label, options, problem) => {
    expect(configMessage(() => composite(options as never), 'of')).toBe(`[idemkit] invalid config at "of": ${problem}`);
  });

  it('anyOf with `of` missing says the same', () => {
    expect(configMessage(() => anyOf({} as never), 'of')).toBe('[idemkit] invalid config at "of": is missing; list the strategies to combine');
  });

  it('an empty `of` nested in JSON config is named by its position', () => {
    expect(configMessage(() => strategyFromConfig({ strategy: 'composite', of: [{ strategy: 'eventId' }, { strategy: 'anyOf', of: [] }] }), 'of[1].of')).toBe(
      '[idemkit] invalid config at "of[1].of": is empty; list at least one strategy to combine',
    );
  });
});

describe('custom names', () => {
  it('a built-in name is refused with the reason and what to do', () => {
    expect(configMessage(() => custom(() => 'k', 'eventId'), 'name')).toBe(
      '[idemkit] invalid config at "name": "eventId" is a built-in strategy\'s name; a custom strategy under it would share its keys. Pick another name',
    );
  });

  it('a name that is not a string is described by its type, not printed', () => {
    expect(configMessage(() => custom(() => 'k', 5 as never), 'name')).toBe(
      '[idemkit] invalid config at "name": must be 1-64 letters, digits, "_", "." or "-" (it starts every key), got a number',
    );
  });
});

describe('an unknown JSON strategy name', () => {
  it('with no close match gets the list of valid names and no suggestion', () => {
    expect(configMessage(() => strategyFromConfig({ strategy: 'bucket' }), 'strategy')).toBe(
      '[idemkit] invalid config at "strategy": unknown strategy "bucket"; expected one of "eventId", "stateWindow", "contentHash", "composite", "anyOf"',
    );
  });
});

describe('stateWindow window size', () => {
  it('accepts exactly seven days', () => {
    expect(stateWindow({ entity: 'a', state: 'b', time: 'c', windowMs: MAX_WINDOW_MS }).windowMs).toBe(MAX_WINDOW_MS);
    expect(strategyFromConfig({ strategy: 'stateWindow', entity: 'a', state: 'b', time: 'c', windowMs: MAX_WINDOW_MS }).keyFor({ a: 'x', b: 'y', c: 5 }).window).toEqual({
      at: 5,
      windowMs: MAX_WINDOW_MS,
    });
  });
});

describe('contentHash exclude paths against include paths', () => {
  it('an exclude equal to an include would remove all of it, and is refused', () => {
    expect(configMessage(() => contentHash({ include: ['detail'], exclude: ['detail'] }), 'exclude[0]')).toBe(
      '[idemkit] invalid config at "exclude[0]": "detail" removes all of the included path "detail"',
    );
    expect(configMessage(() => contentHash({ include: ['a', 'detail.x'], exclude: ['a.b', 'detail.*'] }), 'exclude[1]')).toBe(
      '[idemkit] invalid config at "exclude[1]": "detail.*" removes all of the included path "detail.x"',
    );
  });

  it('an exclude under another array index than the include lies outside it', () => {
    expect(configMessage(() => contentHash({ include: ['items[0]'], exclude: ['items[1].ts'] }), 'exclude[0]')).toBe(
      '[idemkit] invalid config at "exclude[0]": "items[1].ts" lies outside every include path, so it would never remove anything',
    );
  });

  it('an exclude under the included index, written as an index, a digit key or *, is accepted and honoured', () => {
    const event = (ts: number, v: number) => ({ items: [{ ts, v }, { ts: 0, v: 0 }] });
    for (const exclude of ['items[0].ts', 'items.0.ts', 'items[*].ts']) {
      const strategy = contentHash({ include: ['items[0]'], exclude: [exclude] });
      expect(strategy.keyFor(event(1, 1)).key).toBe(strategy.keyFor(event(2, 1)).key);
      expect(strategy.keyFor(event(1, 1)).key).not.toBe(strategy.keyFor(event(1, 2)).key);
    }
  });
});

describe('contentHash part labels say what was hashed', () => {
  it('the whole event, or the include paths as written, in order', () => {
    expect(contentHash().keyFor({ a: 1 }).parts.map((part) => part.label)).toEqual(['sha256(event)']);
    expect(contentHash({ include: ['detail.a', 'id'] }).keyFor({ id: 'e', detail: { a: 1 } }).parts.map((part) => part.label)).toEqual([
      'sha256(detail.a, id)',
    ]);
  });
});

describe('composite windows', () => {
  const tenant = eventId({ path: 'detail.tenantId' });

  it('keeps the window of a windowed first child when unwindowed children follow', () => {
    const key = composite({ of: [window500(), tenant] }).keyFor(genesys());
    expect(key.key).toBe('composite:conv-1:accepted:t-9');
    expect(key.window).toEqual({ at: T0, windowMs: 500 });
  });

  it('without a windowed child, neither the strategy nor its keys carry a window member', () => {
    const strategy = composite({ of: [tenant, eventId()] });
    expect('windowMs' in strategy).toBe(false);
    expect(strategy.keyFor(genesys())).toStrictEqual({
      key: 'composite:t-9:env-1',
      parts: [
        { label: 'eventId:detail.tenantId', value: 't-9' },
        { label: 'eventId:id', value: 'env-1' },
      ],
    });
  });

  it('a hand-written child whose windowMs is not a number is not windowed', () => {
    const loose = (name: string): DedupKeyStrategy =>
      ({ name, windowMs: null, keyFor: () => ({ key: name, parts: [{ label: 'p', value: name }] }) }) as DedupKeyStrategy;
    const strategy = composite({ of: [loose('a'), loose('b')] });
    expect('windowMs' in strategy).toBe(false);
    expect(strategy.keyFor({}).key).toBe('composite:a:b');
  });
});

describe('anyOf identities', () => {
  it('a single identity has no `also` and no window member', () => {
    expect(anyOf([eventId()]).keyFor({ id: 'a' })).toStrictEqual({ key: 'eventId:a', parts: [{ label: 'id', value: 'a' }] });
  });

  it('further unwindowed identities carry no window member', () => {
    const key = anyOf([eventId(), eventId({ path: 'detail.tenantId' })]).keyFor(genesys());
    expect(key).toStrictEqual({
      key: 'eventId:env-1',
      parts: [{ label: 'id', value: 'env-1' }],
      also: [{ key: 'eventId:t-9', parts: [{ label: 'detail.tenantId', value: 't-9' }] }],
    });
  });

  it('may hold several windowed children, each identity keeping its own window', () => {
    const perTenant = stateWindow({ entity: 'detail.tenantId', state: 'detail.status', time: 'detail.timestamp', windowMs: 1_000 });
    const key = anyOf([window500(), perTenant]).keyFor(genesys());
    expect(key.window).toEqual({ at: T0, windowMs: 500 });
    expect(key.also).toEqual([{ key: 'stateWindow:t-9:accepted', parts: expect.any(Array), window: { at: T0, windowMs: 1_000 } }]);
  });
});

describe('previewStrategy entries', () => {
  it('for an unwindowed strategy hold index, key and parts only', () => {
    expect(previewStrategy(eventId(), [{ id: 'a' }])).toStrictEqual([{ index: 0, key: 'eventId:a', parts: [{ label: 'id', value: 'a' }] }]);
  });

  it('for a windowed strategy also hold the window', () => {
    expect(previewStrategy(window500(), [genesys()])).toStrictEqual([
      {
        index: 0,
        key: 'stateWindow:conv-1:accepted',
        parts: [
          { label: 'detail.conversationId', value: 'conv-1' },
          { label: 'detail.status', value: 'accepted' },
        ],
        window: { at: T0, windowMs: 500 },
      },
    ]);
  });
});

describe('formatKey boundaries', () => {
  it('keeps a key of exactly MAX_KEY_LENGTH characters as it is', () => {
    const part = { label: 'p', value: 'a'.repeat(64) };
    const key = formatKey('abcde', [part, part, part]);
    expect(key).toBe(`abcde:${'a'.repeat(64)}:${'a'.repeat(64)}:${'a'.repeat(64)}`);
    expect(key).toHaveLength(MAX_KEY_LENGTH);
  });

  it('percent-encodes characters above the surrogate range that follow a lone surrogate', () => {
    expect(formatKey('x', [{ label: 'v', value: '\ud800\ue000' }])).toBe('x:%uD800%EE%80%80');
    expect(formatKey('x', [{ label: 'v', value: '\udc00\u{1F600}' }])).toBe('x:%uDC00%F0%9F%98%80');
  });
});
