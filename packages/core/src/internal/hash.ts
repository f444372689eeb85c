import { createHash } from 'node:crypto';

/**
 * SHA-256 digest as base64url (43 characters, no padding): safe in keys for every store.
 * Strings are hashed as UTF-8.
 * @example sha256Base64url('abc') // 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0'
 */
export function sha256Base64url(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}
