import { describe, expect, it } from 'vitest';
import { KeyExtractionError } from '../src/errors.js';
import { CanonicalJsonError } from '../src/internal/canonical-json.js';
import { parsePath, readKeyField, readPath } from '../src/internal/path.js';
import { parseEventTime } from '../src/internal/time.js';
import { canonicalJson, formatKey, MAX_KEY_LENGTH, sha256Base64url } from '../src/strategies/index.js';

describe('paths', () => {
  const event = { detail: { eventBody: { conversationId: 'c-1' }, items: [{ id: 'i0' }, { id: 'i1' }], n: 0 } };

  it('read dotted keys, bracket indices and digit keys on arrays', () => {
    expect(readPath(event, parsePath('detail.eventBody.conversationId'))).toBe('c-1');
    expect(readPath(event, parsePath('detail.items[1].id'))).toBe('i1');
    expect(readPath(event, parsePath('detail.items.0.id'))).toBe('i0');
    expect(readPath([{ a: 1 }], parsePath('[0].a'))).toBe(1);
    expect(readPath(event, parsePath('detail.n'))).toBe(0);
  });

  it('read absent steps as undefined, without falling into prototypes', () => {
    expect(readPath(event, parsePath('detail.items[5].id'))).toBeUndefined();
    expect(readPath(event, parsePath('detail.eventBody.conversationId.length'))).toBeUndefined();
    expect(readPath(event, parsePath('detail.items.01'))).toBeUndefined();
    expect(readPath({}, parsePath('toString'))).toBeUndefined();
    expect(readPath(null, parsePath('a'))).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['a..b', 'empty segment'],
    ['a.', 'empty segment'],
    ['a[x]', 'malformed'],
    ['a.[0]', 'no key before it'],
    [' a', 'spaces'],
    ['a.*.b', 'only exclude paths'],
  ])('reject %j (%s)', (path, problem) => {
    expect(() => parsePath(path)).toThrow(problem);
  });

  it('accept wildcards when asked', () => {
    expect(parsePath('a.*.b[*]', { wildcards: true }).segments.map((s) => s.kind)).toEqual(['key', 'any', 'key', 'any']);
  });

  it('read key fields as strings and never as "undefined"', () => {
    expect(readKeyField({ a: 1.5 }, parsePath('a'))).toBe('1.5');
    expect(readKeyField({ a: -0 }, parsePath('a'))).toBe('0');
    expect(() => readKeyField({ id: 'e', a: Number.POSITIVE_INFINITY }, parsePath('a'))).toThrow(KeyExtractionError);
    expect(() => readKeyField({ id: 'e', a: 'undefined' }, parsePath('a'))).toThrow('is "undefined"');
    expect(readKeyField({ id: 'e', a: 'not-undefined' }, parsePath('a'))).toBe('not-undefined');
  });
});

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    // U+1F600 (surrogates D83D DE00) sorts before U+E000 in UTF-16 order, although after it by code point.
    expect(canonicalJson({ '\uE000': 2, '\u{1F600}': 1, b: 3, B: 4, a: { d: 1, c: [true, null] } })).toBe(
      '{"B":4,"a":{"c":[true,null],"d":1},"b":3,"\u{1F600}":1,"\uE000":2}',
    );
  });

  it('writes numbers and strings as JSON does', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1, 100, 'a"\u0001\u2028', 'é'])).toBe('[1e+21,1e-7,0,0.1,100,"a\\"\\u0001\u2028","é"]');
  });

  it('honours toJSON, drops undefined members and nulls undefined elements', () => {
    const withToJSON = { toJSON: (key: string) => `called with ${key}` };
    expect(canonicalJson({ d: new Date(0), u: undefined, arr: [undefined, 1], t: withToJSON })).toBe(
      '{"arr":[null,1],"d":"1970-01-01T00:00:00.000Z","t":"called with t"}',
    );
  });

  it('equals JSON.stringify for already sorted plain data', () => {
    const value = { a: [1, 'two', { b: false, c: null }], d: 'x' };
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });

  it.each<[string, unknown, string]>([
    ['NaN', { a: { b: Number.NaN } }, 'a.b'],
    ['Infinity', [1, Number.POSITIVE_INFINITY], '[1]'],
    ['BigInt', { n: 10n }, 'n'],
    ['function', { f: () => 1 }, 'f'],
    ['symbol', { items: [{ s: Symbol('x') }] }, 'items[0].s'],
    ['Map', { m: new Map() }, 'm'],
    ['undefined at the root', undefined, '(root)'],
  ])('throws a TypeError naming the path of a %s', (_, value, path) => {
    try {
      canonicalJson(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as CanonicalJsonError).path).toBe(path);
      expect((error as Error).message).toContain(path);
    }
  });

  it('quotes keys the dotted path syntax cannot write', () => {
    expect(() => canonicalJson({ '': { 'a.b': [Number.NaN] } })).toThrow('value at [""]["a.b"][0] is NaN');
  });

  it('rejects cycles but accepts shared references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow('circular');
  });
});

