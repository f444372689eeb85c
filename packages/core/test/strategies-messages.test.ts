import { describe, expect, it } from 'vitest';
import { KeyExtractionError } from '../src/errors.js';
import { anyOf, composite, contentHash, custom, eventId, formatKey, strategyFromConfig, type DedupKeyStrategy } from '../src/strategies/index.js';
import { configErrorOf } from './support/config-error.js';

// A configuration error is read by someone fixing an environment variable at deploy time: besides
// naming the field (strategies-config.test.ts), it must say what is expected there. And the few
// key-building rules that only show on unusual input (lone surrogates, hand-written strategies).

const window = { strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 };

describe('strategyFromConfig says what it expected', () => {
  it.each<[unknown, string, string]>([
    ['  ', '(root)', 'is an empty string; expected JSON like {"strategy":"eventId","path":"detail.eventId"}'],
    ['{oops', '(root)', 'is not valid JSON ('],
    ['{oops', '(root)', '); expected JSON like {"strategy":"eventId"'],
    [42, '(root)', 'must be a strategy config like {"strategy":"eventId","path":"detail.eventId"}, got'],
    [{ strategy: 'composite', of: [7] }, 'of[0]', 'must be a strategy config like'],
    [{}, 'strategy', 'is missing; expected one of "eventId", "stateWindow", "contentHash", "composite", "anyOf"'],
    [{ strategy: 7 }, 'strategy', 'must be a string, one of "eventId"'],
    [{ strategy: 'custom' }, 'strategy', '"custom" strategies are code only: pass custom((event) => key) instead of config'],
    [{ strategy: 'eventid' }, 'strategy', 'unknown strategy "eventid"; expected one of "eventId"'],
    [{ strategy: 'eventid' }, 'strategy', '(did you mean "eventId"?)'],
    [{ strategy: 'composite', of: undefined }, 'of', 'is missing; list the strategies to combine'],
    [{ strategy: 'anyOf' }, 'of', 'is missing; list the strategies to combine'],
    [{ strategy: 'anyOf', of: [] }, 'of', 'is empty; list at least one strategy to combine'],
    [{ strategy: 'composite', of: 'eventId' }, 'of', 'must be an array of strategy configs, got'],
    [{ strategy: 'eventId', path: 5 }, 'path', 'must be a path string like "detail.conversationId", got'],
    [{ strategy: 'eventId', path: 'a..b' }, 'path', 'path "a..b" has an empty segment'],
    [{ ...window, entity: undefined }, 'entity', 'is missing; expected a path like "detail.conversationId"'],
    [{ ...window, windowMs: undefined }, 'windowMs', 'is missing; expected milliseconds, e.g. 500'],
    [{ ...window, windowMs: '500' }, 'windowMs', 'must be a number of milliseconds, got'],
    [{ ...window, windowMs: 2.5 }, 'windowMs', 'must be a whole number of milliseconds, got 2.5'],
    [{ ...window, windowMs: 0 }, 'windowMs', 'must be positive, got 0'],
    [{ ...window, windowMs: 604_800_001 }, 'windowMs', 'must be at most 604800000 (7 days), got 604800001'],
    [{ strategy: 'contentHash', include: 'detail' }, 'include', 'must be an array of paths, got'],
    [{ strategy: 'contentHash', include: [] }, 'include', 'is empty; list at least one path, or leave the field out'],
    [{ strategy: 'contentHash', include: ['detail', 'detail'] }, 'include[1]', 'repeats "detail"'],
    [{ strategy: 'contentHash', include: ['detail.a'], exclude: ['detail'] }, 'exclude[0]', '"detail" removes all of the included path "detail.a"'],
    [{ strategy: 'contentHash', include: ['detail'], exclude: ['meta.a'] }, 'exclude[0]', '"meta.a" lies outside every include path, so it would never remove anything'],
    [{ strategy: 'eventId', paht: 'id' }, 'paht', 'is not a field of the eventId strategy; did you mean "path"?'],
    [{ strategy: 'eventId', zzzzzzzz: 1 }, 'zzzzzzzz', 'is not a field of the eventId strategy; its fields are "strategy", "path"'],
    [{ strategy: 'anyOf', of: [{ strategy: 'eventId' }], off: 1 }, 'off', 'is not a field of the anyOf strategy'],
    [{ strategy: 'composite', of: [{ strategy: 'anyOf', of: [{ strategy: 'eventId' }] }] }, 'of[0]', 'is an anyOf strategy: a composite makes one key, so put the composite inside anyOf instead'],
  ])('%j → %s: %s', (config, field, message) => {
    const error = configErrorOf(() => strategyFromConfig(config));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('a bad path keeps the parser’s SyntaxError as its cause', () => {
    expect(configErrorOf(() => strategyFromConfig({ strategy: 'eventId', path: 'a..b' })).cause).toBeInstanceOf(SyntaxError);
  });
});

describe('strategyFromConfig builds contentHash as configured', () => {
  const event = (detail: Record<string, unknown>, other = 'x') => ({ id: 'e', other, detail });

  it('include: only the included paths are hashed', () => {
    const strategy = strategyFromConfig({ strategy: 'contentHash', include: ['detail'] });
    expect(strategy.keyFor(event({ a: 1 }, 'x')).key).toBe(strategy.keyFor(event({ a: 1 }, 'y')).key);
    expect(strategy.keyFor(event({ a: 1 })).key).not.toBe(strategy.keyFor(event({ a: 2 })).key);
  });

  it('exclude alone, exclude with a wildcard, and an empty exclude list are accepted and honoured', () => {
    const alone = strategyFromConfig({ strategy: 'contentHash', exclude: ['other'] });
    expect(alone.keyFor(event({ a: 1 }, 'x')).key).toBe(alone.keyFor(event({ a: 1 }, 'y')).key);
    const wildcard = strategyFromConfig({ strategy: 'contentHash', include: ['detail'], exclude: ['detail.*.ts'] });
    expect(wildcard.keyFor(event({ a: { ts: 1, v: 1 } })).key).toBe(wildcard.keyFor(event({ a: { ts: 2, v: 1 } })).key);
    expect(wildcard.keyFor(event({ a: { ts: 1, v: 1 } })).key).not.toBe(wildcard.keyFor(event({ a: { ts: 1, v: 2 } })).key);
    const none = strategyFromConfig({ strategy: 'contentHash', include: ['detail'], exclude: [] });
    expect(none.keyFor(event({ a: 1 })).key).toBe(strategyFromConfig({ strategy: 'contentHash', include: ['detail'] }).keyFor(event({ a: 1 })).key);
  });

  it('an error from reading the event that is not about its content propagates as itself', () => {
    const boom = new Error('getter failed');
    const hostile = { id: 'e', get detail() { throw boom; } };
    expect(() => contentHash().keyFor(hostile)).toThrow(boom);
  });
});

describe('factories say what they expected', () => {
  it.each<[string, () => unknown, string, string]>([
    ['anyOf without options', () => anyOf(undefined as never), '(root)', 'expected an options object like { of: [eventId(), stateWindow({ … })] }'],
    ['anyOf with an unknown field', () => anyOf({ of: [eventId()], from: 1 } as never), 'from', 'is not a field of the anyOf strategy'],
    ['composite with an anyOf child', () => composite({ of: [anyOf([eventId()])] }), 'of[0]', 'is an anyOf strategy'],
    ['composite with a non-strategy', () => composite({ of: [{} as never] }), 'of[0]', 'must be a strategy (an object with keyFor), got'],
    ['composite with two windowed children', () => composite({ of: [strategyFromConfig(window), strategyFromConfig(window)] }), 'of', 'has 2 windowed strategies (of[0], of[1]); a key carries at most one window'],
    ['eventId with an unknown field', () => eventId({ paths: 'id' } as never), 'paths', 'is not a field of the eventId strategy'],
    ['custom without a function', () => custom('k' as never), 'fn', 'must be a function (event) => string, got'],
    ['custom with a bad name', () => custom(() => 'k', 'has space'), 'name', 'must be 1-64 letters, digits, "_", "." or "-" (it starts every key), got "has space"'],
    ['custom with a name that is not a string', () => custom(() => 'k', 5 as never), 'name', '(it starts every key), got'],
  ])('%s', (_label, build, field, message) => {
    const error = configErrorOf(build);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('a composite of hand-written children that both return a window fails when keying, naming both', () => {
    const windowed = (name: string): DedupKeyStrategy => ({ name, keyFor: () => ({ key: name, parts: [{ label: 'p', value: name }], window: { at: 1, windowMs: 5 } }) });
    const error = configErrorOf(() => composite({ of: [windowed('a'), windowed('b')] }).keyFor({}));
    expect(error.message).toContain('of[0] and of[1] both returned a window; a key carries at most one');
  });
});

describe('formatKey on unusual input', () => {
  it('refuses a bad strategy name and a part that is not a string, saying which and what it is', () => {
    expect(() => formatKey('a:b', [])).toThrow('[idemkit] strategy name "a:b" must be 1-64 letters, digits, "_", "." or "-"');
    expect(() => formatKey('x', [{ label: 'tenant', value: null as never }])).toThrow('key part "tenant" is null, expected a string');
    expect(() => formatKey('x', [{ label: 'tenant', value: 7 as never }])).toThrow('key part "tenant" is number, expected a string');
  });

  it('writes a lone surrogate as %uXXXX and every other character as encodeURIComponent does', () => {
    expect(formatKey('x', [{ label: 'v', value: 'a:\ud800b' }])).toBe('x:a%3A%uD800b');
    expect(formatKey('x', [{ label: 'v', value: '\udfff' }])).toBe('x:%uDFFF');
    expect(formatKey('x', [{ label: 'v', value: '\ud7ff\udc00' }])).toBe(`x:${encodeURIComponent('\ud7ff')}%uDC00`);
  });

  it('digests of values with lone surrogates never equal digests of well-formed values', () => {
    // The UTF-16 bytes of `lone` are valid UTF-8 for `wellFormed`: without a marker the digests would collide.
    const lone = '\udc00\u00a9'.repeat(20);
    const wellFormed = Buffer.from(lone, 'utf16le').toString('utf8');
    expect(Buffer.from(wellFormed, 'utf8').equals(Buffer.from(lone, 'utf16le'))).toBe(true);
    const [a, b] = [formatKey('x', [{ label: 'v', value: lone }]), formatKey('x', [{ label: 'v', value: wellFormed }])];
    expect(a).toMatch(/^x:#[A-Za-z0-9_-]{22}$/);
    expect(b).toMatch(/^x:#[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
  });
});

describe('key errors from events', () => {
  it('an included path missing from the event names the path', () => {
    const error = (() => {
      try {
        contentHash({ include: ['detail.order'] }).keyFor({ id: 'e-9', detail: {} });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(KeyExtractionError);
    expect((error as KeyExtractionError).message).toContain('"detail.order" is missing');
  });
});
