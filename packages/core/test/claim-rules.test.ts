import { describe, expect, it } from 'vitest';
import {
  blocks,
  canTakeOver,
  claimLifetimeMs,
  identitiesOf,
  isLive,
  judgeIdentity,
  judgeVersion,
  meets,
  newClaimRecord,
  refusalOf,
  type ClaimRequest,
  type IdempotencyRecord,
  type VersionRecord,
} from '../src/index.js';

// The claim rules every adapter translates (store/claim-rules.ts, store/version-rules.ts), checked
// one rule at a time. The conformance suite checks their sum through each store; these pin the
// edges a store's translation must reproduce exactly.

const NOW = 1_700_000_000_000;

function occurrence(overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return {
    key: 'k',
    status: 'in_progress',
    fencingToken: 1,
    claimedAt: NOW - 1_000,
    leaseExpiresAt: NOW + 1_000,
    expiresAt: NOW + 60_000,
    ...overrides,
  };
}

const request = (overrides: Partial<ClaimRequest> = {}): ClaimRequest => ({ key: 'k', leaseMs: 1_000, retentionMs: 5_000, ...overrides });

describe('isLive', () => {
  it('is false for no record, and for a record at or past its expiresAt', () => {
    expect(isLive(undefined, NOW)).toBe(false);
    expect(isLive(occurrence({ expiresAt: NOW }), NOW)).toBe(false);
    expect(isLive(occurrence({ expiresAt: NOW + 1 }), NOW)).toBe(true);
  });
});

describe('meets', () => {
  it('an unwindowed identity or an occurrence without an anchor always meets', () => {
    expect(meets(occurrence({ windowAnchor: 5 }), undefined)).toBe(true);
    expect(meets(occurrence(), { at: 1e12, windowMs: 1 })).toBe(true);
  });

  it('a windowed identity meets an anchored occurrence closer than the window, both ways, open at windowMs', () => {
    const anchored = occurrence({ windowAnchor: 10_000 });
    expect(meets(anchored, { at: 10_499, windowMs: 500 })).toBe(true);
    expect(meets(anchored, { at: 9_501, windowMs: 500 })).toBe(true);
    expect(meets(anchored, { at: 10_500, windowMs: 500 })).toBe(false);
    expect(meets(anchored, { at: 9_500, windowMs: 500 })).toBe(false);
  });
});

describe('blocks', () => {
  it('a completed occurrence blocks everyone, its own owner included, whatever its old lease says', () => {
    const done = occurrence({ status: 'completed', leaseExpiresAt: NOW - 5_000, owner: 'req-1' });
    expect(blocks(done, { owner: 'req-1' }, NOW)).toBe(true);
    expect(blocks(done, {}, NOW)).toBe(true);
  });

  it('a running claim blocks other owners and unowned requests, not its own owner', () => {
    const running = occurrence({ owner: 'req-1' });
    expect(blocks(running, { owner: 'req-2' }, NOW)).toBe(true);
    expect(blocks(running, {}, NOW)).toBe(true);
    expect(blocks(running, { owner: 'req-1' }, NOW)).toBe(false);
    expect(blocks(occurrence(), { owner: 'req-1' }, NOW)).toBe(true);
  });

  it('a lapsed claim (lease at or before now) blocks nobody', () => {
    expect(blocks(occurrence({ leaseExpiresAt: NOW }), {}, NOW)).toBe(false);
    expect(blocks(occurrence({ leaseExpiresAt: NOW + 1 }), {}, NOW)).toBe(true);
  });
});

describe('canTakeOver', () => {
  it('passes an occurrence it does not meet, or meets without being blocked', () => {
    const anchored = occurrence({ windowAnchor: 0, status: 'completed' });
    expect(canTakeOver(anchored, request({ window: { at: 1_000, windowMs: 500 } }), NOW)).toBe(true);
    expect(canTakeOver(anchored, request({ window: { at: 100, windowMs: 500 } }), NOW)).toBe(false);
    expect(canTakeOver(occurrence({ leaseExpiresAt: NOW }), request(), NOW)).toBe(true);
    expect(canTakeOver(occurrence({ owner: 'me' }), request({ owner: 'me' }), NOW)).toBe(true);
    expect(canTakeOver(occurrence(), request(), NOW)).toBe(false);
  });
});

describe('identitiesOf', () => {
  it('lists the claim key first, carrying its window only when it has one, then `also` in order', () => {
    expect(identitiesOf(request())).toStrictEqual([{ key: 'k' }]);
    const window = { at: 5, windowMs: 10 };
    expect(identitiesOf(request({ window, also: [{ key: 'b' }, { key: 'c', window }] }))).toStrictEqual([
      { key: 'k', window },
      { key: 'b' },
      { key: 'c', window },
    ]);
  });
});

