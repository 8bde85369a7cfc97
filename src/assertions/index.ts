/**
 * `private_key_jwt` client authentication (RFC 7523): the verifier, the
 * replay cache it records used assertions in, and the client key sets it
 * verifies with.
 */

export { AssertionError } from "./errors.js";
export type { AssertionFailureReason } from "./errors.js";
export { ASSERTION_ALGORITHMS, MAX_ASSERTION_LENGTH, createAssertionVerifier, peekClientId } from "./verifier.js";
export type { AssertionAlgorithm, AssertionVerifier, AssertionVerifierOptions, VerifiedAssertion, VerifyAssertionOptions } from "./verifier.js";
export { DEFAULT_REPLAY_CACHE_MAX_ENTRIES, createMemoryReplayCache } from "./replay-cache.js";
export type { MemoryReplayCache, MemoryReplayCacheOptions, ReplayCache } from "./replay-cache.js";
export { MAX_KEY_SET_KEYS, keySetForClient, publicKeySet } from "./key-set.js";
export type { ClientKeyFields, KeySetLoader, KeySetSource, UntrustedKeySet } from "./key-set.js";
