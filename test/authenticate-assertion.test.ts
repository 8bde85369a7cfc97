/**
 * registry.authenticateAssertion: private_key_jwt (RFC 7523) for every kind
 * of client — stored jwks, a jwks_uri key set, a metadata-document client —
 * with assertions signed by jose, the clock injected and nothing fetched
 * from the network.
 */
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import type { RegistryEvent } from "../src/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const TOKEN_ENDPOINT = "https://auth.example.com/token";

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
  return { privateKey, jwk };
}

type Signer = Awaited<ReturnType<typeof keyPair>>;

function assertion(signer: Signer, clientId: string, nowSeconds: number, claims: { aud?: string; jti?: string; exp?: number } = {}) {
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: signer.jwk.kid! })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(claims.aud ?? TOKEN_ENDPOINT)
    .setJti(claims.jti ?? crypto.randomUUID())
    .setIssuedAt(nowSeconds)
    .setExpirationTime(claims.exp ?? nowSeconds + 60)
    .sign(signer.privateKey);
}

const refusals = (events: RegistryEvent[]) =>
  events.flatMap((e) => (e.type === "client.authentication_failed" ? [{ reason: e.reason, detail: e.detail }] : []));

describe("authenticateAssertion: clients with stored keys", () => {
  it("accepts an assertion signed by the client's key once, records the use, and refuses its replay", async () => {
    const signer = await keyPair("k1");
    const { registry, clock, events } = registryFixture();
    const created = await registry.create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [signer.jwk] } }));
    expect(created.client_secret).toBeUndefined();
    const now = Math.floor(clock.now().getTime() / 1000);
    const jwt = await assertion(signer, created.client_id, now);

    const auth = await registry.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT, clientId: created.client_id });
    expect(auth).toMatchObject({ account_id: "acct", method: "private_key_jwt", client: { client_id: created.client_id } });
    expect(auth!.client.last_used_at).toBe(clock.iso());
    expect(events.at(-1)).toMatchObject({ type: "client.authenticated", matched: "private_key_jwt" });

    expect(await registry.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail: "replayed" });
  });

  it("refuses a wrong audience, another client's key, a client of another method and an unknown client", async () => {
    const signer = await keyPair("k1");
    const stranger = await keyPair("k1");
    const { registry, clock, events } = registryFixture();
    const client = await registry.create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [signer.jwk] } }));
    const secretClient = await registry.create("acct", createBody());
    const now = Math.floor(clock.now().getTime() / 1000);

    const cases: [Promise<string>, string | undefined][] = [
      [assertion(signer, client.client_id, now, { aud: "https://elsewhere.example/token" }), "audience"],
      [assertion(stranger, client.client_id, now), "signature"],
      [assertion(signer, secretClient.client_id, now), "wrong_method"],
      [assertion(signer, "0".repeat(32), now), "unknown_client"],
      [assertion(signer, client.client_id, now, { exp: now - 120 }), "expired"],
    ];
    for (const [jwt, detail] of cases) {
      expect(await registry.authenticateAssertion(await jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
      expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail });
    }
    // The request's client_id must be the assertion's issuer and subject.
    const mismatch = await assertion(signer, client.client_id, now);
    expect(await registry.authenticateAssertion(mismatch, { audience: TOKEN_ENDPOINT, clientId: secretClient.client_id })).toBeNull();
    expect(await registry.authenticateAssertion("not-a-jwt", { audience: TOKEN_ENDPOINT })).toBeNull();
    expect((await registry.get("acct", client.client_id)).last_used_at).toBeUndefined();
  });

  it("an updated key set takes effect on the next call: the replaced key is refused at once, even under the same kid", async () => {
    const old = await keyPair("k1");
    const replacement = await keyPair("k1");
    const published = await keyPair("k1");
    const { registry, clock, events } = registryFixture({ privateKeyJwt: { fetchKeySet: async () => ({ keys: [published.jwk] }) } });
    const client = await registry.create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [old.jwk] } }));
    const now = Math.floor(clock.now().getTime() / 1000);
    const authenticate = async (signer: Signer) => registry.authenticateAssertion(await assertion(signer, client.client_id, now), { audience: TOKEN_ENDPOINT });
    // The old set is verified with (and kept imported) before the update.
    expect(await authenticate(old)).not.toBeNull();

    await registry.update("acct", client.client_id, { jwks: { keys: [replacement.jwk] } });
    expect(await authenticate(old)).toBeNull();
    expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail: "signature" });
    expect(await authenticate(replacement)).not.toBeNull();

    // Back to the old key: the replacement is refused as promptly.
    await registry.update("acct", client.client_id, { jwks: { keys: [old.jwk] } });
    expect(await authenticate(replacement)).toBeNull();
    expect(await authenticate(old)).not.toBeNull();

    // Keys moved to a jwks_uri: the stored set is no longer used at all.
    await registry.update("acct", client.client_id, { jwks: null, jwks_uri: "https://keys.example.com/jwks.json" });
    expect(await authenticate(old)).toBeNull();
    expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail: "signature" });
    expect(await authenticate(published)).not.toBeNull();
  });
});

