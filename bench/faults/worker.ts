// One worker process of the fault harness: takes deliveries off the queue one at a time (as one
// Lambda instance does), runs them through makeIdempotent on the store under test, and writes
// each effect to the fenced ledger. Planned faults fire inside the handler, once per logical event.
import { currentClaim, LeaseLostError, type IdempotencyLogger } from '@idemkit/core';
import { makeIdempotent, makeIdempotentSqs } from '@idemkit/eventbridge';
import type { GenesysEvent } from '../lib/events.js';
import { lambdaContext } from '../lib/lambda-context.js';
import { newPool } from '../lib/pg.js';
import { COLD_START_FAILED, COLD_START_MIGRATED, DEADLOCKED, HOOK_FAILED_DELIVERY, HOOK_THREW, LATE_COMPLETION_REFUSED, LOST_REPLY, PARTIAL_BATCH } from './labels.js';
import { FencedLedger } from './ledger.js';
import { DeliveryQueue, type ReceivedDelivery } from './queue.js';
import { openWorkerStore } from './stores.js';
import type { CoordinatorMessage, PlannedFault, WorkerConfig, WorkerMessage } from './types.js';

const config = JSON.parse(process.env['FAULTS_WORKER'] ?? 'null') as WorkerConfig | null;
if (config === null || process.send === undefined) throw new Error('worker.ts is started by the fault harness (faults/coordinator.ts)');

const send = (message: WorkerMessage) => void process.send!(message);
const count = (name: string) => send({ type: 'count', name });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Thrown by a handler planned to fail: before its effect, so the retry must run it. */
class PlannedHandlerError extends Error {
  override readonly name = 'PlannedHandlerError';
}

// The harness's own connections (queue, ledger) are named apart from the store's, which are the only ones cut.
const db = newPool({ connectionString: config.databaseUrl, max: 2, application_name: `${config.runId}_harness_${config.worker}` });
db.on('error', () => count('harness connection error'));
const queue = new DeliveryQueue(db, config.schema);
const ledger = new FencedLedger(db, config.schema);
const opened = await openWorkerStore(config, (what) => count(`client: ${what}`)).catch((error: Error) => {
  if (config.coldStartMigrate) count(COLD_START_FAILED);
  throw error;
});
if (config.coldStartMigrate) count(COLD_START_MIGRATED);
const store = opened.store;

/**
 * Fault `lostReply`: the worker's proxy forwards the next store request (the server applies it),
 * drops its reply and cuts the connection, so the client retries a claim or a completion that
 * already took effect (ioredis re-sends it, the AWS SDK retries, pg fails and the queue redelivers).
 */
function loseNextReply(phase: 'claim' | 'completion'): void {
  opened.proxy.loseNextReply(() => count(`${LOST_REPLY}, ${phase}`));
}
const leaseMs = config.visibilityMs + config.leaseMarginMs;

// idemkit's warnings and errors become counters: the report shows what the library noticed.
const logger: IdempotencyLogger = {
  debug() {},
  info() {},
  warn: (message) => count(`idemkit warn: ${message}`),
  error: (message) => count(`idemkit error: ${message}`),
};

/** Thrown by the hooks of a worker planned to run throwing hooks: the engine must log it, never fail the delivery. */
class PlannedHookError extends Error {
  override readonly name = 'PlannedHookError';
}

/** A hook that counts its call and throws (fault `hookThrew`). */
function throwingHook(which: string): () => never {
  return () => {
    count(HOOK_THREW);
    throw new PlannedHookError(`planned failure of the ${which} hook`);
  };
}

// On the workers planned for it, every hook throws: outcome, duplicate, and the metrics sink.
const hooks = config.throwingHooks
  ? {
      onOutcome: throwingHook('onOutcome'),
      onDuplicate: throwingHook('onDuplicate'),
      metrics: { onOutcome: throwingHook('metrics sink'), flush: throwingHook('metrics flush') },
    }
  : {};

