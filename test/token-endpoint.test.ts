/**
 * End to end: the example server (examples/token-endpoint, built from the
 * registry and @node-oauth/oauth2-server) driven over a real socket by
 * oauth4webapi as the OAuth client, through authorization code + PKCE and
 * refresh_token, across a secret rotation.
 */
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTokenEndpoint, type RunningTokenEndpoint } from "../examples/token-endpoint/server.js";
import type { CreateClientInput, OAuthClientRegistry, RegistryEvent, TokenEndpointAuthMethod } from "../src/index.js";
import { createBody, registryFixture, type FakeClock } from "./helpers/registry.js";

const HOUR = 60 * 60 * 1000;
// The registered loopback URI has no port; the "native app" listens on another one (RFC 8252 §7.3).
const REGISTERED_REDIRECT = "http://127.0.0.1/callback";
const REDIRECT = "http://127.0.0.1:53682/callback";
// Plain http is fine on loopback in this test only.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

interface Harness {
  registry: OAuthClientRegistry;
  endpoint: RunningTokenEndpoint;
  as: oauth.AuthorizationServer;
  events: RegistryEvent[];
  /** The registry's clock; the token endpoint keeps real time. */
  clock: FakeClock;
}

async function startHarness(options: { rotatedSecretTtlMs?: number } = {}): Promise<Harness> {
  const { registry, events, clock } = registryFixture({
    start: new Date(),
    scopeCatalog: ["notes.read", "notes.write"],
    ...options,
  });
  const endpoint = await startTokenEndpoint({ registry });
  const issuer = new URL(endpoint.issuer);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }),
  );
  return { registry, endpoint, as, events, clock };
}

function clientInput(method: TokenEndpointAuthMethod): CreateClientInput {
  return createBody({
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: ["https://app.example.com/cb", REGISTERED_REDIRECT],
    scopes: ["notes.read", "notes.write", "profile"],
    token_endpoint_auth_method: method,
  });
}

function clientAuth(method: TokenEndpointAuthMethod, secret?: string): oauth.ClientAuth {
  if (method === "client_secret_basic") return oauth.ClientSecretBasic(secret!);
  if (method === "client_secret_post") return oauth.ClientSecretPost(secret!);
  return oauth.None();
}

/** Runs /authorize like a browser would and returns the callback parameters. */
async function authorize(h: Harness, clientId: string, extra: Record<string, string> = {}) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(h.as.authorization_endpoint!);
  const params: Record<string, string> = {
    client_id: clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "notes.read profile",
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await fetch(url, { redirect: "manual" });
  return { response, verifier, state };
}

/** Authorization code + PKCE, then one refresh, with the given client authentication. */
async function codeAndRefresh(h: Harness, clientId: string, auth: oauth.ClientAuth) {
  const client: oauth.Client = { client_id: clientId };
  const { response, verifier, state } = await authorize(h, clientId);
  expect(response.status).toBe(302);
  const callback = oauth.validateAuthResponse(h.as, client, new URL(response.headers.get("location")!), state);
  const tokens = await oauth.processAuthorizationCodeResponse(
    h.as,
    client,
    await oauth.authorizationCodeGrantRequest(h.as, client, auth, callback, REDIRECT, verifier, insecure),
  );
  expect(tokens).toMatchObject({ token_type: "bearer", scope: "notes.read profile" });
  expect(tokens.refresh_token).toEqual(expect.any(String));

  const refreshed = await oauth.processRefreshTokenResponse(
    h.as,
    client,
    await oauth.refreshTokenGrantRequest(h.as, client, auth, tokens.refresh_token!, insecure),
  );
  expect(refreshed.access_token).not.toBe(tokens.access_token);
  expect(refreshed.refresh_token).toEqual(expect.any(String));
  return refreshed;
}

/** The OAuth error code of a token request expected to fail, read from the raw HTTP response. */
async function tokenError(request: Promise<Response>): Promise<{ status: number; error: unknown }> {
  const response = await request;
  const body = (await response.json()) as { error?: unknown };
  return { status: response.status, error: body.error };
}

/** Gets a fresh code for `clientId` (authorization needs no secret) and tries to redeem it with `auth`. */
async function redeemWith(h: Harness, clientId: string, auth: oauth.ClientAuth) {
  const client: oauth.Client = { client_id: clientId };
  const { response, verifier, state } = await authorize(h, clientId);
  const callback = oauth.validateAuthResponse(h.as, client, new URL(response.headers.get("location")!), state);
  return tokenError(oauth.authorizationCodeGrantRequest(h.as, client, auth, callback, REDIRECT, verifier, insecure));
}

