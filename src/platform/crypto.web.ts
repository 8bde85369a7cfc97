/**
 * Hashing on runtimes without node:crypto (workerd, browsers): @noble/hashes
 * for SHA-256 and scrypt, which WebCrypto does not offer synchronously (SHA-256)
 * or at all (scrypt); random salts come from WebCrypto's `getRandomValues`.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import type { ScryptParams, SecretCrypto } from "./types.js";
import { constantTimeEqual, SCRYPT_MAXMEM } from "./crypto.js";

/**
 * The pure-JavaScript implementation (@noble/hashes); the default wherever
 * the "node" package condition does not apply.
 *
 * @example
 * ```ts
 * portableSecretCrypto.sha256Hex("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export const portableSecretCrypto: SecretCrypto = Object.freeze({
  sha256Hex: (secret: string) => bytesToHexLower(sha256(utf8ToBytes(secret))),
  sha256Equals: (secret: string, digestHex: string) => constantTimeEqual(sha256(utf8ToBytes(secret)), hexToBytes(digestHex)),
  scrypt: (secret: string, salt: Uint8Array, params: ScryptParams) =>
    scryptAsync(utf8ToBytes(secret), salt, { N: 2 ** params.logN, r: params.r, p: params.p, dkLen: 32, maxmem: SCRYPT_MAXMEM }),
  equal: constantTimeEqual,
});

function bytesToHexLower(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** What `#platform/crypto` gives outside Node. */
export const platformCrypto: SecretCrypto = portableSecretCrypto;
