import fc from 'fast-check';
import { LeaseLostError } from '../../errors.js';
import { encodeVersion } from '../../ordering/version.js';
import type { VersionClaimRequest, VersionStore } from '../../store/types.js';
import { createBarrier } from '../barrier.js';
import { LEASE, RETENTION, asVersionStore, freshKey, rejectionOf, type SectionKit } from './kit.js';

const claimOf = (entity: string, version: number | (number | string)[], overrides: Partial<VersionClaimRequest> = {}) => ({
  entity,
  version: encodeVersion(version),
  leaseMs: LEASE,
  retentionMs: RETENTION,
  ...overrides,
});

async function apply(store: VersionStore, entity: string, version: number | (number | string)[]): Promise<number> {
  const outcome = await store.claimVersion(claimOf(entity, version));
  if (outcome.status !== 'acquired') throw new Error(`expected version ${JSON.stringify(version)} to acquire, got ${outcome.status}`);
  await store.completeVersion(entity, outcome.fencingToken, RETENTION);
  return outcome.fencingToken;
}

/** The ordering guard's store rules: only a version newer than the applied one runs; ties are duplicates. */
export function orderingSection(kit: SectionKit): void {
  const { describe, test, expect, withStore, withStores, claimers, propertyRuns } = kit;
  const withVersionStore = (body: (store: VersionStore, clock: Parameters<Parameters<typeof withStore>[0]>[1]) => Promise<void>) =>
    withStore((store, clock) => body(asVersionStore(store), clock));

  describe('ordering guard (versions per entity)', () => {
    test('newer versions apply; an equal one is a duplicate and an older one stale', () =>
      withVersionStore(async (store) => {
        const entity = freshKey('conversation');
        await apply(store, entity, 100);
        expect(await store.getVersion(entity)).toMatchObject({ applied: encodeVersion(100) });
        expect((await store.claimVersion(claimOf(entity, 100))).status).toBe('duplicate');
        expect((await store.claimVersion(claimOf(entity, 99))).status).toBe('stale');
        await apply(store, entity, 101);
        expect((await store.claimVersion(claimOf(entity, 100))).status).toBe('stale');
        expect((await store.getVersion(entity))?.applied).toBe(encodeVersion(101));
      }));

    test('tuple versions break equal times by their next element', () =>
      withVersionStore(async (store) => {
        const entity = freshKey('ties');
        await apply(store, entity, [1_000, 'event-b']);
        expect((await store.claimVersion(claimOf(entity, [1_000, 'event-a']))).status).toBe('stale');
        expect((await store.claimVersion(claimOf(entity, [1_000, 'event-b']))).status).toBe('duplicate');
        expect((await store.claimVersion(claimOf(entity, [1_000, 'event-c']))).status).toBe('acquired');
      }));

    test('a pending version holds others off until its lease passes; a stale one is answered at once', () =>
      withVersionStore(async (store, clock) => {
        const entity = freshKey('pending');
        await apply(store, entity, 10);
        const pending = await store.claimVersion(claimOf(entity, 20, { leaseMs: 1_000 }));
        expect(pending.status).toBe('acquired');
        expect((await store.claimVersion(claimOf(entity, 30))).status).toBe('in_progress');
        expect((await store.claimVersion(claimOf(entity, 20))).status).toBe('in_progress');
        expect((await store.claimVersion(claimOf(entity, 5))).status).toBe('stale');
        clock.advance(1_000);
        const taken = await store.claimVersion(claimOf(entity, 30));
        expect(taken.status).toBe('acquired');
        expect(taken.status === 'acquired' && pending.status === 'acquired' && taken.fencingToken > pending.fencingToken).toBe(true);
        if (pending.status === 'acquired') {
          expect(await rejectionOf(store.completeVersion(entity, pending.fencingToken, RETENTION))).toBeInstanceOf(LeaseLostError);
        }
        expect((await store.getVersion(entity))?.applied).toBe(encodeVersion(10));
      }));

    test('a failed handler (release) does not advance the version', () =>
      withVersionStore(async (store) => {
        const entity = freshKey('release');
        await apply(store, entity, 1);
        const failed = await store.claimVersion(claimOf(entity, 2));
        if (failed.status !== 'acquired') throw new Error('expected acquired');
        expect(await store.releaseVersion(entity, failed.fencingToken)).toBe(true);
        expect(await store.releaseVersion(entity, failed.fencingToken)).toBe(false);
        expect(await store.getVersion(entity)).toMatchObject({ applied: encodeVersion(1) });
        expect((await store.getVersion(entity))?.pending).toBeUndefined();
        expect((await store.claimVersion(claimOf(entity, 2))).status).toBe('acquired');
      }));

    test('the owner takes its own pending claim over; fencing tokens strictly increase', () =>
      withVersionStore(async (store) => {
        const entity = freshKey('owner');
        const first = await store.claimVersion(claimOf(entity, 7, { owner: 'req-1' }));
        const retried = await store.claimVersion(claimOf(entity, 7, { owner: 'req-1' }));
        expect(retried.status).toBe('acquired');
        expect(first.status === 'acquired' && retried.status === 'acquired' && retried.fencingToken > first.fencingToken).toBe(true);
        expect((await store.claimVersion(claimOf(entity, 7, { owner: 'req-2' }))).status).toBe('in_progress');
      }));

    test('a version record past its retention counts as absent', () =>
      withVersionStore(async (store, clock) => {
        const entity = freshKey('retention');
        const outcome = await store.claimVersion(claimOf(entity, 50));
        if (outcome.status !== 'acquired') throw new Error('expected acquired');
        await store.completeVersion(entity, outcome.fencingToken, 5_000);
        clock.advance(5_000);
        expect(await store.getVersion(entity)).toBeUndefined();
        expect((await store.claimVersion(claimOf(entity, 10))).status).toBe('acquired');
      }));

    test(`of ${claimers} concurrent claimers with distinct versions, exactly one acquires`, () =>
      withStores(claimers, async (stores) => {
        const entity = freshKey('version-race');
        const barrier = createBarrier(stores.length);
        const outcomes = await Promise.all(
          stores.map(async (store, i) => {
            await barrier.wait();
            return asVersionStore(store).claimVersion(claimOf(entity, 1_000 + i));
          }),
        );
        expect(outcomes.filter((outcome) => outcome.status === 'acquired')).toHaveLength(1);
      }));

    test('property: concurrent writers over a shuffled stream converge on the newest version and never move back', () =>
      withStores(4, async (stores) => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom('a', 'b', 'c')), { minLength: 1, maxLength: 24 }),
            async (versions) => {
              const entity = freshKey('converge');
              // Each writer's own reads follow one another, so on a linearizable store they never go
              // back. (Comparing reads of different writers would race: a read sent first may answer last.)
              const highestSeen = stores.map(() => '');
              const observe = async (store: VersionStore, worker: number) => {
                const applied = (await store.getVersion(entity))?.applied ?? '';
                expect(applied >= highestSeen[worker]!).toBe(true);
                highestSeen[worker] = applied;
              };
              const barrier = createBarrier(stores.length);
              await Promise.all(
                stores.map(async (plain, worker) => {
                  const store = asVersionStore(plain);
                  await barrier.wait();
                  for (const version of versions.filter((_, i) => i % stores.length === worker)) {
                    for (let attempt = 0; ; attempt++) {
                      const outcome = await store.claimVersion(claimOf(entity, version));
                      if (outcome.status === 'acquired') {
                        await store.completeVersion(entity, outcome.fencingToken, RETENTION);
                        break;
                      }
                      if (outcome.status !== 'in_progress') break;
                      if (attempt > 1_000) throw new Error('a version stayed pending for 1000 retries');
                      await new Promise<void>((resolve) => setImmediate(resolve));
                    }
                    await observe(store, worker);
                  }
                }),
              );
              const newest = versions.map((version) => encodeVersion(version)).sort().at(-1);
              expect((await asVersionStore(stores[0]!).getVersion(entity))?.applied).toBe(newest);
            },
          ),
          { numRuns: Math.max(5, Math.floor(propertyRuns / 2)) },
        );
      }));
  });
}
