import { describe, expect, it } from 'vitest';
import { ConfigError, KeyExtractionError } from '../src/errors.js';
import {
  anyOf,
  composite,
  contentHash,
  custom,
  eventId,
  MAX_KEY_LENGTH,
  previewStrategy,
  sha256Base64url,
  stateWindow,
  strategyFromConfig,
  type DedupKey,
  type DedupKeyStrategy,
} from '../src/strategies/index.js';

// 2024-03-07T10:15:30.000Z: a realistic epoch-ms base.
const T0 = 1_709_806_530_000;

const genesys = (timestamp: unknown, overrides: Record<string, unknown> = {}) => ({
  id: 'env-1',
  source: 'genesys',
  detail: { conversationId: 'conv-1', status: 'accepted', timestamp, ...overrides },
});

const window500 = () =>
  stateWindow({ entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 });

function extractionError(fn: () => unknown): KeyExtractionError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyExtractionError);
    return error as KeyExtractionError;
  }
  throw new Error('expected a KeyExtractionError');
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('eventId', () => {
  it('keys on the envelope id by default', () => {
    const key = eventId().keyFor({ id: 'abc-123', detail: {} });
    expect(key).toEqual({ key: 'eventId:abc-123', parts: [{ label: 'id', value: 'abc-123' }] });
    expect(eventId().name).toBe('eventId');
  });

  it('reads nested paths and array indices', () => {
    expect(eventId({ path: 'detail.eventBody.conversationId' }).keyFor({ detail: { eventBody: { conversationId: 'c-9' } } }).key).toBe(
      'eventId:c-9',
    );
    expect(eventId({ path: 'items[1].id' }).keyFor({ items: [{ id: 'a' }, { id: 'b' }] }).key).toBe('eventId:b');
  });

  it('keeps a value with whitespace around visible characters as it is', () => {
    expect(eventId({ path: 'detail.eventId' }).keyFor({ detail: { eventId: ' a\u00a0' } }).key).toBe('eventId:%20a%C2%A0');
  });

  it('turns a finite number into its string form', () => {
    expect(eventId({ path: 'detail.n' }).keyFor({ detail: { n: 42 } }).key).toBe('eventId:42');
  });

  it.each([
    ['missing', { id: 'env-7', detail: {} }, 'is missing'],
    ['null', { id: 'env-7', detail: { eventId: null } }, 'is null'],
    ['empty', { id: 'env-7', detail: { eventId: '' } }, 'is empty'],
    ['blank', { id: 'env-7', detail: { eventId: '   ' } }, 'is blank'],
    ['tab-and-newline', { id: 'env-7', detail: { eventId: '\t\n' } }, 'is blank'],
    ['no-break-space', { id: 'env-7', detail: { eventId: '\u00a0\u3000' } }, 'is blank'],
    ['boolean', { id: 'env-7', detail: { eventId: true } }, 'is a boolean, expected a string or number'],
    ['object', { id: 'env-7', detail: { eventId: { a: 1 } } }, 'is an object, expected a string or number'],
    ['array', { id: 'env-7', detail: { eventId: ['a'] } }, 'is an array, expected a string or number'],
    ['NaN', { id: 'env-7', detail: { eventId: Number.NaN } }, 'expected a finite number'],
    ['printed undefined', { id: 'env-7', detail: { eventId: 'undefined' } }, 'is "undefined"'],
  ])('rejects a %s field with a KeyExtractionError naming path and envelope id', (_, event, problem) => {
    const error = extractionError(() => eventId({ path: 'detail.eventId' }).keyFor(event));
    expect(error.path).toBe('detail.eventId');
    expect(error.eventId).toBe('env-7');
    expect(error.message).toContain(problem);
    expect(error.message).toContain('(event id env-7)');
  });

  it('leaves the envelope id out when the event has none', () => {
    const error = extractionError(() => eventId().keyFor({ detail: {} }));
    expect(error.path).toBe('id');
    expect(error.eventId).toBeUndefined();
  });

  it('does not read inherited properties such as constructor', () => {
    const error = extractionError(() => eventId({ path: 'constructor' }).keyFor({ id: 'x' }));
    expect(error.message).toContain('is missing');
  });

  it('rejects a string instead of options with a ConfigError', () => {
    expect(configError(() => eventId('detail.id' as never)).field).toBe('(root)');
  });
});

