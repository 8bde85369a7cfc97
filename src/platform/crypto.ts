/** Pieces both hashing implementations share. */

/** Memory ceiling for one scrypt derivation; hashes needing more are refused. */
export const SCRYPT_MAXMEM = 2 ** 31;

/**
 * Compares two byte arrays without an early exit on the first difference.
 * Lengths are not secret here (hashes have fixed sizes per format).
 *
 * @example
 * ```ts
 * constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Compares two strings of code units without an early exit on the first
 * difference: the hex digests compared here have a fixed length per format.
 */
export function constantTimeEqualText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
