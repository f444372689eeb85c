import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, MemoryStore, type IdempotencyOutcome } from '@idemkit/core';
import { manualClock } from '@idemkit/core/testing';
import { configFromEnv, makeIdempotent, type LambdaContextLike } from '../src/index.js';
import { genesysEvent, orderEvent, resent, T0 } from './support/events.js';
import { lambdaContext, rejection } from './support/lambda.js';
import { uniqueNamespace } from './support/stores.js';

function configErrorOf(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('configFromEnv', () => {
  it('reads nothing from an environment without IDEMKIT_* variables', () => {
    expect(configFromEnv({ PATH: '/usr/bin', AWS_REGION: 'eu-west-1' })).toEqual({});
  });

  it('reads every variable', () => {
    const config = configFromEnv({
      IDEMKIT_STORE: 'redis://cache.internal:6379',
      IDEMKIT_STRATEGY: '{"preset":"genesysCloud","windowMs":1500}',
      IDEMKIT_NAMESPACE: 'crm-sync',
      IDEMKIT_LEASE_MS: '90000',
      IDEMKIT_LEASE_MARGIN_MS: '2500',
      IDEMKIT_RETENTION_MS: '86400000',
      IDEMKIT_PAYLOAD_MISMATCH: 'warn',
      IDEMKIT_STORE_RESULT: 'false',
      IDEMKIT_ON_OVERSIZE_RESULT: 'skip',
      IDEMKIT_FAIL_OPEN: 'TRUE',
      IDEMKIT_LOG_LEVEL: 'warn',
    });
    expect(config).toEqual({
      store: 'redis://cache.internal:6379',
      strategy: expect.objectContaining({ name: 'genesysCloud', windowMs: 1_500 }),
      namespace: 'crm-sync',
      leaseMs: 90_000,
      leaseMarginMs: 2_500,
      retentionMs: 86_400_000,
      payloadMismatch: 'warn',
      storeResult: false,
      onOversizeResult: 'skip',
      failOpen: true,
      logLevel: 'warn',
    });
  });

  it('takes a strategy as core JSON config, a preset config, or a bare preset name', () => {
    expect(configFromEnv({ IDEMKIT_STRATEGY: '{"strategy":"eventId","path":"detail.eventId"}' }).strategy?.name).toBe('eventId');
    expect(configFromEnv({ IDEMKIT_STRATEGY: '{"preset":"niceCxone"}' }).strategy?.name).toBe('niceCxone');
    expect(configFromEnv({ IDEMKIT_STRATEGY: 'genesysCloud' }).strategy?.name).toBe('genesysCloud');
  });

  it('leaves empty variables out', () => {
    expect(configFromEnv({ IDEMKIT_STORE: '', IDEMKIT_LEASE_MS: '  ' })).toEqual({});
  });

  it('names the variable holding a bad value', () => {
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_LEASE_MS: '30s' })).field).toBe('IDEMKIT_LEASE_MS');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_RETENTION_MS: '0' })).field).toBe('IDEMKIT_RETENTION_MS');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_PAYLOAD_MISMATCH: 'loud' })).message).toContain('error, warn, ignore');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_STORE_RESULT: 'maybe' })).field).toBe('IDEMKIT_STORE_RESULT');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_LOG_LEVEL: 'verbose' })).field).toBe('IDEMKIT_LOG_LEVEL');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_NAMESPACE: 'crm sync' })).field).toBe('IDEMKIT_NAMESPACE');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_STORE: 'mysql://db:3306' })).field).toBe('IDEMKIT_STORE');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_STRATEGY: '{"strategy":' })).field).toBe('IDEMKIT_STRATEGY');
    expect(configErrorOf(() => configFromEnv({ IDEMKIT_STRATEGY: '{"preset":"genesys"}' })).field).toBe('IDEMKIT_STRATEGY.preset');
  });

  it('names the field inside the strategy JSON, nested composites included', () => {
    const error = configErrorOf(() =>
      configFromEnv({
        IDEMKIT_STRATEGY: JSON.stringify({
          strategy: 'composite',
          of: [
            { strategy: 'eventId', path: 'detail.tenantId' },
            { strategy: 'stateWindow', entity: 'detail.c', state: 'detail.s', time: 'detail.t', windowMs: -5 },
          ],
        }),
      }),
    );
    expect(error.field).toBe('IDEMKIT_STRATEGY.of[1].windowMs');
    expect(error.message).toBe('[idemkit] invalid config at "IDEMKIT_STRATEGY.of[1].windowMs": must be positive, got -5');
  });

  it('refuses an IDEMKIT_* variable it does not know, suggesting the one meant', () => {
    const error = configErrorOf(() => configFromEnv({ IDEMKIT_STRATEGIES: 'genesysCloud' }));
    expect(error.field).toBe('IDEMKIT_STRATEGIES');
    expect(error.message).toContain('did you mean IDEMKIT_STRATEGY?');
  });

  it("never shows a store URL's password", () => {
    const error = configErrorOf(() => configFromEnv({ IDEMKIT_STORE: 'mysql://app:hunter2@db:3306/x' }));
    expect(error.message).not.toContain('hunter2');
    const notUrl = configErrorOf(() => configFromEnv({ IDEMKIT_STORE: 'redis//app:hunter2@cache' }));
    expect(notUrl.message).not.toContain('hunter2');
  });
});

