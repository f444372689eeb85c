import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyExtractionError } from '../src/errors.js';
import { parseEventTime } from '../src/internal/time.js';
import {
  canonicalJson,
  composite,
  contentHash,
  custom,
  eventId,
  MAX_KEY_LENGTH,
  previewStrategy,
  stateWindow,
  type DedupKeyStrategy,
} from '../src/strategies/index.js';

// A tiny seeded PRNG (mulberry32), so a failing shuffle replays from fast-check's seed.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Same data, keys inserted in another order at every level.
function shuffleKeys(value: unknown, next: () => number): unknown {
  if (Array.isArray(value)) return value.map((item) => shuffleKeys(item, next));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([key, item]) => [key, shuffleKeys(item, next)] as [string, unknown]);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
  }
  // fromEntries defines own members, so a generated "__proto__" key stays data.
  return Object.fromEntries(entries);
}

const json = fc.jsonValue({ maxDepth: 4 });

describe('contentHash properties', () => {
  it('is invariant to key order at every depth', () => {
    let reordered = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), fc.integer(), (detail, seed) => {
        const event = { id: 'e', detail };
        const shuffled = shuffleKeys(event, random(seed));
        if (JSON.stringify(shuffled) !== JSON.stringify(event)) reordered++;
        expect(contentHash().keyFor(shuffled).key).toBe(contentHash().keyFor(event).key);
        expect(canonicalJson(shuffled)).toBe(canonicalJson(event));
      }),
      { numRuns: 300 },
    );
    // The property is only meaningful if the shuffles actually changed the order.
    expect(reordered).toBeGreaterThan(0);
  });

  it('ignores excluded fields, wherever a * reaches, and whether they are present at all', () => {
    const strategy = contentHash({ include: ['detail'], exclude: ['detail.metadata.timestamp', 'detail.participants.*.updatedAt'] });
    fc.assert(
      fc.property(
        json,
        json,
        json,
        fc.array(fc.tuple(fc.string(), json, json), { maxLength: 5 }),
        (kept, timestampA, timestampB, participants) => {
          const make = (timestamp: unknown, side: 0 | 1) => ({
            id: side === 0 ? 'envelope-a' : 'envelope-b',
            detail: {
              kept,
              metadata: timestamp === undefined ? { source: 's' } : { source: 's', timestamp },
              participants: participants.map(([id, a, b]) => ({ id, updatedAt: side === 0 ? a : b })),
            },
          });
          const key = strategy.keyFor(make(timestampA, 0)).key;
          expect(strategy.keyFor(make(timestampB, 1)).key).toBe(key);
          expect(strategy.keyFor(make(undefined, 1)).key).toBe(key);
        },
      ),
    );
  });

  it('changes when a kept field changes', () => {
    const strategy = contentHash({ include: ['detail'], exclude: ['detail.metadata.timestamp'] });
    fc.assert(
      fc.property(json, json, json, (a, b, timestamp) => {
        fc.pre(canonicalJson(a) !== canonicalJson(b));
        const make = (kept: unknown) => ({ detail: { kept, metadata: { timestamp } } });
        expect(strategy.keyFor(make(a)).key).not.toBe(strategy.keyFor(make(b)).key);
      }),
    );
  });
});

