import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, KeyExtractionError, previewStrategy } from '@idemkit/core';
import {
  genesysCloud,
  makeIdempotent,
  niceCxone,
  resolveStrategy,
  type IdempotencyConfig,
  type PresetConfig,
} from '../src/index.js';
import { cxoneEvent, genesysEvent, resent, T0 } from './support/events.js';
import { lambdaContext, rejection } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type TestStore } from './support/stores.js';

const MINUTE = 60_000;

// Runs deliveries through one wrapped handler; returns which ones ran the handler.
function consumer<TEvent>(t: TestStore, strategy: PresetConfig | IdempotencyConfig<TEvent>['strategy']) {
  const ran: TEvent[] = [];
  const handler = makeIdempotent(
    async (event: TEvent) => {
      ran.push(event);
      return 'synced';
    },
    { store: t.store, strategy: strategy as IdempotencyConfig<TEvent>['strategy'], namespace: uniqueNamespace(), env: false, logLevel: 'off' },
  );
  return {
    ran,
    async deliver(...events: TEvent[]): Promise<boolean[]> {
      const before = ran.length;
      const processed: boolean[] = [];
      for (const event of events) {
        const count = ran.length;
        await expect(handler(event, lambdaContext())).resolves.toBe('synced'); // duplicates never throw
        processed.push(ran.length > count);
      }
      expect(ran.length - before).toBe(processed.filter(Boolean).length);
      return processed;
    },
  };
}

describe.each(STORE_KINDS)('genesysCloud preset on the %s store', (kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  const conversationId = randomUUID();
  const customer = randomUUID();
  const agent = randomUUID();
  const agent2 = randomUUID();

  it('drops an exact redelivery', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const event = genesysEvent({ conversationId, participantId: customer, topic: 'customer.start', eventTime: T0 });
    expect(await deliver(event, structuredClone(event))).toEqual([true, false]);
  });

  it('drops a re-send with a new envelope id', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const event = genesysEvent({ conversationId, participantId: customer, topic: 'customer.start', eventTime: T0 });
    expect(await deliver(event, resent(event))).toEqual([true, false]);
  });

  it('drops the same state change re-emitted 7 ms (and 480 ms) later with new ids throughout', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const original = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });
    const reemit7 = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 + 7 });
    const reemit480 = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 + 480 });
    expect(reemit7.id).not.toBe(original.id);
    expect(reemit7.detail.metadata?.CorrelationId).not.toBe(original.detail.metadata?.CorrelationId);
    expect(await deliver(original, reemit7, reemit480)).toEqual([true, false, false]);
  });

  it("processes a reopened conversation's second wrap-up minutes later", async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const wrapup = { wrapupCode: 'a8bb8b62-7a39-4b3c-bb0b-7c0a34e5f1de', wrapupDurationSeconds: 42 };
    const first = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0, eventBody: wrapup });
    const second = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0 + 4 * MINUTE, eventBody: wrapup });
    expect(await deliver(first, second, resent(second))).toEqual([true, true, false]);
  });

  it('drops a late redelivery (and a late re-send) of an occurrence after a legitimate repeat arrived', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const first = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0 });
    const repeat = genesysEvent({ conversationId, participantId: agent, topic: 'acw', eventTime: T0 + 4 * MINUTE });
    // EventBridge retries the first delivery after the repeat was processed: with one anchor per
    // key it ran again; the occurrence history remembers both.
    t.clock.advance(10 * MINUTE);
    expect(await deliver(first, repeat, structuredClone(first), resent(first), structuredClone(repeat))).toEqual([
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('processes out-of-order occurrences, then drops the redeliveries of each', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const later = genesysEvent({ conversationId, participantId: customer, topic: 'customer.end', eventTime: T0 + 2 * MINUTE });
    const earlier = genesysEvent({ conversationId, participantId: customer, topic: 'customer.end', eventTime: T0 });
    expect(await deliver(later, earlier, structuredClone(later), structuredClone(earlier))).toEqual([true, true, false, false]);
  });

  it('processes two participants starting at the same millisecond', async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    const first = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });
    const second = genesysEvent({ conversationId, participantId: agent2, topic: 'user.start', eventTime: T0 });
    expect(await deliver(first, second)).toEqual([true, true]);
  });

  it("processes different states of one participant, and other conversations' events, at the same millisecond", async () => {
    const { deliver } = consumer(t, { preset: 'genesysCloud' });
    expect(
      await deliver(
        genesysEvent({ conversationId, participantId: customer, topic: 'customer.start', eventTime: T0 }),
        genesysEvent({ conversationId, participantId: customer, topic: 'customer.end', eventTime: T0 }),
        genesysEvent({ conversationId: randomUUID(), participantId: customer, topic: 'customer.start', eventTime: T0 }),
      ),
    ).toEqual([true, true, true]);
  });

  it('honours a configured window', async () => {
    const { deliver } = consumer(t, '{"preset":"genesysCloud","windowMs":5000}');
    const original = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 });
    const late = genesysEvent({ conversationId, participantId: agent, topic: 'user.start', eventTime: T0 + 3_000 });
    expect(await deliver(original, late)).toEqual([true, false]);
  });
});

