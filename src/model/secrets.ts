/**
 * Secret generation, hashing at rest and constant-time verification.
 *
 * Stored hashes name their algorithm, so one verifier reads every format:
 * - `sha256$<hex>` — for generated secrets (≥ 256 random bits, so a fast
 *   hash is enough: there is nothing to brute-force).
 * - `scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>` — for imported secrets
 *   of unknown entropy, where a slow KDF resists guessing.
 */
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { customAlphabet, nanoid } from "nanoid";
import { platformCrypto } from "#platform/crypto";
import { constantTimeEqual, constantTimeEqualText, SCRYPT_MAXMEM } from "../platform/crypto.js";
import { portableSecretCrypto } from "../platform/crypto.web.js";
import type { ScryptParams, SecretCrypto } from "../platform/types.js";

export { constantTimeEqual, portableSecretCrypto, type ScryptParams, type SecretCrypto };

/**
 * Turns secrets into stored hashes and checks a secret against one.
 * `verify` must be constant-time in the secret and must return false (not
 * throw) for a hash format it does not know.
 */
export interface SecretHasher {
  hash(secret: string): string | Promise<string>;
  verify(secret: string, storedHash: string): boolean | Promise<boolean>;
  /**
   * Optional: checks one secret against several stored hashes at once, with
   * the answers `verify` would give for each. A hasher whose hashes are
   * unsalted digests computes the secret's digest once for all of them
   * (authentication checks the current and the rotated hash on every call).
   */
  verifyEach?(secret: string, storedHashes: readonly string[]): boolean[] | Promise<boolean[]>;
}

/** OWASP-recommended minimum (N = 2^17, r = 8, p = 1). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ logN: 17, r: 8, p: 1 });

const SCRYPT_FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$((?:[0-9a-f]{2}){16,64})\$([0-9a-f]{64})$/;
/** Bound on r·p so a tampered stored hash cannot make verification run for minutes. */
const SCRYPT_MAX_RP = 64;
const SHA256_FORMAT = /^sha256\$([0-9a-f]{64})$/;

/** Options of {@link createSecretHasher}. */
export interface SecretHasherOptions {
  algorithm?: "sha256" | "scrypt";
  scrypt?: ScryptParams;
}

/**
 * A hasher that stores new hashes with `algorithm` (default sha256) and
 * verifies every known format, so stores can hold a mix of both. Runs on
 * node:crypto under the "node" package condition (Node, Bun, Deno), else on
 * @noble/hashes (workerd, browsers); the stored formats are the same either
 * way.
 *
 * @example
 * ```ts
 * const hasher = createSecretHasher({ algorithm: "scrypt" });
 * const stored = await hasher.hash("imported-legacy-secret"); // "scrypt$17$8$1$…"
 * await hasher.verify("imported-legacy-secret", stored);     // true
 * ```
 */
export function createSecretHasher(options: SecretHasherOptions = {}): SecretHasher {
  return createSecretHasherOn(platformCrypto, options);
}

/**
 * {@link createSecretHasher} on a given implementation of the primitives.
 *
 * @example
 * ```ts
 * const portable = createSecretHasherOn(portableSecretCrypto, { algorithm: "scrypt" });
 * ```
 */
export function createSecretHasherOn(crypto: SecretCrypto, options: SecretHasherOptions = {}): SecretHasher {
  const algorithm = options.algorithm ?? "sha256";
  const params = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  return {
    async hash(secret) {
      if (algorithm === "sha256") return `sha256$${crypto.sha256Hex(secret)}`;
      const salt = randomBytes(16);
      const derived = await crypto.scrypt(secret, salt, params);
      return `scrypt$${params.logN}$${params.r}$${params.p}$${bytesToHex(salt)}$${bytesToHex(derived)}`;
    },
    // SHA-256 hashes are answered synchronously: no promise per verification.
    verify(secret, storedHash) {
      const sha = SHA256_FORMAT.exec(storedHash);
      if (sha) return crypto.sha256Equals(secret, sha[1]!);
      return verifyScrypt(secret, storedHash);
    },
    verifyEach(secret, storedHashes) {
      // One digest of the secret, compared in constant time with every SHA-256 hash.
      let digest: string | undefined;
      const results: (boolean | Promise<boolean>)[] = storedHashes.map((stored) => {
        const sha = SHA256_FORMAT.exec(stored);
        if (!sha) return verifyScrypt(secret, stored);
        digest ??= crypto.sha256Hex(secret);
        return constantTimeEqualText(digest, sha[1]!);
      });
      return results.every((r) => typeof r === "boolean") ? (results as boolean[]) : Promise.all(results);
    },
  };

  async function verifyScrypt(secret: string, storedHash: string): Promise<boolean> {
    const sc = SCRYPT_FORMAT.exec(storedHash);
    if (!sc) return false;
    const [logN, r, p] = [Number(sc[1]), Number(sc[2]), Number(sc[3])];
    if (logN < 1 || logN > 24 || r < 1 || p < 1 || r * p > SCRYPT_MAX_RP) return false;
    if (128 * r * (2 ** logN + p + 1) > SCRYPT_MAXMEM) return false;
    try {
      const derived = await crypto.scrypt(secret, hexToBytes(sc[4]!), { logN, r, p });
      return crypto.equal(derived, hexToBytes(sc[5]!));
    } catch {
      return false;
    }
  }
}

/** The default hasher: SHA-256 for new hashes, verifies sha256 and scrypt. */
export const defaultSecretHasher: SecretHasher = createSecretHasher();

const hex32 = customAlphabet("0123456789abcdef", 32);

/**
 * A new client id: 32 lowercase hex characters (128 random bits).
 *
 * @example
 * ```ts
 * generateClientId() // "3f0c9a…" (32 chars)
 * ```
 */
export function generateClientId(): string {
  return hex32();
}

/**
 * A new client secret: 43 URL-safe characters from a CSPRNG (258 bits),
 * after an optional prefix.
 *
 * @example
 * ```ts
 * generateSecret("ocs_") // "ocs_V1StGXR8_Z5jdHi6B-myT…"
 * ```
 */
export function generateSecret(prefix = ""): string {
  return `${prefix}${nanoid(43)}`;
}

/**
 * A random token for client_uri verification TXT records.
 *
 * @example
 * ```ts
 * generateVerificationToken() // "p0mD7…" (32 URL-safe characters)
 * ```
 */
export function generateVerificationToken(): string {
  return nanoid(32);
}
