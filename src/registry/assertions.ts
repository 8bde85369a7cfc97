/**
 * private_key_jwt at the token endpoint (RFC 7523 §2.2): the client named by
 * an assertion is resolved like every other client (a metadata-document
 * client included), its keys come from its stored `jwks` or its `jwks_uri`
 * (fetched with the safe, caching key-set fetcher), and the assertion is
 * verified and recorded as used by one verifier per registry, so that
 * replay protection covers every call.
 */
import { AssertionError, type AssertionFailureReason } from "../assertions/errors.js";
import { keySetForClient, type KeySetSource, type UntrustedKeySet } from "../assertions/key-set.js";
import { createStoreReplayCache } from "../assertions/store-replay-cache.js";
import { claimedClientId, createDecodedAssertionVerifier, type AssertionVerifierOptions } from "../assertions/verifier.js";
import { ClientMetadataError } from "../model/errors.js";
import { isPlausibleClientId, MAX_CLIENT_ID_LENGTH } from "../model/ids.js";
import type { Lifecycle } from "./lifecycle.js";
import type { AssertionAuthenticationResult, AuthenticateAssertionOptions } from "./api.js";
import type { RegistryContext } from "./context.js";
import { createRemoteKeySetFetcher } from "../remote/cache.js";
import type { StoredClient } from "../model/store.js";

/** Options of private_key_jwt authentication (registry option `privateKeyJwt`). */
export interface PrivateKeyJwtOptions {
  /**
   * Algorithms, clock tolerance, longest lifetime, replay cache. Default
   * replay cache: the store's (`createStoreReplayCache`, shared by every
   * process on the database) when the store has `claimOnce`, else one in
   * memory for this registry.
   */
  verifier?: AssertionVerifierOptions;
  /**
   * Fetches a client's `jwks_uri` key set; `refresh: true` asks for a fresh
   * copy (an unknown `kid`). Default: `createRemoteKeySetFetcher()` (https
   * only, public addresses only, cached, refreshes rate-limited).
   */
  fetchKeySet?: (jwksUri: string, options: { refresh: boolean }) => Promise<UntrustedKeySet>;
}

/** Why an assertion was refused, as `client.authentication_failed` events report it. */
export type AssertionRefusal = "unknown_client" | "wrong_method" | "invalid_client_metadata" | AssertionFailureReason;

/**
 * Creates `authenticateAssertion` for one registry.
 *
 * @example
 * ```ts
 * declare const [context, lifecycle, resolveRecord]: Parameters<typeof createAssertionAuthentication>;
 * declare const form: URLSearchParams; // the token request's body
 * const authenticateAssertion = createAssertionAuthentication(context, lifecycle, resolveRecord, {});
 * await authenticateAssertion(form.get("client_assertion") ?? "", { audience: "https://auth.example.com/token" });
 * ```
 */
export function createAssertionAuthentication(
  context: RegistryContext,
  lifecycle: Lifecycle,
  resolveRecord: (clientId: string) => Promise<StoredClient | null>,
  options: PrivateKeyJwtOptions = {},
): (assertion: string, options: AuthenticateAssertionOptions) => Promise<AssertionAuthenticationResult | null> {
  // Single use across every process on the database when the store can
  // hold it; otherwise the verifier's in-memory cache (this process only).
  const sharedReplayCache =
    options.verifier?.replayCache === undefined && typeof context.store.claimOnce === "function"
      ? createStoreReplayCache(context.store, { now: context.now })
      : undefined;
  const verifier = createDecodedAssertionVerifier({ now: context.now, ...options.verifier, ...(sharedReplayCache ? { replayCache: sharedReplayCache } : {}) });
  let fetchKeySet = options.fetchKeySet;
  if (fetchKeySet === undefined) {
    // Made on first use: a registry whose clients never use jwks_uri never builds it.
    let remote: ReturnType<typeof createRemoteKeySetFetcher> | undefined;
    fetchKeySet = (uri, { refresh }) => {
      remote ??= createRemoteKeySetFetcher();
      return refresh ? remote.refresh(uri) : remote(uri);
    };
  }

  function refuse(clientId: string, accountId: string | null, reason: AssertionRefusal): null {
    context.emit({
      type: "client.authentication_failed",
      account_id: accountId,
      client_id: clientId.slice(0, MAX_CLIENT_ID_LENGTH),
      at: context.timestamp(),
      reason: "invalid_assertion",
      detail: reason,
    });
    return null;
  }

  function keySetOf(record: StoredClient): KeySetSource {
    // A stored set goes to the verifier as it is: the verifier checks each
    // distinct set once, when it imports it, rather than on every call.
    if (record.jwks !== null && record.jwks !== undefined && (record.jwks_uri === null || record.jwks_uri === undefined)) return record.jwks;
    return keySetForClient({ jwks: record.jwks, jwks_uri: record.jwks_uri }, fetchKeySet);
  }

  return async function authenticateAssertion(assertion, { audience, clientId: named }) {
    // Decoded once: the claimed client id and the verification read the same decoding.
    const decoded = verifier.decode(assertion);
    // The request's client_id (when sent) names the client; the assertion's iss/sub must agree.
    const clientId = named ?? claimedClientId(decoded);
    if (!isPlausibleClientId(clientId)) {
      return refuse(typeof clientId === "string" ? clientId : "", null, "unknown_client");
    }
    let record: StoredClient | null;
    try {
      record = await resolveRecord(clientId);
    } catch (error) {
      if (error instanceof ClientMetadataError) return refuse(clientId, null, "invalid_client_metadata");
      throw error;
    }
    if (record === null) return refuse(clientId, null, "unknown_client");
    if (record.token_endpoint_auth_method !== "private_key_jwt") return refuse(clientId, record.account_id, "wrong_method");
    try {
      await verifier.verifyDecoded(decoded, {
        audience,
        keySet: keySetOf(record),
        expectedClientId: record.client_id,
      });
    } catch (error) {
      if (error instanceof AssertionError) return refuse(clientId, record.account_id, error.reason);
      throw error;
    }
    const used = await lifecycle.recordUse(record, null);
    if (context.hasListener()) {
      context.emit({ type: "client.authenticated", account_id: record.account_id, client_id: record.client_id, at: context.timestamp(), matched: "private_key_jwt" });
    }
    return { client: context.toWire(used), account_id: record.account_id, method: "private_key_jwt" };
  };
}