describe('sha256Base64url', () => {
  it('matches the SHA-256 test vector', () => {
    expect(sha256Base64url('abc')).toBe('ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
  });
});

describe('parseEventTime', () => {
  const at = Date.UTC(2024, 2, 7, 10, 15, 30, 123);

  it.each<[string, unknown]>([
    ['ISO with Z', '2024-03-07T10:15:30.123Z'],
    ['ISO with offset', '2024-03-07T05:15:30.123-05:00'],
    ['ISO without offset (UTC)', '2024-03-07T10:15:30.123'],
    ['ISO with microseconds', '2024-03-07T10:15:30.123000Z'],
    ['epoch ms', at],
    ['epoch ms digits', String(at)],
    ['epoch seconds with fraction', at / 1000],
  ])('reads %s', (_, value) => {
    expect(parseEventTime(value, 't')).toBe(at);
  });

  it('reads whole epoch seconds and date-only ISO', () => {
    expect(parseEventTime(1_709_806_530, 't')).toBe(1_709_806_530_000);
    expect(parseEventTime('1709806530', 't')).toBe(1_709_806_530_000);
    expect(parseEventTime('2024-03-07', 't')).toBe(Date.UTC(2024, 2, 7));
  });

  it.each<[unknown, string]>([
    ['2024-02-30T00:00:00Z', 'is not a valid time'],
    ['2024-03-07T25:00:00Z', 'is not a valid time'],
    ['March 7, 2024', 'is not a valid time'],
    ['-5', 'is not a valid time'],
    [-5, 'is not a valid time'],
    [Number.NaN, 'is not a valid time'],
    ['', 'is empty'],
    [undefined, 'is missing'],
    [true, 'is a boolean'],
  ])('rejects %j (%s) naming the path and event id', (value, problem) => {
    try {
      parseEventTime(value, 'detail.timestamp', 'env-1');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KeyExtractionError);
      expect((error as KeyExtractionError).path).toBe('detail.timestamp');
      expect((error as KeyExtractionError).eventId).toBe('env-1');
      expect((error as Error).message).toContain(problem);
    }
  });
});

describe('formatKey', () => {
  it('joins encoded parts after the strategy name', () => {
    expect(formatKey('s', [{ label: 'a', value: 'x y' }, { label: 'b', value: 'c:d' }])).toBe('s:x%20y:c%3Ad');
    expect(formatKey('s', [])).toBe('s');
  });

  it('keeps part lists apart even when values contain ":"', () => {
    const one = formatKey('s', [{ label: 'a', value: 'a:b' }]);
    const two = formatKey('s', [{ label: 'a', value: 'a' }, { label: 'b', value: 'b' }]);
    expect(one).not.toBe(two);
  });

  it('hashes a part longer than 64 encoded characters, and only such parts', () => {
    const exact = 'a'.repeat(64);
    expect(formatKey('s', [{ label: 'a', value: exact }])).toBe(`s:${exact}`);
    // 22 characters encode to 66.
    const encodedLong = ':'.repeat(22);
    expect(formatKey('s', [{ label: 'a', value: encodedLong }])).toBe(`s:#${sha256Base64url(encodedLong).slice(0, 22)}`);
  });

  it('hashes everything after the name when the key would pass MAX_KEY_LENGTH', () => {
    const parts = Array.from({ length: 4 }, (_, i) => ({ label: `p${i}`, value: `${'v'.repeat(60)}${i}` }));
    const rest = parts.map((part) => part.value).join(':');
    const key = formatKey('name', parts);
    expect(key).toBe(`name:#${sha256Base64url(rest)}`);
    expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
  });

  it('encodes lone surrogates without throwing and keeps them distinct', () => {
    const a = formatKey('s', [{ label: 'a', value: '\uD800' }]);
    const b = formatKey('s', [{ label: 'a', value: '\uD801' }]);
    expect(a).toBe('s:%uD800');
    expect(a).not.toBe(b);
    const longA = formatKey('s', [{ label: 'a', value: `${'x'.repeat(70)}\uD800` }]);
    const longB = formatKey('s', [{ label: 'a', value: `${'x'.repeat(70)}\uD801` }]);
    expect(longA).not.toBe(longB);
  });

  it('rejects names that could break the key format, and non-string parts', () => {
    expect(() => formatKey('a:b', [])).toThrow(TypeError);
    expect(() => formatKey('', [])).toThrow(TypeError);
    // A valid name is remembered between calls: an invalid one after it is still refused.
    expect(formatKey('valid', [])).toBe('valid');
    expect(() => formatKey('a:b', [])).toThrow(TypeError);
    expect(() => formatKey(undefined as unknown as string, [])).toThrow(TypeError);
    expect(() => formatKey('s', [{ label: 'a', value: undefined as unknown as string }])).toThrow('expected a string');
  });
});
