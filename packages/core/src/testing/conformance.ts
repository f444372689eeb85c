import { LeaseLostError } from '../errors.js';
import type { IdempotencyStore } from '../store/types.js';
import { createBarrier } from './barrier.js';
import { manualClock, type ManualClock } from './manual-clock.js';
import { identitySection } from './sections/identities.js';
import { LEASE, RETENTION, acquiredToken, freshKey, request, type SectionKit } from './sections/kit.js';
import { occurrenceSection } from './sections/occurrences.js';
import { orderingSection } from './sections/ordering.js';
import { ownershipSection } from './sections/ownership.js';

/** The parts of a test framework the suite needs: pass vitest's (or a look-alike). */
export interface ConformanceTestApi {
  describe: (name: string, body: () => void) => void;
  it: (name: string, body: () => Promise<void>, timeoutMs?: number) => void;
  expect: (actual: unknown) => any;
}

/** What a factory gets: the clock every store of one test must share. */
export interface StoreFactoryContext {
  clock: ManualClock;
}

/** A store plus how to let go of its connection. */
export interface StoreHandle {
  store: IdempotencyStore;
  close?: () => Promise<void> | void;
}

/** Makes a store on its own connection; called once per store a test needs. */
export type StoreFactory = (
  context: StoreFactoryContext,
) => Promise<IdempotencyStore | StoreHandle> | IdempotencyStore | StoreHandle;

/** Options for {@link runStoreConformance}. */
export interface ConformanceOptions {
  /** Name of the `describe` block, e.g. `RedisStore (standalone)`. */
  name: string;
  factory: StoreFactory;
  /**
   * How many store instances (each on its own connection) race for one key.
   * @default 50
   */
  concurrentClaimers?: number;
  /**
   * Per-test timeout, for slow servers and emulators.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Runs per property test; each run is a generated stream of store calls.
   * @default 25
   */
  propertyRuns?: number;
  /**
   * Check the ordering guard's {@link VersionStore} operations too. Every built-in store has them;
   * a third-party store without an ordering guard passes `false`.
   * @default true
   */
  ordering?: boolean;
}

/**
 * The store conformance suite: every adapter must pass it against its real server.
 *
 * Each test uses fresh random keys, so one store (or key prefix) can serve the whole run.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { runStoreConformance } from '@idemkit/core/testing';
 *
 * runStoreConformance({ describe, it, expect }, {
 *   name: 'RedisStore',
 *   factory: ({ clock }) => new RedisStore({ client: new Redis(url), prefix, clock: clock.now }),
 * });
 * ```
 */
