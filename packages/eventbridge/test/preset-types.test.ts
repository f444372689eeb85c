// Types follow the preset: with a preset in code, the handler's event is that source's event, so
// `event.detail` needs no annotation. Checked by `tsc` (npx pnpm@10 typecheck); the calls also
// run, so a wrong overload at run time would show here too.
import type { EventBridgeEvent } from 'aws-lambda';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { MemoryStore } from '@idemkit/core';
import {
  genesysCloud,
  makeIdempotent,
  makeIdempotentSqs,
  niceCxone,
  type EventBridgeEventLike,
  type GenesysCloudDetail,
  type GenesysCloudEvent,
  type NiceCxoneDetail,
  type NiceCxoneEvent,
  type PresetEvent,
  type SqsBatchResponseLike,
} from '../src/index.js';
import { lambdaContext } from './support/lambda.js';

const options = { store: new MemoryStore(), env: false, logLevel: 'off' } as const;

describe('handler types follow the preset', () => {
  it('genesysCloud(): event.detail is GenesysCloudDetail', async () => {
    const handler = makeIdempotent(
      async (event) => {
        expectTypeOf(event).toEqualTypeOf<GenesysCloudEvent>();
        expectTypeOf(event.detail).toEqualTypeOf<GenesysCloudDetail>();
        return event.detail.eventBody.conversationId;
      },
      { ...options, strategy: genesysCloud() },
    );
    expectTypeOf(handler).parameter(0).toEqualTypeOf<GenesysCloudEvent>();
    expectTypeOf(handler).returns.resolves.toEqualTypeOf<string>();
    const event = { id: 'e-1', detail: { topicName: 'v2.detail.events.conversation.c-1.user.start', eventBody: { eventTime: 1, conversationId: 'c-1', participantId: 'p-1' } } };
    await expect(handler(event, lambdaContext())).resolves.toBe('c-1');
  });

  it("{ preset: 'genesysCloud' }: the same, from config written in code", () => {
    const handler = makeIdempotent(
      async (event) => {
        expectTypeOf(event.detail).toEqualTypeOf<GenesysCloudDetail>();
        // @ts-expect-error a CXone field is not a Genesys one
        void event.detail.eventType.length;
        return event.detail.topicName;
      },
      { ...options, strategy: { preset: 'genesysCloud', windowMs: 2_000 } },
    );
    expectTypeOf(handler).parameter(0).toEqualTypeOf<PresetEvent<'genesysCloud'>>();
  });

  it("niceCxone() and { preset: 'niceCxone' }: event.detail is NiceCxoneDetail", () => {
    makeIdempotent(
      async (event) => {
        expectTypeOf(event).toEqualTypeOf<NiceCxoneEvent>();
        return event.detail.conversationId;
      },
      { ...options, strategy: niceCxone({ idempotencyKey: false }) },
    );
    makeIdempotent(
      async (event) => {
        expectTypeOf(event.detail).toEqualTypeOf<NiceCxoneDetail>();
        return event.detail.eventType;
      },
      { ...options, strategy: { preset: 'niceCxone' } },
    );
  });

  it('makeIdempotentSqs: each record’s event follows the preset', () => {
    const handler = makeIdempotentSqs(
      async (event, { record }) => {
        expectTypeOf(event.detail).toEqualTypeOf<NiceCxoneDetail>();
        expectTypeOf(record.messageId).toEqualTypeOf<string>();
      },
      { ...options, strategy: { preset: 'niceCxone' }, completion: 'batch' },
    );
    expectTypeOf(handler).returns.resolves.toEqualTypeOf<SqsBatchResponseLike>();
    makeIdempotentSqs(
      async (event) => {
        expectTypeOf(event.detail).toEqualTypeOf<GenesysCloudDetail>();
      },
      { ...options, strategy: genesysCloud() },
    );
  });

  it('an annotated handler keeps its own event type, and other strategies keep the default', () => {
    const annotated = makeIdempotent(async (event: EventBridgeEvent<string, GenesysCloudDetail>) => event.account, {
      ...options,
      strategy: { preset: 'genesysCloud' },
    });
    expectTypeOf(annotated).parameter(0).toEqualTypeOf<EventBridgeEvent<string, GenesysCloudDetail>>();
    const byId = makeIdempotent(async (event) => event.detail, { ...options, strategy: { strategy: 'eventId' } });
    expectTypeOf(byId).parameter(0).toEqualTypeOf<EventBridgeEventLike>();
    const fromEnv = makeIdempotent(async (event) => event.id, options);
    expectTypeOf(fromEnv).parameter(0).toEqualTypeOf<EventBridgeEventLike>();
  });

  it('refuses options a preset does not have, and names of presets that do not exist', () => {
    // @ts-expect-error idempotencyKey is a niceCxone option only
    makeIdempotent(async () => 'x', { ...options, strategy: { preset: 'genesysCloud', idempotencyKey: false } });
    // @ts-expect-error no such preset
    expect(() => makeIdempotent(async () => 'x', { ...options, strategy: { preset: 'genesys' } })).not.toThrow();
  });
});