describe('judgeIdentity and refusalOf', () => {
  it('an identity meeting nothing replaces nothing and is not refused', () => {
    const verdict = judgeIdentity([], { key: 'k' }, {}, NOW);
    expect(verdict).toStrictEqual({ replaced: [] });
    expect(refusalOf([verdict])).toBeUndefined();
  });

  it('skips expired and unmet occurrences, keeps the first completed and first running, replaces lapsed and own ones', () => {
    const expired = occurrence({ status: 'completed', expiresAt: NOW, fencingToken: 1 });
    const elsewhere = occurrence({ status: 'completed', windowAnchor: 0, fencingToken: 2 });
    const done = occurrence({ status: 'completed', fencingToken: 3 });
    const laterDone = occurrence({ status: 'completed', fencingToken: 4 });
    const running = occurrence({ owner: 'other', fencingToken: 5 });
    const lapsed = occurrence({ leaseExpiresAt: NOW, fencingToken: 6 });
    const own = occurrence({ owner: 'me', fencingToken: 7 });
    const verdict = judgeIdentity([expired, elsewhere, done, laterDone, running, lapsed, own], { key: 'k', window: { at: NOW, windowMs: 10 } }, { owner: 'me' }, NOW);
    // `elsewhere` is anchored far from the identity; the others carry no anchor and always meet.
    expect(verdict.completed).toBe(done);
    expect(verdict.running).toBe(running);
    expect(verdict.replaced).toStrictEqual([lapsed, own]);
  });

  it('refuses with a completed record before a running one, the first identity first', () => {
    const doneA = occurrence({ key: 'a', status: 'completed' });
    const doneB = occurrence({ key: 'b', status: 'completed' });
    const runningA = occurrence({ key: 'a' });
    expect(refusalOf([{ running: runningA, replaced: [] }, { completed: doneB, replaced: [] }])).toBe(doneB);
    expect(refusalOf([{ completed: doneA, replaced: [] }, { completed: doneB, replaced: [] }])).toBe(doneA);
    expect(refusalOf([{ replaced: [] }, { running: runningA, replaced: [] }])).toBe(runningA);
  });
});

describe('newClaimRecord and claimLifetimeMs', () => {
  it('a fresh claim lives max(retention, lease) and carries only the fields the request has', () => {
    expect(claimLifetimeMs(request({ leaseMs: 9_000, retentionMs: 1_000 }))).toBe(9_000);
    expect(claimLifetimeMs(request({ leaseMs: 1_000, retentionMs: 5_000 }))).toBe(5_000);
    // A store that writes every property (a Redis hash, a DynamoDB item) must not get empty ones.
    expect(newClaimRecord(request(), 3, NOW)).toStrictEqual({
      key: 'k',
      status: 'in_progress',
      fencingToken: 3,
      leaseExpiresAt: NOW + 1_000,
      expiresAt: NOW + 5_000,
      claimedAt: NOW,
    });
  });

  it('by default writes the request key with its window; for another identity, that identity’s key and window', () => {
    const full = request({ fingerprint: 'fp', owner: 'req-1', window: { at: 42, windowMs: 10 } });
    expect(newClaimRecord(full, 1, NOW)).toMatchObject({ key: 'k', fingerprint: 'fp', owner: 'req-1', windowAnchor: 42 });
    const other = newClaimRecord(full, 2, NOW, { key: 'b' });
    expect(other).toMatchObject({ key: 'b', fingerprint: 'fp', owner: 'req-1' });
    expect(other).not.toHaveProperty('windowAnchor');
  });
});

describe('judgeVersion', () => {
  const claimOf = (version: string, owner?: string) => ({ entity: 'e', version, leaseMs: 1_000, retentionMs: 1_000, ...(owner === undefined ? {} : { owner }) });
  const record = (overrides: Partial<VersionRecord> = {}): VersionRecord => ({ entity: 'e', fencingToken: 1, expiresAt: NOW + 60_000, ...overrides });

  it('acquires on no record, or a record with nothing applied and nothing running', () => {
    expect(judgeVersion(undefined, claimOf('n05'), NOW)).toBe('acquire');
    expect(judgeVersion(record(), claimOf('n05'), NOW)).toBe('acquire');
  });

  it('is stale below the applied version and a duplicate at it, even while another version runs', () => {
    const pending = { version: 'n09', fencingToken: 2, leaseExpiresAt: NOW + 500, claimedAt: NOW };
    expect(judgeVersion(record({ applied: 'n05', pending }), claimOf('n04'), NOW)).toBe('stale');
    expect(judgeVersion(record({ applied: 'n05', pending }), claimOf('n05'), NOW)).toBe('duplicate');
    expect(judgeVersion(record({ applied: 'n05', pending }), claimOf('n06'), NOW)).toBe('in_progress');
  });

  it('a running pending version holds off others but not its owner; a lapsed one is replaced', () => {
    const pending = { version: 'n09', fencingToken: 2, leaseExpiresAt: NOW + 1, claimedAt: NOW, owner: 'req-1' };
    expect(judgeVersion(record({ pending }), claimOf('n10', 'req-1'), NOW)).toBe('acquire');
    expect(judgeVersion(record({ pending }), claimOf('n10', 'req-2'), NOW)).toBe('in_progress');
    expect(judgeVersion(record({ pending }), claimOf('n10'), NOW)).toBe('in_progress');
    expect(judgeVersion(record({ pending: { ...pending, leaseExpiresAt: NOW } }), claimOf('n10'), NOW)).toBe('acquire');
  });
});