describe('stateWindow', () => {
  it('gives events 10 ms apart across a 500 ms bucket boundary the same key: the window slides', () => {
    const strategy = window500();
    const first = strategy.keyFor(genesys(T0 + 999));
    const second = strategy.keyFor(genesys(T0 + 1009));
    expect(Math.floor((T0 + 999) / 500)).not.toBe(Math.floor((T0 + 1009) / 500));
    expect(first.key).toBe('stateWindow:conv-1:accepted');
    expect(second.key).toBe(first.key);
    expect(first.window).toEqual({ at: T0 + 999, windowMs: 500 });
    expect(second.window).toEqual({ at: T0 + 1009, windowMs: 500 });
  });

  it('keeps the time out of the key', () => {
    const key = window500().keyFor(genesys(T0 + 123));
    expect(key.key).not.toContain(String(T0));
    expect(key.parts.map((part) => part.label)).toEqual(['detail.conversationId', 'detail.status']);
  });

  it('reads ISO-8601, epoch seconds, epoch ms and digit strings as the same instant', () => {
    const strategy = window500();
    const iso = strategy.keyFor(genesys('2024-03-07T10:15:30.000Z')).window;
    const isoOffset = strategy.keyFor(genesys('2024-03-07T12:15:30+02:00')).window;
    const seconds = strategy.keyFor(genesys(T0 / 1000)).window;
    const ms = strategy.keyFor(genesys(T0)).window;
    const digits = strategy.keyFor(genesys(String(T0))).window;
    const digitSeconds = strategy.keyFor(genesys(String(T0 / 1000))).window;
    expect(iso?.at).toBe(T0);
    for (const window of [isoOffset, seconds, ms, digits, digitSeconds]) expect(window).toEqual(iso);
  });

  it('reports an unparseable time as "is not a valid time" naming the path', () => {
    const error = extractionError(() => window500().keyFor(genesys('yesterday-ish')));
    expect(error.path).toBe('detail.timestamp');
    expect(error.eventId).toBe('env-1');
    expect(error.message).toContain('is not a valid time');
  });

  it('reports a missing entity before anything else', () => {
    const error = extractionError(() => window500().keyFor(genesys(T0, { conversationId: undefined })));
    expect(error.path).toBe('detail.conversationId');
  });

  it('exposes its window size for the engine and composites', () => {
    expect(window500().windowMs).toBe(500);
  });

  it.each([
    ['windowMs', { entity: 'a', state: 'b', time: 'c' }],
    ['windowMs', { entity: 'a', state: 'b', time: 'c', windowMs: 0 }],
    ['entity', { state: 'b', time: 'c', windowMs: 5 }],
    ['time', { entity: 'a', state: 'b', time: 'c.*', windowMs: 5 }],
    ['windowMS', { entity: 'a', state: 'b', time: 'c', windowMs: 5, windowMS: 5 }],
  ])('rejects bad options naming %s', (field, options) => {
    expect(configError(() => stateWindow(options as never)).field).toBe(field);
  });
});

