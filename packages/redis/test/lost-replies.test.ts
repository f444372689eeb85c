import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { IdempotencyEngine, IdempotencyInProgressError } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { RedisStore } from '../src/index.js';
import { CLAIM_SCRIPT } from '../src/scripts.js';
import { close, runPrefix, uniqueKey } from './support/clients.js';
import { decodeValue } from './support/decode-value.js';
import { FaultyProxy } from './support/faulty-proxy.js';

// A claim that reached the server but whose reply was lost: the proxy lets the claim through,
// swallows its reply and cuts the connection, and ioredis re-sends the claim on its new connection
// (autoResendUnfulfilledCommands, its default). The retry meets the first attempt's claim.

// A single-identity claim is first sent as a plain SET … NX GET (fast-path.ts).
const FAST_CLAIM = '$3\r\nSET\r\n';

describe('a claim whose reply was lost (ioredis re-sends it after reconnecting)', () => {
  const clock = manualClock();
  let proxy: FaultyProxy;
  let client: Redis;
  let store: RedisStore;
  beforeAll(async () => {
    const url = new URL(inject('redisUrl'));
    proxy = await FaultyProxy.start({ host: url.hostname, port: Number(url.port || 6379) });
    client = new Redis({ host: '127.0.0.1', port: proxy.port, db: Number(url.pathname.slice(1) || 0) });
    store = new RedisStore({ client, prefix: runPrefix(), clock: clock.now });
    await store.get(uniqueKey('warm-up'));
    proxy.count(CLAIM_SCRIPT.sha);
    proxy.count(FAST_CLAIM);
  });
  afterAll(async () => {
    await close(client);
    await proxy?.close();
  });

  const engineFor = () => new IdempotencyEngine<{ id: string }, string>({ store, strategy: { strategy: 'eventId' }, namespace: 'lost' });
  const claimsSent = () => proxy.seen.get(CLAIM_SCRIPT.sha)!;
  const fastClaimsSent = () => proxy.seen.get(FAST_CLAIM)!;

  it('is taken over by its own retry when it names its owner: the handler runs once and the call succeeds', async () => {
    const event = { id: randomUUID() };
    let runs = 0;
    const [before, fastBefore] = [claimsSent(), fastClaimsSent()];
    const lost = proxy.loseNextReply(event.id);
    const result = await engineFor().run(event, async (_event, claim) => `ran with token ${++runs && claim!.fencingToken}`, { owner: 'req-1' });
    await lost;
    expect(runs).toBe(1);
    // The lost SET NX and ioredis' re-send, which met the first attempt's claim: the owner's own,
    // so the script judged it and took it over.
    expect(fastClaimsSent() - fastBefore).toBe(2);
    expect(claimsSent() - before).toBe(1);
    // The first attempt's token is dead: the retry took its own claim over with the next one.
    const firstToken = clock.now() * 1000;
    expect(result).toBe(`ran with token ${firstToken + 1}`);
    const key = `lost:eventId:${event.id}`;
    expect(await store.get(key)).toMatchObject({ status: 'completed', fencingToken: firstToken + 1, owner: 'req-1' });
    // One occurrence left: the taken-over one was replaced, not kept beside it.
    expect(await decodeValue(client, store.redisKey(key))).toHaveLength(2);
  });

  it('without an owner the retry looks like someone else’s claim and is refused for the whole lease (why owners exist)', async () => {
    const event = { id: randomUUID() };
    let runs = 0;
    const lost = proxy.loseNextReply(event.id);
    const error = await engineFor()
      .run(event, async () => `${++runs}`)
      .catch((caught: unknown) => caught);
    await lost;
    expect(runs).toBe(0);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
  });

  it('a batch claim whose reply was lost acquires every item on the re-send, each by its own owner', async () => {
    const keys = Array.from({ length: 10 }, (_, i) => uniqueKey(`batch-${i}`));
    const lost = proxy.loseNextReply(keys[0]!);
    const outcomes = await store.claimMany(keys.map((key, i) => ({ key, leaseMs: 10_000, retentionMs: 60_000, owner: `req-1:${i}` })));
    await lost;
    expect(outcomes.map((outcome) => outcome.acquired)).toEqual(keys.map(() => true));
    for (const outcome of outcomes) expect(outcome.acquired && outcome.fencingToken).toBe(clock.now() * 1000 + 1);
  });
});
