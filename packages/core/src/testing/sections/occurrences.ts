import fc from 'fast-check';
import type { ClaimRequest, IdempotencyStore } from '../../store/types.js';
import { createBarrier } from '../barrier.js';
import { RETENTION, acquiredToken, freshKey, request, type SectionKit } from './kit.js';

const WINDOW_MS = 500;
const BASE = 1_700_000_100_000;

const windowed = (key: string, at: number, overrides: Partial<ClaimRequest> = {}) =>
  request(key, { window: { at, windowMs: WINDOW_MS }, ...overrides });

async function completeAt(store: IdempotencyStore, key: string, at: number): Promise<number> {
  const token = acquiredToken(await store.claim(windowed(key, at)));
  await store.complete({ key, fencingToken: token, result: `${at}`, retentionMs: RETENTION });
  return token;
}

/**
 * Occurrence history: a windowed key remembers every occurrence it accepted, so a late redelivery
 * of an earlier occurrence is still a duplicate after a newer occurrence arrived.
 */
export function occurrenceSection(kit: SectionKit): void {
  const { describe, test, expect, withStore, withStores } = kit;

  describe('occurrence history', () => {
    test('a late redelivery of an earlier occurrence, after a newer one, is a duplicate of the earlier one', () =>
      withStore(async (store) => {
        const key = freshKey('late-redelivery');
        await completeAt(store, key, BASE);
        await completeAt(store, key, BASE + 10_000);
        const late = await store.claim(windowed(key, BASE));
        expect(late.acquired).toBe(false);
        expect(late.record).toMatchObject({ status: 'completed', windowAnchor: BASE, result: `${BASE}` });
        const reSend = await store.claim(windowed(key, BASE + 120));
        expect(reSend.acquired).toBe(false);
        expect(reSend.record.windowAnchor).toBe(BASE);
      }));

    test('out-of-order arrival: an earlier occurrence after a later one is distinct, then both are remembered', () =>
      withStore(async (store) => {
        const key = freshKey('out-of-order');
        const later = await completeAt(store, key, BASE + 5_000);
        const earlier = await completeAt(store, key, BASE);
        expect(earlier).toBeGreaterThan(later);
        for (const [at, anchor] of [
          [BASE + 5_000, BASE + 5_000],
          [BASE + 4_700, BASE + 5_000],
          [BASE, BASE],
          [BASE - 499, BASE],
        ] as const) {
          const outcome = await store.claim(windowed(key, at));
          expect(outcome.acquired).toBe(false);
          expect(outcome.record).toMatchObject({ status: 'completed', windowAnchor: anchor });
        }
        expect((await store.claim(windowed(key, BASE + 2_500))).acquired).toBe(true);
      }));

    test('fifty occurrences of one key are all remembered', () =>
      withStore(async (store) => {
        const key = freshKey('fifty');
        const times = Array.from({ length: 50 }, (_, i) => BASE + i * 1_000);
        for (const at of times) await completeAt(store, key, at);
        for (const at of [...times].reverse()) {
          const outcome = await store.claim(windowed(key, at + 250));
          expect(outcome.acquired).toBe(false);
          expect(outcome.record.windowAnchor).toBe(at);
        }
      }));

    test('an in-progress occurrence blocks only its own window: a distinct occurrence acquires meanwhile', () =>
      withStore(async (store) => {
        const key = freshKey('in-progress-window');
        const first = acquiredToken(await store.claim(windowed(key, BASE)));
        const inside = await store.claim(windowed(key, BASE + 100));
        expect(inside.acquired).toBe(false);
        expect(inside.record).toMatchObject({ status: 'in_progress', fencingToken: first });
        const distinct = await store.claim(windowed(key, BASE + 10 * WINDOW_MS));
        expect(distinct.acquired).toBe(true);
        expect(acquiredToken(distinct)).toBeGreaterThan(first);
        expect(distinct.record.windowAnchor).toBe(BASE + 10 * WINDOW_MS);
      }));

    test('each occurrence has its own token: complete, release and get act on that occurrence only', () =>
      withStore(async (store) => {
        const key = freshKey('per-occurrence');
        const a = acquiredToken(await store.claim(windowed(key, BASE)));
        const b = acquiredToken(await store.claim(windowed(key, BASE + 5_000)));
        await store.complete({ key, fencingToken: a, result: '"a"', retentionMs: RETENTION });
        expect(await store.get(key, a)).toMatchObject({ status: 'completed', result: '"a"', windowAnchor: BASE });
        expect(await store.get(key, b)).toMatchObject({ status: 'in_progress', windowAnchor: BASE + 5_000 });
        expect(await store.get(key)).toMatchObject({ fencingToken: b });
        expect(await store.release(key, b)).toBe(true);
        expect(await store.get(key, b)).toBeUndefined();
        expect(await store.get(key, a)).toMatchObject({ status: 'completed' });
        expect((await store.claim(windowed(key, BASE + 5_100))).acquired).toBe(true);
        expect((await store.claim(windowed(key, BASE + 100))).acquired).toBe(false);
      }));

    test('an occurrence past its retention no longer counts, while younger ones still do', () =>
      withStore(async (store, clock) => {
        const key = freshKey('occurrence-retention');
        const old = acquiredToken(await store.claim(windowed(key, BASE)));
        await store.complete({ key, fencingToken: old, result: '"old"', retentionMs: 5_000 });
        clock.advance(3_000);
        await completeAt(store, key, BASE + 10_000);
        clock.advance(2_000);
        expect((await store.claim(windowed(key, BASE + 10_100))).acquired).toBe(false);
        const again = await store.claim(windowed(key, BASE + 50));
        expect(again.acquired).toBe(true);
        expect(again.record.result).toBeUndefined();
      }));

    test('a lapsed in-progress occurrence is taken over inside its window; other occurrences stay', () =>
      withStore(async (store, clock) => {
        const key = freshKey('occurrence-lapse');
        const done = await completeAt(store, key, BASE);
        const stale = acquiredToken(await store.claim(windowed(key, BASE + 5_000, { leaseMs: 1_000, fingerprint: 'fp-old' })));
        clock.advance(1_000);
        const taken = await store.claim(windowed(key, BASE + 5_200));
        expect(taken.acquired).toBe(true);
        expect(acquiredToken(taken)).toBeGreaterThan(stale);
        expect(taken.record.fingerprint).toBeUndefined();
        expect(taken.record.windowAnchor).toBe(BASE + 5_200);
        expect(await store.get(key, stale)).toBeUndefined();
        expect(await store.get(key, done)).toMatchObject({ status: 'completed' });
      }));

    test('claimMany: distinct occurrences in one batch both acquire; a repeat sees the earlier item', () =>
      withStore(async (store) => {
        const key = freshKey('batch-occurrences');
        const outcomes = await store.claimMany([
          windowed(key, BASE),
          windowed(key, BASE + 10_000),
          windowed(key, BASE + 30),
          windowed(key, BASE + 10_000),
        ]);
        expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false]);
        expect(outcomes[2]!.record).toMatchObject({ status: 'in_progress', fencingToken: acquiredToken(outcomes[0]!) });
        expect(outcomes[3]!.record).toMatchObject({ status: 'in_progress', fencingToken: acquiredToken(outcomes[1]!) });
      }));

    test(`concurrent claimers of two occurrences: exactly one acquires each`, () =>
      withStores(Math.max(2, Math.min(kit.claimers, 20)), async (stores) => {
        const key = freshKey('occurrence-race');
        const barrier = createBarrier(stores.length);
        const outcomes = await Promise.all(
          stores.map(async (store, i) => {
            await barrier.wait();
            // Even claimers: one cluster around BASE; odd ones: a cluster 10 s later. Times jitter inside the window.
            const at = (i % 2 === 0 ? BASE : BASE + 10_000) + (i % 5) * 40;
            return store.claim(windowed(key, at));
          }),
        );
        const winners = outcomes.flatMap((outcome, i) => (outcome.acquired ? [i % 2] : []));
        expect(winners.sort()).toEqual([0, 1]);
      }));

    propertySection(kit);
  });
}

