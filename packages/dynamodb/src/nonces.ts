import { randomFillSync } from 'node:crypto';

/** Bytes of one nonce: 48 random bits, eight base64url characters. */
const NONCE_BYTES = 6;
/** Nonces drawn from the system's generator at once. */
const POOL_NONCES = 512;

// One `randomBytes(6)` per call asks the system for entropy each time (a few µs, far more on a
// busy Lambda host), and a claim and its completion each draw one. Filling a pool in one go costs
// about the same as a single draw; the nonces stay as random as before.
const pool = Buffer.alloc(NONCE_BYTES * POOL_NONCES);
let next = pool.length;

/** 48 random bits: tells one call's writes from any other's on the same key. */
export function newNonce(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const nonce = pool.toString('base64url', next, next + NONCE_BYTES);
  next += NONCE_BYTES;
  return nonce;
}
