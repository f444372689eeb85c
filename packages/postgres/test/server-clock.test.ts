import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/index.js';
import { counting, schema, testPool } from './helpers.js';

// serverClock: leases and retention follow PostgreSQL's clock, whatever the callers' clocks say.

const pool = testPool({ max: 3 });
afterAll(() => pool.end());

const HOUR = 3_600_000;
const skewed = (offsetMs: number) => () => Date.now() + offsetMs;
const storeWith = (offsetMs: number, serverClock: boolean) =>
  new PostgresStore({ client: pool, schema, clock: skewed(offsetMs), serverClock });
const request = (key: string, leaseMs = 10_000) => ({ key, leaseMs, retentionMs: 60_000 });

/** The server's clock, epoch ms. */
async function serverNow(): Promise<number> {
  const { rows } = await pool.query<{ now: string }>(`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::int8 AS now`);
  return Number(rows[0]!.now);
}

/** Waits (asking the server, not sleeping) until the server's clock has reached `epochMs`. */
async function serverReaches(epochMs: number): Promise<void> {
  while ((await serverNow()) < epochMs);
}

describe('PostgresStore with serverClock', () => {
  it('a caller clock an hour ahead does not take over a running lease (it does without serverClock)', async () => {
    const key = `sc:${randomUUID()}`;
    const behind = storeWith(-HOUR, true);
    const first = await behind.claim(request(key));
    expect(first.acquired).toBe(true);
    const ahead = await storeWith(HOUR, true).claim(request(key));
    expect(ahead).toMatchObject({ acquired: false, record: { status: 'in_progress', fencingToken: first.record.fencingToken } });

    // The same race on the callers' clocks: the caller an hour ahead sees the claim lapsed.
    const other = `sc:${randomUUID()}`;
    expect((await storeWith(-HOUR, false).claim(request(other))).acquired).toBe(true);
    expect((await storeWith(HOUR, false).claim(request(other))).acquired).toBe(true);
  });

  it('a caller clock an hour behind does not keep a lapsed lease alive', async () => {
    const key = `sc:${randomUUID()}`;
    const first = await storeWith(0, true).claim(request(key, 1));
    await serverReaches(first.record.leaseExpiresAt);
    const late = await storeWith(-HOUR, true).claim(request(key));
    expect(late.acquired).toBe(true);
    expect(late.record.fencingToken).toBeGreaterThan(first.record.fencingToken);
  });

  it('records carry the server’s times, and every operation reads them', async () => {
    const store = storeWith(HOUR, true);
    const key = `sc:${randomUUID()}`;
    const before = await serverNow();
    const outcome = await store.claim(request(key));
    const after = await serverNow();
    expect(outcome.record.claimedAt).toBeGreaterThanOrEqual(before);
    expect(outcome.record.claimedAt).toBeLessThanOrEqual(after);
    expect(outcome.record.leaseExpiresAt).toBe(outcome.record.claimedAt + 10_000);

    await store.extendLease({ key, fencingToken: outcome.record.fencingToken, leaseMs: 20_000 });
    const extended = await store.get(key);
    expect(extended!.leaseExpiresAt).toBeGreaterThanOrEqual(after + 20_000);
    expect(extended!.leaseExpiresAt).toBeLessThan(before + HOUR);

    await store.complete({ key, fencingToken: outcome.record.fencingToken, result: '1', retentionMs: 30_000 });
    const completed = await store.get(key);
    expect(completed!.expiresAt).toBeGreaterThanOrEqual(after + 30_000);
    expect(completed!.expiresAt).toBeLessThan(before + HOUR);

    const version = await store.claimVersion({ entity: key, version: 'v1', leaseMs: 5_000, retentionMs: 30_000 });
    expect(version.status === 'acquired' && version.record.pending!.claimedAt).toBeGreaterThanOrEqual(before);
    expect(version.status === 'acquired' && version.record.pending!.claimedAt).toBeLessThan(before + HOUR);
  });

  it('sends no time at all: the statements read the server’s clock', async () => {
    const client = counting(pool);
    const store = new PostgresStore({ client, schema, serverClock: true, clock: () => Number.NaN });
    const key = `sc:${randomUUID()}`;
    const outcome = await store.claim(request(key));
    await store.complete({ key, fencingToken: outcome.record.fencingToken, result: '1', retentionMs: 60_000 });
    expect(await store.get(key)).toMatchObject({ status: 'completed' });
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(0);
    // A clock reading NaN would have failed the first statement as an invalid bigint.
    expect(client.sent.length).toBeGreaterThanOrEqual(5);
    expect(client.sent.flatMap((config) => config.values ?? []).filter((value) => Number.isNaN(value))).toEqual([]);
    expect(store.serverClock).toBe(true);
  });
});
