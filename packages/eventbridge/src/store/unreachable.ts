import { IdempotencyError, IdempotencyStoreError, type IdempotencyStore } from '@idemkit/core';

/** What a connection reported last, by the client's own events. */
export interface ConnectionState {
  /** The last connection error since the client was last ready, if any. */
  lastError: Error | undefined;
}

/**
 * Watches a client's connection errors instead of leaving them unhandled: without a listener,
 * ioredis prints every failed reconnect as an "Unhandled error event" stack. Records the latest,
 * so a failing store call can say which host could not be reached and why.
 */
export function watchConnection(client: { on(event: 'error' | 'ready', listener: (error?: Error) => void): unknown }): ConnectionState {
  const state: ConnectionState = { lastError: undefined };
  client.on('error', (error) => {
    state.lastError = error;
  });
  client.on('ready', () => {
    state.lastError = undefined;
  });
  return state;
}

/**
 * Wraps a store so an operation that fails while its server cannot be reached says so once, in its
 * error: `[idemkit] [redis] cannot reach 127.0.0.1:6390 (connect ECONNREFUSED 127.0.0.1:6390)`.
 */
export function explainUnreachable<T extends IdempotencyStore>(store: T, host: string, state: ConnectionState): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          const cause = state.lastError;
          if (cause === undefined || !isConnectionFailure(error)) throw error;
          throw new IdempotencyStoreError(store.name, `cannot reach ${host} (${cause.message})`, { cause: error });
        });
      };
    },
  });
}

// Store faults (timeouts, closed connections) rather than refusals the store reached a verdict on.
function isConnectionFailure(error: unknown): boolean {
  if (error instanceof IdempotencyStoreError) return error.retryable;
  return !(error instanceof IdempotencyError);
}
