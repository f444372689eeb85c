// Runs the Lambda's handler, configured as template.yaml configures it, against the real Redis at
// REDIS_URL, and replays Genesys Cloud deliveries through it. Only the CRM call is replaced: each
// call is counted and gets a new activity id, so a result that comes back twice came from Redis.
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeSharedStores, genesysCloud } from '@idemkit/eventbridge';
import { RedisStore } from '@idemkit/redis';
import { logActivity } from '../src/crm.js';
import { handler } from '../src/handler.js';
import { genesysEvent, reEmitted, resent } from './genesys-events.js';

vi.mock('../src/crm.js'); // logActivity becomes a vi.fn(), given an implementation below

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `idemkit-example-genesys-${randomBytes(4).toString('hex')}`; // this run's keys only
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const MINUTE = 60_000;
const context = { functionName: 'genesys-crm-sync', getRemainingTimeInMillis: () => 30_000 };

const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
redis.on('error', () => undefined);

beforeAll(async () => {
  try {
    await redis.connect();
  } catch (error) {
    throw new Error(
      `This example's test needs Redis at ${REDIS_URL} (set REDIS_URL for another): ${(error as Error).message}. ` +
        'Start it with `redis-server --daemonize yes`, or `bash scripts/ensure-services.sh` from the repository root.',
    );
  }
  // What template.yaml sets, pointed at the local Redis under this run's key prefix.
  const store = new URL(REDIS_URL);
  store.searchParams.set('prefix', PREFIX);
  vi.stubEnv('IDEMKIT_STORE', store.toString());
  vi.stubEnv('IDEMKIT_STRATEGY', '{"preset":"genesysCloud"}');
  vi.stubEnv('IDEMKIT_LOG_LEVEL', 'warn'); // keep the duplicate lines out of the test output
});

afterAll(async () => {
  await closeSharedStores(); // the connection the handler opened from IDEMKIT_STORE
  try {
    const left = await keysUnder(`${PREFIX}:*`);
    if (left.length > 0) await redis.unlink(...left);
  } finally {
    redis.disconnect();
  }
});

let activities = 0;
beforeEach(() => {
  vi.mocked(logActivity).mockImplementation(async () => ({ id: `activity-${++activities}` }));
});

/** The CRM calls made for one conversation. */
const crmCalls = (conversationId: string) =>
  vi.mocked(logActivity).mock.calls.filter(([activity]) => activity.conversationId === conversationId);

/** A fresh conversation with an agent and a customer, so tests never share keys. */
function conversation() {
  return { conversationId: randomUUID(), agent: randomUUID(), customer: randomUUID() };
}

