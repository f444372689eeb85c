import { describe, expect, it } from 'vitest';
import {
  assertValidClaim,
  assertValidCompletion,
  assertValidExtension,
  assertValidRelease,
  assertValidVersionClaim,
  type ClaimRequest,
  type VersionClaimRequest,
} from '../src/index.js';
import { configErrorOf } from './support/config-error.js';

// The guards every adapter calls before any I/O (store/validate.ts). Each bad input must be
// refused with a ConfigError naming the exact field and saying what is expected: an adapter
// that forwards a bad request would write it to the server, or fail there with a driver error.

const claim = (overrides: Record<string, unknown> = {}) => ({ key: 'k', leaseMs: 1_000, retentionMs: 1_000, ...overrides }) as ClaimRequest;
const versionClaim = (overrides: Record<string, unknown> = {}) =>
  ({ entity: 'e', version: 'n01', leaseMs: 1_000, retentionMs: 1_000, ...overrides }) as VersionClaimRequest;

describe('assertValidClaim', () => {
  it.each([
    ['an empty key', { key: '' }, 'key', 'must be a non-empty string'],
    ['a key that is not a string', { key: 42 }, 'key', 'must be a non-empty string'],
    ['a zero lease', { leaseMs: 0 }, 'leaseMs', 'positive integer number of milliseconds, got 0'],
    ['a fractional retention', { retentionMs: 1.5 }, 'retentionMs', 'got 1.5'],
    ['a window of zero ms', { window: { at: 1, windowMs: 0 } }, 'window.windowMs', 'positive integer'],
    ['a window at NaN', { window: { at: Number.NaN, windowMs: 10 } }, 'window.at', 'must be a finite epoch-ms number'],
    ['an empty owner', { owner: '' }, 'owner', 'must be a string of 1-128 characters'],
    ['an owner of 129 characters', { owner: 'o'.repeat(129) }, 'owner', '1-128'],
    ['an owner that is not a string', { owner: 7 }, 'owner', '1-128'],
    ['`also` that is not an array', { also: { key: 'x' } }, 'also', 'must be an array of { key, window? }'],
    ['an `also` entry that is null', { also: [null] }, 'also[0].key', 'must be a non-empty string'],
    ['an `also` key that is empty', { also: [{ key: 'x' }, { key: '' }] }, 'also[1].key', 'must be a non-empty string'],
    ['an `also` key repeating the claim key', { also: [{ key: 'k' }] }, 'also[0].key', 'repeats another identity of the claim'],
    ['two `also` keys alike', { also: [{ key: 'x' }, { key: 'x' }] }, 'also[1].key', 'repeats another identity'],
    ['an `also` window at Infinity', { also: [{ key: 'x', window: { at: Number.POSITIVE_INFINITY, windowMs: 5 } }] }, 'also[0].window.at', 'finite'],
    ['an `also` window of -1 ms', { also: [{ key: 'x', window: { at: 1, windowMs: -1 } }] }, 'also[0].window.windowMs', 'got -1'],
  ])('refuses %s, naming %s', (_label, overrides, field, message) => {
    const error = configErrorOf(() => assertValidClaim(claim(overrides)));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('accepts a full request: window, owner of 128 characters, distinct identities', () => {
    expect(() =>
      assertValidClaim(
        claim({ window: { at: 0, windowMs: 1 }, owner: 'o'.repeat(128), also: [{ key: 'x' }, { key: 'y', window: { at: -5, windowMs: 2 } }] }),
      ),
    ).not.toThrow();
  });
});

describe('assertValidCompletion, assertValidRelease, assertValidExtension', () => {
  const completion = (overrides: Record<string, unknown> = {}) => ({ key: 'k', fencingToken: 1, retentionMs: 1_000, ...overrides }) as never;
  const extension = (overrides: Record<string, unknown> = {}) => ({ key: 'k', fencingToken: 1, leaseMs: 1_000, ...overrides }) as never;

  it.each([
    ['completion', () => assertValidCompletion(completion({ key: '' })), 'key', 'must be a non-empty string'],
    ['completion', () => assertValidCompletion(completion({ fencingToken: 0 })), 'fencingToken', 'must be a positive safe integer, got 0'],
    ['completion', () => assertValidCompletion(completion({ fencingToken: 2 ** 53 })), 'fencingToken', 'positive safe integer'],
    ['completion', () => assertValidCompletion(completion({ fencingToken: '3' })), 'fencingToken', 'got 3'],
    ['completion', () => assertValidCompletion(completion({ retentionMs: 0 })), 'retentionMs', 'positive integer'],
    ['completion', () => assertValidCompletion(completion({ result: { ok: true } })), 'result', 'must be JSON text (a string) or undefined'],
    ['completion', () => assertValidCompletion(completion({ also: 'x' })), 'also', 'must be an array of { key, fencingToken }'],
    ['completion', () => assertValidCompletion(completion({ also: [{ key: 'k', fencingToken: 2 }] })), 'also[0].key', 'repeats another identity of the claim'],
    ['completion', () => assertValidCompletion(completion({ also: [{ key: 'x', fencingToken: -1 }] })), 'also[0].fencingToken', 'got -1'],
    ['completion', () => assertValidCompletion(completion({ also: [null] })), 'also[0].key', 'non-empty'],
    ['release', () => assertValidRelease('', 1), 'key', 'non-empty'],
    ['release', () => assertValidRelease('k', 1.5), 'fencingToken', 'got 1.5'],
    ['release', () => assertValidRelease('k', 1, [{ key: 'x', fencingToken: 1 }, { key: 'x', fencingToken: 2 }]), 'also[1].key', 'repeats'],
    ['extension', () => assertValidExtension(extension({ key: '' })), 'key', 'non-empty'],
    ['extension', () => assertValidExtension(extension({ fencingToken: Number.NaN })), 'fencingToken', 'got NaN'],
    ['extension', () => assertValidExtension(extension({ leaseMs: 0 })), 'leaseMs', 'positive integer'],
    ['extension', () => assertValidExtension(extension({ also: [{ key: 'x', fencingToken: 0 }] })), 'also[0].fencingToken', 'got 0'],
  ])('a %s guard refuses bad input, naming %s', (_kind, guard, field, message) => {
    const error = configErrorOf(guard);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('accepts well-formed requests, with and without other identities', () => {
    expect(() => assertValidCompletion(completion({ result: '"r"', also: [{ key: 'x', fencingToken: 2 }] }))).not.toThrow();
    expect(() => assertValidCompletion(completion())).not.toThrow();
    expect(() => assertValidRelease('k', 1, [{ key: 'x', fencingToken: 9 }])).not.toThrow();
    expect(() => assertValidExtension(extension({ also: [{ key: 'x', fencingToken: 2 }] }))).not.toThrow();
  });
});

describe('assertValidVersionClaim', () => {
  it.each([
    [{ entity: '' }, 'entity', 'non-empty'],
    [{ version: '' }, 'version', 'non-empty'],
    [{ version: 5 }, 'version', 'non-empty'],
    [{ leaseMs: -1 }, 'leaseMs', 'got -1'],
    [{ retentionMs: 0 }, 'retentionMs', 'got 0'],
    [{ owner: 'o'.repeat(129) }, 'owner', '1-128'],
  ])('refuses %j, naming %s', (overrides, field, message) => {
    const error = configErrorOf(() => assertValidVersionClaim(versionClaim(overrides)));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it('accepts a version claim with an owner', () => {
    expect(() => assertValidVersionClaim(versionClaim({ owner: 'req-1' }))).not.toThrow();
  });
});
