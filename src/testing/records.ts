/**
 * Builders for stored records, shared by the conformance suite and by
 * adapter authors who want fixtures of their own.
 */
import { storedDefaults } from "../fields.js";
import { generateClientId } from "../model/secrets.js";
import type { StoredClient } from "../model/store.js";

/**
 * A minimal, valid confidential client record. Every call gets a fresh
 * random `client_id` and `account_id`, so records never collide unless the
 * caller asks them to.
 *
 * @example
 * ```ts
 * import { makeStoredClient } from "oauth-client-registry/testing";
 *
 * const record = makeStoredClient({ account_id: "acct_1", client_name: "Billing" });
 * await store.insert(record);
 * ```
 */
export function makeStoredClient(overrides: Partial<StoredClient> = {}): StoredClient {
  return {
    // Every field not named below gets the value a create would store.
    ...storedDefaults(),
    account_id: `acct_${generateClientId()}`,
    client_id: generateClientId(),
    client_name: "Example app",
    redirect_uris: ["https://app.example.com/callback"],
    scopes: ["profile"],
    secret_hash: `sha256$${"a".repeat(64)}`,
    rotated_secret_hash: null,
    rotated_at: null,
    created_at: "2025-01-01T00:00:00.000Z",
    updated_at: "2025-01-01T00:00:00.000Z",
    version: 1,
    ...overrides,
  } as StoredClient;
}

/**
 * A record that stresses storage: every optional field is set, text mixes
 * scripts (emoji, right-to-left, combining marks, quotes and backslashes),
 * and there are 100 redirect URIs, the last one 2048 characters long.
 *
 * @example
 * ```ts
 * import { makeLargeStoredClient } from "oauth-client-registry/testing";
 * import { expect } from "vitest";
 *
 * const big = makeLargeStoredClient({ account_id: "acct_1" });
 * await store.insert(big);
 * expect(await store.get("acct_1", big.client_id)).toEqual(big);
 * ```
 */
export function makeLargeStoredClient(overrides: Partial<StoredClient> = {}): StoredClient {
  const redirectUris = Array.from(
    { length: 99 },
    (_, i) => `https://app-${i}.example.com/callback/${i}?state=%E2%9C%93&q='"\\${"x".repeat(i)}`,
  );
  const longUri = "https://long.example.com/cb/";
  redirectUris.push(longUri + "p".repeat(2048 - longUri.length));
  return makeStoredClient({
    visibility: "public",
    client_name: "Ünïcødé 🚀👩‍👩‍👧‍👦 مرحبا بالعالم שלום עולם 日本語 e\u0301 \"quoted\" 'single' back\\slash",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code", "id_token", "token"],
    redirect_uris: redirectUris,
    scopes: ["profile", "email", "account.read", "zones.dns.edit", "openid", "offline_access"],
    optional_scopes: ["email", "zones.dns.edit"],
    token_endpoint_auth_method: "client_secret_post",
    allowed_cors_origins: ["https://app.example.com", "http://localhost:3000", "https://xn--bcher-kva.example"],
    post_logout_redirect_uris: ["https://app.example.com/signed-out", "com.example.app:/logout"],
    client_uri: "https://app.example.com/about?lang=ar#ignored",
    logo_uri: "https://cdn.example.com/logo-🚀.png",
    policy_uri: "https://app.example.com/privacy",
    tos_uri: "https://app.example.com/terms",
    client_uri_verification: { status: "verified", text: "oauth-client-verification=Zm9vYmFy_-Tok3n" },
    secret_hash: `sha256$${"b".repeat(64)}`,
    rotated_secret_hash: `scrypt$17$8$1$${"0".repeat(32)}$${"c".repeat(64)}`,
    rotated_at: "2025-02-03T04:05:06.789Z",
    created_at: "2025-01-01T00:00:00.000Z",
    updated_at: "2025-02-03T04:05:06.789Z",
    promoted_at: "2025-02-01T12:00:00.000Z",
    version: 7,
    ...overrides,
  });
}
