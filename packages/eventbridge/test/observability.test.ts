import { describe, expect, it, vi } from 'vitest';
import { MemoryStore, silentLogger } from '@idemkit/core';
import {
  createCounters,
  emfMetrics,
  levelLogger,
  makeIdempotent,
  makeIdempotentSqs,
  type EmfDocument,
} from '../src/index.js';
import { orderEvent, sqsEvent, sqsRecord } from './support/events.js';
import { lambdaContext } from './support/lambda.js';
import { uniqueNamespace } from './support/stores.js';

const strategy = { strategy: 'eventId', path: 'detail.orderId' } as const;

// Checks a document against the CloudWatch Embedded Metric Format specification:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
function assertEmf(document: Record<string, unknown>): asserts document is EmfDocument {
  const aws = document['_aws'] as EmfDocument['_aws'];
  expect(aws).toBeTypeOf('object');
  expect(Number.isInteger(aws.Timestamp) && aws.Timestamp > 0).toBe(true); // epoch ms
  expect(Array.isArray(aws.CloudWatchMetrics) && aws.CloudWatchMetrics.length >= 1).toBe(true);
  for (const directive of aws.CloudWatchMetrics) {
    expect(Object.keys(directive).sort()).toEqual(['Dimensions', 'Metrics', 'Namespace']);
    expect(directive.Namespace).toMatch(/^[^:].{0,254}$/);
    expect(directive.Metrics.length).toBeGreaterThan(0);
    expect(directive.Metrics.length).toBeLessThanOrEqual(100);
    for (const dimensionSet of directive.Dimensions) {
      expect(dimensionSet.length).toBeLessThanOrEqual(30);
      for (const dimension of dimensionSet) expect(document[dimension]).toBeTypeOf('string'); // target members
    }
    for (const metric of directive.Metrics) {
      expect(metric.Name.length).toBeGreaterThan(0);
      expect(metric.Unit).toBe('Count');
      expect(document[metric.Name]).toBeTypeOf('number');
    }
  }
}

describe('createCounters', () => {
  it('counts every outcome kind, in total and per strategy, until reset', async () => {
    const counters = createCounters();
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        if (event.detail.orderId === 'o-bad') throw new Error('no');
      },
      { store: new MemoryStore(), strategy, namespace: uniqueNamespace(), env: false, logLevel: 'off', metrics: counters },
    );
    await handler(
      sqsEvent(sqsRecord(orderEvent('o-1')), sqsRecord(orderEvent('o-1')), sqsRecord(orderEvent('o-bad')), sqsRecord('{')),
      lambdaContext(),
    );
    const expected = { processed: 1, duplicate: 1, failed: 1, invalid_key: 1, in_progress: 0, conflict: 0, lease_lost: 0, fail_open: 0, stale: 0 };
    expect(counters.snapshot()).toEqual(expected);
    expect(counters.byStrategy()).toEqual({ eventId: expected });
    counters.reset();
    expect(Object.values(counters.snapshot()).every((count) => count === 0)).toBe(true);
  });

  it('also feeds the onOutcome hook beside it', async () => {
    const counters = createCounters();
    const kinds: string[] = [];
    const handler = makeIdempotent(async () => 'ok', {
      store: new MemoryStore(),
      namespace: uniqueNamespace(),
      env: false,
      logLevel: 'off',
      metrics: counters,
      onOutcome: (outcome) => kinds.push(outcome.kind),
    });
    const event = orderEvent();
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());
    expect(kinds).toEqual(['processed', 'duplicate']);
    expect(counters.snapshot()).toMatchObject({ processed: 1, duplicate: 1 });
  });
});

