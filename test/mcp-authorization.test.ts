/**
 * End to end with the MCP TypeScript SDK as the client: it finds the
 * authorization server through RFC 9728 metadata, runs authorization code +
 * PKCE against the example server (examples/mcp-authorization-server) and
 * calls a tool on the protected MCP endpoint with the token it got.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  startMcpAuthorizationServer,
  type RunningMcpAuthorizationServer,
} from "../examples/mcp-authorization-server/server.js";
import { createMemoryStore } from "../adapters/memory.js";
import type { OAuthClientRegistry, RegistryEvent } from "../src/index.js";
import { connectWithAuthorization, MCP_REDIRECT_URI, MemoryOAuthProvider, whoami } from "./helpers/mcp-client.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const SCOPES = ["notes.read"];

interface Harness {
  registry: OAuthClientRegistry;
  server: RunningMcpAuthorizationServer;
  events: RegistryEvent[];
}

async function startHarness(): Promise<Harness> {
  const { registry, events } = registryFixture({ start: new Date(), scopeCatalog: ["notes.read", "notes.write"] });
  const server = await startMcpAuthorizationServer({ registry, scopes: SCOPES });
  return { registry, server, events };
}

const sdkClientMetadata = {
  client_name: "MCP e2e client",
  redirect_uris: [MCP_REDIRECT_URI],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
};

/** Runs /authorize as a browser would (no resource indicator unless `extra` has one) and returns the code. */
async function codeFor(h: Harness, clientId: string, extra: Record<string, string> = {}): Promise<{ code: string; verifier: string }> {
  const verifier = randomBytes(32).toString("base64url");
  const url = new URL(`${h.server.issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: MCP_REDIRECT_URI,
    response_type: "code",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    ...extra,
  }).toString();
  const redirect = await fetch(url, { redirect: "manual" });
  return { code: new URL(redirect.headers.get("location")!).searchParams.get("code")!, verifier };
}

/** A token request for an authorization code, with MCP_REDIRECT_URI unless `params` says otherwise. */
function redeem(h: Harness, params: Record<string, string>): Promise<Response> {
  return fetch(`${h.server.issuer}/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", redirect_uri: MCP_REDIRECT_URI, ...params }),
  });
}