describe('contentHash', () => {
  const event = {
    id: 'env-1',
    detail: { b: 1, a: { y: [1, 2], x: 'z' }, metadata: { timestamp: '2024-03-07T10:15:30Z', source: 'x' } },
  };

  it('hashes the canonical JSON of the event by default', () => {
    const key = contentHash().keyFor({ b: 2, a: 1 });
    expect(key.key).toBe(`contentHash:${sha256Base64url('{"a":1,"b":2}')}`);
    expect(key.parts).toHaveLength(1);
  });

  it('hashes an object of the included paths', () => {
    const key = contentHash({ include: ['detail.a', 'id'] }).keyFor(event);
    expect(key.key).toBe(`contentHash:${sha256Base64url('{"detail.a":{"x":"z","y":[1,2]},"id":"env-1"}')}`);
  });

  it('is unchanged by key order and by excluded fields, and changed by kept ones', () => {
    const strategy = contentHash({ include: ['detail'], exclude: ['detail.metadata.timestamp'] });
    const reordered = {
      detail: { metadata: { source: 'x', timestamp: '2099-01-01T00:00:00Z' }, a: { x: 'z', y: [1, 2] }, b: 1 },
      id: 'another-envelope',
    };
    expect(strategy.keyFor(reordered).key).toBe(strategy.keyFor(event).key);
    expect(strategy.keyFor({ ...reordered, detail: { ...reordered.detail, b: 2 } }).key).not.toBe(strategy.keyFor(event).key);
  });

  it('excludes through * segments in objects and arrays', () => {
    const strategy = contentHash({ exclude: ['detail.participants.*.updatedAt'] });
    const a = { detail: { participants: [{ id: 'p1', updatedAt: 1 }, { id: 'p2', updatedAt: 2 }] } };
    const b = { detail: { participants: [{ id: 'p1', updatedAt: 7 }, { id: 'p2' }] } };
    const c = { detail: { participants: [{ id: 'p1', updatedAt: 7 }, { id: 'p3' }] } };
    expect(strategy.keyFor(a).key).toBe(strategy.keyFor(b).key);
    expect(strategy.keyFor(c).key).not.toBe(strategy.keyFor(a).key);
  });

  it('does not modify the event it hashes', () => {
    const input = structuredClone(event);
    contentHash({ include: ['detail'], exclude: ['detail.metadata.timestamp'] }).keyFor(input);
    expect(input).toEqual(event);
  });

  it('reports a missing included path', () => {
    const error = extractionError(() => contentHash({ include: ['detail.missing'] }).keyFor(event));
    expect(error.path).toBe('detail.missing');
    expect(error.eventId).toBe('env-1');
  });

  it('turns a value JSON cannot carry into a KeyExtractionError naming where it is', () => {
    const error = extractionError(() => contentHash().keyFor({ id: 'env-2', detail: { amount: Number.NaN } }));
    expect(error.path).toBe('detail.amount');
    expect(error.eventId).toBe('env-2');
  });

  it.each([
    ['exclude[0]', { include: ['detail'], exclude: ['details.metadata'] }],
    ['exclude[1]', { include: ['detail.a'], exclude: ['detail.a.x', 'detail'] }],
    ['include', { include: [] }],
    ['include[1]', { include: ['a', 'a'] }],
    ['include[0]', { include: ['a.*'] }],
    ['exclude', { exclude: 'detail.x' }],
  ])('rejects bad options naming %s', (field, options) => {
    expect(configError(() => contentHash(options as never)).field).toBe(field);
  });
});

