/** Hashing on node:crypto (Node, and Bun and Deno, which match the "node" condition). */
import * as crypto from "node:crypto";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { constantTimeEqualText, SCRYPT_MAXMEM } from "./crypto.js";
import type { ScryptParams, SecretCrypto } from "./types.js";

// crypto.hash (Node 20.12+) is a one-shot digest, about twice as fast as a
// Hash object for short input; createHash where a runtime lacks it.
const sha256Hex: (secret: string) => string =
  typeof crypto.hash === "function"
    ? (secret) => crypto.hash("sha256", secret, "hex")
    : (secret) => crypto.createHash("sha256").update(secret, "utf8").digest("hex");

/**
 * The node:crypto implementation: native SHA-256, scrypt on the thread pool.
 *
 * @example
 * ```ts
 * nodeSecretCrypto.sha256Hex("abc"); // "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
 * ```
 */
export const nodeSecretCrypto: SecretCrypto = Object.freeze({
  sha256Hex,
  // Comparing the hex texts costs less than decoding the stored one to bytes.
  sha256Equals: (secret: string, digestHex: string) => constantTimeEqualText(sha256Hex(secret), digestHex),
  scrypt: (secret: string, salt: Uint8Array, params: ScryptParams) =>
    new Promise<Uint8Array>((resolve, reject) => {
      const options = { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: SCRYPT_MAXMEM };
      crypto.scrypt(utf8ToBytes(secret), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key)));
    }),
  equal: (a: Uint8Array, b: Uint8Array) => a.length === b.length && crypto.timingSafeEqual(a, b),
});

/** What `#platform/crypto` gives on Node. */
export const platformCrypto: SecretCrypto = nodeSecretCrypto;