async function keysUnder(pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('genesys-redis handler', () => {
  it('an exact redelivery returns the stored result; the CRM is called once', async () => {
    const { conversationId, agent } = conversation();
    const connected = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });

    const first = await handler(connected, context);
    const redelivered = await handler(structuredClone(connected), context);

    expect(first).toEqual({ activityId: expect.stringMatching(/^activity-\d+$/) });
    expect(redelivered).toEqual(first);
    expect(crmCalls(conversationId)).toHaveLength(1);
  });

  it('a re-send with a new envelope id is a duplicate', async () => {
    const { conversationId, agent } = conversation();
    const connected = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });

    const first = await handler(connected, context);
    const again = resent(connected);
    expect(again.id).not.toBe(connected.id);

    expect(await handler(again, context)).toEqual(first);
    expect(crmCalls(conversationId)).toHaveLength(1);
  });

  it('the same change re-emitted with new ids 0, 3 and 480 ms later is one activity', async () => {
    const { conversationId, agent } = conversation();
    const connected = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });
    const first = await handler(connected, context);

    for (const afterMs of [0, 3, 480]) {
      const copy = reEmitted(connected, afterMs);
      expect(copy.detail.metadata?.CorrelationId).not.toBe(connected.detail.metadata?.CorrelationId);
      expect(await handler(copy, context)).toEqual(first);
    }
    expect(crmCalls(conversationId)).toHaveLength(1);
  });

  it("a reopened conversation's second wrap-up, minutes later, is a new activity; its redelivery is not", async () => {
    const { conversationId, agent } = conversation();
    const wrapUp = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0 + 5 * MINUTE });
    const secondWrapUp = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0 + 12 * MINUTE });

    const first = await handler(wrapUp, context);
    const second = await handler(secondWrapUp, context);
    expect(second).not.toEqual(first);
    expect(await handler(resent(secondWrapUp), context)).toEqual(second);

    expect(crmCalls(conversationId).map(([activity]) => activity.occurredAt)).toEqual([
      new Date(T0 + 5 * MINUTE).toISOString(),
      new Date(T0 + 12 * MINUTE).toISOString(),
    ]);
  });

  it('a replayed stream of one call logs one activity per logical change', async () => {
    const { conversationId, agent, customer } = conversation();
    const at = (topic: string, participantId: string, eventTime: number) =>
      genesysEvent({ conversationId, participantId, topic, eventTime });
    const customerStart = at('customer.start', customer, T0);
    const agentStart = at('user.start', agent, T0); // same millisecond, another participant
    const wrapUp = at('acw', agent, T0 + 4 * MINUTE);
    const customerEnd = at('customer.end', customer, T0 + 4 * MINUTE - 500);
    const reopenedWrapUp = at('acw', agent, T0 + 9 * MINUTE);

    const deliveries = [
      customerStart, agentStart, structuredClone(agentStart), reEmitted(customerStart, 480),
      customerEnd, wrapUp, resent(customerEnd), reEmitted(wrapUp, 2), resent(wrapUp),
      reopenedWrapUp, structuredClone(reopenedWrapUp), reEmitted(reopenedWrapUp, 500),
    ];
    for (const delivery of deliveries) await handler(delivery, context);

    const change = (topic: string) => topic.replace(`v2.detail.events.conversation.${conversationId}.`, '');
    expect(crmCalls(conversationId).map(([activity]) => [change(activity.topic), activity.occurredAt])).toEqual([
      ['customer.start', new Date(T0).toISOString()],
      ['user.start', new Date(T0).toISOString()],
      ['customer.end', new Date(T0 + 4 * MINUTE - 500).toISOString()],
      ['acw', new Date(T0 + 4 * MINUTE).toISOString()],
      ['acw', new Date(T0 + 9 * MINUTE).toISOString()],
    ]);
  });

  it('a failed CRM call releases the claim, so the retry logs the activity', async () => {
    const { conversationId, agent } = conversation();
    const ended = genesysEvent({ conversationId, participantId: agent, topic: 'user.end', eventTime: T0 });
    vi.mocked(logActivity).mockRejectedValueOnce(new Error('CRM answered 503 Service Unavailable'));

    await expect(handler(ended, context)).rejects.toThrow('503');
    const retried = await handler(ended, context); // Lambda's async retry
    expect(await handler(ended, context)).toEqual(retried);
    expect(crmCalls(conversationId)).toHaveLength(2); // the failed attempt and the retry
  });

  it('keeps its records in Redis, under the configured prefix, with the stored result', async () => {
    const { conversationId, agent } = conversation();
    const result = await handler(genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 }), context);

    const event = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });
    const records = await keysUnder(`${PREFIX}:*${conversationId}*`);
    expect(records).toHaveLength(1);
    expect(records[0]).toContain('genesys-crm-sync/logConversationActivity:genesysCloud:');
    // Read back through the store's own API, whatever its layout on the server.
    const key = `genesys-crm-sync/logConversationActivity:${genesysCloud().keyFor(event).key}`;
    expect(await new RedisStore({ client: redis, prefix: PREFIX }).get(key)).toMatchObject({
      status: 'completed',
      result: JSON.stringify(result),
    });
  });
});