describe('composite', () => {
  const tenant = eventId({ path: 'detail.tenantId' });

  it('joins the children parts, prefixing labels by child name, and takes the windowed child window', () => {
    const strategy = composite({ of: [tenant, window500()] });
    const key = strategy.keyFor(genesys(T0, { tenantId: 't-9' }));
    expect(key.key).toBe('composite:t-9:conv-1:accepted');
    expect(key.parts.map((part) => part.label)).toEqual([
      'eventId:detail.tenantId',
      'stateWindow:detail.conversationId',
      'stateWindow:detail.status',
    ]);
    expect(key.window).toEqual({ at: T0, windowMs: 500 });
    expect(strategy.windowMs).toBe(500);
  });

  it('has no window when no child has one', () => {
    const key = composite({ of: [tenant, eventId()] }).keyFor(genesys(T0, { tenantId: 't-9' }));
    expect(key.key).toBe('composite:t-9:env-1');
    expect(key.window).toBeUndefined();
  });

  it('rejects two windowed children on field "of"', () => {
    const error = configError(() => composite({ of: [window500(), tenant, window500()] }));
    expect(error.field).toBe('of');
    expect(error.message).toContain('of[0], of[2]');
  });

  it('rejects two windows found only at key time (hand-written children)', () => {
    const windowed: DedupKeyStrategy = {
      name: 'mine',
      keyFor: (): DedupKey => ({ key: 'mine:x', parts: [{ label: 'x', value: 'x' }], window: { at: 1, windowMs: 5 } }),
    };
    const strategy = composite({ of: [windowed, windowed] });
    expect(configError(() => strategy.keyFor({})).field).toBe('of');
  });

  it('rejects an empty or missing list and a non-strategy on its position', () => {
    expect(configError(() => composite({ of: [] })).field).toBe('of');
    expect(configError(() => composite({} as never)).field).toBe('of');
    expect(configError(() => composite({ of: [tenant, { name: 'x' }] as never })).field).toBe('of[1]');
  });

  it('passes on a child KeyExtractionError', () => {
    const error = extractionError(() => composite({ of: [tenant, window500()] }).keyFor(genesys(T0)));
    expect(error.path).toBe('detail.tenantId');
  });
});

describe('custom', () => {
  it('uses the function result under the given name', () => {
    const strategy = custom((event: { detail: { orderId: string } }) => `order-${event.detail.orderId}`, 'order');
    expect(strategy.name).toBe('order');
    expect(strategy.keyFor({ detail: { orderId: 'o:1' } })).toEqual({
      key: 'order:order-o%3A1',
      parts: [{ label: '<custom:order>', value: 'order-o:1' }],
    });
    expect(custom(() => 'k').keyFor({}).key).toBe('custom:k');
  });

  it.each([
    ['an empty string', () => '', 'is empty'],
    ['undefined', () => undefined as unknown as string, 'returned undefined'],
    ['a number', () => 5 as unknown as string, 'returned a number'],
    ['a printed missing value', (e: { x?: string }) => `k-${e.x}`, 'contains "undefined"'],
  ])('rejects %s with a KeyExtractionError on <custom:NAME>', (_, fn, problem) => {
    const error = extractionError(() => custom(fn as (e: unknown) => string, 'mine').keyFor({ id: 'env-3' }));
    expect(error.path).toBe('<custom:mine>');
    expect(error.eventId).toBe('env-3');
    expect(error.message).toContain(problem);
  });

  it('rejects a bad name or a non-function', () => {
    expect(configError(() => custom(() => 'k', 'a:b')).field).toBe('name');
    expect(configError(() => custom('k' as never)).field).toBe('fn');
  });

  it('refuses a built-in strategy’s name, so a custom key never shares its key space', () => {
    for (const name of ['eventId', 'stateWindow', 'contentHash', 'composite', 'anyOf']) {
      expect(configError(() => custom(() => 'k', name)).field).toBe('name');
    }
  });

  it('accepts keys that merely contain the word undefined, and refuses it as a printed token', () => {
    expect(custom(() => 'undefinedness-report', 'mine').keyFor({}).key).toBe('mine:undefinedness-report');
    expect(() => custom(() => 'order:undefined:7', 'mine').keyFor({})).toThrow('contains "undefined"');
  });
});

describe('key fields that merely contain "undefined"', () => {
  it('are data: accepted (only a field that is exactly "undefined" was printed from a missing value)', () => {
    expect(eventId({ path: 'detail.eventId' }).keyFor({ detail: { eventId: 'order-undefined-behaviour' } }).key).toBe(
      'eventId:order-undefined-behaviour',
    );
    expect(eventId({ path: 'detail.email' }).keyFor({ detail: { email: 'undefined@example.com' } }).key).toContain('undefined');
  });
});