describe("token endpoint built from the registry and @node-oauth/oauth2-server", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.endpoint.close();
  });

  it("serves RFC 8414 metadata that oauth4webapi accepts", () => {
    expect(h.as).toMatchObject({
      issuer: h.endpoint.issuer,
      token_endpoint: `${h.endpoint.issuer}/token`,
      code_challenge_methods_supported: ["S256"],
    });
  });

  it.each(["client_secret_basic", "client_secret_post"] as const)(
    "issues and refreshes tokens for a %s client",
    async (method) => {
      const created = await h.registry.create("acct", clientInput(method));
      await codeAndRefresh(h, created.client_id, clientAuth(method, created.client_secret));
    },
  );

  it("issues and refreshes tokens for a public client with PKCE and no secret", async () => {
    const created = await h.registry.create("acct", clientInput("none"));
    await codeAndRefresh(h, created.client_id, oauth.None());
  });

  it("answers invalid_client to a wrong secret, with a Basic challenge for Basic", async () => {
    const created = await h.registry.create("acct", clientInput("client_secret_basic"));
    const client: oauth.Client = { client_id: created.client_id };
    const { response: redirect, verifier, state } = await authorize(h, created.client_id);
    const callback = oauth.validateAuthResponse(h.as, client, new URL(redirect.headers.get("location")!), state);
    const response = await oauth.authorizationCodeGrantRequest(
      h.as, client, oauth.ClientSecretBasic("wrong"), callback, REDIRECT, verifier, insecure,
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Basic /);
    expect(await response.json()).toMatchObject({ error: "invalid_client" });
  });

  it("refuses a confidential client that sends no secret, even with a PKCE verifier", async () => {
    const created = await h.registry.create("acct", clientInput("client_secret_post"));
    expect(await redeemWith(h, created.client_id, oauth.None())).toEqual({ status: 400, error: "invalid_client" });
  });

  it("refuses the authentication method the client did not register", async () => {
    const basic = await h.registry.create("acct", clientInput("client_secret_basic"));
    const post = await h.registry.create("acct", clientInput("client_secret_post"));
    expect(await redeemWith(h, basic.client_id, oauth.ClientSecretPost(basic.client_secret!))).toMatchObject({ error: "invalid_client" });
    expect(await redeemWith(h, post.client_id, oauth.ClientSecretBasic(post.client_secret!))).toMatchObject({ error: "invalid_client" });
  });

  it("authenticates an imported secret that needs form-encoding in the Basic header (RFC 6749 §2.3.1)", async () => {
    const secret = "old secret: 100% + more";
    await h.registry.importClient("acct", { ...clientInput("client_secret_basic"), client_id: "imported-basic", client_secret: secret });
    await codeAndRefresh(h, "imported-basic", oauth.ClientSecretBasic(secret));
  });

  it("redirects only to a registered redirect URI, the loopback one on any port", async () => {
    const created = await h.registry.create("acct", clientInput("none"));
    for (const accepted of [REDIRECT, "http://127.0.0.1:1/callback", "https://app.example.com/cb"]) {
      const { response } = await authorize(h, created.client_id, { redirect_uri: accepted });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")!.startsWith(`${accepted}?code=`)).toBe(true);
    }
    for (const refused of [
      "https://app.example.com/cb/../evil",
      "https://app.example.com/cb?next=x",
      "https://app.example.com/cb2",
      "http://localhost:53682/callback",
      "http://127.0.0.1:53682/callback/x",
    ]) {
      const { response } = await authorize(h, created.client_id, { redirect_uri: refused });
      expect(response.status, refused).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.json()).toMatchObject({ error: "invalid_client" });
    }
    const { response: missing } = await authorize(h, created.client_id, { redirect_uri: "" });
    expect(missing.status).toBe(400);
  });

  it("refuses an authorization request without PKCE, by redirecting with invalid_request", async () => {
    const created = await h.registry.create("acct", clientInput("client_secret_basic"));
    const { response, state } = await authorize(h, created.client_id, { code_challenge: "", code_challenge_method: "" });
    const location = new URL(response.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("invalid_request");
    expect(location.searchParams.get("state")).toBe(state);
    expect(location.searchParams.get("code")).toBeNull();
  });

  it("refuses a scope the client was not registered for", async () => {
    const created = await h.registry.create("acct", clientInput("none"));
    const { response } = await authorize(h, created.client_id, { scope: "notes.read notes.admin" });
    expect(new URL(response.headers.get("location")!).searchParams.get("error")).toBe("invalid_scope");
  });

  it("refuses an unknown or deleted client", async () => {
    const created = await h.registry.create("acct", clientInput("client_secret_post"));
    const { response: unknown } = await authorize(h, "0123456789abcdef0123456789abcdef");
    expect(unknown.status).toBe(400);
    const client: oauth.Client = { client_id: created.client_id };
    const auth = oauth.ClientSecretPost(created.client_secret!);
    const { response, verifier, state } = await authorize(h, created.client_id);
    const callback = oauth.validateAuthResponse(h.as, client, new URL(response.headers.get("location")!), state);
    await h.registry.delete("acct", created.client_id);
    expect(
      await tokenError(oauth.authorizationCodeGrantRequest(h.as, client, auth, callback, REDIRECT, verifier, insecure)),
    ).toMatchObject({ error: "invalid_client" });
  });
});

