import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { IdempotencyStoreError } from '@idemkit/core';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

const BAD_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationTokenException',
]);

/** What the SDK puts on a service error; read by shape so two copies of the SDK still match. */
interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
  Item?: Record<string, AttributeValue>;
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The failed condition of a conditional write: an answer about the key, never an error. */
export function isConditionalCheckFailed(
  error: unknown,
): error is { name: 'ConditionalCheckFailedException'; Item?: Record<string, AttributeValue> } {
  return shape(error).name === 'ConditionalCheckFailedException';
}

/** One entry of a cancelled transaction's `CancellationReasons`, in the order of its actions. */
export interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Record<string, AttributeValue>;
}

/** The reasons of a `TransactionCanceledException`, or undefined for any other error. */
export function transactionReasons(error: unknown): CancellationReason[] | undefined {
  if (shape(error).name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons;
  return Array.isArray(reasons) ? reasons : undefined;
}

/** DynamoDB refused a write because the item would pass 400 KB. */
export function isItemTooLarge(error: unknown): boolean {
  const { name, message } = shape(error);
  return name === 'ValidationException' && /item size .*exceeded/i.test(message ?? '');
}

/** The endpoint has no such operation (emulators without TTL, for instance). */
export function isUnsupportedOperation(error: unknown): boolean {
  const { name, message } = shape(error);
  return (
    name === 'UnknownOperationException' ||
    name === 'UnsupportedOperationException' ||
    /not (yet )?(supported|implemented)|unknown operation/i.test(message ?? '')
  );
}

/**
 * Turns an SDK failure into an {@link IdempotencyStoreError} that names the table and the
 * operation, keeps the SDK error as `cause`, and says whether retrying can help.
 */
export function toStoreError(error: unknown, tableName: string, operation: string): IdempotencyStoreError {
  const { name = 'Error', message = String(error) } = shape(error);
  const fail = (text: string, retryable: boolean) =>
    new IdempotencyStoreError('dynamodb', text, { cause: error, retryable });

  if (THROTTLING.has(name)) {
    return fail(`${operation} on table "${tableName}" was throttled (${name}); retry later or raise the table's capacity`, true);
  }
  if (name === 'ResourceNotFoundException') {
    return fail(`table "${tableName}" not found — create it with createTable() or see the README`, false);
  }
  if (BAD_CREDENTIALS.has(name)) {
    return fail(`${operation} on table "${tableName}": AWS rejected the credentials (${name}: ${message})`, false);
  }
  if (name === 'CredentialsProviderError') {
    return fail(`${operation} on table "${tableName}": no AWS credentials found (${message})`, false);
  }
  if (name === 'AccessDeniedException') {
    return fail(`${operation} on table "${tableName}": access denied; grant the role dynamodb:UpdateItem and dynamodb:GetItem (${message})`, false);
  }
  if (name === 'ValidationException') {
    return fail(`${operation} on table "${tableName}" was rejected: ${message} (check partitionKey, sortKey and ttlAttribute against the table's schema)`, false);
  }
  return fail(`${operation} on table "${tableName}" failed: ${name}: ${message}`, isRetryable(error));
}

/** Server faults, SDK-marked retryable errors and network failures (no HTTP status) are worth a retry. */
function isRetryable(error: unknown): boolean {
  const { $fault, $retryable, $metadata } = shape(error);
  if ($retryable !== undefined || $fault === 'server') return true;
  const status = $metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}