describe('key length', () => {
  it('hashes long values and keeps every key within MAX_KEY_LENGTH', () => {
    const long = 'x'.repeat(500);
    const key = eventId().keyFor({ id: long });
    expect(key.key).toBe(`eventId:#${sha256Base64url(long).slice(0, 22)}`);
    expect(key.parts[0]?.value).toBe(long);

    const wide = composite({ of: Array.from({ length: 6 }, (_, i) => eventId({ path: `p${i}` })) });
    const event = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`p${i}`, `${'y'.repeat(60)}${i}`]));
    const wideKey = wide.keyFor(event).key;
    expect(wideKey.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(wideKey).toMatch(/^composite:#[A-Za-z0-9_-]{43}$/);
  });
});

describe('previewStrategy', () => {
  it('marks an event 10 ms after another as its duplicate under a 500 ms window', () => {
    const preview = previewStrategy(window500(), [genesys(T0 + 999), genesys(T0 + 1009, { id: 'other' })]);
    expect(preview[0]).toMatchObject({ index: 0, key: 'stateWindow:conv-1:accepted' });
    expect(preview[0]?.duplicateOf).toBeUndefined();
    expect(preview[1]).toMatchObject({ index: 1, key: 'stateWindow:conv-1:accepted', duplicateOf: 0 });
  });

  it('says events exactly windowMs apart are distinct', () => {
    const preview = previewStrategy(window500(), [genesys(T0), genesys(T0 + 500)]);
    expect(preview.map((entry) => entry.duplicateOf)).toEqual([undefined, undefined]);
  });

  it('measures from the last non-duplicate event, not the last event', () => {
    // 0 accepted; 400 dup of 0; 800 is 800 from the anchor 0 → new anchor; 1100 dup of the event at 800.
    const preview = previewStrategy(window500(), [genesys(T0), genesys(T0 + 400), genesys(T0 + 800), genesys(T0 + 1100)]);
    expect(preview.map((entry) => entry.duplicateOf)).toEqual([undefined, 0, undefined, 2]);
  });

  it('treats an earlier time (out-of-order delivery) within the window as a duplicate', () => {
    const preview = previewStrategy(window500(), [genesys(T0 + 1000), genesys(T0 + 600)]);
    expect(preview[1]?.duplicateOf).toBe(0);
  });

  it('separates other states and entities, dedups repeated unwindowed keys, and reports errors', () => {
    const preview = previewStrategy(eventId(), [{ id: 'a' }, { id: 'b' }, { id: 'a' }, { detail: {} }]);
    expect(preview.map((entry) => entry.duplicateOf)).toEqual([undefined, undefined, 0, undefined]);
    expect(preview[3]?.error).toBeInstanceOf(KeyExtractionError);
    expect(preview[3]?.key).toBeUndefined();

    const states = previewStrategy(window500(), [genesys(T0), genesys(T0 + 1, { status: 'connected' })]);
    expect(states[1]?.duplicateOf).toBeUndefined();
    expect(states[1]?.parts?.[1]).toEqual({ label: 'detail.status', value: 'connected' });
  });

  it('remembers every occurrence: a late redelivery after a newer occurrence is still a duplicate', () => {
    // The single-anchor model re-ran the third event: the occurrence at T0 + 10 s had moved the anchor.
    const preview = previewStrategy(window500(), [genesys(T0), genesys(T0 + 10_000), genesys(T0), genesys(T0 + 120, { id: 're-send' })]);
    expect(preview.map((entry) => entry.duplicateOf)).toEqual([undefined, undefined, 0, 0]);
  });

  it('anyOf: a duplicate when any identity matches, and says which one', () => {
    const strategy = anyOf([eventId(), window500()]);
    const preview = previewStrategy(strategy, [
      { ...genesys(T0), id: 'e-1' },
      { ...genesys(T0 + 60_000), id: 'e-1' }, // same envelope id, state time far away: the id matches
      { ...genesys(T0 + 100), id: 'e-2' }, // new id, inside the window: the state window matches
      { ...genesys(T0 + 120_000), id: 'e-3' }, // a legitimate repeat
    ]);
    expect(preview.map((entry) => entry.duplicateOf)).toEqual([undefined, 0, 0, undefined]);
    expect(preview[1]!.matchedKey).toBe('eventId:e-1');
    expect(preview[0]!.key).toBe('eventId:e-1');
    expect(preview[2]!.matchedKey).toBe('stateWindow:conv-1:accepted');
    expect(preview[0]!.also?.map((identity) => identity.key)).toEqual(['stateWindow:conv-1:accepted']);
  });

  it('rethrows errors that are not about the event', () => {
    const broken: DedupKeyStrategy = {
      name: 'broken',
      keyFor: () => {
        throw new RangeError('bug');
      },
    };
    expect(() => previewStrategy(broken, [{}])).toThrow(RangeError);
  });
});

