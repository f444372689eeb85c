import type { StoreKind } from '../contenders/types.js';

/** The faults the harness injects; each must fire at least once for a run to prove anything. */
export type FaultKind = 'handlerError' | 'workerKilled' | 'connectionCut' | 'leaseLapsed';

/** Faults planned on logical events (connection cuts are timed by the coordinator instead). */
export type PlannedFault = Exclude<FaultKind, 'connectionCut'>;

/** How big and how long one harness run is. */
export interface HarnessOptions {
  store: StoreKind;
  /** Distinct logical events in the stream. */
  logicalEvents: number;
  /** Worker processes consuming the stream (at least 6). */
  workers: number;
  /** Over how long the first deliveries of the stream become visible, ms. */
  streamMs: number;
  /** Logical events planned to fail / be killed / run past their lease. */
  planned: Record<PlannedFault, number>;
  /** Time between two cuts of the store's connections, ms. */
  cutEveryMs: number;
  /**
   * How long a received delivery stays invisible (the SQS visibility timeout); the handler's
   * Lambda-style context reports it as the remaining time, so the lease follows it.
   */
  visibilityMs: number;
  /** Added to the remaining time to make the lease (`leaseMarginMs` of makeIdempotent). */
  leaseMarginMs: number;
  /** Give up (and fail) when deliveries are still unacknowledged after this long, ms. */
  deadlineMs: number;
  /** Endpoint of DynamoDB Local, for `store: 'dynamodb'`. */
  dynamodbEndpoint?: string;
  /** Progress lines go here (stderr in the CLI, nowhere in tests). */
  log?: (line: string) => void;
}

/** What one run found, per store. */
export interface HarnessReport {
  store: StoreKind;
  logicalEvents: number;
  deliveries: number;
  /** Deliveries handed to workers, redeliveries after failures and timeouts included. */
  receives: number;
  faults: Record<FaultKind, number>;
  /** Logical events with more than one ledger row. */
  doubleEffects: number;
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