/** Marks a planned fault as fired; true only the first time, so the retry runs normally. */
async function fire(logicalId: number, kind: PlannedFault): Promise<boolean> {
  const { rowCount } = await db.query({
    text: `INSERT INTO "${config!.schema}".faults_fired VALUES ($1, $2) ON CONFLICT DO NOTHING`,
    values: [logicalId, kind],
  });
  return rowCount === 1;
}

/** A handler whose lease lapsed waits until a newer holder has taken the key over (bounded). */
async function waitForTakeover(key: string, token: number): Promise<boolean> {
  const giveUpAt = Date.now() + 10_000;
  while (Date.now() < giveUpAt) {
    if ((await ledger.current(key)) > token) return true;
    await sleep(50);
  }
  return false;
}

let current: ReceivedDelivery | undefined;
// When the current delivery's call began: its claim is judged no earlier.
let attemptAt = 0;

/**
 * Records that a delivery of `logicalId` was answered "in progress elsewhere" by a claim made no
 * earlier than `attemptAt` (epoch ms, this machine's clock, which the stores' leases use too).
 */
async function noteBusyAnswer(logicalId: number, attemptAt: number): Promise<void> {
  await db.query({ text: `INSERT INTO "${config!.schema}".busy_answers VALUES ($1, $2)`, values: [logicalId, attemptAt] });
}

const handle = makeIdempotent(
  async (_event: GenesysEvent) => {
    const delivery = current!;
    const claim = currentClaim()!;
    await ledger.register(claim.key, claim.fencingToken);
    const fault = delivery.fault as PlannedFault | null;
    let armCompletionLoss = false;
    if (fault !== null && (await fire(delivery.logicalId, fault))) {
      if (fault === 'handlerError') {
        count('fault: handler error');
        throw new PlannedHandlerError(`planned failure of logical event ${delivery.logicalId}`);
      }
      if (fault === 'workerKilled') {
        send({ type: 'kill-me', logicalId: delivery.logicalId });
        await new Promise(() => undefined); // SIGKILL arrives while the claim is held
      }
      // Events planned a lost reply lose their claim's (before the call) or their completion's.
      if (fault === 'lostReply') armCompletionLoss = true;
      if (fault === 'leaseLapsed') {
        await sleep(leaseMs + 100);
        count((await waitForTakeover(claim.key, claim.fencingToken)) ? 'fault: lease lapsed, taken over' : 'slow handler not taken over');
      }
    }
    if (!(await ledger.write(claim.key, claim.fencingToken, delivery.logicalId, config.worker))) {
      count('stale ledger write refused');
      return { written: false };
    }
    if (armCompletionLoss) loseNextReply('completion');
    return { written: true };
  },
  { store, strategy: { preset: 'genesysCloud' }, namespace: config.runId, leaseMarginMs: config.leaseMarginMs, logger, env: false, ...hooks },
);

// Slow handlers run past their lease once, called without a Lambda context (as `idempotent()` runs
// outside Lambda), so the configured lease applies. Their effect is not fenced: only the claim
// stops a redelivery from running beside them. With the heartbeat the claim holds; without it the
// redelivery takes the lapsed claim over and the effect happens twice.
const SLOW_FAULTS = { slowHandler: 'heartbeat on', slowHandlerNoHeartbeat: 'heartbeat off' } as const;
type SlowFault = keyof typeof SLOW_FAULTS;

/**
 * A slow handler runs until a redelivery of its event has been judged after its first lease would
 * have lapsed: it took the claim over (a newer token registered), or it was answered "in progress"
 * (the heartbeat held the claim). Bounded, like the lapsed-lease wait.
 */
async function waitForJudgedRedelivery(key: string, token: number, logicalId: number, lapsesAt: number): Promise<boolean> {
  const giveUpAt = Date.now() + 10_000;
  while (Date.now() < giveUpAt) {
    if ((await ledger.current(key)) > token) return true;
    const { rowCount } = await db.query({
      text: `SELECT 1 FROM "${config!.schema}".busy_answers WHERE logical_id = $1 AND at > $2 LIMIT 1`,
      values: [logicalId, lapsesAt],
    });
    if (rowCount === 1) return true;
    await sleep(50);
  }
  return false;
}

