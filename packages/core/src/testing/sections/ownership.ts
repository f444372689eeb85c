import { LeaseLostError } from '../../errors.js';
import { RETENTION, acquiredToken, freshKey, rejectionOf, request, type SectionKit } from './kit.js';

/**
 * Claims that recognise their owner (a retried claim whose first attempt landed but whose reply
 * was lost), lease extension for long handlers, and the retention rules of complete and release.
 */
export function ownershipSection(kit: SectionKit): void {
  const { describe, test, expect, withStore } = kit;

  describe('owners', () => {
    test('the owner meeting its own in-progress claim takes it over with a higher token', () =>
      withStore(async (store) => {
        const key = freshKey('own');
        const lost = acquiredToken(await store.claim(request(key, { owner: 'req-1' })));
        const retried = await store.claim(request(key, { owner: 'req-1' }));
        expect(retried.acquired).toBe(true);
        expect(acquiredToken(retried)).toBeGreaterThan(lost);
        expect(retried.record.owner).toBe('req-1');
        expect(await rejectionOf(store.complete({ key, fencingToken: lost, result: '1', retentionMs: RETENTION }))).toBeInstanceOf(
          LeaseLostError,
        );
      }));

    test('another owner, or a claim without one, is refused by a running claim', () =>
      withStore(async (store) => {
        const key = freshKey('foreign');
        const token = acquiredToken(await store.claim(request(key, { owner: 'req-1' })));
        for (const owner of ['req-2', undefined]) {
          const outcome = await store.claim(request(key, owner === undefined ? {} : { owner }));
          expect(outcome.acquired).toBe(false);
          expect(outcome.record).toMatchObject({ status: 'in_progress', fencingToken: token, owner: 'req-1' });
        }
        const unowned = freshKey('unowned');
        await store.claim(request(unowned));
        expect((await store.claim(request(unowned))).acquired).toBe(false);
      }));

    test('an owner never takes over its own completed record', () =>
      withStore(async (store) => {
        const key = freshKey('own-completed');
        const token = acquiredToken(await store.claim(request(key, { owner: 'req-1' })));
        await store.complete({ key, fencingToken: token, result: '"once"', retentionMs: RETENTION });
        const again = await store.claim(request(key, { owner: 'req-1' }));
        expect(again.acquired).toBe(false);
        expect(again.record).toMatchObject({ status: 'completed', result: '"once"' });
      }));
  });

  describe('lease extension', () => {
    test('extendLease keeps a claim held past its first lease', () =>
      withStore(async (store, clock) => {
        const key = freshKey('extend');
        const token = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
        clock.advance(900);
        await store.extendLease({ key, fencingToken: token, leaseMs: 1_000 });
        expect((await store.get(key))?.leaseExpiresAt).toBe(clock.now() + 1_000);
        clock.advance(900);
        const during = await store.claim(request(key));
        expect(during.acquired).toBe(false);
        expect(during.record.fencingToken).toBe(token);
        clock.advance(100);
        expect((await store.claim(request(key))).acquired).toBe(true);
      }));

    test('extendLease never revives a lapsed, stale or completed claim', () =>
      withStore(async (store, clock) => {
        const key = freshKey('extend-lapsed');
        const token = acquiredToken(await store.claim(request(key, { leaseMs: 1_000 })));
        clock.advance(1_000);
        expect(await rejectionOf(store.extendLease({ key, fencingToken: token, leaseMs: 5_000 }))).toBeInstanceOf(LeaseLostError);
        expect((await store.get(key))?.leaseExpiresAt).toBe(clock.now());
        const current = acquiredToken(await store.claim(request(key)));
        expect(await rejectionOf(store.extendLease({ key, fencingToken: token, leaseMs: 5_000 }))).toBeInstanceOf(LeaseLostError);
        await store.complete({ key, fencingToken: current, result: '1', retentionMs: RETENTION });
        expect(await rejectionOf(store.extendLease({ key, fencingToken: current, leaseMs: 5_000 }))).toBeInstanceOf(LeaseLostError);
        expect(await store.get(key)).toMatchObject({ status: 'completed', fencingToken: current });
      }));

    test('extendLease past the retention keeps the claim alive that long', () =>
      withStore(async (store, clock) => {
        const key = freshKey('extend-retention');
        const token = acquiredToken(await store.claim(request(key, { leaseMs: 1_000, retentionMs: 2_000 })));
        await store.extendLease({ key, fencingToken: token, leaseMs: 10_000 });
        clock.advance(5_000);
        expect(await store.get(key)).toMatchObject({ status: 'in_progress', fencingToken: token });
        await store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION });
      }));

    test('extendLease covers every identity, all or nothing', () =>
      withStore(async (store, clock) => {
        const [id, hash] = [freshKey('id'), freshKey('hash')];
        const outcome = await store.claim(request(id, { leaseMs: 1_000, also: [{ key: hash }] }));
        const token = acquiredToken(outcome);
        const also = outcome.acquired ? outcome.also! : [];
        await store.extendLease({ key: id, fencingToken: token, leaseMs: 3_000, also });
        clock.advance(2_000);
        expect((await store.claim(request(hash))).acquired).toBe(false);
        expect(
          await rejectionOf(store.extendLease({ key: id, fencingToken: token, leaseMs: 3_000, also: [{ key: hash, fencingToken: token + 1_000_000 }] })),
        ).toBeInstanceOf(LeaseLostError);
        expect((await store.get(id))?.leaseExpiresAt).toBe(clock.now() + 1_000);
      }));
  });

  describe('retention of claims in progress', () => {
    test('complete and release of a claim past its retention are refused, even if the server still holds it', () =>
      withStore(async (store, clock) => {
        const key = freshKey('expired-claim');
        const token = acquiredToken(await store.claim(request(key, { leaseMs: 1_000, retentionMs: 1_000 })));
        clock.advance(1_000);
        expect(await rejectionOf(store.complete({ key, fencingToken: token, result: '1', retentionMs: RETENTION }))).toBeInstanceOf(
          LeaseLostError,
        );
        expect(await store.release(key, token)).toBe(false);
        expect(await store.get(key)).toBeUndefined();
      }));

    test('a claim taking over an expired record keeps nothing of the old one', () =>
      withStore(async (store, clock) => {
        const key = freshKey('takeover-clean');
        const token = acquiredToken(
          await store.claim(request(key, { fingerprint: 'fp-old', owner: 'old-owner', retentionMs: 5_000, leaseMs: 1_000 })),
        );
        await store.complete({ key, fencingToken: token, result: '"old"', retentionMs: 5_000 });
        clock.advance(5_000);
        const fresh = await store.claim(request(key));
        expect(fresh.acquired).toBe(true);
        const record = await store.get(key);
        expect(record?.result).toBeUndefined();
        expect(record?.fingerprint).toBeUndefined();
        expect(record?.windowAnchor).toBeUndefined();
        expect(record?.owner).toBeUndefined();
        expect(record?.status).toBe('in_progress');
      }));

    test('a claim taking over a lapsed lease keeps nothing of the old holder', () =>
      withStore(async (store, clock) => {
        const key = freshKey('lapse-clean');
        await store.claim(request(key, { fingerprint: 'fp-old', owner: 'old-owner', leaseMs: 1_000, window: { at: 5, windowMs: 100 } }));
        clock.advance(1_000);
        const fresh = await store.claim(request(key));
        expect(fresh.acquired).toBe(true);
        expect(fresh.record.fingerprint).toBeUndefined();
        expect(fresh.record.owner).toBeUndefined();
        expect(fresh.record.windowAnchor).toBeUndefined();
      }));
  });
}