describe.each(STORE_KINDS)('niceCxone preset on the %s store', (kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  const conversationId = `conv-${randomUUID()}`;

  it('drops an exact redelivery, and a re-send with a new envelope id however late it arrives', async () => {
    const { deliver } = consumer(t, { preset: 'niceCxone' });
    const started = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 });
    expect(await deliver(started, structuredClone(started))).toEqual([true, false]);
    t.clock.advance(45 * MINUTE); // the bridge re-sends after an outage
    expect(await deliver(resent(started))).toEqual([false]);
  });

  it('drops a late redelivery of an event after the conversation started again', async () => {
    const { deliver } = consumer(t, { preset: 'niceCxone' });
    const first = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0, idempotencyKey: null });
    const again = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 + 10 * MINUTE, idempotencyKey: null });
    expect(await deliver(first, again, structuredClone(first), resent(first))).toEqual([true, true, false, false]);
  });

  it('processes a conversation that starts again later, with a new IdempotencyKey or the same one', async () => {
    const { deliver } = consumer(t, { preset: 'niceCxone' });
    const key = randomUUID();
    const first = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0, idempotencyKey: key });
    const againNewKey = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 + 10 * MINUTE });
    const againSameKey = cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 + 20 * MINUTE, idempotencyKey: key });
    expect(await deliver(first, againNewKey, againSameKey, resent(againSameKey))).toEqual([true, true, true, false]);
  });

  it('processes two events of one type in one conversation within the window when their IdempotencyKeys differ', async () => {
    const { deliver } = consumer(t, { preset: 'niceCxone' });
    expect(
      await deliver(
        cxoneEvent({ conversationId, eventType: 'MessageAdded', at: T0 }),
        cxoneEvent({ conversationId, eventType: 'MessageAdded', at: T0 + 300 }),
      ),
    ).toEqual([true, true]);
  });

  it('keys events without an IdempotencyKey on conversation, type and window', async () => {
    const { deliver } = consumer(t, { preset: 'niceCxone' });
    const first = cxoneEvent({ conversationId, eventType: 'ContactEnded', at: T0, idempotencyKey: null });
    const restart = cxoneEvent({ conversationId, eventType: 'ContactEnded', at: T0 + 5 * MINUTE, idempotencyKey: null });
    expect(await deliver(first, resent(first), restart)).toEqual([true, false, true]);
  });

  it('with idempotencyKey: false, catches a re-emit with a fresh IdempotencyKey inside the window', async () => {
    const { deliver } = consumer(t, niceCxone({ idempotencyKey: false }));
    expect(
      await deliver(
        cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 }),
        cxoneEvent({ conversationId, eventType: 'ContactStarted', at: T0 + 20 }),
      ),
    ).toEqual([true, false]);
  });
});