describe("token endpoint across a secret rotation", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.endpoint.close();
  });

  it.each(["client_secret_basic", "client_secret_post"] as const)(
    "%s: both secrets work in the window; the old one gets invalid_client after deleteRotatedSecret",
    async (method) => {
      const created = await h.registry.create("acct", clientInput(method));
      const id = created.client_id;
      const oldSecret = created.client_secret!;
      const { client_secret: newSecret } = await h.registry.rotateSecret("acct", id);

      await codeAndRefresh(h, id, clientAuth(method, oldSecret));
      await codeAndRefresh(h, id, clientAuth(method, newSecret));
      // The audit trail shows who still uses the rotated secret.
      const matches = h.events.filter((e) => e.type === "client.authenticated" && e.client_id === id).map((e) => ("matched" in e ? e.matched : null));
      expect(matches).toEqual(["rotated", "rotated", "current", "current"]);

      // A refresh token obtained with the old secret, redeemed after the old secret is gone.
      const held = await codeAndRefresh(h, id, clientAuth(method, oldSecret));
      await h.registry.deleteRotatedSecret("acct", id);

      const status = method === "client_secret_basic" ? 401 : 400;
      expect(await redeemWith(h, id, clientAuth(method, oldSecret))).toEqual({ status, error: "invalid_client" });
      const client: oauth.Client = { client_id: id };
      expect(
        await tokenError(oauth.refreshTokenGrantRequest(h.as, client, clientAuth(method, oldSecret), held.refresh_token!, insecure)),
      ).toEqual({ status, error: "invalid_client" });
      // The refresh token itself is still good for the holder of the current secret.
      await expect(
        oauth.processRefreshTokenResponse(
          h.as,
          client,
          await oauth.refreshTokenGrantRequest(h.as, client, clientAuth(method, newSecret), held.refresh_token!, insecure),
        ),
      ).resolves.toMatchObject({ token_type: "bearer" });
      await codeAndRefresh(h, id, clientAuth(method, newSecret));
    },
  );
});

describe("token endpoint with rotatedSecretTtlMs and an injected clock", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ rotatedSecretTtlMs: 24 * HOUR });
  });
  afterAll(async () => {
    await h.endpoint.close();
  });

  it.each(["client_secret_basic", "client_secret_post"] as const)(
    "%s: the old secret works until the TTL, then gets invalid_client",
    async (method) => {
      const created = await h.registry.create("acct", clientInput(method));
      const id = created.client_id;
      const oldSecret = created.client_secret!;
      const { client_secret: newSecret } = await h.registry.rotateSecret("acct", id);

      h.clock.advance(24 * HOUR - 1000);
      await codeAndRefresh(h, id, clientAuth(method, oldSecret));
      await codeAndRefresh(h, id, clientAuth(method, newSecret));

      h.clock.advance(1000);
      expect(await redeemWith(h, id, clientAuth(method, oldSecret))).toMatchObject({ error: "invalid_client" });
      await codeAndRefresh(h, id, clientAuth(method, newSecret));
      expect((await h.registry.get("acct", id)).has_rotated_secret).toBe(false);
    },
  );
});
