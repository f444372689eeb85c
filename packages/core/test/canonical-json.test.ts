import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, IdempotencyEngine, KeyExtractionError, MemoryStore } from '../src/index.js';

// The canonical encoder is a recursive pass for shallow values, handing over to one iterative pass
// (no recursion, no intermediate strings per level) for deep ones and for values it must refuse;
// these pin its output to RFC 8785, to a plain recursive reference, and the two passes to each other.

/** The obvious recursive canonical JSON, as a reference for generated values. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value);
}

describe('canonical JSON (RFC 8785)', () => {
  it('passes the RFC 8785 §3.2.2 serialization example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts members by UTF-16 code units as in the RFC 8785 §3.2.3 example', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts the integer-like key first; compare the text order instead.
    const text = canonicalJson(input);
    const positions = ['\\r', '"1"', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((key) => text.indexOf(key));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(order).toHaveLength(7);
  });

  it('equals a recursive reference on generated JSON values, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(reference(value));
      }),
      { numRuns: 500 },
    );
  });

  it('writes the same text in the recursive and in the iterative pass (the value nested past 32 levels takes the second)', () => {
    const deep = (value: unknown) => Array.from({ length: 40 }).reduce<unknown>((inner) => ({ in: inner }), value);
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(deep(value))).toBe(`${'{"in":'.repeat(40)}${canonicalJson(value)}${'}'.repeat(40)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('names the path of a value it refuses wherever it sits, shallow or deep, and calls toJSON with the member’s key', () => {
    expect(() => canonicalJson({ a: [1, { b: Number.NaN }] })).toThrow('value at a[1].b is NaN');
    expect(() => canonicalJson({ a: new Map() })).toThrow('value at a is a Map');
    const loop: Record<string, unknown> = { x: 1 };
    loop['self'] = loop;
    expect(() => canonicalJson({ loop })).toThrow('value at loop.self is a circular reference');
    const keys: string[] = [];
    const spy = { toJSON: (key: string) => (keys.push(key), 'j') };
    expect(canonicalJson({ m: spy, list: [spy, spy] })).toBe('{"list":["j","j"],"m":"j"}');
    expect(keys).toEqual(['0', '1', 'm']);
  });

  it('gives the same text for objects of one shape seen before and for new shapes', () => {
    const a = { zeta: 1, alpha: { y: 2, x: 3 } };
    const b = { zeta: 4, alpha: { y: 5, x: 6 } };
    const c = { alpha: { x: 3, y: 2 }, zeta: 1 };
    expect(canonicalJson(a)).toBe('{"alpha":{"x":3,"y":2},"zeta":1}');
    expect(canonicalJson(b)).toBe('{"alpha":{"x":6,"y":5},"zeta":4}');
    expect(canonicalJson(c)).toBe(canonicalJson(a));
  });
});

describe('deep events (legal under EventBridge’s 256 KB)', () => {
  const deep = (depth: number) => {
    const root: Record<string, unknown> = { id: 'deep-1', detail: {} };
    let at = root['detail'] as Record<string, unknown>;
    for (let i = 0; i < depth; i++) at = at['n'] = { i } as Record<string, unknown>;
    return root;
  };

  it('hashes an event nested 10,000 deep instead of overflowing the stack', () => {
    const event = deep(10_000);
    expect(() => JSON.stringify(event)).toThrow(RangeError);
    const key = contentHash({ include: ['detail'] }).keyFor(event).key;
    expect(key).toMatch(/^contentHash:[A-Za-z0-9_-]{43}$/);
    expect(contentHash({ include: ['detail'] }).keyFor(deep(10_000)).key).toBe(key);
    expect(contentHash({ include: ['detail'] }).keyFor(deep(9_999)).key).not.toBe(key);
  });

  it('still names the path of a bad value deep inside', () => {
    const event = deep(3);
    ((event['detail'] as any).n.n.n as Record<string, unknown>)['bad'] = Number.NaN;
    try {
      contentHash().keyFor(event);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(KeyExtractionError);
      expect((error as KeyExtractionError).message).toContain('detail.n.n.n.bad');
    }
  });

  it('runs a deep event through the engine with payload fingerprints, once', async () => {
    const engine = new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, payloadMismatch: 'error' });
    let runs = 0;
    const handler = async () => ++runs;
    await engine.run(deep(10_000), handler);
    await engine.run(deep(10_000), handler);
    expect(runs).toBe(1);
  });
});
