// The messages a new user meets first: a bare word for a preset, an SQS batch handed to the
// EventBridge wrapper, and key errors that must name their field in `.field`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, KeyExtractionError, MemoryStore, strategyFromConfig, type DedupKeyStrategy } from '@idemkit/core';
import { configFromEnv, genesysCloud, makeIdempotent, MalformedRecordError, niceCxone, resolveStrategy } from '../src/index.js';
import { readRecord } from '../src/sqs/read-record.js';
import { lambdaContext, rejection } from './support/lambda.js';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('a strategy named by a bare word', () => {
  it('IDEMKIT_STRATEGY=genesys suggests the genesysCloud preset', () => {
    const error = configError(() => configFromEnv({ IDEMKIT_STRATEGY: 'genesys' }));
    expect(error.field).toBe('IDEMKIT_STRATEGY');
    expect(error.message).toBe(
      '[idemkit] invalid config at "IDEMKIT_STRATEGY": "genesys" is not a preset; did you mean the preset "genesysCloud"? ' +
        'Write genesysCloud or {"preset":"genesysCloud"}',
    );
  });

  it.each([
    ['GenesysCloud', 'the preset "genesysCloud"'],
    ['genesys-cloud', 'the preset "genesysCloud"'],
    ['cxone', 'the preset "niceCxone"'],
    ['nicecxone', 'the preset "niceCxone"'],
    ['eventid', '{"strategy":"eventId"}'],
    ['statewindow', '{"strategy":"stateWindow"}'],
  ])('%s → did you mean %s', (word, meant) => {
    expect(configError(() => resolveStrategy(word)).message).toContain(`did you mean ${meant}`);
  });

  it('a word like no preset lists the presets and shows JSON config', () => {
    expect(configError(() => resolveStrategy('dedupe')).message).toBe(
      '[idemkit] invalid config at "(root)": "dedupe" is neither a preset (genesysCloud, niceCxone) nor JSON strategy config ' +
        'like {"strategy":"eventId","path":"detail.eventId"}',
    );
  });

  it('an unknown preset in JSON says which one it looks like', () => {
    const error = configError(() => configFromEnv({ IDEMKIT_STRATEGY: '{"preset":"genesys"}' }));
    expect(error.field).toBe('IDEMKIT_STRATEGY.preset');
    expect(error.message).toContain('unknown preset "genesys" (did you mean "genesysCloud"?); expected one of "genesysCloud", "niceCxone"');
  });

  it('names that are presets still work, bare or as JSON', () => {
    expect(resolveStrategy(' genesysCloud ').name).toBe('genesysCloud');
    expect(configFromEnv({ IDEMKIT_STRATEGY: 'niceCxone' }).strategy?.name).toBe('niceCxone');
  });
});