describe('emfMetrics', () => {
  it('writes one EMF line per invocation with the counts of that invocation', async () => {
    const lines: string[] = [];
    const handler = makeIdempotent(async () => 'ok', {
      store: new MemoryStore(),
      strategy: { preset: 'niceCxone' },
      namespace: uniqueNamespace(),
      env: false,
      logLevel: 'off',
      metrics: emfMetrics({ namespace: 'ContactCenter/Idempotency', write: (line) => lines.push(line), clock: () => 1_762_074_000_000 }),
    });
    const event = {
      ...orderEvent(),
      detail: { conversationId: 'c-1', eventType: 'ContactStarted', timestamp: '2026-11-02T09:00:00Z', IdempotencyKey: 'k-1' },
    };
    await handler(event, lambdaContext({ functionName: 'crm-sync' }));
    await handler(event, lambdaContext({ functionName: 'crm-sync' }));

    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assertEmf(first!);
    assertEmf(second!);
    expect(first).toEqual({
      _aws: {
        Timestamp: 1_762_074_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'ContactCenter/Idempotency',
            Dimensions: [['FunctionName', 'Strategy']],
            Metrics: ['Processed', 'Duplicate', 'InProgress', 'Failed', 'Conflict', 'LeaseLost', 'FailOpen', 'InvalidKey', 'Stale'].map((Name) => ({
              Name,
              Unit: 'Count',
            })),
          },
        ],
      },
      FunctionName: 'crm-sync',
      Strategy: 'niceCxone',
      Processed: 1,
      Duplicate: 0,
      InProgress: 0,
      Failed: 0,
      Conflict: 0,
      LeaseLost: 0,
      FailOpen: 0,
      InvalidKey: 0,
      Stale: 0,
    });
    expect(second).toMatchObject({ Processed: 0, Duplicate: 1 });
  });

  it('flushes after a failed invocation too, adds configured dimensions, and writes nothing when nothing happened', async () => {
    const lines: string[] = [];
    const metrics = emfMetrics({ dimensions: { Service: 'crm' }, write: (line) => lines.push(line) });
    const handler = makeIdempotent(
      async () => {
        throw new Error('boom');
      },
      { store: new MemoryStore(), namespace: uniqueNamespace(), env: false, logLevel: 'off', metrics },
    );
    await expect(handler(orderEvent(), lambdaContext({ functionName: 'crm-sync' }))).rejects.toThrow('boom');
    metrics.flush(lambdaContext());
    expect(lines).toHaveLength(1);
    const document = JSON.parse(lines[0]!) as Record<string, unknown>;
    assertEmf(document);
    expect(document._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['FunctionName', 'Strategy', 'Service']]);
    expect(document).toMatchObject({ FunctionName: 'crm-sync', Service: 'crm', Failed: 1 });
    expect(document._aws.CloudWatchMetrics[0]!.Namespace).toBe('idemkit');
  });
});

describe('duplicate log line', () => {
  it('is one JSON line on stdout by default, with key, strategy and original time, and no payload', async () => {
    const written: string[] = [];
    const logger = levelLogger('info', {
      debug: () => undefined,
      info: (message, fields) => written.push(JSON.stringify({ level: 'info', message, ...fields })),
      warn: () => undefined,
      error: () => undefined,
    });
    const handler = makeIdempotent(async () => ({ card: '4111 1111 1111 1111' }), {
      store: new MemoryStore(),
      namespace: 'orders',
      env: false,
      logger,
    });
    const event = orderEvent('o-secret-order');
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());
    expect(written).toHaveLength(1);
    const line = JSON.parse(written[0]!) as Record<string, unknown>;
    expect(line).toEqual({
      level: 'info',
      message: 'idempotency: duplicate skipped',
      key: expect.stringMatching(/^#[A-Za-z0-9_-]{16}$/),
      strategy: 'eventId',
      originalTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      fencingToken: expect.any(Number),
    });
    expect(written[0]).not.toMatch(/4111|o-secret-order/);
  });

  it('levelLogger drops lines below its level, and everything at off', () => {
    const seen: string[] = [];
    const base = {
      debug: () => seen.push('debug'),
      info: () => seen.push('info'),
      warn: () => seen.push('warn'),
      error: () => seen.push('error'),
    };
    const warnOnly = levelLogger('warn', base);
    warnOnly.debug('x');
    warnOnly.info('x');
    warnOnly.warn('x');
    warnOnly.error('x');
    const off = levelLogger('off', base);
    off.error('x');
    expect(seen).toEqual(['warn', 'error']);
    // A dropped level is silentLogger's own method: the engine then skips building its lines.
    expect([warnOnly.debug, warnOnly.info]).toEqual([silentLogger.debug, silentLogger.info]);
    expect(warnOnly.warn).not.toBe(silentLogger.warn);
    expect(off).toBe(silentLogger);
  });
});

describe('defaults', () => {
  it('write bare JSON lines to stdout, not through console.log (which Lambda prefixes)', async () => {
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const log = vi.spyOn(console, 'log');
    try {
      const handler = makeIdempotent(async () => 'ok', {
        store: new MemoryStore(),
        namespace: uniqueNamespace(),
        env: false,
        metrics: emfMetrics(),
      });
      const event = orderEvent();
      await handler(event, lambdaContext());
      await handler(event, lambdaContext());
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    expect(log).not.toHaveBeenCalled();
    expect(lines.every((line) => line.endsWith('\n'))).toBe(true);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((line) => line['message'] ?? (line['Duplicate'] === 1 ? 'emf duplicate' : 'emf processed'))).toEqual([
      'emf processed',
      'idempotency: duplicate skipped',
      'emf duplicate',
    ]);
  });
});
