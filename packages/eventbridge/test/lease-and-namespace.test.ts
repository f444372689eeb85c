import { describe, expect, it } from 'vitest';
import { IdempotencyEngine, IdempotencyStoreError, MemoryStore, type IdempotencyStore } from '@idemkit/core';
import { defaultNamespace, leaseFromContext, makeIdempotent } from '../src/index.js';
import { orderEvent } from './support/events.js';
import { lambdaContext } from './support/lambda.js';

describe('leaseFromContext', () => {
  it('is the remaining time plus the margin, never below the margin, and undefined without a context', () => {
    expect(leaseFromContext({ getRemainingTimeInMillis: () => 29_500 })).toBe(30_500);
    expect(leaseFromContext({ getRemainingTimeInMillis: () => 12_000.4 }, 250)).toBe(12_251);
    expect(leaseFromContext({ getRemainingTimeInMillis: () => -40 })).toBe(1_000);
    expect(leaseFromContext({ getRemainingTimeInMillis: () => Number.NaN })).toBeUndefined();
    expect(leaseFromContext({ functionName: 'f' })).toBeUndefined();
    expect(leaseFromContext(undefined)).toBeUndefined();
  });
});

describe('defaultNamespace', () => {
  it('joins the function name and the handler name', () => {
    expect(defaultNamespace({ functionName: 'crm-sync-prod' }, 'onConversationEnd', {})).toBe('crm-sync-prod/onConversationEnd');
    expect(defaultNamespace({}, 'h', { AWS_LAMBDA_FUNCTION_NAME: 'from-env' })).toBe('from-env/h');
    expect(defaultNamespace(undefined, 'h', {})).toBe('idemkit/h');
  });

  it('replaces characters the engine refuses, and shortens long names with a digest, staying valid', () => {
    expect(defaultNamespace({ functionName: 'fn' }, 'bound handle event', {})).toBe('fn/bound-handle-event');
    expect(defaultNamespace({ functionName: 'a/b:c' }, 'h', {})).toBe('a-b-c/h');
    const longFunction = 'x'.repeat(64);
    const one = defaultNamespace({ functionName: longFunction }, 'handlerOne', {});
    const two = defaultNamespace({ functionName: longFunction }, 'handlerTwo', {});
    expect(one).toHaveLength(64);
    expect(one).not.toBe(two);
    for (const namespace of [one, two]) {
      expect(() => new IdempotencyEngine({ store: new MemoryStore(), strategy: { strategy: 'eventId' }, namespace })).not.toThrow();
    }
  });
});

describe('options passed through to core', () => {
  it('runs the handler without a claim when the store is down and failOpen is set', async () => {
    const down: IdempotencyStore = new Proxy(new MemoryStore(), {
      get(target, property, receiver) {
        if (property === 'claim') return async () => Promise.reject(new Error('ECONNREFUSED'));
        return Reflect.get(target, property, receiver);
      },
    });
    const open = makeIdempotent(async () => 'ran anyway', { store: down, namespace: 'fo', env: false, logLevel: 'off', failOpen: true });
    await expect(open(orderEvent(), lambdaContext())).resolves.toBe('ran anyway');
    const closed = makeIdempotent(async () => 'ran anyway', { store: down, namespace: 'fc', env: false, logLevel: 'off' });
    await expect(closed(orderEvent(), lambdaContext())).rejects.toBeInstanceOf(IdempotencyStoreError);
  });

  it('does not store results with storeResult: false (duplicates then answer undefined)', async () => {
    const handler = makeIdempotent(async () => ({ pii: 'jane@example.com' }), {
      store: new MemoryStore(),
      namespace: 'no-results',
      env: false,
      logLevel: 'off',
      storeResult: false,
    });
    const event = orderEvent();
    await expect(handler(event, lambdaContext())).resolves.toEqual({ pii: 'jane@example.com' });
    await expect(handler(event, lambdaContext())).resolves.toBeUndefined();
  });
});
