// Counter names shared by the workers, which count them, and the coordinator, which reads them.

/** A completion refused because the handler outlived its (deliberately lapsed) lease. */
export const LATE_COMPLETION_REFUSED = 'injected: lease lapsed, late completion refused (LeaseLostError)';

/** A hook (`onOutcome`, `onDuplicate`, the metrics sink) threw, as planned on some workers. */
export const HOOK_THREW = 'injected: a hook threw';

/** A delivery failed with a hook's error: hooks must never fail a delivery. */
export const HOOK_FAILED_DELIVERY = 'failed: a hook error failed the delivery';

/** A store reply dropped by the worker's proxy after the server applied the request; `, claim` or `, completion` follows. */
export const LOST_REPLY = 'fault: store reply lost';

/** A Postgres worker migrated the schema as it started (`?migrate=true`). */
export const COLD_START_MIGRATED = 'injected: cold start migrated the store';

/** A cold start whose migration failed: the worker could not start. */
export const COLD_START_FAILED = 'failed: cold start migration';

/** A store call that failed with Postgres' deadlock error (40P01): migrations must never cause one. */
export const DEADLOCKED = 'failed: store error 40P01 (deadlock)';

/** A reply lost to a cut in the middle of a batch claim (makeIdempotentSqs' claimMany). */
export const PARTIAL_BATCH = 'injected: batch claim cut mid-batch (reply lost)';
