// The wrappers' `ordering` option: dedup first (the genesysCloud preset), then the ordering guard,
// on every test store that keeps versions; from code and from IDEMKIT_ORDERING.
import middy from '@middy/core';
import type { EventBridgeEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, currentClaim, encodeVersion, IdempotencyInProgressError, MemoryStore, type VersionStore } from '@idemkit/core';
import { configFromEnv, createCounters, idempotencyMiddleware, makeIdempotent, makeIdempotentSqs, type GenesysCloudDetail } from '../src/index.js';
import { genesysEvent, resent, sqsEvent, sqsRecord, T0 } from './support/events.js';
import { gate, lambdaContext, rejection } from './support/lambda.js';
import { openStore, STORE_KINDS, uniqueNamespace, type StoreKind, type TestStore } from './support/stores.js';

type GenesysEvent = EventBridgeEvent<string, GenesysCloudDetail>;

// A re-send gets a new envelope id, so ties are broken by a field the source keeps: the participant.
const ordering = { entity: 'detail.eventBody.conversationId', version: ['detail.eventBody.eventTime', 'detail.eventBody.participantId'] };
const preset = { preset: 'genesysCloud' } as const;
const versionOf = (event: GenesysEvent) => encodeVersion([Number(event.detail.eventBody.eventTime), event.detail.eventBody.participantId]);

// Every test store that keeps versions (all of them, once each adapter implements VersionStore).
const VERSION_KINDS = STORE_KINDS.filter((kind) => {
  const probe = openStore(kind);
  void probe.close();
  return typeof (probe.store as Partial<VersionStore>).claimVersion === 'function';
});

function stateChange(conversationId: string, participant: number, second: number): GenesysEvent {
  return genesysEvent({ conversationId, participantId: `p-${participant}`, topic: 'customer.start', eventTime: T0 + second * 1_000 });
}

/** The conversation-state table the handler writes: one row per conversation, the newest write by fencing token. */
class ConversationTable {
  readonly rows = new Map<string, { participantId: string; token: number }>();
  readonly runs = new Map<string, string[]>();

  apply(event: GenesysEvent, token: number): void {
    const { conversationId, participantId } = event.detail.eventBody;
    this.runs.set(conversationId, [...(this.runs.get(conversationId) ?? []), versionOf(event)]);
    const row = this.rows.get(conversationId);
    if (row === undefined || row.token < token) this.rows.set(conversationId, { participantId, token });
  }
}