describe('wrappers configured from the environment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('takes store, strategy and namespace from IDEMKIT_* variables', async () => {
    const outcomes: IdempotencyOutcome[] = [];
    const namespace = uniqueNamespace('env');
    let calls = 0;
    const handler = makeIdempotent(
      async () => {
        calls += 1;
      },
      {
        onOutcome: (outcome) => outcomes.push(outcome),
        env: { IDEMKIT_STORE: 'memory:', IDEMKIT_STRATEGY: '{"preset":"genesysCloud"}', IDEMKIT_NAMESPACE: namespace, IDEMKIT_LOG_LEVEL: 'off' },
      },
    );
    const event = genesysEvent({ conversationId: 'c-env', participantId: 'p-env', topic: 'customer.start', eventTime: T0 });
    await handler(event, lambdaContext());
    await handler(resent(event), lambdaContext());
    expect(calls).toBe(1);
    expect(outcomes.map((outcome) => [outcome.kind, outcome.strategy, outcome.key?.startsWith(`${namespace}:genesysCloud:`)])).toEqual([
      ['processed', 'genesysCloud', true],
      ['duplicate', 'genesysCloud', true],
    ]);
  });

  it('lets code config win over the environment', async () => {
    const outcomes: string[] = [];
    const handler = makeIdempotent(async () => 'ok', {
      store: new MemoryStore(),
      strategy: { strategy: 'eventId', path: 'detail.orderId' },
      namespace: 'from-code',
      onOutcome: (outcome) => outcomes.push(outcome.key!),
      env: { IDEMKIT_STRATEGY: 'genesysCloud', IDEMKIT_NAMESPACE: 'from-env', IDEMKIT_LOG_LEVEL: 'off' },
    });
    await handler(orderEvent('o-code'), lambdaContext());
    expect(outcomes).toEqual(['from-code:eventId:o-code']);
  });

  it('takes lease and retention from the environment', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ clock: clock.now });
    const namespace = uniqueNamespace();
    const event = orderEvent();
    const key = `${namespace}:eventId:${event.id}`;
    let leaseExpiresAt: number | undefined;
    const handler = makeIdempotent(
      async (_event: typeof event, _context?: LambdaContextLike) => {
        leaseExpiresAt = (await store.get(key))?.leaseExpiresAt;
      },
      { store, namespace, env: { IDEMKIT_LEASE_MS: '123000', IDEMKIT_RETENTION_MS: '7200000', IDEMKIT_LOG_LEVEL: 'off' } },
    );
    await handler(event, undefined);
    expect(leaseExpiresAt).toBe(clock.now() + 123_000);
    expect((await store.get(key))?.expiresAt).toBe(clock.now() + 7_200_000);
  });

  it('reads process.env by default, and fails the invocation with a ConfigError naming a bad variable', async () => {
    vi.stubEnv('IDEMKIT_STRATEGY', '{"strategy":"eventId","path":"detail.orderId"}');
    vi.stubEnv('IDEMKIT_LOG_LEVEL', 'off');
    const keys: string[] = [];
    const handler = makeIdempotent(async () => 'ok', {
      store: new MemoryStore(),
      namespace: 'process-env',
      onOutcome: (outcome) => keys.push(outcome.key!),
    });
    await handler(orderEvent('o-process'), lambdaContext());
    expect(keys).toEqual(['process-env:eventId:o-process']);

    vi.stubEnv('IDEMKIT_RETENTION_MS', 'one hour');
    const broken = makeIdempotent(async () => 'ok', { store: new MemoryStore(), namespace: 'broken' });
    const error = await rejection(broken(orderEvent(), lambdaContext()));
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe('IDEMKIT_RETENTION_MS');
  });

  it('defaults the namespace to AWS_LAMBDA_FUNCTION_NAME when the context has no function name', async () => {
    const keys: string[] = [];
    const functionName = uniqueNamespace('from-env');
    const handler = makeIdempotent(async function syncContact() {}, {
      store: new MemoryStore(),
      onOutcome: (outcome) => keys.push(outcome.key!),
      env: { AWS_LAMBDA_FUNCTION_NAME: functionName, IDEMKIT_LOG_LEVEL: 'off' },
    });
    const event = orderEvent();
    await handler(event, {});
    expect(keys).toEqual([`${functionName}/syncContact:eventId:${event.id}`]);
  });

  it('refuses two wrappers sharing IDEMKIT_NAMESPACE on one store, naming the variable', async () => {
    const store = new MemoryStore();
    const env = { IDEMKIT_NAMESPACE: uniqueNamespace('shared'), IDEMKIT_LOG_LEVEL: 'off' };
    const first = makeIdempotent(async function first() {}, { store, env });
    const second = makeIdempotent(async function second() {}, { store, env });
    await first(orderEvent(), lambdaContext());
    const error = await rejection(second(orderEvent(), lambdaContext()));
    expect((error as ConfigError).field).toBe('IDEMKIT_NAMESPACE');
  });

  it('with env: false, reads no IDEMKIT_* variable', async () => {
    vi.stubEnv('IDEMKIT_STRATEGY', 'not json at all');
    const handler = makeIdempotent(async () => 'ok', { store: new MemoryStore(), namespace: 'no-env', env: false, logLevel: 'off' });
    await expect(handler(orderEvent(), lambdaContext())).resolves.toBe('ok');
  });
});
