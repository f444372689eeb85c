import { ConfigError, IdempotencyError, IdempotencyStoreError, type IdempotencyStore } from '@idemkit/core';

/**
 * A store named by URL whose server could not be reached when it was opened (a cold start while
 * the database is down, or `?migrate=true` failing). With `failOpen`, the wrapper must still run
 * handlers rather than fail the invocation: every operation of this stand-in first tries to open the
 * real store again, and while that fails it throws a retryable {@link IdempotencyStoreError}, which
 * the engine's `failOpen` turns into a logged run without a claim. Once the server answers, calls go
 * to the real store (with its migration done).
 */
export function reopeningStore(name: string, open: () => Promise<IdempotencyStore>): IdempotencyStore {
  let opened: Promise<IdempotencyStore> | undefined;
  const current = async (): Promise<IdempotencyStore> => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined;
      throw unreachable(name, error);
    });
    return opened;
  };
  const forward =
    (method: keyof IdempotencyStore) =>
    async (...args: unknown[]) => {
      const store = await current();
      return (store[method] as (...a: unknown[]) => unknown).apply(store, args);
    };
  const stand: Partial<Record<keyof IdempotencyStore, unknown>> & { name: string } = { name };
  for (const method of ['claim', 'claimMany', 'complete', 'completeMany', 'release', 'extendLease', 'get'] as const) {
    stand[method] = forward(method);
  }
  return stand as IdempotencyStore;
}

/** Whether an error from opening a store means its server was out of reach (not a bad configuration). */
export function isOutage(error: unknown): boolean {
  if (error instanceof ConfigError) return false;
  if (error instanceof IdempotencyStoreError) return true;
  return !(error instanceof IdempotencyError);
}

function unreachable(name: string, error: unknown): IdempotencyStoreError {
  if (error instanceof IdempotencyStoreError) return error;
  return new IdempotencyStoreError(name, `could not open the store: ${error instanceof Error ? error.message : String(error)}`, {
    cause: error,
  });
}
