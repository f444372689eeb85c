import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchItemSkippedError, eventId, IdempotencyInProgressError, KeyExtractionError, type IdempotencyStore } from '@idemkit/core';
import { MalformedRecordError, makeIdempotentSqs, type SqsRecordContext } from '../src/index.js';
import { genesysEvent, orderEvent, resent, sqsEvent, sqsRecord, T0 } from './support/events.js';
import { lambdaContext, recordingLogger } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type TestStore } from './support/stores.js';

const strategy = { strategy: 'eventId', path: 'detail.orderId' } as const;
const keyOf = (namespace: string, orderId: string) =>
  `${namespace}:${eventId({ path: 'detail.orderId' }).keyFor({ detail: { orderId } }).key}`;

// Counts the store calls a batch makes.
function counting(store: IdempotencyStore): { store: IdempotencyStore; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe.each(STORE_KINDS)('makeIdempotentSqs on the %s store', (kind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  it('reports exactly the failed, in-progress and malformed records of a mixed batch, claiming it in one call', async () => {
    const namespace = uniqueNamespace();
    const { store, calls } = counting(t.store);
    const ran: string[] = [];
    const records = new Map<string, SQSRecord>();
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>, { record }: SqsRecordContext<SQSRecord>) => {
        ran.push(event.detail.orderId);
        records.set(event.detail.orderId, record);
        if (event.detail.orderId === 'o-boom') throw new Error('CRM rejected the update');
        return { synced: event.detail.orderId };
      },
      { store, namespace, strategy, env: false, logLevel: 'off' },
    );

    // An earlier batch completed o-done; another consumer holds o-busy right now.
    await handler(sqsEvent(sqsRecord(orderEvent('o-done'))), lambdaContext());
    await t.store.claim({ key: keyOf(namespace, 'o-busy'), leaseMs: 60_000, retentionMs: 3_600_000 });
    ran.length = 0;
    for (const name of Object.keys(calls)) delete calls[name];

    const fresh = orderEvent('o-new');
    const batch = sqsEvent(
      sqsRecord(fresh, { messageId: 'm-new' }),
      sqsRecord(orderEvent('o-done'), { messageId: 'm-duplicate' }),
      sqsRecord({ ...fresh, id: 'resent-envelope' }, { messageId: 'm-repeat-in-batch' }),
      sqsRecord('{"version":"0","detail":', { messageId: 'm-bad-json' }),
      sqsRecord({ ...orderEvent(), detail: { total: 3 } }, { messageId: 'm-no-key' }),
      sqsRecord(orderEvent('o-boom'), { messageId: 'm-handler-fails' }),
      sqsRecord(orderEvent('o-busy'), { messageId: 'm-in-progress' }),
      sqsRecord(orderEvent('o-after'), { messageId: 'm-after-failures' }),
      sqsRecord({ orderId: 'o-detail-only', total: 7 }, { messageId: 'm-detail-body' }),
    );
    const response: SQSBatchResponse = await handler(batch, lambdaContext());

    expect(response).toEqual({
      batchItemFailures: [
        { itemIdentifier: 'm-bad-json' },
        { itemIdentifier: 'm-no-key' },
        { itemIdentifier: 'm-handler-fails' },
        { itemIdentifier: 'm-in-progress' },
      ],
    });
    expect(ran).toEqual(['o-new', 'o-boom', 'o-after', 'o-detail-only']);
    expect(records.get('o-new')?.messageId).toBe('m-new');
    expect(calls['claimMany']).toBe(1);
    expect(calls['claim']).toBeUndefined();
  });

  it('logs why each record failed, by message id, without its payload', async () => {
    const logger = recordingLogger();
    const handler = makeIdempotentSqs(async () => 'ok', {
      store: t.store,
      namespace: uniqueNamespace(),
      strategy,
      env: false,
      logger,
    });
    await handler(sqsEvent(sqsRecord('{"secret":"4111 1111 1111 1111"', { messageId: 'm-bad' })), lambdaContext());
    const failures = logger.lines.filter((line) => line.level === 'warn');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.fields).toMatchObject({ messageId: 'm-bad', error: expect.stringContaining('MalformedRecordError') });
    expect(JSON.stringify(failures)).not.toContain('4111');
  });

  it('fails a malformed record with MalformedRecordError and a missing key field with KeyExtractionError', async () => {
    const errors: unknown[] = [];
    const handler = makeIdempotentSqs(async () => 'ok', {
      store: t.store,
      namespace: uniqueNamespace(),
      strategy,
      env: false,
      logger: { ...recordingLogger(), warn: (_message, fields) => errors.push(fields?.['error']) },
    });
    const response = await handler(
      sqsEvent(
        sqsRecord('not json', { messageId: 'm-1' }),
        sqsRecord('[1,2]', { messageId: 'm-2' }),
        sqsRecord({ ...orderEvent(), detail: {} }, { messageId: 'm-3' }),
      ),
      lambdaContext(),
    );
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m-1', 'm-2', 'm-3']);
    expect(errors).toEqual([
      expect.stringMatching(/^MalformedRecordError: .*"body" is not valid JSON .*SQS message m-1/),
      expect.stringMatching(/^MalformedRecordError: .*"body" is JSON an array, expected an object .*m-2/),
      expect.stringMatching(/^KeyExtractionError: .*"detail.orderId" is missing/),
    ]);
    expect(new MalformedRecordError('m', 'x')).toBeInstanceOf(KeyExtractionError);
  });

  it('runs a key repeated inside one batch once, and answers the repeat with the first result', async () => {
    const results: unknown[] = [];
    let calls = 0;
    const handler = makeIdempotentSqs(
      async () => {
        calls += 1;
        return { run: calls };
      },
      {
        store: t.store,
        namespace: uniqueNamespace(),
        strategy,
        env: false,
        logLevel: 'off',
        onDuplicate: () => results.push('duplicate'),
      },
    );
    const event = orderEvent('o-twice');
    const response = await handler(sqsEvent(sqsRecord(event), sqsRecord(event), sqsRecord({ ...event, id: 'other-envelope' })), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toBe(1);
    expect(results).toEqual(['duplicate', 'duplicate']);
  });

  it('runs two distinct occurrences of one conversation state in one batch, and answers a real repeat as a duplicate', async () => {
    // The single-anchor model ran the first, answered the second as a "duplicate" and let SQS delete it.
    const ran: number[] = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof genesysEvent>) => {
        ran.push(Number(event.detail.eventBody.eventTime));
        return 'ok';
      },
      { store: t.store, namespace: uniqueNamespace(), strategy: { preset: 'genesysCloud' }, env: false, logLevel: 'off' },
    );
    const occurrence = (eventTime: number) =>
      genesysEvent({ conversationId: 'conv-batch', participantId: 'agent-1', topic: 'user.start', eventTime });
    const first = occurrence(T0);
    const response = await handler(
      sqsEvent(sqsRecord(first), sqsRecord(occurrence(T0 + 10_000)), sqsRecord(resent(first)), sqsRecord(occurrence(T0 + 20))),
      lambdaContext(),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toEqual([T0, T0 + 10_000]);
  });

  it('fails a record with no body, a null record and one with no message id alone; a repeated message id once', async () => {
    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        ran.push(event.detail.orderId);
        return 'ok';
      },
      { store: t.store, namespace: uniqueNamespace(), strategy, env: false, logLevel: 'off' },
    );
    const good = sqsRecord(orderEvent('o-good'), { messageId: 'm-good' });
    const noBody = { ...sqsRecord(orderEvent('o-x'), { messageId: 'm-no-body' }), body: undefined } as unknown as SQSRecord;
    const twice = sqsRecord(orderEvent('o-twice'), { messageId: 'm-twice' });
    const response = await handler(sqsEvent(good, noBody, twice, structuredClone(twice)), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm-no-body' }]);
    expect(ran.sort()).toEqual(['o-good', 'o-twice']);

    // A record that is null, or has no message id, cannot be named: the empty identifier makes
    // Lambda retry the batch, whose other records then answer as duplicates.
    const nameless = { ...sqsRecord(orderEvent('o-nameless')), messageId: undefined } as unknown as SQSRecord;
    const again = await handler({ Records: [good, null as unknown as SQSRecord, nameless] }, lambdaContext());
    expect(again.batchItemFailures).toEqual([{ itemIdentifier: '' }]);
    expect(ran.sort()).toEqual(['o-good', 'o-twice']);
  });

  it('lets the failed records of a batch run when the queue redelivers them', async () => {
    let failNext = true;
    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        ran.push(event.detail.orderId);
        if (event.detail.orderId === 'o-flaky' && failNext) {
          failNext = false;
          throw new Error('timeout');
        }
      },
      { store: t.store, namespace: uniqueNamespace(), strategy, env: false, logLevel: 'off' },
    );
    const first = await handler(sqsEvent(sqsRecord(orderEvent('o-ok')), sqsRecord(orderEvent('o-flaky'), { messageId: 'm-flaky' })), lambdaContext());
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-flaky' }]);
    const retry = await handler(sqsEvent(sqsRecord(orderEvent('o-ok')), sqsRecord(orderEvent('o-flaky'), { messageId: 'm-flaky' })), lambdaContext());
    expect(retry.batchItemFailures).toEqual([]);
    expect(ran).toEqual(['o-ok', 'o-flaky', 'o-flaky']);
  });

  it('stops a FIFO batch at the first failure and reports it and every later record, unrun', async () => {
    const namespace = uniqueNamespace();
    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        ran.push(event.detail.orderId);
        if (event.detail.orderId === 'o-2') throw new Error('rejected');
      },
      { store: t.store, namespace, strategy, env: false, logLevel: 'off', fifo: true },
    );
    const batch = sqsEvent(
      sqsRecord(orderEvent('o-1'), { messageId: 'm-1' }),
      sqsRecord(orderEvent('o-2'), { messageId: 'm-2' }),
      sqsRecord(orderEvent('o-3'), { messageId: 'm-3' }),
      sqsRecord('garbage', { messageId: 'm-4' }),
      sqsRecord(orderEvent('o-5'), { messageId: 'm-5' }),
    );
    const response = await handler(batch, lambdaContext());
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m-2', 'm-3', 'm-4', 'm-5']);
    expect(ran).toEqual(['o-1', 'o-2']);
    // The skipped records' claims were released: they run when redelivered.
    expect(await t.store.get(keyOf(namespace, 'o-3'))).toBeUndefined();
    expect(await t.store.get(keyOf(namespace, 'o-5'))).toBeUndefined();
  });

  it('treats a batch from a queue whose ARN ends in .fifo as FIFO by default, and a standard queue as not', async () => {
    const ran: string[] = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        ran.push(event.detail.orderId);
        if (event.detail.orderId.startsWith('bad')) throw new Error('rejected');
      },
      { store: t.store, namespace: uniqueNamespace(), strategy, env: false, logLevel: 'off' },
    );
    const fifo = await handler(
      sqsEvent(sqsRecord(orderEvent('bad-1'), { fifo: true, messageId: 'f-1' }), sqsRecord(orderEvent('f-2'), { fifo: true, messageId: 'f-2' })),
      lambdaContext(),
    );
    expect(fifo.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['f-1', 'f-2']);
    const standard = await handler(
      sqsEvent(sqsRecord(orderEvent('bad-2'), { messageId: 's-1' }), sqsRecord(orderEvent('s-2'), { messageId: 's-2' })),
      lambdaContext(),
    );
    expect(standard.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['s-1']);
    expect(ran).toEqual(['bad-1', 'bad-2', 's-2']);
  });

  it('reads bodies as the whole envelope, as the detail only, or either (auto)', async () => {
    const seen: unknown[] = [];
    const make = (body: 'envelope' | 'detail' | 'auto') =>
      makeIdempotentSqs(async (event) => void seen.push(event), {
        store: t.store,
        namespace: uniqueNamespace(body),
        strategy,
        env: false,
        logLevel: 'off',
        body,
        name: body,
      });
    const envelope = orderEvent('o-envelope');
    const detailOnly = { orderId: 'o-detail', total: 1 };

    const auto = await make('auto')(
      sqsEvent(sqsRecord(envelope), sqsRecord(detailOnly, { messageId: 'm-detail' })),
      lambdaContext(),
    );
    expect(auto.batchItemFailures).toEqual([]);
    expect(seen).toEqual([envelope, { id: 'm-detail', detail: detailOnly }]);

    const asEnvelope = await make('envelope')(sqsEvent(sqsRecord(detailOnly, { messageId: 'm-x' })), lambdaContext());
    expect(asEnvelope.batchItemFailures).toEqual([{ itemIdentifier: 'm-x' }]); // no detail.orderId in an envelope

    seen.length = 0;
    const asDetail = await make('detail')(sqsEvent(sqsRecord({ orderId: 'o-d2' }, { messageId: 'm-d2' })), lambdaContext());
    expect(asDetail.batchItemFailures).toEqual([]);
    expect(seen).toEqual([{ id: 'm-d2', detail: { orderId: 'o-d2' } }]);
  });

  it('leases every claim of the batch for the remaining time plus the margin', async () => {
    const namespace = uniqueNamespace();
    const leases: Array<number | undefined> = [];
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => {
        leases.push((await t.store.get(keyOf(namespace, event.detail.orderId)))?.leaseExpiresAt);
      },
      { store: t.store, namespace, strategy, env: false, logLevel: 'off' },
    );
    await handler(sqsEvent(sqsRecord(orderEvent('o-a')), sqsRecord(orderEvent('o-b'))), lambdaContext({ remainingMs: 20_000 }));
    expect(leases).toEqual([t.clock.now() + 21_000, t.clock.now() + 21_000]);
  });

  it("completion: 'batch' records the batch's completions in one completeMany", async () => {
    const namespace = uniqueNamespace();
    const { store, calls } = counting(t.store);
    const handler = makeIdempotentSqs(
      async (event: ReturnType<typeof orderEvent>) => ({ synced: event.detail.orderId }),
      { store, namespace, strategy, env: false, logLevel: 'off', completion: 'batch' },
    );
    const orders = ['b-1', 'b-2', 'b-3', 'b-4'];
    const response = (await handler(sqsEvent(...orders.map((id) => sqsRecord(orderEvent(id)))), lambdaContext())) as SQSBatchResponse;
    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toMatchObject({ claimMany: 1, completeMany: 1 });
    expect(calls.complete).toBeUndefined();
    for (const id of orders) expect((await t.store.get(keyOf(namespace, id)))?.status).toBe('completed');
  });

  it('answers an empty batch with no failures', async () => {
    const handler = makeIdempotentSqs(async () => 'ok', { store: t.store, namespace: uniqueNamespace(), env: false, logLevel: 'off' });
    await expect(handler({ Records: [] }, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
  });

  it('reports the in-progress and skipped errors core gives', async () => {
    const namespace = uniqueNamespace();
    await t.store.claim({ key: keyOf(namespace, 'o-held'), leaseMs: 60_000, retentionMs: 3_600_000 });
    const errors: string[] = [];
    const handler = makeIdempotentSqs(async () => 'ok', {
      store: t.store,
      namespace,
      strategy,
      env: false,
      fifo: true,
      logger: { ...recordingLogger(), warn: (_message, fields) => errors.push(String(fields?.['error'])) },
    });
    await handler(sqsEvent(sqsRecord(orderEvent('o-held')), sqsRecord(orderEvent('o-next'))), lambdaContext());
    expect(errors).toEqual([
      expect.stringContaining(new IdempotencyInProgressError('k', {} as never).name),
      expect.stringContaining(new BatchItemSkippedError('m').name),
    ]);
  });
});

describe('makeIdempotentSqs options', () => {
  it('refuses an unknown body mode or fifo value, naming the option', () => {
    expect(() => makeIdempotentSqs(async () => 1, { body: 'json' as never })).toThrow(/"body"/);
    expect(() => makeIdempotentSqs(async () => 1, { fifo: 'yes' as never })).toThrow(/"fifo"/);
    expect(() => makeIdempotentSqs(async () => 1, { completion: 'later' as never })).toThrow(/"completion"/);
  });
});