describe.each(VERSION_KINDS)('ordering on the %s store', (kind: StoreKind) => {
  let t: TestStore;
  beforeEach(() => {
    t = openStore(kind);
  });
  afterEach(async () => {
    await t.close();
  });

  it('SQS: shuffled batches with redeliveries, re-sends and tied times, on 3 concurrent consumers, end on each conversation\'s newest event', async () => {
    const streams = fc
      .array(fc.record({ conversation: fc.integer({ min: 0, max: 2 }), second: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 14 })
      .chain((specs) => {
        const run = uniqueNamespace('c');
        const events = specs.map((spec, index) => stateChange(`${run}-${spec.conversation}`, index, spec.second));
        const copies = fc.array(fc.tuple(fc.nat({ max: events.length - 1 }), fc.boolean()), { maxLength: 8 });
        return copies
          .map((picks) => [...events, ...picks.map(([index, sameEnvelope]) => (sameEnvelope ? structuredClone(events[index]!) : resent(events[index]!)))])
          .chain((deliveries) => fc.shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length }))
          .map((deliveries) => ({ events, deliveries }));
      });

    await fc.assert(
      fc.asyncProperty(streams, async ({ events, deliveries }) => {
        const table = new ConversationTable();
        const handler = makeIdempotentSqs(
          async (event: GenesysEvent) => {
            await new Promise<void>((resolve) => setImmediate(resolve)); // let other consumers interleave
            table.apply(event, currentClaim()!.ordering!.fencingToken);
          },
          { store: t.store, strategy: preset, ordering, namespace: uniqueNamespace(), env: false, logLevel: 'off' },
        );
        await consume(handler, deliveries, 3);

        for (const runs of table.runs.values()) {
          for (let i = 1; i < runs.length; i++) expect(runs[i]! > runs[i - 1]!).toBe(true);
        }
        for (const [conversationId, newest] of newestByConversation(events)) {
          expect(table.rows.get(conversationId)?.participantId).toBe(newest.detail.eventBody.participantId);
        }
      }),
      { numRuns: kind === 'memory' ? 40 : 15 },
    );
  });

  it('SQS: a stale record is acknowledged (not in batchItemFailures); one whose conversation runs elsewhere is reported', async () => {
    const namespace = uniqueNamespace();
    const counters = createCounters();
    const { ran, handle, started, release } = recordingHeld();
    const handler = makeIdempotentSqs(handle, { store: t.store, strategy: preset, ordering, namespace, env: false, logLevel: 'off', metrics: counters });
    const conversation = uniqueNamespace('conv');
    const busy = uniqueNamespace('busy');
    await handler(sqsEvent(sqsRecord(stateChange(conversation, 5, 5))), lambdaContext());
    const running = handler(sqsEvent(sqsRecord(holdEvent(busy))), lambdaContext());
    await started;

    const stale = sqsRecord(stateChange(conversation, 4, 4));
    const newer = sqsRecord(stateChange(conversation, 6, 6));
    const blocked = sqsRecord(stateChange(busy, 7, 7));
    const response = await handler(sqsEvent(stale, newer, blocked), lambdaContext());
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: blocked.messageId }]);
    expect(ran).toEqual(['p-5', 'p-hold', 'p-6']);
    release();
    await running;
    expect(counters.snapshot()).toMatchObject({ processed: 3, stale: 1, in_progress: 1 });
  });

  it('makeIdempotent: a stale event returns without running the handler, and a retry while another version runs fails retryably', async () => {
    const namespace = uniqueNamespace();
    const { ran, handle, started, release } = recordingHeld();
    const handler = makeIdempotent(handle, { store: t.store, strategy: preset, ordering, namespace, env: false, logLevel: 'off' });
    const conversation = uniqueNamespace('conv');
    expect(await handler(stateChange(conversation, 2, 2), lambdaContext())).toBe('applied');
    expect(await handler(stateChange(conversation, 1, 1), lambdaContext())).toBeUndefined();
    const running = handler(holdEvent(conversation, 3), lambdaContext());
    await started;
    expect(await rejection(handler(stateChange(conversation, 4, 4), lambdaContext()))).toBeInstanceOf(IdempotencyInProgressError);
    release();
    await running;
    expect(await handler(stateChange(conversation, 4, 4), lambdaContext())).toBe('applied');
    expect(ran).toEqual(['p-2', 'p-hold', 'p-4']);
  });

  it('Middy: a stale event is answered early, the handler skipped', async () => {
    const ran: string[] = [];
    const handler = middy(async (event: GenesysEvent) => {
      ran.push(event.detail.eventBody.participantId);
      return 'applied';
    }).use(idempotencyMiddleware({ store: t.store, strategy: preset, ordering, namespace: uniqueNamespace(), env: false, logLevel: 'off' }));
    const conversation = uniqueNamespace('conv');
    await expect(handler(stateChange(conversation, 2, 2), lambdaContext())).resolves.toBe('applied');
    await expect(handler(stateChange(conversation, 1, 1), lambdaContext())).resolves.toBeNull();
    expect(ran).toEqual(['p-2']);
  });

  it('IDEMKIT_ORDERING configures the guard (here with the envelope id breaking ties)', async () => {
    const counters = createCounters();
    const ran: string[] = [];
    const handler = makeIdempotent(async (event: GenesysEvent) => void ran.push(event.id), {
      store: t.store,
      namespace: uniqueNamespace(),
      metrics: counters,
      env: {
        IDEMKIT_STRATEGY: 'genesysCloud',
        IDEMKIT_ORDERING: '{"entity":"detail.eventBody.conversationId","version":["detail.eventBody.eventTime","id"]}',
        IDEMKIT_LOG_LEVEL: 'off',
      },
    });
    const conversation = uniqueNamespace('conv');
    const [a, b] = [stateChange(conversation, 1, 3), stateChange(conversation, 2, 3)].sort((x, y) => (x.id < y.id ? -1 : 1));
    await handler(b!, lambdaContext());
    await handler(a!, lambdaContext()); // same time, lower envelope id: stale
    expect(ran).toEqual([b!.id]);
    expect(counters.snapshot()).toMatchObject({ processed: 1, stale: 1 });
  });
});

