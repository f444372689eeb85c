import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Lambda context with a fixed remaining time, typed as `aws-lambda`'s `Context`. */
// Each call is one invocation with its own request id, as Lambda gives (its own retries of one
// asynchronous invocation keep the id: pass `awsRequestId` to model them).
export function lambdaContext(options: { functionName?: string; remainingMs?: number; awsRequestId?: string } = {}): Context {
  const remainingMs = options.remainingMs ?? 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName ?? 'crm-sync',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${options.functionName ?? 'crm-sync'}`,
    memoryLimitInMB: '256',
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: '/aws/lambda/crm-sync',
    logStreamName: '2026/11/02/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A promise with its resolver outside, to hold a handler open at a known point (no sleeps). */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Resolves with the error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** A logger that keeps every line, for asserting what was logged. */
export function recordingLogger(): {
  lines: Array<{ level: string; message: string; fields: Record<string, unknown> }>;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
} {
  const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
