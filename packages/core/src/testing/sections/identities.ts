import { LeaseLostError } from '../../errors.js';
import type { ClaimOutcome, IdentityToken } from '../../store/types.js';
import { createBarrier } from '../barrier.js';
import { RETENTION, acquiredToken, freshKey, rejectionOf, request, type SectionKit } from './kit.js';

const WINDOW_MS = 500;
const BASE = 1_700_000_200_000;

function alsoTokens(outcome: ClaimOutcome): IdentityToken[] {
  if (!outcome.acquired || outcome.also === undefined) throw new Error('expected an acquired claim with `also` tokens');
  return outcome.also;
}

/**
 * Several identities per delivery (`anyOf`): refused when any identity meets a remembered
 * occurrence, and then nothing is left behind; acquired, completed and released all together.
 */
export function identitySection(kit: SectionKit): void {
  const { describe, test, expect, withStore, withStores, claimers } = kit;

  describe('several identities per claim (anyOf)', () => {
    test('a new delivery acquires every identity, each with its own token', () =>
      withStore(async (store) => {
        const [id, state] = [freshKey('id'), freshKey('state')];
        const outcome = await store.claim(
          request(id, { also: [{ key: state, window: { at: BASE, windowMs: WINDOW_MS } }], fingerprint: 'fp' }),
        );
        const token = acquiredToken(outcome);
        const [stateToken] = alsoTokens(outcome);
        expect(stateToken!.key).toBe(state);
        expect(await store.get(id)).toMatchObject({ status: 'in_progress', fencingToken: token, fingerprint: 'fp' });
        expect(await store.get(state)).toMatchObject({
          status: 'in_progress',
          fencingToken: stateToken!.fencingToken,
          windowAnchor: BASE,
        });
      }));

    test('a delivery sharing any one identity is refused with that record, and leaves nothing behind', () =>
      withStore(async (store) => {
        const [id1, id2, id3, state] = [freshKey('id1'), freshKey('id2'), freshKey('id3'), freshKey('state')];
        const first = await store.claim(request(id1, { also: [{ key: state, window: { at: BASE, windowMs: WINDOW_MS } }] }));
        const [stateToken] = alsoTokens(first);
        // A re-send with a new id: only the state window matches.
        const reSend = await store.claim(request(id2, { also: [{ key: state, window: { at: BASE + 100, windowMs: WINDOW_MS } }] }));
        expect(reSend.acquired).toBe(false);
        expect(reSend.record).toMatchObject({ key: state, status: 'in_progress', fencingToken: stateToken!.fencingToken });
        expect(await store.get(id2)).toBeUndefined();
        // An exact redelivery whose state-window identity lies elsewhere: the id matches.
        const redelivery = await store.claim(request(id1, { also: [{ key: freshKey('other'), window: { at: BASE, windowMs: WINDOW_MS } }] }));
        expect(redelivery.acquired).toBe(false);
        expect(redelivery.record).toMatchObject({ key: id1, fencingToken: acquiredToken(first) });
        // A legitimate repeat later: a new id and a state time outside the window.
        const repeat = await store.claim(request(id3, { also: [{ key: state, window: { at: BASE + 60_000, windowMs: WINDOW_MS } }] }));
        expect(repeat.acquired).toBe(true);
      }));

    test('a completed identity answers before an in-progress one, whichever comes first in the claim', () =>
      withStore(async (store) => {
        const [running, done] = [freshKey('running'), freshKey('done')];
        await store.claim(request(running));
        const doneToken = acquiredToken(await store.claim(request(done)));
        await store.complete({ key: done, fencingToken: doneToken, result: '"d"', retentionMs: RETENTION });
        const outcome = await store.claim(request(running, { also: [{ key: done }] }));
        expect(outcome.acquired).toBe(false);
        expect(outcome.record).toMatchObject({ key: done, status: 'completed', result: '"d"' });
      }));

    test('complete and release act on every identity together', () =>
      withStore(async (store) => {
        const [id, hash, state] = [freshKey('id'), freshKey('hash'), freshKey('state')];
        const claimOf = () => request(id, { also: [{ key: hash }, { key: state, window: { at: BASE, windowMs: WINDOW_MS } }] });
        const released = await store.claim(claimOf());
        expect(await store.release(id, acquiredToken(released), alsoTokens(released))).toBe(true);
        for (const key of [id, hash, state]) expect(await store.get(key)).toBeUndefined();

        const outcome = await store.claim(claimOf());
        await store.complete({ key: id, fencingToken: acquiredToken(outcome), result: '"r"', retentionMs: RETENTION, also: alsoTokens(outcome) });
        for (const key of [id, hash, state]) {
          expect(await store.get(key)).toMatchObject({ status: 'completed', result: '"r"' });
          const alone = await store.claim(request(key, key === state ? { window: { at: BASE + 10, windowMs: WINDOW_MS } } : {}));
          expect(alone.acquired).toBe(false);
          expect(alone.record.result).toBe('"r"');
        }
      }));

    test('complete is all or nothing: one identity taken over fails it and changes no identity', () =>
      withStore(async (store, clock) => {
        const [id, state] = [freshKey('id'), freshKey('state')];
        const outcome = await store.claim(
          request(id, { leaseMs: 1_000, also: [{ key: state, window: { at: BASE, windowMs: WINDOW_MS } }] }),
        );
        const token = acquiredToken(outcome);
        clock.advance(1_000);
        // A re-send takes the lapsed state identity over.
        const other = await store.claim(request(freshKey('id-b'), { also: [{ key: state, window: { at: BASE + 50, windowMs: WINDOW_MS } }] }));
        expect(other.acquired).toBe(true);
        const error = await rejectionOf(
          store.complete({ key: id, fencingToken: token, result: '"late"', retentionMs: RETENTION, also: alsoTokens(outcome) }),
        );
        expect(error).toBeInstanceOf(LeaseLostError);
        expect((error as LeaseLostError).key).toBe(state);
        expect(await store.get(id)).toMatchObject({ status: 'in_progress', fencingToken: token });
        // Without the lost identity it completes.
        await store.complete({ key: id, fencingToken: token, result: '"late"', retentionMs: RETENTION });
        expect(await store.get(id)).toMatchObject({ status: 'completed', result: '"late"' });
      }));

    test('release frees each identity still held and leaves one taken over alone', () =>
      withStore(async (store, clock) => {
        const [id, state] = [freshKey('id'), freshKey('state')];
        const outcome = await store.claim(request(id, { leaseMs: 1_000, also: [{ key: state }] }));
        clock.advance(1_000);
        const other = acquiredToken(await store.claim(request(state)));
        expect(await store.release(id, acquiredToken(outcome), alsoTokens(outcome))).toBe(true);
        expect(await store.get(id)).toBeUndefined();
        expect(await store.get(state)).toMatchObject({ status: 'in_progress', fencingToken: other });
      }));

    test('fencing tokens of every identity strictly increase across re-claims', () =>
      withStore(async (store) => {
        const [id, hash] = [freshKey('id'), freshKey('hash')];
        let previous = [0, 0];
        for (let i = 0; i < 5; i++) {
          const outcome = await store.claim(request(id, { also: [{ key: hash }] }));
          const tokens = [acquiredToken(outcome), alsoTokens(outcome)[0]!.fencingToken];
          expect(tokens[0]).toBeGreaterThan(previous[0]!);
          expect(tokens[1]).toBeGreaterThan(previous[1]!);
          expect(await store.release(id, tokens[0]!, alsoTokens(outcome))).toBe(true);
          previous = tokens;
        }
      }));

    test('claimMany: an item sharing an identity with an earlier item sees its claim; a distinct one acquires', () =>
      withStore(async (store) => {
        const [id1, id2, id3, state] = [freshKey('id1'), freshKey('id2'), freshKey('id3'), freshKey('state')];
        const outcomes = await store.claimMany([
          request(id1, { also: [{ key: state, window: { at: BASE, windowMs: WINDOW_MS } }] }),
          request(id2, { also: [{ key: state, window: { at: BASE + 20, windowMs: WINDOW_MS } }] }),
          request(id3, { also: [{ key: state, window: { at: BASE + 20_000, windowMs: WINDOW_MS } }] }),
        ]);
        expect(outcomes.map((outcome) => outcome.acquired)).toEqual([true, false, true]);
        expect(outcomes[1]!.record).toMatchObject({ key: state, fencingToken: alsoTokens(outcomes[0]!)[0]!.fencingToken });
        expect(await store.get(id2)).toBeUndefined();
      }));

    test(`of ${claimers} concurrent re-sends sharing one state identity, exactly one acquires and the others leave nothing`, () =>
      withStores(claimers, async (stores) => {
        const state = freshKey('shared-state');
        const ids = stores.map((_, i) => freshKey(`resend-${i}`));
        const barrier = createBarrier(stores.length);
        const outcomes = await Promise.all(
          stores.map(async (store, i) => {
            await barrier.wait();
            return store.claim(request(ids[i]!, { also: [{ key: state, window: { at: BASE + (i % 7) * 30, windowMs: WINDOW_MS } }] }));
          }),
        );
        expect(outcomes.filter((outcome) => outcome.acquired)).toHaveLength(1);
        const losers = ids.filter((_, i) => !outcomes[i]!.acquired);
        // One after another: a store may sit on a single connection that takes one query at a time.
        const leftovers = [];
        for (const id of losers) leftovers.push(await stores[0]!.get(id));
        expect(leftovers.filter((record) => record !== undefined)).toEqual([]);
      }));
  });
}
