/**
 * private_key_jwt (RFC 7523 client authentication) end to end: a client
 * registered with a public key set redeems a code at the example server's
 * token endpoint with a client assertion built by openid-client (and one
 * built by hand with jose, and one by the MCP SDK's own helper during its
 * authorization), and a replayed assertion is refused.
 */
import * as jose from "jose";
import * as oidc from "openid-client";
import { createPrivateKeyJwtAuth } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startMcpAuthorizationServer,
  type RunningMcpAuthorizationServer,
} from "../examples/mcp-authorization-server/server.js";
import type { OAuthClientRegistry, RegistryEvent } from "../src/index.js";
import { connectWithAuthorization, MCP_REDIRECT_URI, MemoryOAuthProvider, whoami } from "./helpers/mcp-client.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const REDIRECT = MCP_REDIRECT_URI;
const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

interface Harness {
  registry: OAuthClientRegistry;
  server: RunningMcpAuthorizationServer;
  events: RegistryEvent[];
  keys: CryptoKeyPair;
  clientId: string;
  /** Every token request body openid-client sent. */
  sentBodies: URLSearchParams[];
  config: oidc.Configuration;
}

async function startHarness(): Promise<Harness> {
  const { registry, events } = registryFixture({ start: new Date(), scopeCatalog: ["notes.read"] });
  const server = await startMcpAuthorizationServer({ registry, scopes: ["notes.read"], registration: { accountId: "registered" } });
  const keys = await jose.generateKeyPair("ES256", { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const created = await registry.create(
    "acct",
    createBody({
      redirect_uris: [REDIRECT],
      scopes: ["notes.read"],
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [publicJwk] },
    }),
  );
  const sentBodies: URLSearchParams[] = [];
  const config = await oidc.discovery(
    new URL(server.issuer),
    created.client_id,
    { token_endpoint_auth_method: "private_key_jwt" },
    oidc.PrivateKeyJwt({ key: keys.privateKey, kid: "k1" }),
    { execute: [oidc.allowInsecureRequests], algorithm: "oauth2" },
  );
  config[oidc.customFetch] = async (url, options) => {
    if (String(url).endsWith("/token")) sentBodies.push(new URLSearchParams(options.body as URLSearchParams | string));
    return fetch(url, options as RequestInit);
  };
  return { registry, server, events, keys, clientId: created.client_id, sentBodies, config };
}

/** Runs /authorize as a browser would and returns the callback URL with the code. */
async function authorize(h: Harness, verifier: string, state: string): Promise<URL> {
  const url = oidc.buildAuthorizationUrl(h.config, {
    redirect_uri: REDIRECT,
    scope: "notes.read",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    resource: h.server.mcpUrl,
  });
  const response = await fetch(url, { redirect: "manual" });
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location")!);
}

/** A fresh code redeemed by openid-client with private_key_jwt. */
async function redeemWithOpenidClient(h: Harness) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const callback = await authorize(h, verifier, state);
  return oidc.authorizationCodeGrant(h.config, callback, { pkceCodeVerifier: verifier, expectedState: state }, { resource: h.server.mcpUrl });
}

