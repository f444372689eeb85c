import { ConfigError } from '../errors.js';
import type { ClaimRequest, ClaimWindow, CompleteRequest, ExtendLeaseRequest, IdentityToken, VersionClaimRequest } from './types.js';

/** Longest owner id a store keeps (a Lambda request id is 36 characters). */
const MAX_OWNER_LENGTH = 128;

/** Rejects requests no store could honour, before any I/O; shared by every adapter. */
export function assertValidClaim(request: ClaimRequest): void {
  if (typeof request.key !== 'string' || request.key.length === 0) {
    throw new ConfigError('key', 'must be a non-empty string');
  }
  assertPositiveMs('leaseMs', request.leaseMs);
  assertPositiveMs('retentionMs', request.retentionMs);
  assertValidWindow('window', request.window);
  if (request.owner !== undefined) assertValidOwner(request.owner);
  if (request.also !== undefined) {
    if (!Array.isArray(request.also)) throw new ConfigError('also', 'must be an array of { key, window? }');
    const seen = new Set([request.key]);
    request.also.forEach((identity, index) => {
      assertKey(`also[${index}].key`, identity?.key);
      if (seen.has(identity.key)) throw new ConfigError(`also[${index}].key`, 'repeats another identity of the claim');
      seen.add(identity.key);
      assertValidWindow(`also[${index}].window`, identity.window);
    });
  }
}

function assertValidWindow(field: string, window: ClaimWindow | undefined): void {
  if (window === undefined) return;
  assertPositiveMs(`${field}.windowMs`, window.windowMs);
  if (!Number.isFinite(window.at)) throw new ConfigError(`${field}.at`, 'must be a finite epoch-ms number');
}

function assertValidOwner(owner: unknown): void {
  if (typeof owner !== 'string' || owner.length === 0 || owner.length > MAX_OWNER_LENGTH) {
    throw new ConfigError('owner', `must be a string of 1-${MAX_OWNER_LENGTH} characters`);
  }
}

function assertKey(field: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) throw new ConfigError(field, 'must be a non-empty string');
}

function assertIdentityTokens(tokens: readonly IdentityToken[] | undefined, key: string): void {
  if (tokens === undefined) return;
  if (!Array.isArray(tokens)) throw new ConfigError('also', 'must be an array of { key, fencingToken }');
  const seen = new Set([key]);
  tokens.forEach((identity, index) => {
    assertKey(`also[${index}].key`, identity?.key);
    if (seen.has(identity.key)) throw new ConfigError(`also[${index}].key`, 'repeats another identity of the claim');
    seen.add(identity.key);
    assertFencingToken(`also[${index}].fencingToken`, identity.fencingToken);
  });
}

function assertFencingToken(field: string, token: unknown): void {
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token <= 0) {
    throw new ConfigError(field, `must be a positive safe integer, got ${String(token)}`);
  }
}

/** Rejects lease extensions no store could honour, before any I/O; shared by every adapter. */
export function assertValidExtension(request: ExtendLeaseRequest): void {
  assertKey('key', request.key);
  assertFencingToken('fencingToken', request.fencingToken);
  assertPositiveMs('leaseMs', request.leaseMs);
  assertIdentityTokens(request.also, request.key);
}

/** Rejects release arguments no store could honour, before any I/O; shared by every adapter. */
export function assertValidRelease(key: string, fencingToken: number, also?: readonly IdentityToken[]): void {
  assertKey('key', key);
  assertFencingToken('fencingToken', fencingToken);
  assertIdentityTokens(also, key);
}

/** Rejects version claims no store could honour, before any I/O; shared by every adapter. */
export function assertValidVersionClaim(request: VersionClaimRequest): void {
  assertKey('entity', request.entity);
  assertKey('version', request.version);
  assertPositiveMs('leaseMs', request.leaseMs);
  assertPositiveMs('retentionMs', request.retentionMs);
  if (request.owner !== undefined) assertValidOwner(request.owner);
}

/** Rejects completions no store could honour, before any I/O; shared by every adapter. */
export function assertValidCompletion(request: CompleteRequest): void {
  assertKey('key', request.key);
  assertFencingToken('fencingToken', request.fencingToken);
  assertPositiveMs('retentionMs', request.retentionMs);
  if (request.result !== undefined && typeof request.result !== 'string') {
    throw new ConfigError('result', 'must be JSON text (a string) or undefined');
  }
  assertIdentityTokens(request.also, request.key);
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
