/**
 * The one error a client assertion (RFC 7523 `private_key_jwt`) can fail
 * with. Every refusal carries a stable `reason`; the embedder answers the
 * token request with `invalid_client` (RFC 6749 §5.2) whatever the reason,
 * and keeps the reason for logs and events.
 */

import { OAuthClientError, STATUS_BY_CODE } from "../model/errors.js";

/**
 * Why an assertion was refused:
 *
 * | reason | meaning |
 * | --- | --- |
 * | `malformed` | not a compact JWS carrying a JSON claims set, too long, a part that is not canonical base64url (padding, whitespace, other characters, non-zero trailing bits), a claim of the wrong type, a `typ` header naming another kind of JWT, or a `crit` header naming an extension the verifier does not implement |
 * | `algorithm` | the `alg` header is not one of the verifier's allowed asymmetric algorithms (`none` and `HS*` never are) |
 * | `signature` | no key of the client's key set verifies the signature |
 * | `issuer_subject` | `iss` and `sub` are not both the client id (and the expected client id when one was given) |
 * | `audience` | no `aud` value is one of the allowed audiences |
 * | `expired` | `exp` is in the past (beyond the clock tolerance) |
 * | `not_yet_valid` | `nbf` or `iat` is in the future (beyond the clock tolerance) |
 * | `lifetime` | `exp` is missing, or lies more than `maxLifetimeSeconds` after `iat` (or after now when `iat` is absent) |
 * | `missing_jti` | no `jti`, or an empty one: single use cannot be enforced |
 * | `replayed` | this client already used this `jti` while it was valid (or a replay cache that keeps no count per client is full) |
 * | `too_many_assertions` | the client holds its share of the replay cache (its budget of unexpired assertions, or more than its reserved floor while the shared part is full): refused alone, until some of its assertions expire; or the cache is full altogether, which takes thousands of clients each at its floor |
 * | `key_not_found` | the key set has no key for the header's `kid` and `alg` |
 * | `key_set` | the client's key set is missing, unusable, holds private or symmetric key material, keys outside the accepted bounds (see `rules/jwks.ts`), or could not be fetched |
 */
export type AssertionFailureReason =
  | "malformed"
  | "algorithm"
  | "signature"
  | "issuer_subject"
  | "audience"
  | "expired"
  | "not_yet_valid"
  | "lifetime"
  | "missing_jti"
  | "replayed"
  | "too_many_assertions"
  | "key_not_found"
  | "key_set";

/**
 * A client assertion was refused. `code` is `"unauthorized"` (HTTP 401) as
 * for any failed client authentication; `reason` says which rule refused it.
 *
 * @example
 * ```ts
 * import { createAssertionVerifier, type VerifyAssertionOptions } from "oauth-client-registry";
 *
 * declare const assertion: string;
 * declare const options: VerifyAssertionOptions; // audience, keySet, expectedClientId
 * const verifier = createAssertionVerifier();
 * try {
 *   await verifier.verify(assertion, options);
 * } catch (e) {
 *   if (e instanceof AssertionError) console.warn("private_key_jwt refused", e.reason);
 * }
 * ```
 */
export class AssertionError extends OAuthClientError {
  readonly reason: AssertionFailureReason;

  constructor(reason: AssertionFailureReason, message: string, options: { cause?: unknown } = {}) {
    super("unauthorized", STATUS_BY_CODE.unauthorized, message, { cause: options.cause });
    this.reason = reason;
  }
}