function slowHandlerFor(fault: SlowFault) {
  return makeIdempotent<GenesysEvent, { written: boolean }, undefined>(
    async () => {
      const delivery = current!;
      const claim = currentClaim()!;
      const lapsesAt = claim.leaseExpiresAt;
      // Registered only so a take-over shows; the write below does not check it.
      await ledger.register(claim.key, claim.fencingToken);
      if (await fire(delivery.logicalId, fault)) {
        count(`fault: slow handler, ${SLOW_FAULTS[fault]}`);
        const judged = await waitForJudgedRedelivery(claim.key, claim.fencingToken, delivery.logicalId, lapsesAt);
        if (!judged) count(`slow handler, ${SLOW_FAULTS[fault]}: no redelivery judged in time`);
      }
      await ledger.writeUnfenced(delivery.logicalId, claim.fencingToken, config!.worker);
      return { written: true };
    },
    {
      store,
      strategy: { preset: 'genesysCloud' },
      namespace: config!.runId,
      leaseMs: config!.slowHandler.leaseMs,
      heartbeat: fault === 'slowHandler',
      logger,
      env: false,
    },
  );
}
const slowHandlers: Record<SlowFault, ReturnType<typeof slowHandlerFor>> = {
  slowHandler: slowHandlerFor('slowHandler'),
  slowHandlerNoHeartbeat: slowHandlerFor('slowHandlerNoHeartbeat'),
};

// How a failed delivery is counted: the faults the harness injects (and the retries they cause)
// read as such, so a passing run's counters say "failed:" only for what nobody planned.
function outcomeOf(error: unknown): string {
  const name = (error as Error)?.name ?? 'unknown';
  if (name === 'IdempotencyInProgressError') return 'redelivered: in progress elsewhere';
  if (error instanceof LeaseLostError) return LATE_COMPLETION_REFUSED;
  if (name === 'PlannedHookError') return HOOK_FAILED_DELIVERY;
  if (name === 'PlannedHandlerError') return 'injected: handler error, redelivered';
  if (JSON.stringify(errorCodes(error)).includes('40P01')) return DEADLOCKED;
  if (name === 'IdempotencyStoreError') return 'injected: store error from a cut connection, redelivered';
  return `failed: ${name}: ${(error as Error)?.message}`;
}

/** The `code` of an error and of its causes (Postgres puts its SQLSTATE there). */
function errorCodes(error: unknown): unknown[] {
  const codes: unknown[] = [];
  for (let at = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; at && depth < 5; at = at.cause as typeof at, depth++) codes.push(at.code);
  return codes;
}

// Batch workers (fault partialBatch) take up to BATCH_SIZE deliveries at once and run them as one
// SQS event through makeIdempotentSqs, which claims them all in one claimMany. The first batch of
// several deliveries, and every third after it, loses the reply to one of that claim's first
// requests (the proxy cuts mid-batch; from the first, so a short run that finds only a few
// batches of several still injects the fault): the batch
// claim must leave nothing claimed or say exactly what it claimed, so no record is refused for a
// whole lease, run twice, or acknowledged unrun.
const BATCH_SIZE = 5;
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:000000000000:idemkit-faults';
let batchDeliveries = new Map<string, ReceivedDelivery>();
let batches = 0;

const handleBatch = makeIdempotentSqs(
  async (_event: GenesysEvent, { record }) => {
    const delivery = batchDeliveries.get(record.messageId)!;
    const claim = currentClaim()!;
    await ledger.register(claim.key, claim.fencingToken);
    if (!(await ledger.write(claim.key, claim.fencingToken, delivery.logicalId, config.worker))) {
      count('stale ledger write refused');
      return { written: false };
    }
    return { written: true };
  },
  { store, strategy: { preset: 'genesysCloud' }, namespace: config.runId, leaseMarginMs: config.leaseMarginMs, logger, env: false, ...hooks },
);