describe('keys never carry a missing value printed as "undefined"', () => {
  const anything = fc.anything({
    maxDepth: 2,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withSparseArray: true,
    withTypedArray: true,
  });
  const field = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(''),
    fc.constant('   '),
    fc.constant('undefined'),
    fc.string().map((text) => `${text}-undefined`),
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.string({ minLength: 60, maxLength: 300 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    anything,
  );
  const time = fc.oneof(
    field,
    fc.integer({ min: 0, max: 4_102_444_800_000 }),
    fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
    fc.integer({ min: 0, max: 4_102_444_800 }).map(String),
  );
  const event = fc.oneof(
    { weight: 4, arbitrary: fc.record(
      {
        id: field,
        detail: fc.record(
          { conversationId: field, status: field, timestamp: time, eventId: field, payload: anything },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ) },
    { weight: 1, arbitrary: anything },
  );

  type Loose = { detail?: { eventId?: unknown } } | undefined | null;
  const windowed = stateWindow({ entity: 'detail.conversationId', state: 'detail.status', time: 'detail.timestamp', windowMs: 500 });
  const strategies: DedupKeyStrategy[] = [
    eventId(),
    eventId({ path: 'detail.eventId' }),
    windowed,
    contentHash(),
    contentHash({ include: ['detail.payload', 'id'] }),
    contentHash({ exclude: ['detail.payload.*'] }),
    composite({ of: [eventId(), windowed] }),
    // The classic bug: a template literal printing a missing field (other types kept out: String() can throw).
    custom((e: Loose) => {
      const id = e?.detail?.eventId;
      return typeof id === 'string' || id === undefined ? `order-${id}` : 'order-other';
    }, 'printed'),
    custom((e: Loose) => e?.detail?.eventId as string, 'raw'),
  ];

  it('for arbitrary events through every strategy: a key without "undefined", or a KeyExtractionError', () => {
    let keys = 0;
    let errors = 0;
    fc.assert(
      fc.property(event, (input) => {
        for (const strategy of strategies) {
          try {
            const { key, parts } = strategy.keyFor(input);
            keys++;
            // A missing value never becomes a key part: no part *is* "undefined", and no key a
            // function printed carries it as a token (a field may contain the word as data).
            for (const part of parts) expect(part.value).not.toBe('undefined');
            if (strategy.name === 'printed') expect(key).not.toMatch(/(^|[^A-Za-z0-9])undefined($|[^A-Za-z0-9])/);
            expect(key.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
            expect(key.startsWith(`${strategy.name}:`)).toBe(true);
            for (const part of parts) expect(typeof part.value).toBe('string');
          } catch (error) {
            if (!(error instanceof KeyExtractionError)) throw error;
            errors++;
            expect(error.path).not.toBe('');
          }
        }
      }),
      { numRuns: 400 },
    );
    // Both branches must have been exercised for the property to say anything.
    expect(keys).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });
});

describe('time and window properties', () => {
  it('ISO-8601, epoch seconds, epoch ms and digit strings give the same instant', () => {
    fc.assert(
      // From 1e9 s (2001): only [1e9, 1e11) is read as seconds.
      fc.property(fc.integer({ min: 1_000_000_000, max: 4_102_444_800 }), fc.integer({ min: 0, max: 999 }), (seconds, millis) => {
        const ms = seconds * 1000 + millis;
        const at = parseEventTime(new Date(ms).toISOString(), 't');
        expect(at).toBe(ms);
        expect(parseEventTime(ms, 't')).toBe(ms);
        expect(parseEventTime(String(ms), 't')).toBe(ms);
        expect(parseEventTime(seconds, 't')).toBe(seconds * 1000);
        expect(parseEventTime(String(seconds), 't')).toBe(seconds * 1000);
      }),
    );
  });

  it('the window slides: any two times give one key; preview says duplicate exactly when closer than windowMs', () => {
    const base = 1_709_806_530_000;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: -2_000, max: 2_000 }),
        fc.integer({ min: 1, max: 1_500 }),
        (offset, delta, windowMs) => {
          const strategy = stateWindow({ entity: 'c', state: 's', time: 't', windowMs });
          const first = { c: 'conv', s: 'accepted', t: base + offset };
          const second = { ...first, t: base + offset + delta };
          expect(strategy.keyFor(second).key).toBe(strategy.keyFor(first).key);
          const [, entry] = previewStrategy(strategy, [first, second]);
          expect(entry?.duplicateOf).toBe(Math.abs(delta) < windowMs ? 0 : undefined);
        },
      ),
    );
  });
});
