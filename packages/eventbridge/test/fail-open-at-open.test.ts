import { describe, expect, it } from 'vitest';
import { IdempotencyStoreError, MemoryStore } from '@idemkit/core';
import { makeIdempotent } from '../src/index.js';
import { reopeningStore } from '../src/store/reopening.js';
import { orderEvent } from './support/events.js';
import { lambdaContext, recordingLogger } from './support/lambda.js';

// Nothing listens on this port: the cold start's migration cannot reach PostgreSQL.
const UNREACHABLE = 'postgres://postgres@127.0.0.1:5499/test?migrate=true&connectionTimeoutMillis=500';

describe('a store URL whose server is unreachable when the wrapper opens it', () => {
  it('with failOpen, runs the handler without a claim and says so, instead of failing the invocation', async () => {
    const logger = recordingLogger();
    let runs = 0;
    const handler = makeIdempotent(async () => ++runs, { store: UNREACHABLE, failOpen: true, env: false, logger, namespace: 'fail-open' });
    await expect(handler(orderEvent(), lambdaContext())).resolves.toBe(1);
    expect(logger.lines.map((line) => line.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('could not be opened'),
        expect.stringContaining('store unavailable, running without a claim (failOpen)'),
      ]),
    );
  });

  it('without failOpen, fails the invocation (fail closed) so the event is retried', async () => {
    const handler = makeIdempotent(async () => 'ran', { store: UNREACHABLE, env: false, logLevel: 'off', namespace: 'fail-closed' });
    await expect(handler(orderEvent(), lambdaContext())).rejects.toThrow();
  });

  it('the stand-in store opens the real store on a later call once it answers', async () => {
    const real = new MemoryStore();
    let attempts = 0;
    const store = reopeningStore('postgres', async () => {
      attempts += 1;
      if (attempts === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5499'), { code: 'ECONNREFUSED' });
      return real;
    });
    const request = { key: 'k-1', leaseMs: 1_000, retentionMs: 1_000 };
    const first = await store.claim(request).then(() => undefined, (error: unknown) => error);
    expect(first).toBeInstanceOf(IdempotencyStoreError);
    expect((first as IdempotencyStoreError).retryable).toBe(true);
    expect((await store.claim(request)).acquired).toBe(true);
    expect((await real.get('k-1'))?.status).toBe('in_progress');
    expect(attempts).toBe(2);
  });
});