describe('preset keys and config', () => {
  const conversationId = 'b8a5c1f0-3d2e-4f5a-9b6c-7d8e9f0a1b2c';
  const participantId = '0f4b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';

  it('keys Genesys events on conversation, participant and topic state, windowed on eventTime', () => {
    const event = genesysEvent({ conversationId, participantId, topic: 'customer.start', eventTime: T0 });
    const key = genesysCloud().keyFor(event);
    expect(key.key).toBe(`genesysCloud:${conversationId}:${participantId}:v2.detail.events.conversation.customer.start`);
    expect(key.window).toEqual({ at: T0, windowMs: 1_000 });
    expect(key.parts.map((part) => part.label)).toEqual([
      'stateWindow:detail.eventBody.conversationId',
      'stateWindow:detail.eventBody.participantId',
      'topic:<custom:topic>',
    ]);
  });

  it('keys CXone events on conversation, event type and IdempotencyKey, windowed on timestamp', () => {
    const event = cxoneEvent({ conversationId: 'c-1', eventType: 'ContactStarted', at: T0, idempotencyKey: 'ik-1' });
    expect(niceCxone().keyFor(event)).toMatchObject({ key: 'niceCxone:c-1:ContactStarted:ik-1', window: { at: T0, windowMs: 1_000 } });
    const keyless = cxoneEvent({ conversationId: 'c-1', eventType: 'ContactStarted', at: T0, idempotencyKey: null });
    expect(niceCxone().keyFor(keyless).key).toBe('niceCxone:c-1:ContactStarted:-');
  });

  it('shows with previewStrategy which deliveries of a day of Genesys traffic are duplicates', () => {
    const original = genesysEvent({ conversationId, participantId, topic: 'user.start', eventTime: T0 });
    const deliveries = [
      original,
      structuredClone(original),
      resent(original),
      genesysEvent({ conversationId, participantId, topic: 'user.start', eventTime: T0 + 7 }),
      genesysEvent({ conversationId, participantId, topic: 'user.start', eventTime: T0 + 6 * MINUTE }),
    ];
    expect(previewStrategy(resolveStrategy({ preset: 'genesysCloud' }), deliveries).map((entry) => entry.duplicateOf)).toEqual([
      undefined,
      0,
      0,
      0,
      undefined,
    ]);
  });

  it('names the missing field of an event the preset cannot key', () => {
    const event = genesysEvent({ conversationId, participantId, topic: 'customer.start', eventTime: T0 });
    delete (event.detail.eventBody as Partial<typeof event.detail.eventBody>).participantId;
    expect(() => genesysCloud().keyFor(event)).toThrow(KeyExtractionError);
    expect(() => genesysCloud().keyFor(event)).toThrow(/"detail.eventBody.participantId" is missing \(event id /);
    const noTopic = genesysEvent({ conversationId, participantId, topic: 'customer.start', eventTime: T0 });
    delete (noTopic.detail as Partial<typeof noTopic.detail>).topicName;
    expect(() => genesysCloud().keyFor(noTopic)).toThrow(/"detail.topicName" is missing/);
    const cxone = cxoneEvent({ conversationId: 'c-1', eventType: 'ContactStarted', at: T0 });
    delete (cxone.detail as Partial<typeof cxone.detail>).conversationId;
    expect(() => niceCxone().keyFor(cxone)).toThrow(/"detail.conversationId" is missing/);
  });

  it('accepts a preset as an object, as JSON text, or as a bare name', () => {
    expect(resolveStrategy({ preset: 'genesysCloud' }).name).toBe('genesysCloud');
    expect(resolveStrategy('{"preset":"niceCxone","windowMs":2000}')).toMatchObject({ name: 'niceCxone', windowMs: 2_000 });
    expect(resolveStrategy(' genesysCloud ').name).toBe('genesysCloud');
    expect(resolveStrategy({ strategy: 'eventId', path: 'detail.eventId' }).name).toBe('eventId');
  });

  it('refuses an unknown preset, an unknown option and a bad window, naming the field', () => {
    const fieldOf = (build: () => unknown) => {
      try {
        build();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).field;
      }
      throw new Error('expected a ConfigError');
    };
    expect(fieldOf(() => resolveStrategy({ preset: 'genesys' } as never))).toBe('preset');
    expect(fieldOf(() => resolveStrategy({ preset: 'genesysCloud', windowMS: 500 } as never))).toBe('windowMS');
    expect(fieldOf(() => resolveStrategy({ preset: 'niceCxone', windowMs: -1 }))).toBe('windowMs');
    expect(fieldOf(() => resolveStrategy({ preset: 'niceCxone', idempotencyKey: 'yes' } as never))).toBe('idempotencyKey');
    expect(fieldOf(() => resolveStrategy('{"preset":'))).toBe('(root)');
  });

  it('fails a Genesys event it cannot key in makeIdempotent, so EventBridge retries it and then dead-letters it', async () => {
    const handler = makeIdempotent(async () => 'ok', { strategy: { preset: 'genesysCloud' }, namespace: uniqueNamespace(), env: false, logLevel: 'off', store: 'memory:' });
    const event = genesysEvent({ conversationId, participantId, topic: 'customer.start', eventTime: T0 });
    delete (event.detail.eventBody as Partial<typeof event.detail.eventBody>).conversationId;
    expect(await rejection(handler(event, lambdaContext()))).toBeInstanceOf(KeyExtractionError);
  });
});

describe('presets inside anyOf and composite configs', () => {
  it('builds {"strategy":"anyOf","of":[{"strategy":"eventId"},{"preset":"genesysCloud"}]} from JSON, as IDEMKIT_STRATEGY may hold it', () => {
    const strategy = resolveStrategy('{"strategy":"anyOf","of":[{"strategy":"eventId"},{"preset":"genesysCloud","windowMs":2000}]}');
    const event = genesysEvent({ conversationId: 'c-1', participantId: 'p-1', topic: 'customer.start', eventTime: T0 });
    const key = strategy.keyFor(event);
    expect(key.key).toBe(`eventId:${event.id}`);
    expect(key.also?.[0]).toMatchObject({ key: genesysCloud({ windowMs: 2000 }).keyFor(event).key, window: { windowMs: 2000 } });
  });

  it('names the place of a bad preset inside', () => {
    expect(() => resolveStrategy({ strategy: 'anyOf', of: [{ strategy: 'eventId' }, { preset: 'genesys' }] })).toThrow(
      expect.objectContaining({ field: 'of[1].preset' }),
    );
  });
});