/** Receives up to BATCH_SIZE deliveries without a planned fault (those go back for single workers). */
async function receiveBatch(): Promise<ReceivedDelivery[]> {
  const batch: ReceivedDelivery[] = [];
  while (batch.length < BATCH_SIZE) {
    const delivery = await queue.receive(config!.visibilityMs);
    if (delivery === undefined) break;
    if (delivery.fault !== null) {
      await queue.retryLater(delivery, 20);
      continue;
    }
    batch.push(delivery);
  }
  return batch;
}

/** Runs one batch through makeIdempotentSqs; acknowledges what succeeded, gives back what failed. */
async function runBatch(batch: ReceivedDelivery[]): Promise<void> {
  batchDeliveries = new Map(batch.map((delivery) => [`${delivery.id}-${delivery.receipt}`, delivery]));
  const Records = batch.map((delivery) => ({ messageId: `${delivery.id}-${delivery.receipt}`, body: delivery.body, eventSourceARN: QUEUE_ARN }));
  if (batch.length > 1 && ++batches % 3 === 1) opened.proxy.loseNextReply(() => count(PARTIAL_BATCH), batches % 2);
  let failed: Set<string>;
  try {
    const response = await handleBatch({ Records }, lambdaContext(config!.visibilityMs));
    failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  } catch (error) {
    count(`batch threw: ${outcomeOf(error)}`);
    failed = new Set(batchDeliveries.keys());
  } finally {
    opened.proxy.disarm();
  }
  for (const [messageId, delivery] of batchDeliveries) {
    count('receive');
    if (failed.has(messageId)) {
      count('batch record failed, redelivered');
      await queue.retryLater(delivery, 200).catch(() => count('queue error'));
    } else count((await queue.ack(delivery)) ? 'acked' : 'ack refused: redelivered meanwhile');
  }
}

let stopping = false;
process.on('message', (message: CoordinatorMessage) => {
  if (message.type === 'stop') stopping = true;
});

send({ type: 'ready' });
while (!stopping && config.batch) {
  let batch: ReceivedDelivery[] = [];
  try {
    batch = await receiveBatch();
  } catch {
    count('queue error');
  }
  if (batch.length === 0) await sleep(20);
  else await runBatch(batch);
}
while (!stopping) {
  let delivery: ReceivedDelivery | undefined;
  try {
    delivery = await queue.receive(config.visibilityMs);
  } catch {
    count('queue error');
  }
  if (delivery === undefined) {
    await sleep(20);
    continue;
  }
  current = delivery;
  count('receive');
  try {
    const event = JSON.parse(delivery.body) as GenesysEvent;
    if (delivery.fault === 'lostReply' && delivery.logicalId % 2 === 0 && (await fire(delivery.logicalId, 'lostReply'))) loseNextReply('claim');
    attemptAt = Date.now();
    const slow = delivery.fault !== null && Object.hasOwn(slowHandlers, delivery.fault) ? slowHandlers[delivery.fault as SlowFault] : undefined;
    await (slow === undefined ? handle(event, lambdaContext(config.visibilityMs)) : slow(event, undefined));
    count((await queue.ack(delivery)) ? 'acked' : 'ack refused: redelivered meanwhile');
  } catch (error) {
    const outcome = outcomeOf(error);
    count(outcome);
    // Like SQS: back on the queue, a little later when the key is busy elsewhere.
    const busy = (error as Error)?.name === 'IdempotencyInProgressError';
    if (busy) await noteBusyAnswer(delivery.logicalId, attemptAt).catch(() => count('queue error'));
    await queue.retryLater(delivery, busy ? 200 : 50).catch(() => count('queue error'));
  } finally {
    opened.proxy.disarm();
  }
}
await opened.close().catch(() => undefined);
await db.end().catch(() => undefined);
// Exit once the last message is out, so no counter is lost on the way.
process.send({ type: 'stopped' } satisfies WorkerMessage, undefined, {}, () => process.exit(0));
