import { ConfigError } from '../errors.js';
import type { ClaimRequest, CompleteRequest } from './types.js';

/** Rejects requests no store could honour, before any I/O; shared by every adapter. */
export function assertValidClaim(request: ClaimRequest): void {
  if (typeof request.key !== 'string' || request.key.length === 0) {
    throw new ConfigError('key', 'must be a non-empty string');
  }
  assertPositiveMs('leaseMs', request.leaseMs);
  assertPositiveMs('retentionMs', request.retentionMs);
  if (request.window !== undefined) {
    assertPositiveMs('window.windowMs', request.window.windowMs);
    if (!Number.isFinite(request.window.at)) throw new ConfigError('window.at', 'must be a finite epoch-ms number');
  }
}

/** Rejects completions no store could honour, before any I/O; shared by every adapter. */
export function assertValidCompletion(request: CompleteRequest): void {
  if (typeof request.key !== 'string' || request.key.length === 0) {
    throw new ConfigError('key', 'must be a non-empty string');
  }
  assertPositiveMs('retentionMs', request.retentionMs);
}

/** Guards a duration option: a positive finite integer number of milliseconds. */
export function assertPositiveMs(field: string, value: unknown): asserts value is number {
  assertPositiveInteger(field, value, 'milliseconds');
}

/** Guards a count or size option; `unit` names what is counted, for the message. */
export function assertPositiveInteger(field: string, value: unknown, unit: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(field, `must be a positive integer number of ${unit}, got ${String(value)}`);
  }
}