export function runStoreConformance(api: ConformanceTestApi, options: ConformanceOptions): void {
  const { describe, it, expect } = api;
  const claimers = options.concurrentClaimers ?? 50;
  const timeout = options.timeoutMs ?? 30_000;

  /** Runs a test body with `count` stores sharing one manual clock, closing them after. */
  const withStores = async (
    count: number,
    body: (stores: IdempotencyStore[], clock: ManualClock) => Promise<void>,
  ): Promise<void> => {
    const clock = manualClock();
    const handles: StoreHandle[] = [];
    try {
      for (let i = 0; i < count; i++) handles.push(toHandle(await options.factory({ clock })));
      await body(
        handles.map((handle) => handle.store),
        clock,
      );
    } finally {
      await Promise.all(handles.map((handle) => handle.close?.()));
    }
  };
  const withStore = (body: (store: IdempotencyStore, clock: ManualClock) => Promise<void>) =>
    withStores(1, ([store], clock) => body(store!, clock));
  const test = (name: string, body: () => Promise<void>) => it(name, body, timeout);
  const kit: SectionKit = {
    describe,
    test,
    expect,
    claimers,
    propertyRuns: options.propertyRuns ?? 25,
    withStore,
    withStores,
  };

  describe(`${options.name} — idemkit store conformance`, () => {
    describe('claim', () => {
      test('acquires an absent key with a positive fencing token and an in-progress record', () =>
        withStore(async (store, clock) => {
          const key = freshKey('absent');
          const outcome = await store.claim(request(key, { fingerprint: 'fp-1' }));
          expect(outcome.acquired).toBe(true);
          const token = acquiredToken(outcome);
          expect(token).toBeGreaterThan(0);
          const record = await store.get(key);
          expect(record).toMatchObject({
            key,
            status: 'in_progress',
            fencingToken: token,
            fingerprint: 'fp-1',
            claimedAt: clock.now(),
            leaseExpiresAt: clock.now() + LEASE,
          });
          expect(record!.expiresAt).toBeGreaterThanOrEqual(record!.leaseExpiresAt);
          expect(record!.result).toBeUndefined();
        }));

      test('a second claim is refused and gets the holder’s record in the same call', () =>
        withStore(async (store) => {
          const key = freshKey('held');
          const first = await store.claim(request(key, { fingerprint: 'fp-a' }));
          const second = await store.claim(request(key, { fingerprint: 'fp-b' }));
          expect(second.acquired).toBe(false);
          expect(second.record).toMatchObject({
            status: 'in_progress',
            fencingToken: acquiredToken(first),
            fingerprint: 'fp-a',
          });
        }));

      test('a claim on a completed key is refused and returns the stored result', () =>
        withStore(async (store) => {
          const key = freshKey('done');
          const token = acquiredToken(await store.claim(request(key)));
          await store.complete({ key, fencingToken: token, result: '{"ok":true}', retentionMs: RETENTION });
          const again = await store.claim(request(key));
          expect(again.acquired).toBe(false);
          expect(again.record).toMatchObject({ status: 'completed', fencingToken: token, result: '{"ok":true}' });
        }));

      test('get reads undefined for a key never claimed', () =>
        withStore(async (store) => {
          expect(await store.get(freshKey('never'))).toBeUndefined();
        }));

      test('keys with unicode, colons, spaces and 250 characters work', () =>
        withStore(async (store) => {
          const keys = [freshKey('ünï cødé 🎧'), freshKey('a:b:c'), freshKey('x'.repeat(200))];
          for (const key of keys) {
            const token = acquiredToken(await store.claim(request(key)));
            await store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION });
            expect((await store.get(key))?.status).toBe('completed');
          }
        }));
    });

    describe('concurrency', () => {
      test(`exactly one of ${claimers} concurrent claimers on separate connections acquires`, () =>
        withStores(claimers, async (stores) => {
          const key = freshKey('race');
          const barrier = createBarrier(stores.length);
          const outcomes = await Promise.all(
            stores.map(async (store, i) => {
              await barrier.wait();
              return store.claim(request(key, { fingerprint: `claimer-${i}` }));
            }),
          );
          const winners = outcomes.filter((outcome) => outcome.acquired);
          expect(winners).toHaveLength(1);
          const token = acquiredToken(winners[0]!);
          for (const loser of outcomes.filter((outcome) => !outcome.acquired)) {
            expect(loser.record.status).toBe('in_progress');
            expect(loser.record.fencingToken).toBe(token);
          }
        }));

      test(`exactly one of ${claimers} concurrent claimers takes over a lapsed lease`, () =>
        withStores(claimers, async (stores, clock) => {
          const key = freshKey('lapsed-race');
          const stale = acquiredToken(await stores[0]!.claim(request(key)));
          clock.advance(LEASE);
          const barrier = createBarrier(stores.length);
          const outcomes = await Promise.all(
            stores.map(async (store) => {
              await barrier.wait();
              return store.claim(request(key));
            }),
          );
          const winners = outcomes.filter((outcome) => outcome.acquired);
          expect(winners).toHaveLength(1);
          expect(acquiredToken(winners[0]!)).toBeGreaterThan(stale);
        }));

      test('concurrent claimers of a completed key all see the completed record', () =>
        withStores(Math.min(claimers, 10), async (stores) => {
          const key = freshKey('done-race');
          const token = acquiredToken(await stores[0]!.claim(request(key)));
          await stores[0]!.complete({ key, fencingToken: token, result: '"r"', retentionMs: RETENTION });
          const barrier = createBarrier(stores.length);
          const outcomes = await Promise.all(
            stores.map(async (store) => {
              await barrier.wait();
              return store.claim(request(key));
            }),
          );
          for (const outcome of outcomes) {
            expect(outcome.acquired).toBe(false);
            expect(outcome.record).toMatchObject({ status: 'completed', result: '"r"' });
          }
        }));
    });

    describe('fencing tokens', () => {
      test('strictly increase across release, lease expiry and retention expiry', () =>
        withStore(async (store, clock) => {
          const key = freshKey('fence');
          const t1 = acquiredToken(await store.claim(request(key)));
          expect(await store.release(key, t1)).toBe(true);
          // Same instant: the token must still move on although the record is gone.
          const t2 = acquiredToken(await store.claim(request(key)));
          clock.advance(LEASE);
          const t3 = acquiredToken(await store.claim(request(key)));
          await store.complete({ key, fencingToken: t3, result: '1', retentionMs: RETENTION });
          clock.advance(RETENTION);
          const t4 = acquiredToken(await store.claim(request(key)));
          expect(t2).toBeGreaterThan(t1);
          expect(t3).toBeGreaterThan(t2);
          expect(t4).toBeGreaterThan(t3);
        }));

      test('tokens keep increasing over many release/re-claim cycles at one instant', () =>
        withStore(async (store) => {
          const key = freshKey('fence-many');
          let previous = 0;
          for (let i = 0; i < 20; i++) {
            const token = acquiredToken(await store.claim(request(key)));
            expect(token).toBeGreaterThan(previous);
            expect(await store.release(key, token)).toBe(true);
            previous = token;
          }
        }));
    });

    describe('leases', () => {
      test('an in-progress key stays claimed until its lease passes, then is claimable', () =>
        withStore(async (store, clock) => {
          const key = freshKey('lease');
          const first = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
          clock.advance(999);
          const during = await store.claim(request(key));
          expect(during.acquired).toBe(false);
          expect(during.record.status).toBe('in_progress');
          clock.advance(1);
          const after = await store.claim(request(key));
          expect(after.acquired).toBe(true);
          expect(acquiredToken(after)).toBeGreaterThan(first);
        }));

      test('the holder of a lapsed lease may still complete while nobody took over', () =>
        withStore(async (store, clock) => {
          const key = freshKey('late-ok');
          const token = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
          clock.advance(5_000);
          await store.complete({ key, fencingToken: token, result: '"late"', retentionMs: RETENTION });
          expect((await store.get(key))?.result).toBe('"late"');
        }));
    });

    describe('retention', () => {
      test('a completed key past expiresAt counts as absent even if the server has not deleted it', () =>
        withStore(async (store, clock) => {
          const key = freshKey('retention');
          const token = acquiredToken(await store.claim(request(key)));
          await store.complete({ key, fencingToken: token, result: '"x"', retentionMs: 5_000 });
          clock.advance(4_999);
          expect((await store.claim(request(key))).acquired).toBe(false);
          clock.advance(1);
          expect(await store.get(key)).toBeUndefined();
          const again = await store.claim(request(key));
          expect(again.acquired).toBe(true);
          expect(again.record.result).toBeUndefined();
        }));

      test('retention counts from completion, not from the claim', () =>
        withStore(async (store, clock) => {
          const key = freshKey('retention-from-complete');
          const token = acquiredToken(await store.claim(request(key, { retentionMs: 1_000, leaseMs: 1_000 })));
          clock.advance(900);
          await store.complete({ key, fencingToken: token, result: '1', retentionMs: 1_000 });
          clock.advance(600);
          expect((await store.claim(request(key))).acquired).toBe(false);
        }));
    });

    describe('stale tokens', () => {
      test('complete with a stale token throws LeaseLostError and leaves the new holder alone', () =>
        withStore(async (store, clock) => {
          const key = freshKey('stale-complete');
          const stale = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
          clock.advance(1_000);
          const current = acquiredToken(await store.claim(request(key)));
          const error = await store
            .complete({ key, fencingToken: stale, result: '"old"', retentionMs: RETENTION })
            .then(() => undefined, (caught: unknown) => caught);
          expect(error).toBeInstanceOf(LeaseLostError);
          expect((error as LeaseLostError).fencingToken).toBe(stale);
          expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: current });
          await store.complete({ key, fencingToken: current, result: '"new"', retentionMs: RETENTION });
          expect((await store.get(key))?.result).toBe('"new"');
        }));

      test('complete of a key that is gone throws LeaseLostError', () =>
        withStore(async (store) => {
          const key = freshKey('gone');
          const token = acquiredToken(await store.claim(request(key)));
          await store.release(key, token);
          await expect(
            store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION }),
          ).rejects.toBeInstanceOf(LeaseLostError);
          expect(await store.get(key)).toBeUndefined();
        }));

      test('completing twice is refused and keeps the first result', () =>
        withStore(async (store) => {
          const key = freshKey('twice');
          const token = acquiredToken(await store.claim(request(key)));
          await store.complete({ key, fencingToken: token, result: '"first"', retentionMs: RETENTION });
          await expect(
            store.complete({ key, fencingToken: token, result: '"second"', retentionMs: RETENTION }),
          ).rejects.toBeInstanceOf(LeaseLostError);
          expect((await store.get(key))?.result).toBe('"first"');
        }));

      test('release with a stale token returns false and changes nothing', () =>
        withStore(async (store, clock) => {
          const key = freshKey('stale-release');
          const stale = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
          clock.advance(1_000);
          const current = acquiredToken(await store.claim(request(key)));
          expect(await store.release(key, stale)).toBe(false);
          expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: current });
          expect(await store.release(freshKey('never-claimed'), 1)).toBe(false);
        }));

      test('release does not delete a completed record', () =>
        withStore(async (store) => {
          const key = freshKey('release-completed');
          const token = acquiredToken(await store.claim(request(key)));
          await store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION });
          expect(await store.release(key, token)).toBe(false);
          expect((await store.get(key))?.status).toBe('completed');
        }));

      test('release of the current claim frees the key', () =>
        withStore(async (store) => {
          const key = freshKey('release');
          const token = acquiredToken(await store.claim(request(key)));
          expect(await store.release(key, token)).toBe(true);
          expect(await store.get(key)).toBeUndefined();
          expect((await store.claim(request(key))).acquired).toBe(true);
        }));
    });

    describe('windows', () => {
      const windowMs = 500;
      const windowed = (key: string, at: number) => request(key, { window: { at, windowMs } });
      const completeAt = async (store: IdempotencyStore, key: string, at: number) => {
        const token = acquiredToken(await store.claim(windowed(key, at)));
        await store.complete({ key, fencingToken: token, result: `${at}`, retentionMs: RETENTION });
        return token;
      };

      test('events 10 ms apart across a floor(t / window) boundary are duplicates', () =>
        withStore(async (store) => {
          const key = freshKey('window-boundary');
          const base = 1_700_000_000_000 - (1_700_000_000_000 % windowMs);
          await completeAt(store, key, base + 499);
          const duplicate = await store.claim(windowed(key, base + 509));
          expect(duplicate.acquired).toBe(false);
          expect(duplicate.record).toMatchObject({ status: 'completed', windowAnchor: base + 499 });
        }));

      test('the window slides both ways from the anchor and is open at windowMs', () =>
        withStore(async (store) => {
          const key = freshKey('window-edges');
          const anchor = 1_700_000_000_999;
          await completeAt(store, key, anchor);
          for (const at of [anchor - 499, anchor, anchor + 499]) {
            expect((await store.claim(windowed(key, at))).acquired).toBe(false);
          }
          const later = await store.claim(windowed(key, anchor + windowMs));
          expect(later.acquired).toBe(true);
          expect(later.record.windowAnchor).toBe(anchor + windowMs);
        }));

      test('an occurrence a window earlier than the anchor is distinct too', () =>
        withStore(async (store) => {
          const key = freshKey('window-before');
          const anchor = 1_700_000_010_000;
          await completeAt(store, key, anchor);
          expect((await store.claim(windowed(key, anchor - windowMs))).acquired).toBe(true);
        }));

      test('a new occurrence becomes the anchor for what follows', () =>
        withStore(async (store) => {
          const key = freshKey('window-reanchor');
          const first = 1_700_000_020_000;
          const t1 = await completeAt(store, key, first);
          const t2 = await completeAt(store, key, first + 1_000);
          expect(t2).toBeGreaterThan(t1);
          const near = await store.claim(windowed(key, first + 1_400));
          expect(near.acquired).toBe(false);
          expect(near.record).toMatchObject({ windowAnchor: first + 1_000, result: `${first + 1_000}` });
        }));

      test('while in progress, a claim inside the window answers in_progress', () =>
        withStore(async (store) => {
          const key = freshKey('window-in-progress');
          const at = 1_700_000_030_000;
          const token = acquiredToken(await store.claim(windowed(key, at)));
          for (const other of [at, at + 10, at - windowMs + 1]) {
            const outcome = await store.claim(windowed(key, other));
            expect(outcome.acquired).toBe(false);
            expect(outcome.record).toMatchObject({ status: 'in_progress', fencingToken: token });
          }
        }));
    });

    describe('results', () => {
      const results: Array<[string, string | undefined]> = [
        ['nested JSON', JSON.stringify({ a: [1, { b: null, c: [true, 'x'] }], d: { e: { f: 1.5e-7 } } })],
        ['unicode', JSON.stringify('Grüße 🎧 対話 \u2028 e\u0301 "quoted" \\ back')],
        ['an empty string', ''],
        ['64 KiB', JSON.stringify('r'.repeat(64 * 1024))],
        ['no result', undefined],
      ];
      for (const [label, result] of results) {
        test(`round-trips ${label}`, () =>
          withStore(async (store) => {
            const key = freshKey(`result-${label}`);
            const token = acquiredToken(await store.claim(request(key)));
            await store.complete({ key, fencingToken: token, result, retentionMs: RETENTION });
            const duplicate = await store.claim(request(key));
            expect(duplicate.acquired).toBe(false);
            expect(duplicate.record.result).toBe(result);
            expect((await store.get(key))?.result).toBe(result);
          }));
      }
    });

    describe('batches', () => {
      test('claimMany answers in request order; a key repeated in the batch is acquired once', () =>
        withStore(async (store) => {
          const [a, b, done] = [freshKey('batch-a'), freshKey('batch-b'), freshKey('batch-done')];
          const doneToken = acquiredToken(await store.claim(request(done)));
          await store.complete({ key: done, fencingToken: doneToken, result: '"d"', retentionMs: RETENTION });
          const outcomes = await store.claimMany([request(a), request(b), request(a), request(done)]);
          expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, true, false, false]);
          expect(outcomes[2]!.record).toMatchObject({
            key: a,
            status: 'in_progress',
            fencingToken: acquiredToken(outcomes[0]!),
          });
          expect(outcomes[3]!.record).toMatchObject({ key: done, status: 'completed', result: '"d"' });
          expect(outcomes[1]!.record.key).toBe(b);
        }));

      test('claimMany of an SQS-sized batch of 10, then completeMany', () =>
        withStore(async (store) => {
          const keys = Array.from({ length: 10 }, (_, i) => freshKey(`batch10-${i}`));
          const outcomes = await store.claimMany(keys.map((key) => request(key)));
          expect(outcomes.every((outcome) => outcome.acquired)).toBe(true);
          const completions = await store.completeMany(
            keys.map((key, i) => ({ key, fencingToken: acquiredToken(outcomes[i]!), result: `${i}`, retentionMs: RETENTION })),
          );
          expect(completions.every((completion) => completion.ok)).toBe(true);
          for (const [i, key] of keys.entries()) expect((await store.get(key))?.result).toBe(`${i}`);
        }));

      test('completeMany fails a stale item alone', () =>
        withStore(async (store) => {
          const [good, stale] = [freshKey('cm-good'), freshKey('cm-stale')];
          const [goodOutcome, staleOutcome] = await store.claimMany([request(good), request(stale)]);
          const staleToken = acquiredToken(staleOutcome!);
          await store.release(stale, staleToken);
          const completions = await store.completeMany([
            { key: good, fencingToken: acquiredToken(goodOutcome!), result: '"g"', retentionMs: RETENTION },
            { key: stale, fencingToken: staleToken, result: '"s"', retentionMs: RETENTION },
          ]);
          expect(completions[0]).toEqual({ ok: true });
          expect(completions[1]!.ok).toBe(false);
          expect(completions[1]!.ok === false && completions[1]!.error).toBeInstanceOf(LeaseLostError);
          expect((await store.get(good))?.result).toBe('"g"');
          expect(await store.get(stale)).toBeUndefined();
        }));

      test('claimMany of an empty batch is empty', () =>
        withStore(async (store) => {
          expect(await store.claimMany([])).toEqual([]);
          expect(await store.completeMany([])).toEqual([]);
        }));

      test('claimMany honours windows and leases like claim', () =>
        withStore(async (store, clock) => {
          const key = freshKey('batch-window');
          const token = acquiredToken(await store.claim(request(key, { window: { at: 1_000, windowMs: 500 } })));
          await store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION });
          const held = freshKey('batch-lease');
          await store.claim(request(held, { leaseMs: 1_000 }));
          clock.advance(1_000);
          const outcomes = await store.claimMany([
            request(key, { window: { at: 1_400, windowMs: 500 } }),
            request(key, { window: { at: 1_500, windowMs: 500 } }),
            request(held),
          ]);
          expect(outcomes.map((outcome) => outcome.acquired)).toEqual([false, true, true]);
        }));
    });

    occurrenceSection(kit);
    identitySection(kit);
    ownershipSection(kit);
    if (options.ordering !== false) orderingSection(kit);
  });
}

function toHandle(made: IdempotencyStore | StoreHandle): StoreHandle {
  return 'store' in made && typeof (made as StoreHandle).store === 'object' ? (made as StoreHandle) : { store: made as IdempotencyStore };
}
