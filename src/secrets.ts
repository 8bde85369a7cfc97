/**
 * Secret generation, hashing at rest and constant-time verification.
 *
 * Stored hashes name their algorithm, so one verifier reads every format:
 * - `sha256$<hex>` — for generated secrets (≥ 256 random bits, so a fast
 *   hash is enough: there is nothing to brute-force).
 * - `scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>` — for imported secrets
 *   of unknown entropy, where a slow KDF resists guessing.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from "@noble/hashes/utils.js";
import { customAlphabet, nanoid } from "nanoid";
import type * as NodeCrypto from "node:crypto";

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

/** Parameters of the scrypt format; log2 of N, block size r, parallelism p. */
export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/** OWASP-recommended minimum (N = 2^17, r = 8, p = 1). */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ logN: 17, r: 8, p: 1 });

/**
 * Compares two byte arrays without an early exit on the first difference.
 * Lengths are not secret here (hashes have fixed sizes per format).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Memory ceiling for one scrypt derivation; hashes needing more are refused. */
const SCRYPT_MAXMEM = 2 ** 31;

/**
 * The primitives the hasher is built on. Two implementations with identical
 * output: node:crypto where the runtime has it (native code, scrypt on the
 * thread pool instead of the event loop), else @noble/hashes (pure
 * JavaScript, runs anywhere). Either verifies what the other hashed.
 */
export interface SecretCrypto {
  /** Lowercase hex SHA-256 of the UTF-8 secret. */
  sha256Hex(secret: string): string;
  /** Whether SHA-256 of the secret equals the 32 bytes spelled by `digestHex`, in constant time. */
  sha256Equals(secret: string, digestHex: string): boolean;
  /** 32-byte scrypt key of the UTF-8 secret. */
  scrypt(secret: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array>;
  /** Byte comparison without an early exit. */
  equal(a: Uint8Array, b: Uint8Array): boolean;
}

/**
 * The pure-JavaScript implementation (@noble/hashes), for runtimes without
 * node:crypto.
 *
 * @example
 * ```ts
 * const hasher = createSecretHasherOn(portableSecretCrypto);
 * ```
 */
export const portableSecretCrypto: SecretCrypto = Object.freeze({
  sha256Hex: (secret: string) => bytesToHex(sha256(utf8ToBytes(secret))),
  sha256Equals: (secret: string, digestHex: string) => constantTimeEqual(sha256(utf8ToBytes(secret)), hexToBytes(digestHex)),
  scrypt: (secret: string, salt: Uint8Array, params: ScryptParams) =>
    scryptAsync(utf8ToBytes(secret), salt, { N: 2 ** params.logN, r: params.r, p: params.p, dkLen: 32, maxmem: SCRYPT_MAXMEM }),
  equal: constantTimeEqual,
});

/**
 * node:crypto, looked up without a static import so that the module still
 * loads where it does not exist (browsers, workers without Node
 * compatibility); `process.getBuiltinModule` exists from Node 20.16 and in
 * Deno and Bun.
 */
function loadNodeCrypto(): typeof NodeCrypto | undefined {
  try {
    const crypto = globalThis.process?.getBuiltinModule?.("node:crypto") as typeof NodeCrypto | undefined;
    return typeof crypto?.createHash === "function" && typeof crypto.scrypt === "function" ? crypto : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Compares two strings of code units without an early exit on the first
 * difference: the hex digests compared here have a fixed length per format.
 */
function constantTimeEqualText(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function nodeSecretCryptoFrom(crypto: typeof NodeCrypto): SecretCrypto {
  // crypto.hash (Node 20.12+) is a one-shot digest, about twice as fast as a
  // Hash object for short input; createHash where a runtime lacks it.
  const sha256Hex =
    typeof crypto.hash === "function"
      ? (secret: string) => crypto.hash("sha256", secret, "hex")
      : (secret: string) => crypto.createHash("sha256").update(secret, "utf8").digest("hex");
  const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && crypto.timingSafeEqual(a, b);
  return Object.freeze({
    sha256Hex,
    // Comparing the hex texts costs less than decoding the stored one to bytes.
    sha256Equals: (secret: string, digestHex: string) => constantTimeEqualText(sha256Hex(secret), digestHex),
    scrypt: (secret: string, salt: Uint8Array, params: ScryptParams) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const options = { N: 2 ** params.logN, r: params.r, p: params.p, maxmem: SCRYPT_MAXMEM };
        crypto.scrypt(utf8ToBytes(secret), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key)));
      }),
    equal,
  });
}

/**
 * The node:crypto implementation, or undefined where the runtime has no
 * node:crypto. {@link createSecretHasher} uses it when it exists.
 *
 * @example
 * ```ts
 * const hasher = createSecretHasherOn(nodeSecretCrypto ?? portableSecretCrypto);
 * ```
 */
export const nodeSecretCrypto: SecretCrypto | undefined = (() => {
  const crypto = loadNodeCrypto();
  return crypto ? nodeSecretCryptoFrom(crypto) : undefined;
})();

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
 * node:crypto where available, else on @noble/hashes; the stored formats
 * are the same either way.
 *
 * @example
 * ```ts
 * const hasher = createSecretHasher({ algorithm: "scrypt" });
 * const stored = await hasher.hash("imported-legacy-secret"); // "scrypt$17$8$1$…"
 * await hasher.verify("imported-legacy-secret", stored);     // true
 * ```
 */
export function createSecretHasher(options: SecretHasherOptions = {}): SecretHasher {
  return createSecretHasherOn(nodeSecretCrypto ?? portableSecretCrypto, options);
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
