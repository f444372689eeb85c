import { describe, expect, it } from 'vitest';
import { newNonce } from '../src/nonces.js';

describe('nonces', () => {
  it('are 48 random bits in base64url, distinct across pool refills', () => {
    // 2,000 draws cross the 512-nonce pool three times: a refill that reused or skipped bytes shows.
    const nonces = Array.from({ length: 2_000 }, () => newNonce());
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(new Set(nonces).size).toBe(nonces.length);
  });
});