describe('ordering configuration', () => {
  it('IDEMKIT_ORDERING is checked at once, errors naming the variable and the field inside it', () => {
    const fieldOf = (value: string) => {
      try {
        configFromEnv({ IDEMKIT_ORDERING: value });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).field;
      }
      throw new Error(`accepted ${value}`);
    };
    expect(fieldOf('{"entity":')).toBe('IDEMKIT_ORDERING');
    expect(fieldOf('{"entity":"detail.id"}')).toBe('IDEMKIT_ORDERING.version');
    expect(fieldOf('{"entity":"detail.id","version":["detail.time",{"tiem":"x"}]}')).toBe('IDEMKIT_ORDERING.version[1].tiem');
    expect(fieldOf('{"entity":"detail.id","version":"t","store":"redis://x"}')).toBe('IDEMKIT_ORDERING.store');
    expect(configFromEnv({ IDEMKIT_ORDERING: JSON.stringify(ordering) }).ordering).toEqual(ordering);
  });

  it('refuses ordering on a store that keeps no versions, naming ordering.store, at the first invocation', async () => {
    const memory = new MemoryStore();
    const claimsOnly = new Proxy(memory, { get: (target, property) => (String(property).includes('Version') ? undefined : Reflect.get(target, property)) });
    const handler = makeIdempotent(async () => 'ran', { store: claimsOnly, ordering, namespace: uniqueNamespace(), env: false, logLevel: 'off' });
    expect(await rejection(handler(stateChange('c', 1, 1), lambdaContext()))).toMatchObject({ name: 'ConfigError', field: 'ordering.store' });
  });
});

/** A handler that records each participant it runs for, holding `p-hold`'s run open until `release()`. */
function recordingHeld() {
  const ran: string[] = [];
  const hold = gate();
  const started = gate();
  const handle = async (event: GenesysEvent) => {
    ran.push(event.detail.eventBody.participantId);
    if (event.detail.eventBody.participantId === 'p-hold') {
      started.open();
      await hold.promise;
    }
    return 'applied';
  };
  return { ran, handle, started: started.promise, release: () => hold.open() };
}

function holdEvent(conversationId: string, second = 1): GenesysEvent {
  return genesysEvent({ conversationId, participantId: 'p-hold', topic: 'customer.start', eventTime: T0 + second * 1_000 });
}

function newestByConversation(events: readonly GenesysEvent[]): Map<string, GenesysEvent> {
  const newest = new Map<string, GenesysEvent>();
  for (const event of events) {
    const best = newest.get(event.detail.eventBody.conversationId);
    if (best === undefined || versionOf(event) > versionOf(best)) newest.set(event.detail.eventBody.conversationId, event);
  }
  return newest;
}

/**
 * Lambda polling SQS with `consumers` concurrent invocations: each takes a batch of up to 5, and a
 * record reported in `batchItemFailures` returns to the end of the queue as a new message, as SQS
 * redelivers it.
 */
async function consume(
  handler: (event: { Records: SQSRecord[] }, context: ReturnType<typeof lambdaContext>) => Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }>,
  deliveries: readonly GenesysEvent[],
  consumers: number,
): Promise<void> {
  const queue = deliveries.map((event) => sqsRecord(event));
  let inFlight = 0;
  let rounds = 0;
  await Promise.all(
    Array.from({ length: consumers }, async () => {
      while (queue.length > 0 || inFlight > 0) {
        const batch = queue.splice(0, 5);
        if (batch.length === 0) {
          await new Promise<void>((resolve) => setImmediate(resolve)); // another consumer may requeue
          continue;
        }
        if (++rounds > 2_000) throw new Error('the queue never drained');
        inFlight++;
        try {
          const { batchItemFailures } = await handler(sqsEvent(...batch), lambdaContext());
          const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
          for (const record of batch) if (failed.has(record.messageId)) queue.push(sqsRecord(JSON.parse(record.body)));
        } finally {
          inFlight--;
        }
        // A failed record is invisible for a while before SQS hands it out again: let the others run.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }),
  );
}