describe("authenticateAssertion: remote keys and metadata-document clients", () => {
  it("fetches a jwks_uri key set through the configured fetcher and refetches once for a new kid", async () => {
    const first = await keyPair("k1");
    const rotated = await keyPair("k2");
    let served = { keys: [first.jwk] };
    // Like a caching fetcher: the copy fetched first is kept until a refresh is asked for.
    let cached: typeof served | undefined;
    const fetches: { uri: string; refresh: boolean }[] = [];
    const { registry, clock } = registryFixture({
      privateKeyJwt: {
        fetchKeySet: async (uri, { refresh }) => {
          fetches.push({ uri, refresh });
          if (refresh || cached === undefined) cached = structuredClone(served);
          return cached;
        },
      },
    });
    const client = await registry.create(
      "acct",
      createBody({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://keys.example.com/jwks.json" }),
    );
    const now = Math.floor(clock.now().getTime() / 1000);
    expect(await registry.authenticateAssertion(await assertion(first, client.client_id, now), { audience: TOKEN_ENDPOINT })).not.toBeNull();
    served = { keys: [first.jwk, rotated.jwk] };
    expect(await registry.authenticateAssertion(await assertion(rotated, client.client_id, now), { audience: TOKEN_ENDPOINT })).not.toBeNull();
    expect(fetches).toEqual([
      { uri: "https://keys.example.com/jwks.json", refresh: false },
      { uri: "https://keys.example.com/jwks.json", refresh: false },
      { uri: "https://keys.example.com/jwks.json", refresh: true },
    ]);
  });

  it("a key set an injected fetcher returns 100,000 levels deep, or not as JSON data, is refused as key_set, never a RangeError", async () => {
    const signer = await keyPair("k1");
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const served: unknown[] = [{ keys: [{ ...signer.jwk, x5c: deep }] }, { keys: [{ ...signer.jwk, kid: () => "k1" }] }];
    const { registry, clock, events } = registryFixture({
      privateKeyJwt: { fetchKeySet: async () => served.shift() as { keys: unknown[] } },
    });
    const client = await registry.create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://keys.example.com/jwks.json" }));
    const now = Math.floor(clock.now().getTime() / 1000);
    expect(await registry.authenticateAssertion(await assertion(signer, client.client_id, now), { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail: "key_set" });
    expect(await registry.authenticateAssertion(await assertion(signer, client.client_id, now), { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(refusals(events).at(-1)).toEqual({ reason: "invalid_assertion", detail: "key_set" });
  });

  it("authenticates a Client ID Metadata Document client whose document carries its keys", async () => {
    const signer = await keyPair("doc-key");
    const url = "https://tool.example.com/oauth/client.json";
    const { registry, clock, store } = registryFixture({
      clientIdMetadataDocuments: {
        accountId: "acct_cimd",
        fetchClientMetadata: async () => ({
          client_id: url,
          client_name: "Tool",
          redirect_uris: ["http://127.0.0.1:5000/callback"],
          token_endpoint_auth_method: "private_key_jwt",
          jwks: { keys: [signer.jwk] },
        }),
      },
    });
    const now = Math.floor(clock.now().getTime() / 1000);
    const auth = await registry.authenticateAssertion(await assertion(signer, url, now), { audience: TOKEN_ENDPOINT });
    expect(auth).toMatchObject({ account_id: "acct_cimd", client: { client_id: url, source: "cimd" } });
    expect((await store.getById(url))?.last_used_at).toBe(clock.iso());
  });
});