describe('an SQS batch handed to makeIdempotent', () => {
  const sqsBatch = {
    Records: [{ messageId: 'm-1', body: '{}', eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q' }],
  };
  const wrapped = (strategy: DedupKeyStrategy) =>
    makeIdempotent(async () => 'ran', { store: new MemoryStore(), strategy, env: false, logLevel: 'off' });

  it('fails with the missing field and a pointer to makeIdempotentSqs, without running the handler', async () => {
    const error = await rejection(wrapped(genesysCloud())(sqsBatch as never, lambdaContext()));
    expect(error).toBeInstanceOf(KeyExtractionError);
    expect(error).toMatchObject({ field: 'detail.eventBody.conversationId', path: 'detail.eventBody.conversationId' });
    expect((error as Error).message).toBe(
      '[idemkit] cannot build a key: "detail.eventBody.conversationId" is missing: this event is an SQS batch (Records from "aws:sqs"), ' +
        'not an EventBridge event; wrap the handler with makeIdempotentSqs, which keys each record by the event in its body',
    );
    expect((error as Error).cause).toBeInstanceOf(KeyExtractionError);
  });

  it('leaves the key error of an EventBridge event as it is', async () => {
    const error = await rejection(wrapped(niceCxone())({ id: 'e-1', detail: {} } as never, lambdaContext()));
    expect(error).toBeInstanceOf(KeyExtractionError);
    expect((error as Error).message).not.toContain('makeIdempotentSqs');
    expect((error as Error).message).toContain('(event id e-1)');
  });
});

describe('every KeyExtractionError names its field', () => {
  const strategies: Array<[string, DedupKeyStrategy]> = [
    ['genesysCloud', genesysCloud()],
    ['niceCxone', niceCxone()],
    ['eventId', strategyFromConfig({ strategy: 'eventId', path: 'detail.eventId' })],
    ['stateWindow', strategyFromConfig({ strategy: 'stateWindow', entity: 'detail.conversationId', state: 'detail.eventType', time: 'detail.timestamp', windowMs: 500 })],
    ['contentHash', strategyFromConfig({ strategy: 'contentHash', include: ['detail.eventBody', 'detail.topicName'] })],
    ['composite', strategyFromConfig({ strategy: 'composite', of: [{ strategy: 'eventId' }, { strategy: 'eventId', path: 'detail.IdempotencyKey' }] })],
  ];
  const complete = {
    id: 'e-1',
    detail: {
      eventId: 'x-1',
      topicName: 'v2.detail.events.conversation.c-1.user.start',
      eventBody: { eventTime: '2026-11-02T09:00:00.000Z', conversationId: 'c-1', participantId: 'p-1' },
      eventType: 'ContactStarted',
      conversationId: 'c-1',
      IdempotencyKey: 'k-1',
      timestamp: '2026-11-02T09:00:00.000Z',
    },
  };
  const paths = ['id', 'detail.eventId', 'detail.topicName', 'detail.eventBody', 'detail.eventBody.eventTime', 'detail.eventBody.conversationId',
    'detail.eventBody.participantId', 'detail.eventType', 'detail.conversationId', 'detail.IdempotencyKey', 'detail.timestamp', 'detail'];
  const broken = fc.record({
    damage: fc.uniqueArray(fc.constantFrom(...paths), { minLength: 1, maxLength: 4 }),
    value: fc.constantFrom(undefined, null, '', 0, -1, true, {}, [], 'not a time'),
  });

  it('in `.field`, quoted in the message, for any event with fields missing or of the wrong type', () => {
    let thrown = 0;
    fc.assert(
      fc.property(broken, fc.constantFrom(...strategies), ({ damage, value }, [, strategy]) => {
        const event = structuredClone(complete) as Record<string, unknown>;
        for (const path of damage) setPath(event, path.split('.'), value);
        try {
          strategy.keyFor(event);
        } catch (error) {
          thrown += 1;
          expect(error).toBeInstanceOf(KeyExtractionError);
          const { field, path, message } = error as KeyExtractionError;
          expect(field).toBe(path);
          expect(field.length).toBeGreaterThan(0);
          expect(message).toContain(`"${field}"`);
        }
      }),
      { numRuns: 400 },
    );
    expect(thrown).toBeGreaterThan(100);
  });

  it('an SQS body that is not JSON is a KeyExtractionError on `body`', () => {
    const item = readRecord({ messageId: 'm-1', body: '{"detail":' }, 'auto');
    expect('readError' in item && item.readError).toBeInstanceOf(MalformedRecordError);
    expect('readError' in item && item.readError).toMatchObject({ field: 'body', messageId: 'm-1' });
  });
});

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let current: unknown = target;
  for (const step of path.slice(0, -1)) {
    if (typeof current !== 'object' || current === null) return;
    current = (current as Record<string, unknown>)[step];
  }
  if (typeof current !== 'object' || current === null) return;
  const last = path.at(-1)!;
  if (value === undefined) delete (current as Record<string, unknown>)[last];
  else (current as Record<string, unknown>)[last] = value;
}