describe("MCP SDK client against the example authorization server", () => {
  let h: Harness;
  const open: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await h.server.close();
  });

  it("serves RFC 9728 metadata that names this issuer, and RFC 8414 metadata for it", async () => {
    const resource = await (await fetch(`${h.server.issuer}/.well-known/oauth-protected-resource/mcp`)).json();
    expect(resource).toMatchObject({ resource: h.server.mcpUrl, authorization_servers: [h.server.issuer], scopes_supported: SCOPES });
    const metadata = await (await fetch(`${h.server.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toMatchObject({
      issuer: h.server.issuer,
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(["ES256", "RS256"]),
    });
  });

  it("answers an unauthenticated MCP request with 401 and the resource metadata URL", async () => {
    const response = await fetch(h.server.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer resource_metadata="${h.server.issuer}/.well-known/oauth-protected-resource/mcp", scope="notes.read"`,
    );
  });

  it("a pre-registered public client authorizes with code + PKCE and calls a tool", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: ["http://127.0.0.1/callback"], scopes: SCOPES, token_endpoint_auth_method: "none" }),
    );
    const provider = new MemoryOAuthProvider(sdkClientMetadata, { information: { client_id: created.client_id } });
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);

    const url = provider.authorizationUrls[0]!;
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("resource")).toBe(h.server.mcpUrl);
    expect(await whoami(client)).toEqual({ client_id: created.client_id, scopes: SCOPES, user: "demo-user" });
  });

  it("a pre-registered confidential client authenticates with its secret (client_secret_basic)", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "client_secret_basic" }),
    );
    const provider = new MemoryOAuthProvider(
      { ...sdkClientMetadata, token_endpoint_auth_method: "client_secret_basic" },
      { information: { client_id: created.client_id, client_secret: created.client_secret! } },
    );
    const { client, close } = await connectWithAuthorization(h.server.mcpUrl, provider);
    open.push(close);
    expect((await whoami(client)).client_id).toBe(created.client_id);
    expect(h.events.filter((e) => e.type === "client.authenticated" && e.client_id === created.client_id)).toHaveLength(1);
  });

  it("refuses a token bound to no resource (RFC 8707), and an unknown token", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "none" }),
    );
    const { code, verifier } = await codeFor(h, created.client_id);
    const tokenResponse = await redeem(h, { code, code_verifier: verifier, client_id: created.client_id });
    expect(tokenResponse.status).toBe(200);
    const { access_token } = (await tokenResponse.json()) as { access_token: string };

    const call = (token: string) =>
      fetch(h.server.mcpUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
    for (const token of [access_token, "not-a-token"]) {
      const response = await call(token);
      expect(response.status).toBe(401);
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
    }
  });

  it("answers a token without the resource's scope with 403 insufficient_scope", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: ["notes.read", "notes.write"], token_endpoint_auth_method: "none" }),
    );
    const { code, verifier } = await codeFor(h, created.client_id, { scope: "notes.write", resource: h.server.mcpUrl });
    const tokenResponse = await redeem(h, { code, code_verifier: verifier, client_id: created.client_id, resource: h.server.mcpUrl });
    const { access_token, scope } = (await tokenResponse.json()) as { access_token: string; scope: string };
    expect(scope).toBe("notes.write");
    const response = await fetch(h.server.mcpUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer .*error="insufficient_scope"/);
    expect(response.headers.get("www-authenticate")).toContain('scope="notes.read"');
  });

  it("redeems a code once, only with its PKCE verifier, its redirect URI and its client", async () => {
    const input = createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "none" });
    const owner = await h.registry.create("acct", input);
    const other = await h.registry.create("acct", input);
    const refusals: Record<string, string>[] = [];
    const changes: Record<string, string>[] = [
      { code_verifier: randomBytes(32).toString("base64url") },
      { redirect_uri: "http://127.0.0.1:53683/callback" },
      { client_id: other.client_id },
    ];
    for (const change of changes) {
      const { code, verifier } = await codeFor(h, owner.client_id);
      const response = await redeem(h, { code, code_verifier: verifier, client_id: owner.client_id, ...change });
      refusals.push({ status: String(response.status), ...((await response.json()) as { error: string }) });
      // A refused redemption still uses the code up.
      expect((await redeem(h, { code, code_verifier: verifier, client_id: owner.client_id })).status).toBe(400);
    }
    expect(refusals.map(({ status, error }) => ({ status, error }))).toEqual(Array(3).fill({ status: "400", error: "invalid_grant" }));
    // A public client's use is recorded only when it really redeemed a code.
    expect((await h.registry.get("acct", owner.client_id)).last_used_at).toBeUndefined();

    const { code, verifier } = await codeFor(h, owner.client_id);
    expect((await redeem(h, { code, code_verifier: verifier, client_id: owner.client_id })).status).toBe(200);
    expect((await h.registry.get("acct", owner.client_id)).last_used_at).toEqual(expect.any(String));
    const replay = await redeem(h, { code, code_verifier: verifier, client_id: owner.client_id });
    expect({ status: replay.status, body: await replay.json() }).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("refuses a confidential client presented without its secret, and records no use of it", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "client_secret_post" }),
    );
    const { code, verifier } = await codeFor(h, created.client_id);
    const response = await redeem(h, { code, code_verifier: verifier, client_id: created.client_id });
    expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect((await h.registry.get("acct", created.client_id)).last_used_at).toBeUndefined();
  });

  it("answers malformed authorization and token requests with OAuth errors, never a 500", async () => {
    const created = await h.registry.create(
      "acct",
      createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "none" }),
    );
    const authorizeCases: [string, number, string][] = [
      ["", 400, "invalid_request"],
      ["client_id=x".padEnd(5000, "x"), 400, "invalid_client"],
      [`client_id=${created.client_id}&client_id=${created.client_id}`, 400, "invalid_request"],
      [`client_id=${created.client_id}`, 400, "invalid_request"],
      [`client_id=${created.client_id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb`, 400, "invalid_request"],
      ["client_id=https%3A%2F%2Fclient.example%2Fmeta.json&redirect_uri=x", 400, "invalid_client"],
    ];
    for (const [query, status, error] of authorizeCases) {
      const response = await fetch(`${h.server.issuer}/authorize?${query}`, { redirect: "manual" });
      expect(response.status, query).toBe(status);
      expect(await response.json(), query).toMatchObject({ error });
    }
    const tokenCases: [RequestInit, number, string][] = [
      [{ body: "grant_type=authorization_code" }, 401, "invalid_client"],
      [{ body: JSON.stringify({ grant_type: "authorization_code" }), headers: { "content-type": "application/json" } }, 400, "invalid_request"],
      [{ body: `client_id=${created.client_id}&grant_type=password` }, 400, "unsupported_grant_type"],
      [{ body: `client_id=${created.client_id}&grant_type=authorization_code&code=nope` }, 400, "invalid_grant"],
      [{ body: "client_id=x&client_secret=y&grant_type=authorization_code", headers: { authorization: "Basic eDp5" } }, 400, "invalid_request"],
      [{ body: "grant_type=authorization_code", headers: { authorization: "Basic !!!" } }, 401, "invalid_client"],
      [{ body: "grant_type=authorization_code", headers: { authorization: "Bearer abc" } }, 401, "invalid_client"],
      [{ body: "x".repeat(20_000) }, 413, "invalid_request"],
      [{ body: "grant_type=authorization_code&client_assertion=not-a-jwt" }, 401, "invalid_client"],
      [{ body: `grant_type=authorization_code&client_assertion_type=${encodeURIComponent("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")}&client_assertion=a.b.c` }, 401, "invalid_client"],
      [{ body: "grant_type=authorization_code&client_assertion=a.b.c&client_secret=y&client_id=x" }, 400, "invalid_request"],
    ];
    for (const [init, status, error] of tokenCases) {
      const headers = { "content-type": "application/x-www-form-urlencoded", ...(init.headers as Record<string, string>) };
      const response = await fetch(`${h.server.issuer}/token`, { method: "POST", ...init, headers });
      expect(response.status, String(init.body).slice(0, 60)).toBe(status);
      expect(await response.json()).toMatchObject({ error });
    }
  });
});

