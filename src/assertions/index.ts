/**
 * `private_key_jwt` client authentication (RFC 7523): the verifier, the
 * replay cache it records used assertions in, and the client key sets it
 * verifies with.
 */

export { AssertionError } from "./errors.js";
export type { AssertionFailureReason } from "./errors.js";
export { ASSERTION_ALGORITHMS, MAX_ASSERTION_LENGTH, MAX_KEYS_TRIED, createAssertionVerifier, peekClientId } from "./verifier.js";
export type { AssertionAlgorithm, AssertionVerifier, AssertionVerifierOptions, VerifiedAssertion, VerifyAssertionOptions } from "./verifier.js";
export {
  DEFAULT_REPLAY_CACHE_MAX_ENTRIES,
  DEFAULT_REPLAY_CACHE_MAX_ENTRIES_PER_CLIENT,
  DEFAULT_REPLAY_CACHE_RESERVED_ENTRIES_PER_CLIENT,
  createMemoryReplayCache,
} from "./replay-cache.js";
export type { MemoryReplayCache, MemoryReplayCacheOptions, ReplayCache, ReplayCacheAddOptions, ReplayCacheResult } from "./replay-cache.js";
export { ASSERTION_CLAIM_SCOPE, createStoreReplayCache } from "./store-replay-cache.js";
export type { StoreReplayCacheOptions } from "./store-replay-cache.js";
export { MAX_KEY_SET_KEYS, keySetForClient, publicKeySet } from "./key-set.js";
export type { ClientKeyFields, KeySetLoader, KeySetSource, UntrustedKeySet } from "./key-set.js";
export { MAX_RSA_MODULUS_BITS, MAX_RSA_PUBLIC_EXPONENT, MIN_RSA_MODULUS_BITS } from "../rules/jwks.js";
