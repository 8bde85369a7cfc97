/**
 * The client's public keys for `private_key_jwt`: a key set stored with the
 * client (`jwks`) or fetched from its `jwks_uri`. Only public asymmetric
 * keys are ever used; a set carrying private or symmetric key material is
 * refused whole, because it shows the client mishandles its keys and
 * because a symmetric key would let anyone who can read the client forge
 * its assertions.
 */

import type { JSONWebKeySet } from "jose";
import { MAX_JWKS_KEYS, publicKeySetProblem } from "../rules/jwks.js";
import { boundedJsonCopy, type JsonBounds } from "../rules/json-bounds.js";
import { AssertionError } from "./errors.js";

/** A key set as received: only its shape (`{ keys: [...] }`) is assumed until it is checked. */
export interface UntrustedKeySet {
  readonly keys: readonly unknown[];
}

/**
 * Loads a remote key set. `refresh: true` asks for a fresh copy rather than
 * a cached one; the verifier asks for it at most once per assertion, when
 * the cached set has no key for the assertion or no key that verifies it.
 * A loader should still rate-limit refreshes per URL, since an attacker can
 * send assertions with unknown `kid`s.
 */
export type KeySetLoader = (options: { refresh: boolean }) => Promise<UntrustedKeySet>;

/** What the verifier needs: a key set, or a loader of one. */
export type KeySetSource = UntrustedKeySet | KeySetLoader;

/**
 * Most keys a key set may hold, fetched or stored alike (was 100 for
 * fetched sets): the stored `jwks` bound, {@link MAX_JWKS_KEYS}. It bounds
 * the memory and checking work of a set; the keys tried for one assertion
 * are bounded by `MAX_KEYS_TRIED`.
 */
export const MAX_KEY_SET_KEYS = MAX_JWKS_KEYS;


/**
 * Checks that `value` is a JSON Web Key Set (RFC 7517 §5) of at most
 * {@link MAX_KEY_SET_KEYS} public keys within the key rules of
 * `publicKeySetProblem` (key types, curves, RSA sizes and exponents,
 * canonical numbers, `alg`, unique kids) and returns it typed; throws
 * {@link AssertionError} with reason `key_set` otherwise, naming the first
 * offending key.
 *
 * @example
 * ```ts
 * publicKeySet({ keys: [{ kty: "EC", crv: "P-256", x: "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4", y: "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM" }] }); // the set, typed
 * publicKeySet({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }); // throws AssertionError, reason "key_set": not a public key
 * ```
 */
export function publicKeySet(value: unknown): JSONWebKeySet {
  // An injected fetcher may return anything: nesting, size and non-JSON values are bounded before any key rule reads it.
  const bounded = boundedJsonCopy(value, KEY_SET_BOUNDS);
  if ("issue" in bounded) {
    throw new AssertionError("key_set", `the client's key set is refused at ${bounded.issue.path || "its root"}: ${bounded.issue.message}`);
  }
  const problem = publicKeySetProblem(bounded.value, MAX_KEY_SET_KEYS);
  if (problem !== null) throw new AssertionError("key_set", `the client's key set ${problem}`);
  return bounded.value as JSONWebKeySet;
}

/**
 * Bounds of a key set as JSON, well above any set the key rules admit
 * (at most 10 keys, 16 KiB stored or fetched): a JWK Set is at most four
 * levels deep (set, keys, key, x5c).
 */
const KEY_SET_BOUNDS: Readonly<JsonBounds> = Object.freeze({ maxDepth: 8, maxNodes: 4_096, maxStringLength: 32_768, maxSize: 65_536 });

/** The key fields of a client that `private_key_jwt` reads. */
export interface ClientKeyFields {
  jwks?: unknown;
  jwks_uri?: string | null;
}

/**
 * What {@link AssertionVerifier.verify} needs for one client: its stored
 * `jwks` (checked here), or a loader for its `jwks_uri` that goes through
 * `fetchRemoteKeySet` (the embedder's safe, cached fetcher). Throws
 * {@link AssertionError} with reason `key_set` when the client has neither,
 * has both (they are mutually exclusive), or has a `jwks_uri` but no
 * fetcher was given.
 *
 * @example
 * ```ts
 * import { createAssertionVerifier, type UntrustedKeySet } from "oauth-client-registry";
 *
 * declare const assertion: string;
 * // Your safe, cached fetcher of a client's jwks_uri:
 * declare function fetchKeySet(uri: string, options: { refresh: boolean }): Promise<UntrustedKeySet>;
 * const verifier = createAssertionVerifier();
 * const keySet = keySetForClient(record, fetchKeySet);
 * const { clientId } = await verifier.verify(assertion, { audience: "https://as.example.com", keySet, expectedClientId: record.client_id });
 * ```
 */
export function keySetForClient(
  client: ClientKeyFields,
  fetchRemoteKeySet?: (uri: string, options: { refresh: boolean }) => Promise<UntrustedKeySet>,
): KeySetSource {
  const hasJwks = client.jwks !== undefined && client.jwks !== null;
  const hasUri = client.jwks_uri !== undefined && client.jwks_uri !== null;
  if (hasJwks && hasUri) {
    throw new AssertionError("key_set", "the client has both jwks and jwks_uri; it must have exactly one");
  }
  if (hasJwks) return publicKeySet(client.jwks);
  if (hasUri) {
    const uri = client.jwks_uri;
    if (typeof uri !== "string" || uri === "") {
      throw new AssertionError("key_set", "the client's jwks_uri is not a URL");
    }
    if (fetchRemoteKeySet === undefined) {
      throw new AssertionError("key_set", "the client's keys are at a jwks_uri, but no remote key set fetcher is configured");
    }
    return (options) => fetchRemoteKeySet(uri, options);
  }
  throw new AssertionError("key_set", "the client has neither jwks nor jwks_uri, so it cannot use private_key_jwt");
}