describe("the example authorization server while the registry's database is down", () => {
  it("answers /authorize and /token with 503 temporarily_unavailable, and serves again once it is back", async () => {
    const memory = createMemoryStore();
    let down = false;
    // Every store call fails as a refused connection would, while `down`.
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          if (down) return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { registry } = registryFixture({ start: new Date(), store, scopeCatalog: ["notes.read"] });
    const server = await startMcpAuthorizationServer({ registry, scopes: SCOPES });
    const h: Harness = { registry, server, events: [] };
    try {
      const input = createBody({ redirect_uris: [MCP_REDIRECT_URI], scopes: SCOPES, token_endpoint_auth_method: "none" });
      const created = await registry.create("acct", input);
      const confidential = await registry.create("acct", { ...input, token_endpoint_auth_method: "client_secret_post" });
      const { code, verifier } = await codeFor(h, created.client_id);

      down = true;
      const authorize = await fetch(`${server.issuer}/authorize?client_id=${created.client_id}&redirect_uri=${MCP_REDIRECT_URI}`, {
        redirect: "manual",
      });
      const token = await redeem(h, { code, code_verifier: verifier, client_id: created.client_id });
      const secret = await redeem(h, { code: "c", code_verifier: verifier, client_id: confidential.client_id, client_secret: confidential.client_secret! });
      for (const response of [authorize, token, secret]) {
        expect(response.status).toBe(503);
        expect(await response.json()).toMatchObject({ error: "temporarily_unavailable" });
      }

      down = false;
      // The code was not used up by the request the outage refused.
      expect((await redeem(h, { code, code_verifier: verifier, client_id: created.client_id })).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
