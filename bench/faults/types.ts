import type { StoreKind } from '../contenders/types.js';

/**
 * The faults the harness injects; each must fire at least once for a run to prove anything.
 * `slowHandler` and `slowHandlerNoHeartbeat`: a handler that runs past its lease once (outside
 * Lambda, on a configured lease) while a duplicate arrives, with the lease heartbeat on and off.
 */
export type FaultKind =
  | 'handlerError'
  | 'workerKilled'
  | 'connectionCut'
  | 'leaseLapsed'
  | 'slowHandler'
  | 'slowHandlerNoHeartbeat'
  | 'lostReply'
  | 'hookThrew'
  | 'coldStartMigration'
  | 'partialBatch';

/**
 * Faults not planned on logical events: connection cuts are timed by the coordinator; hooks throw
 * on every outcome of the workers that run them; batch workers cut every third batch claim; Postgres workers each migrate as they start.
 */
export type UnplannedFault = 'connectionCut' | 'hookThrew' | 'coldStartMigration' | 'partialBatch';

/** Faults planned on logical events, each fired once per event planned for it. */
export type PlannedFault = Exclude<FaultKind, UnplannedFault>;

/** How big and how long one harness run is. */
export interface HarnessOptions {
  store: StoreKind;
  /** Distinct logical events in the stream. */
  logicalEvents: number;
  /** Worker processes consuming the stream (at least 6). */
  workers: number;
  /** Over how long the first deliveries of the stream become visible, ms. */
  streamMs: number;
  /** Logical events planned to fail / be killed / run past their lease / run slow. */
  planned: Record<PlannedFault, number>;
  /** How the slow handlers run (faults `slowHandler` and `slowHandlerNoHeartbeat`). */
  slowHandler: SlowHandlerOptions;
  /** Time between two cuts of the store's connections, ms. */
  cutEveryMs: number;
  /**
   * How long a received delivery stays invisible (the SQS visibility timeout); the handler's
   * Lambda-style context reports it as the remaining time, so the lease follows it.
   */
  visibilityMs: number;
  /** Added to the remaining time to make the lease (`leaseMarginMs` of makeIdempotent). */
  leaseMarginMs: number;
  /** Give up (and fail) when deliveries are still unacknowledged this long after the stream starts, ms. */
  deadlineMs: number;
  /** Endpoint of DynamoDB Local, for `store: 'dynamodb'`. */
  dynamodbEndpoint?: string;
  /** Postgres: extra workers started at once mid-stream, each migrating while the others claim. */
  coldStartBurst: number;
  /** Progress lines go here (stderr in the CLI, nowhere in tests). */
  log?: (line: string) => void;
}

/**
 * A slow handler runs past its `leaseMs` (it is called without a Lambda context, as `idempotent()`
 * outside Lambda is, so the configured lease applies) until a redelivery of its event, arriving
 * `duplicateAfterMs` after the original, has been judged after that lease would have lapsed: taken
 * the claim over, or been answered "in progress". Its effect is written without the fence (a
 * downstream that cannot take a token), so only the claim stops the redelivery from running it a
 * second time: kept by the heartbeat, or taken over without it.
 */
export interface SlowHandlerOptions {
  leaseMs: number;
  duplicateAfterMs: number;
}

/** Double effects among the logical events of one slow-handler fault. */
export interface SlowHandlerReport {
  /** Slow handlers that ran (the fault fired). */
  slowRuns: number;
  doubleEffects: number;
}

/** What one run found, per store. */
export interface HarnessReport {
  store: StoreKind;
  logicalEvents: number;
  deliveries: number;
  /** Deliveries handed to workers, redeliveries after failures and timeouts included. */
  receives: number;
  faults: Record<FaultKind, number>;
  /** The faults planned on logical events (a kind planned 0 times is not expected to fire). */
  planned: Record<PlannedFault, number>;
  /**
   * Logical events with more than one ledger row, except those of `slowHandlerNoHeartbeat`, which
   * are expected to double (they are reported in `slowHandlers`).
   */
  doubleEffects: number;
  /** The slow-handler scenario: double effects with the heartbeat on (must be 0) and off (expected above 0). */
  slowHandlers: Record<'heartbeat' | 'noHeartbeat', SlowHandlerReport>;
  /** For each double effect, its ledger rows (`token@worker`), to see which holders wrote. */
  doubleEffectRows: string[];
  /** Logical events with no ledger row once every delivery was acknowledged. */
  lostEvents: number;
  /** Deliveries never acknowledged before the deadline (0 in a good run). */
  unacked: number;
  /** Ledger writes the fence refused (a holder whose lease had lapsed). */
  staleWritesRefused: number;
  /** Completions the store refused with LeaseLostError. */
  lateCompletionsRefused: number;
  /**
   * Completions that failed on a store error after the effect: the engine logs them and returns,
   * the claim stays in progress until its lease lapses, and a later duplicate then runs again.
   */
  completionsLost: number;
  /** Everything the workers counted, by name (outcomes, store errors, idemkit warnings). */
  counters: Record<string, number>;
  elapsedMs: number;
}

/** Everything a worker process needs, passed in its environment as JSON. */
export interface WorkerConfig {
  store: StoreKind;
  worker: string;
  runId: string;
  schema: string;
  databaseUrl: string;
  redisUrl: string;
  /** The proxy in front of DynamoDB Local (so the coordinator can cut its connections). */
  dynamodbEndpoint?: string;
  dynamodbTable?: string;
  visibilityMs: number;
  leaseMarginMs: number;
  slowHandler: SlowHandlerOptions;
  /** This worker's `onOutcome`, `onDuplicate` and metrics sink throw (fault `hookThrew`). */
  throwingHooks: boolean;
  /** Postgres: open the store from its URL with `?migrate=true`, as a cold start does (fault `coldStartMigration`). */
  coldStartMigrate: boolean;
  /** Take SQS-style batches through makeIdempotentSqs instead of one delivery at a time (fault `partialBatch`). */
  batch: boolean;
}

/** Messages a worker sends the coordinator. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'count'; name: string }
  /** The worker is inside a handler planned to be killed, holding the claim: SIGKILL it now. */
  | { type: 'kill-me'; logicalId: number }
  /** Last message before a clean exit: everything sent before it has arrived. */
  | { type: 'stopped' };

/** Messages the coordinator sends a worker. */
export type CoordinatorMessage = { type: 'stop' };
