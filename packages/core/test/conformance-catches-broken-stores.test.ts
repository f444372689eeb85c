import { describe, expect, it } from 'vitest';
import { runStoreConformance, type ConformanceTestApi, type StoreFactory } from '../src/testing/index.js';
import { NaiveServer, NaiveStore, type Faults } from './support/naive-store.js';

// The conformance suite is only worth something if it fails broken stores. NaiveStore is a
// correct store on the contract that can carry one fault at a time, each a bug seen in home-made
// dedup code or in an adapter under review; the suite must flag every one, by a test that names it.

/** Runs the whole suite against a naive store with `faults` and returns the names of the tests that failed. */
async function failingConformanceTests(faults: Faults): Promise<string[]> {
  const tests: Array<{ name: string; body: () => Promise<void> }> = [];
  const path: string[] = [];
  const api: ConformanceTestApi = {
    describe: (name, body) => {
      path.push(name);
      body();
      path.pop();
    },
    it: (name, body) => tests.push({ name: [...path.slice(1), name].join(' › '), body }),
    expect,
  };
  // Every store of one test shares its clock: that makes them connections to one server.
  const servers = new WeakMap<object, NaiveServer>();
  const factory: StoreFactory = ({ clock }) => {
    let server = servers.get(clock);
    if (server === undefined) servers.set(clock, (server = new NaiveServer()));
    return new NaiveStore(server, clock.now, faults);
  };
  runStoreConformance(api, { name: 'naive', factory, concurrentClaimers: 20 });
  const failed: string[] = [];
  for (const test of tests) await test.body().catch(() => failed.push(test.name));
  return failed;
}

/** Each fault, and conformance tests that must fail on it (at least one, named). */
const mutants: Array<{ fault: string; faults: Faults; caughtBy: string[] }> = [
  {
    fault: 'the check-then-write race',
    faults: { checkThenWrite: true },
    caughtBy: [
      'concurrency › exactly one of 20 concurrent claimers on separate connections acquires',
      'concurrency › exactly one of 20 concurrent claimers takes over a lapsed lease',
      'several identities per claim (anyOf) › of 20 concurrent re-sends sharing one state identity, exactly one acquires and the others leave nothing',
    ],
  },
  {
    fault: 'fencing tokens that restart once a record is deleted',
    faults: { tokensRestart: true },
    caughtBy: [
      'fencing tokens › strictly increase across release, lease expiry and retention expiry',
      'fencing tokens › tokens keep increasing over many release/re-claim cycles at one instant',
      'several identities per claim (anyOf) › fencing tokens of every identity strictly increase across re-claims',
    ],
  },
  {
    fault: 'expiry left to the server (expiresAt never read)',
    faults: { ignoresExpiresAt: true },
    caughtBy: [
      'retention › a completed key past expiresAt counts as absent even if the server has not deleted it',
      'occurrence history › an occurrence past its retention no longer counts, while younger ones still do',
      'ordering guard (versions per entity) › a version record past its retention counts as absent',
    ],
  },
  {
    fault: 'complete ignoring expiresAt',
    faults: { completeIgnoresExpiresAt: true },
    caughtBy: ['retention of claims in progress › complete and release of a claim past its retention are refused, even if the server still holds it'],
  },
  {
    fault: 'release ignoring expiresAt',
    faults: { releaseIgnoresExpiresAt: true },
    caughtBy: ['retention of claims in progress › complete and release of a claim past its retention are refused, even if the server still holds it'],
  },
  {
    fault: "a take-over keeping the previous holder's result",
    faults: { takeOverKeeps: 'result' },
    caughtBy: [
      'retention of claims in progress › a claim taking over an expired record keeps nothing of the old one',
      'retention › a completed key past expiresAt counts as absent even if the server has not deleted it',
    ],
  },
  {
    fault: "a take-over keeping the previous holder's fingerprint",
    faults: { takeOverKeeps: 'fingerprint' },
    caughtBy: [
      'retention of claims in progress › a claim taking over an expired record keeps nothing of the old one',
      'retention of claims in progress › a claim taking over a lapsed lease keeps nothing of the old holder',
      'occurrence history › a lapsed in-progress occurrence is taken over inside its window; other occurrences stay',
    ],
  },
  {
    fault: "a take-over keeping the previous holder's windowAnchor",
    faults: { takeOverKeeps: 'windowAnchor' },
    caughtBy: ['retention of claims in progress › a claim taking over a lapsed lease keeps nothing of the old holder'],
  },
  {
    fault: "a take-over keeping the previous holder's owner",
    faults: { takeOverKeeps: 'owner' },
    caughtBy: [
      'retention of claims in progress › a claim taking over an expired record keeps nothing of the old one',
      'retention of claims in progress › a claim taking over a lapsed lease keeps nothing of the old holder',
    ],
  },
  {
    fault: 'a single anchor per key (a late redelivery after a newer occurrence runs again)',
    faults: { singleAnchorPerKey: true },
    caughtBy: [
      'occurrence history › a late redelivery of an earlier occurrence, after a newer one, is a duplicate of the earlier one',
      'occurrence history › fifty occurrences of one key are all remembered',
      'occurrence history › property: over generated streams, every logical event acquires exactly once (sequential)',
    ],
  },
  {
    fault: 'identities claimed one by one without rollback',
    faults: { identitiesOneByOne: true },
    caughtBy: [
      'several identities per claim (anyOf) › a delivery sharing any one identity is refused with that record, and leaves nothing behind',
      'several identities per claim (anyOf) › claimMany: an item sharing an identity with an earlier item sees its claim; a distinct one acquires',
      'several identities per claim (anyOf) › a completed identity answers before an in-progress one, whichever comes first in the claim',
    ],
  },
  {
    fault: 'the owner ignored (a retry after a lost reply is refused by its own claim)',
    faults: { ignoresOwner: true },
    caughtBy: [
      'owners › the owner meeting its own in-progress claim takes it over with a higher token',
      'ordering guard (versions per entity) › the owner takes its own pending claim over; fencing tokens strictly increase',
    ],
  },
  {
    fault: 'extendLease reviving a lapsed claim',
    faults: { extendRevivesLapsed: true },
    caughtBy: ['lease extension › extendLease never revives a lapsed, stale or completed claim'],
  },
  {
    fault: 'a version claim that lets an older version apply',
    faults: { olderVersionApplies: true },
    caughtBy: [
      'ordering guard (versions per entity) › newer versions apply; an equal one is a duplicate and an older one stale',
      'ordering guard (versions per entity) › tuple versions break equal times by their next element',
      'ordering guard (versions per entity) › property: concurrent writers over a shuffled stream converge on the newest version and never move back',
    ],
  },
  {
    fault: 'claimMany judging every item against the store as it was before the batch',
    faults: { batchJudgedUpFront: true },
    caughtBy: [
      'batches › claimMany answers in request order; a key repeated in the batch is acquired once',
      'occurrence history › claimMany: distinct occurrences in one batch both acquire; a repeat sees the earlier item',
      'several identities per claim (anyOf) › claimMany: an item sharing an identity with an earlier item sees its claim; a distinct one acquires',
    ],
  },
];

describe('the conformance suite fails broken stores', () => {
  it('passes the naive store when it has no fault (the baseline is right)', async () => {
    expect(await failingConformanceTests({})).toEqual([]);
  });

  for (const { fault, faults, caughtBy } of mutants) {
    it(`catches ${fault}`, async () => {
      const failed = await failingConformanceTests(faults);
      for (const name of caughtBy) expect(failed, `failing tests: ${failed.join('; ')}`).toContain(name);
    });
  }
});
