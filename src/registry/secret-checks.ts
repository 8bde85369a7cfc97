/**
 * The registry's side of secrets: which hasher stores which secret, checking
 * a presented secret against a client's current and rotated hashes with
 * equal work whatever the client has, and a bound on slow-hash work.
 */
import { createWorkLimiter } from "../model/limiter.js";
import { generateSecret, type SecretHasher } from "../model/secrets.js";

/** Longest secret accepted; longer input is refused before any hashing. */
export const MAX_SECRET_LENGTH = 1024;

/** Marks a stored hash made by the import hasher. */
const IMPORTED_HASH_MARK = "imported:";

/** Which stored secret a presented one matched. */
export type SecretMatch = "current" | "rotated";

/** Hashing and checking of client secrets, as the registry uses them. */
export interface SecretChecks {
  /** Hash of a generated (high-entropy) secret: the fast hasher. */
  hashGenerated(secret: string): Promise<string>;
  /** Hash of an imported secret of unknown entropy: the slow hasher, bounded. */
  hashImported(secret: string): Promise<string>;
  /**
   * Checks `presented` against the current and the rotated hash. Always does
   * two verifications, with decoys for missing hashes: a client without a
   * secret or a rotation, or no client at all (`current` null), costs what a
   * generated client costs.
   */
  match(presented: unknown, current: string | null, rotated: string | null): Promise<SecretMatch | null>;
}

/** Options of {@link createSecretChecks}. */
export interface SecretChecksOptions {
  hasher: SecretHasher;
  importHasher: SecretHasher;
  /** Slow-hash work running at once. */
  slowHashConcurrency: number;
  /** Slow-hash work waiting; past it, OverloadedError. */
  slowHashQueueLimit: number;
}

/**
 * Whether `secret` is worth checking at all: a non-empty string of at most
 * {@link MAX_SECRET_LENGTH} characters.
 *
 * @example
 * ```ts
 * isPresentableSecret(""); // false
 * ```
 */
export function isPresentableSecret(secret: unknown): secret is string {
  return typeof secret === "string" && secret.length > 0 && secret.length <= MAX_SECRET_LENGTH;
}

/**
 * Creates the secret checks of one registry.
 *
 * @example
 * ```ts
 * import { createSecretHasher, defaultSecretHasher } from "oauth-client-registry";
 *
 * const importHasher = createSecretHasher({ algorithm: "scrypt" });
 * const checks = createSecretChecks({ hasher: defaultSecretHasher, importHasher, slowHashConcurrency: 2, slowHashQueueLimit: 64 });
 * await checks.match("a presented secret", record.secret_hash, null); // "current" | null
 * ```
 */
export function createSecretChecks(options: SecretChecksOptions): SecretChecks {
  const { hasher, importHasher } = options;
  // The slow hash runs under a bounded limit so that a burst cannot exhaust CPU or memory.
  const slow = createWorkLimiter({ concurrency: options.slowHashConcurrency, maxQueue: options.slowHashQueueLimit });

  // Imported secrets carry a mark that routes their verification back to the
  // import hasher, whatever formats `hasher` understands.
  const verify = (secret: string, stored: string): Promise<boolean> =>
    stored.startsWith(IMPORTED_HASH_MARK)
      ? slow(() => importHasher.verify(secret, stored.slice(IMPORTED_HASH_MARK.length)))
      : Promise.resolve(hasher.verify(secret, stored));
  const hashImported = async (secret: string) => `${IMPORTED_HASH_MARK}${await slow(() => importHasher.hash(secret))}`;

  // Decoy hashes, made once, stand in for missing ones. A client id is a
  // public identifier, so only the secret is protected: an unknown id costs
  // what a generated client costs (the fast hash), and a known client
  // without a rotated secret pays a second verification of its own kind.
  let generatedDecoy: Promise<string> | undefined;
  let generatedDecoyValue: string | undefined;
  let importedDecoy: Promise<string> | undefined;
  const decoy = (imported: boolean): Promise<string> => {
    if (!imported) {
      return (generatedDecoy ??= Promise.resolve(hasher.hash(generateSecret())).then((value) => (generatedDecoyValue = value)));
    }
    // A refused (overloaded) attempt is not cached: the next call tries again.
    return (importedDecoy ??= hashImported(generateSecret()).catch((error: unknown) => {
      importedDecoy = undefined;
      throw error;
    }));
  };

  return {
    hashGenerated: async (secret) => hasher.hash(secret),
    hashImported,
    async match(presented, current, rotated) {
      const secret = typeof presented === "string" ? presented.slice(0, MAX_SECRET_LENGTH) : "";
      // The generated decoy, once made, is used without waiting on its promise again.
      const currentHash = current ?? generatedDecoyValue ?? (await decoy(false));
      const rotatedHash =
        rotated ?? (currentHash.startsWith(IMPORTED_HASH_MARK) ? await decoy(true) : (generatedDecoyValue ?? (await decoy(false))));
      let currentOk: boolean;
      let rotatedOk: boolean;
      if (hasher.verifyEach && !currentHash.startsWith(IMPORTED_HASH_MARK) && !rotatedHash.startsWith(IMPORTED_HASH_MARK)) {
        // Both hashes are the fast hasher's: one call, which may share the secret's digest between them.
        const results = hasher.verifyEach(secret, [currentHash, rotatedHash]);
        [currentOk = false, rotatedOk = false] = Array.isArray(results) ? results : await results;
      } else {
        [currentOk, rotatedOk] = await Promise.all([verify(secret, currentHash), verify(secret, rotatedHash)]);
      }
      if (current === null || !isPresentableSecret(presented)) return null;
      if (currentOk) return "current";
      return rotatedOk && rotated !== null ? "rotated" : null;
    },
  };
}