/** A fresh code redeemed by plain fetch with the given client authentication parameters; the raw response. */
async function redeemFreshCode(h: Harness, clientAuthentication: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const verifier = oidc.randomPKCECodeVerifier();
  const callback = await authorize(h, verifier, "s");
  const response = await fetch(`${h.server.issuer}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: callback.searchParams.get("code")!,
      code_verifier: verifier,
      redirect_uri: REDIRECT,
      ...clientAuthentication,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A fresh code redeemed with the given client_assertion. */
function redeemWithAssertion(h: Harness, assertion: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return redeemFreshCode(h, { client_assertion_type: JWT_BEARER, client_assertion: assertion });
}

function assertionFor(h: Harness, claims: { aud?: string; exp?: number; jti?: string; sub?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "JWT" })
    .setIssuer(h.clientId)
    .setSubject(claims.sub ?? h.clientId)
    .setAudience(claims.aud ?? `${h.server.issuer}/token`)
    .setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
    .setJti(claims.jti ?? crypto.randomUUID())
    .sign(h.keys.privateKey);
}

/** The rule named by the registry's last `client.authentication_failed` event. */
function lastRefusal(h: Harness): unknown {
  const event = h.events.findLast((e) => e.type === "client.authentication_failed");
  return event && "detail" in event ? event.detail : undefined;
}

describe("private_key_jwt at the example token endpoint", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.server.close();
  });

  it("openid-client redeems a code with a client assertion signed by the registered key", async () => {
    const tokens = await redeemWithOpenidClient(h);
    expect(tokens).toMatchObject({ token_type: "bearer", scope: "notes.read" });
    const sent = h.sentBodies.at(-1)!;
    expect(sent.get("client_assertion_type")).toBe(JWT_BEARER);
    const claims = jose.decodeJwt(sent.get("client_assertion")!);
    expect(claims).toMatchObject({ iss: h.clientId, sub: h.clientId });
    // openid-client names the issuer as audience; the endpoint accepts it or the token endpoint URL.
    expect([h.server.issuer, `${h.server.issuer}/token`]).toContain(claims.aud);
    expect(h.events).toContainEqual(
      expect.objectContaining({ type: "client.authenticated", client_id: h.clientId, matched: "private_key_jwt" }),
    );
    expect((await h.registry.get("acct", h.clientId)).last_used_at).toEqual(expect.any(String));
  });

  it("refuses a replayed assertion, even for a fresh code", async () => {
    await redeemWithOpenidClient(h);
    const used = h.sentBodies.at(-1)!.get("client_assertion")!;
    expect(await redeemWithAssertion(h, used)).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(lastRefusal(h)).toBe("replayed");
  });

  it("accepts a jose-built assertion once, with the token endpoint as audience", async () => {
    const assertion = await assertionFor(h);
    expect(await redeemWithAssertion(h, assertion)).toMatchObject({ status: 200, body: { token_type: "Bearer" } });
    expect(await redeemWithAssertion(h, assertion)).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(lastRefusal(h)).toBe("replayed");
  });

  it("refuses an assertion for another audience, an expired one, and one signed by another key", async () => {
    const now = Math.floor(Date.now() / 1000);
    const other = await jose.generateKeyPair("ES256");
    const foreign = await new jose.SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(h.clientId)
      .setSubject(h.clientId)
      .setAudience(`${h.server.issuer}/token`)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(crypto.randomUUID())
      .sign(other.privateKey);
    const cases: [string, string][] = [
      [await assertionFor(h, { aud: "https://elsewhere.example/token" }), "audience"],
      [await assertionFor(h, { exp: now - 120 }), "expired"],
      [foreign, "signature"],
    ];
    for (const [assertion, rule] of cases) {
      expect(await redeemWithAssertion(h, assertion)).toMatchObject({ status: 401, body: { error: "invalid_client" } });
      expect(lastRefusal(h)).toBe(rule);
    }
  });

  it.each([
    ["no client authentication", {}],
    ["a client secret", { client_secret: "guess" }],
  ])("refuses %s for a private_key_jwt client", async (_name, extra) => {
    const response = await redeemFreshCode(h, { client_id: h.clientId, ...extra });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ error: "invalid_client" });
  });

  it("the MCP SDK client authenticates with its own private_key_jwt helper and calls a tool", async () => {
    const privateJwk = { ...(await jose.exportJWK(h.keys.privateKey)), kid: "k1" };
    const provider = new MemoryOAuthProvider(
      { redirect_uris: [REDIRECT], token_endpoint_auth_method: "private_key_jwt" },
      {
        information: { client_id: h.clientId },
        addClientAuthentication: createPrivateKeyJwtAuth({ issuer: h.clientId, subject: h.clientId, privateKey: privateJwk, alg: "ES256" }),
      },
    );
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    try {
      expect(await whoami(client)).toEqual({ client_id: h.clientId, scopes: ["notes.read"], user: "demo-user" });
    } finally {
      await close();
    }
  });

  it("the MCP SDK client registers itself with a key set (RFC 7591 jwks), then authenticates with private_key_jwt", async () => {
    const keys = await jose.generateKeyPair("ES256", { extractable: true });
    const publicJwk = { ...(await jose.exportJWK(keys.publicKey)), kid: "dcr-1", alg: "ES256" };
    const privateJwk = { ...(await jose.exportJWK(keys.privateKey)), kid: "dcr-1" };
    const provider: MemoryOAuthProvider = new MemoryOAuthProvider(
      {
        client_name: "Key-holding MCP client",
        redirect_uris: [REDIRECT],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [publicJwk] },
      },
      {
        // The client id is known only once registered: sign with it then.
        addClientAuthentication: (headers, params, url, metadata) => {
          const clientId = provider.information!.client_id;
          return createPrivateKeyJwtAuth({ issuer: clientId, subject: clientId, privateKey: privateJwk, alg: "ES256" })(headers, params, url, metadata);
        },
      },
    );
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    try {
      const clientId = provider.information!.client_id;
      expect(provider.information).not.toHaveProperty("client_secret");
      expect(await whoami(client)).toMatchObject({ client_id: clientId });
      expect(await h.registry.get("registered", clientId)).toMatchObject({
        source: "dcr",
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [expect.objectContaining({ kid: "dcr-1" })] },
      });
    } finally {
      await close();
    }
  });
});