describe('anyOf', () => {
  it('gives the first child’s key and the others as further identities, each in its own key space', () => {
    const strategy = anyOf({ of: [eventId(), window500(), contentHash({ include: ['detail'] })] });
    const key = strategy.keyFor(genesys(T0));
    expect(key.key).toBe(eventId().keyFor(genesys(T0)).key);
    expect(key.also?.map((identity) => identity.key.split(':')[0])).toEqual(['stateWindow', 'contentHash']);
    expect(key.also?.[0]!.window).toEqual({ at: T0, windowMs: 500 });
  });

  it('flattens nested anyOf, keeps a repeated identity once, and builds from JSON config', () => {
    const nested = anyOf([anyOf([eventId(), window500()]), eventId()]);
    expect(nested.keyFor(genesys(T0)).also?.map((identity) => identity.key)).toEqual(['stateWindow:conv-1:accepted']);
    const fromConfig = strategyFromConfig({
      strategy: 'anyOf',
      of: [{ strategy: 'eventId' }, { strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 }],
    });
    expect(fromConfig.keyFor(genesys(T0))).toEqual(anyOf([eventId(), window500()]).keyFor(genesys(T0)));
  });

  it('refuses an anyOf inside a composite, naming where it is', () => {
    expect(() => composite({ of: [eventId(), anyOf([eventId()])] })).toThrow(/of\[1\]/);
    expect(() => strategyFromConfig({ strategy: 'composite', of: [{ strategy: 'anyOf', of: [{ strategy: 'eventId' }] }] })).toThrow(
      expect.objectContaining({ field: 'of[0]' }),
    );
    expect(() => strategyFromConfig({ strategy: 'anyOf', of: [] })).toThrow(expect.objectContaining({ field: 'of' }));
  });
});

describe('stateWindow with the small millisecond times of DESIGN.md', () => {
  it('999 ms and 1009 ms with a 500 ms window are duplicates although floor(t/500) differs', () => {
    const strategy = stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 });
    const events = [999, 1009].map((t) => ({ c: 'conv', s: 'accepted', t }));
    const [first, second] = events.map((event) => strategy.keyFor(event));
    expect(first!.key).toBe(second!.key);
    expect([first!.window!.at, second!.window!.at]).toEqual([999, 1009]);
    expect(previewStrategy(strategy, events)[1]!.duplicateOf).toBe(0);
  });

  it('epoch seconds in the plausible range still read as seconds', () => {
    const strategy = stateWindow({ entity: 'c', state: 's', time: 't', windowMs: 500 });
    expect(strategy.keyFor({ c: 'x', s: 'y', t: 1_700_000_000 }).window!.at).toBe(1_700_000_000_000);
    expect(strategy.keyFor({ c: 'x', s: 'y', t: 99_999 }).window!.at).toBe(99_999);
  });
});