/** A logical event: occurrences of one key whose times all lie within one window of each other. */
interface LogicalEvent {
  key: number;
  /** Times of its deliveries: redeliveries repeat a time, re-emits move it by less than the window. */
  deliveries: number[];
}

/**
 * Streams of logical events, several per key, clusters at least a window apart; every delivery is
 * an exact redelivery or a re-emit inside the cluster; then the whole stream is shuffled (late
 * redeliveries after newer occurrences, out-of-order arrival, bucket boundaries all included).
 */
function streams() {
  const cluster = fc.record({
    gap: fc.integer({ min: WINDOW_MS, max: 4 * WINDOW_MS }),
    // Offsets inside [0, windowMs / 2] keep every pair of one cluster closer than the window.
    offsets: fc.array(fc.integer({ min: 0, max: WINDOW_MS / 2 - 1 }), { minLength: 1, maxLength: 4 }),
  });
  return fc
    .record({
      keys: fc.array(fc.array(cluster, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
      seed: fc.integer(),
      start: fc.integer({ min: 0, max: WINDOW_MS - 1 }),
    })
    .map(({ keys, seed, start }) => {
      const events: LogicalEvent[] = [];
      keys.forEach((clusters, key) => {
        let at = BASE + start;
        for (const { gap, offsets } of clusters) {
          const low = at;
          events.push({ key, deliveries: offsets.map((offset) => low + offset) });
          // The next cluster starts a gap after this one's latest delivery.
          at = low + Math.max(...offsets) + gap;
        }
      });
      const deliveries = events.flatMap((event, index) => event.deliveries.map((at) => ({ index, key: event.key, at })));
      return { events, deliveries: shuffle(deliveries, seed) };
    });
}

function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function propertySection(kit: SectionKit): void {
  const { test, expect, withStore, withStores, propertyRuns } = kit;

  test('property: over generated streams, every logical event acquires exactly once (sequential)', () =>
    withStore(async (store) => {
      await fc.assert(
        fc.asyncProperty(streams(), async ({ events, deliveries }) => {
          const prefix = freshKey('stream');
          const runs = new Array<number>(events.length).fill(0);
          for (const delivery of deliveries) {
            const key = `${prefix}:${delivery.key}`;
            const outcome = await store.claim(windowed(key, delivery.at));
            if (!outcome.acquired) continue;
            runs[delivery.index]!++;
            await store.complete({ key, fencingToken: outcome.fencingToken, result: '1', retentionMs: RETENTION });
          }
          expect(runs).toEqual(events.map(() => 1));
        }),
        { numRuns: propertyRuns },
      );
    }));

  test('property: over generated streams, concurrent consumers on separate connections run each logical event once', () =>
    withStores(4, async (stores) => {
      await fc.assert(
        fc.asyncProperty(streams(), async ({ events, deliveries }) => {
          const prefix = freshKey('stream-concurrent');
          const runs = new Array<number>(events.length).fill(0);
          // Each delivery is retried while it meets an in-progress claim (as a queue would redeliver it).
          const consume = async (store: IdempotencyStore, queue: typeof deliveries) => {
            for (const delivery of queue) {
              const key = `${prefix}:${delivery.key}`;
              for (let attempt = 0; ; attempt++) {
                const outcome = await store.claim(windowed(key, delivery.at));
                if (outcome.acquired) {
                  runs[delivery.index]!++;
                  await store.complete({ key, fencingToken: outcome.fencingToken, result: '1', retentionMs: RETENTION });
                  break;
                }
                if (outcome.record.status === 'completed') break;
                if (attempt > 1_000) throw new Error('a claim stayed in progress for 1000 retries');
                await new Promise<void>((resolve) => setImmediate(resolve));
              }
            }
          };
          const barrier = createBarrier(stores.length);
          await Promise.all(
            stores.map(async (store, worker) => {
              await barrier.wait();
              await consume(store, deliveries.filter((_, i) => i % stores.length === worker));
            }),
          );
          expect(runs).toEqual(events.map(() => 1));
        }),
        { numRuns: Math.max(5, Math.floor(propertyRuns / 2)) },
      );
    }));
}
