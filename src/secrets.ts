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

/**
 * Turns secrets into stored hashes and checks a secret against one.
 * `verify` must be constant-time in the secret and must return false (not
 * throw) for a hash format it does not know.
 */
export interface SecretHasher {
  hash(secret: string): string | Promise<string>;
  verify(secret: string, storedHash: string): boolean | Promise<boolean>;
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

function sha256Hex(secret: string): string {
  return bytesToHex(sha256(utf8ToBytes(secret)));
}

async function scryptHash(secret: string, params: ScryptParams, salt: Uint8Array): Promise<Uint8Array> {
  return scryptAsync(utf8ToBytes(secret), salt, {
    N: 2 ** params.logN,
    r: params.r,
    p: params.p,
    dkLen: 32,
    maxmem: SCRYPT_MAXMEM,
  });
}

const SCRYPT_FORMAT = /^scrypt\$(\d{1,2})\$(\d{1,3})\$(\d{1,3})\$((?:[0-9a-f]{2}){16,64})\$([0-9a-f]{64})$/;
/** Memory ceiling for one scrypt derivation; hashes needing more are refused. */
const SCRYPT_MAXMEM = 2 ** 31;
/** Bound on r·p so a tampered stored hash cannot make verification run for minutes. */
const SCRYPT_MAX_RP = 64;
const SHA256_FORMAT = /^sha256\$([0-9a-f]{64})$/;

/**
 * A hasher that stores new hashes with `algorithm` (default sha256) and
 * verifies every known format, so stores can hold a mix of both.
 *
 * @example
 * const hasher = createSecretHasher({ algorithm: "scrypt" });
 * const stored = await hasher.hash("imported-legacy-secret"); // "scrypt$17$8$1$…"
 * await hasher.verify("imported-legacy-secret", stored);     // true
 */
export function createSecretHasher(
  options: { algorithm?: "sha256" | "scrypt"; scrypt?: ScryptParams } = {},
): SecretHasher {
  const algorithm = options.algorithm ?? "sha256";
  const params = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
  return {
    async hash(secret) {
      if (algorithm === "sha256") return `sha256$${sha256Hex(secret)}`;
      const salt = randomBytes(16);
      const derived = await scryptHash(secret, params, salt);
      return `scrypt$${params.logN}$${params.r}$${params.p}$${bytesToHex(salt)}$${bytesToHex(derived)}`;
    },
    async verify(secret, storedHash) {
      const sha = SHA256_FORMAT.exec(storedHash);
      if (sha) return constantTimeEqual(sha256(utf8ToBytes(secret)), hexToBytes(sha[1]!));
      const sc = SCRYPT_FORMAT.exec(storedHash);
      if (sc) {
        const [logN, r, p] = [Number(sc[1]), Number(sc[2]), Number(sc[3])];
        if (logN < 1 || logN > 24 || r < 1 || p < 1 || r * p > SCRYPT_MAX_RP) return false;
        if (128 * r * (2 ** logN + p + 1) > SCRYPT_MAXMEM) return false;
        try {
          const derived = await scryptHash(secret, { logN, r, p }, hexToBytes(sc[4]!));
          return constantTimeEqual(derived, hexToBytes(sc[5]!));
        } catch {
          return false;
        }
      }
      return false;
    },
  };
}

/** The default hasher: SHA-256 for new hashes, verifies sha256 and scrypt. */
export const defaultSecretHasher: SecretHasher = createSecretHasher();

const hex32 = customAlphabet("0123456789abcdef", 32);

/**
 * A new client id: 32 lowercase hex characters (128 random bits).
 *
 * @example
 * generateClientId() // "3f0c9a…" (32 chars)
 */
export function generateClientId(): string {
  return hex32();
}

/**
 * A new client secret: 43 URL-safe characters from a CSPRNG (258 bits),
 * after an optional prefix.
 *
 * @example
 * generateSecret("ocs_") // "ocs_V1StGXR8_Z5jdHi6B-myT…"
 */
export function generateSecret(prefix = ""): string {
  return `${prefix}${nanoid(43)}`;
}

/**
 * A random token for client_uri verification TXT records.
 *
 * @example
 * generateVerificationToken() // "p0mD7…" (32 URL-safe characters)
 */
export function generateVerificationToken(): string {
  return nanoid(32);
}
