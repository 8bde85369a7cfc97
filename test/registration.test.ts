/**
 * The registration handler in memory: RFC 7591 registration, RFC 7592
 * read / update / delete, every refusal's status and body, the embedder's
 * hooks, and that a refused request stores nothing.
 */
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it, vi } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import type { ClientStore } from "../src/index.js";
import {
  createRegistrationHandler,
  registrationMetadata,
  RegistrationPolicyError,
  type RegistrationHandlerOptions,
} from "../src/registration/index.js";
import { registryFixture } from "./helpers/registry.js";

const ACCOUNT = "registered";
const ORIGIN = "http://localhost";
const METADATA = { client_name: "Tool", redirect_uris: ["https://tool.example.com/cb"], scope: "profile" };

function setup(options: Partial<RegistrationHandlerOptions> = {}, store: ClientStore = createMemoryStore()) {
  const fixture = registryFixture({ store });
  const onError = vi.fn();
  const handler = createRegistrationHandler(fixture.registry, { accountId: ACCOUNT, now: fixture.clock.now, onError, ...options });
  /** Every response of the handler, checked for the headers every response must carry. */
  const send = async (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
    const response = await handler(new Request(`${ORIGIN}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) }));
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    const text = await response.text();
    const body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
    if (body !== undefined) expect(response.headers.get("content-type")).toBe("application/json");
    return { status: response.status, headers: response.headers, body: body as Record<string, unknown> & { issues?: { path: string; message: string }[] } };
  };
  const register = (json: unknown = METADATA, headers: Record<string, string> = {}) => send("/register", { method: "POST", json, headers });
  const stored = async (account = ACCOUNT) => (await fixture.registry.list(account)).clients;
  return { ...fixture, handler, send, register, stored, onError };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("RFC 7591 registration (POST /register)", () => {
  it("answers 201 with the client information response and stores a dcr client", async () => {
    const { register, stored, registry, clock } = setup();
    const { status, body } = await register({ ...METADATA, grant_types: ["authorization_code", "refresh_token"], software_id: "tool-1" });
    expect(status).toBe(201);
    const clientId = body.client_id as string;
    expect(body).toEqual({
      client_id: clientId,
      client_secret: expect.any(String),
      client_id_issued_at: Math.floor(clock.now().getTime() / 1000),
      client_secret_expires_at: 0,
      registration_access_token: expect.any(String),
      registration_client_uri: `${ORIGIN}/register/${clientId}`,
      client_name: "Tool",
      redirect_uris: ["https://tool.example.com/cb"],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "profile offline_access",
    });
    expect(await stored()).toEqual([expect.objectContaining({ client_id: clientId, source: "dcr", client_secret_expires_at: 0 })]);
    expect(await registry.authenticate(clientId, body.client_secret as string)).toMatchObject({ account_id: ACCOUNT, matched: "current" });
  });

  it("issues no secret to a public client", async () => {
    const { register } = setup();
    const { status, body } = await register({ redirect_uris: ["http://127.0.0.1:4000/cb"], token_endpoint_auth_method: "none" });
    expect(status).toBe(201);
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("client_secret_expires_at");
    expect(body).toMatchObject({ client_name: "127.0.0.1:4000", token_endpoint_auth_method: "none" });
    expect(body).not.toHaveProperty("scope");
  });

  it("registers a private_key_jwt client with its public keys and no secret; a private key is refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const { register, stored } = setup({ secretLifetimeSeconds: 3600 });
    const { status, body } = await register({ ...METADATA, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] } });
    expect(status).toBe(201);
    expect(body).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [jwk] } });
    expect(body).not.toHaveProperty("client_secret");
    expect(body).not.toHaveProperty("client_secret_expires_at");
    expect(await stored()).toEqual([expect.objectContaining({ jwks: { keys: [jwk] }, source: "dcr" })]);

    const leaked = await register({ ...METADATA, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [await exportJWK(privateKey)] } });
    expect(leaked.status).toBe(400);
    expect(leaked.body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: "/jwks/keys/0", message: expect.stringContaining("public key") }] });
    const keyless = await register({ ...METADATA, token_endpoint_auth_method: "private_key_jwt" });
    expect(keyless.status).toBe(400);
    expect(keyless.body.error).toBe("invalid_client_metadata");
    expect(await stored()).toHaveLength(1);
  });

  it("sets client_secret_expires_at from secretLifetimeSeconds, and the secret stops working then", async () => {
    const { register, registry, clock } = setup({ secretLifetimeSeconds: 3600 });
    const { body } = await register();
    const expiresAt = Math.floor(clock.now().getTime() / 1000) + 3600;
    expect(body.client_secret_expires_at).toBe(expiresAt);
    expect(await registry.get(ACCOUNT, body.client_id as string)).toMatchObject({ client_secret_expires_at: expiresAt });
    clock.advance(3601 * 1000);
    expect(await registry.authenticate(body.client_id as string, body.client_secret as string)).toBeNull();
  });

  it("manages openid for the code flow: kept when asked for, absent otherwise; the implicit response types that would add or drop it are refused", async () => {
    const { register, registry, stored } = setup();
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ scope: "openid profile" }, "profile openid", ["profile", "openid"]],
      [{ scope: "profile" }, "profile", ["profile"]],
    ];
    for (const [metadata, scope, scopes] of cases) {
      const { status, body } = await register({ ...METADATA, ...metadata });
      expect(status).toBe(201);
      expect(body.scope).toBe(scope);
      expect(await registry.get(ACCOUNT, body.client_id as string)).toMatchObject({ scopes });
    }
    const before = await stored();
    for (const responseTypes of [["code", "id_token"], ["token"]]) {
      const { status, body } = await register({ ...METADATA, scope: "openid profile", response_types: responseTypes });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: `/response_types/${responseTypes.length - 1}` }] });
    }
    expect(await stored()).toEqual(before);
  });

  it("builds registration_client_uri from baseUrl and path", async () => {
    const { send } = setup({ baseUrl: "https://auth.example.com/tenant/", path: "/oauth/register/" });
    const { status, body } = await send("/oauth/register", { method: "POST", json: METADATA });
    expect(status).toBe(201);
    expect(body.registration_client_uri).toBe(`https://auth.example.com/tenant/oauth/register/${body.client_id as string}`);
  });

  it("puts the registration in the account resolveAccount picks", async () => {
    const { register, stored } = setup({ accountId: undefined, resolveAccount: (request) => request.headers.get("x-tenant") ?? "none" });
    expect((await register(METADATA, { "x-tenant": "tenant-7" })).status).toBe(201);
    expect(await stored("tenant-7")).toHaveLength(1);
    expect(await stored()).toHaveLength(0);
  });

  describe("refusals are RFC 7591 error bodies listing every issue, and store nothing", () => {
    it("invalid_redirect_uri for a redirect URI the registry refuses", async () => {
      const { register, stored } = setup();
      const { status, body } = await register({ ...METADATA, redirect_uris: ["http://tool.example.com/cb", "https://ok.example.com/cb#frag"] });
      expect(status).toBe(400);
      expect(body.error).toBe("invalid_redirect_uri");
      expect(body.issues?.map((issue) => issue.path)).toEqual(["/redirect_uris/0", "/redirect_uris/1"]);
      expect(body.error_description).toMatch(/^redirect_uris\/0: .*https.*; redirect_uris\/1: .*fragment/);
      expect(body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
      expect(await stored()).toEqual([]);
    });

    it("invalid_client_metadata for unsupported grant types, in RFC 7591 member names", async () => {
      const { register, stored } = setup();
      const { status, body } = await register({ ...METADATA, grant_types: ["client_credentials"] });
      expect(status).toBe(400);
      expect(body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: "/grant_types/0", message: expect.stringContaining("client_credentials") }] });
      expect(await stored()).toEqual([]);
    });

    it("reports a scope the registry's scope rules refuse under /scope, naming the scope", async () => {
      const { register } = setup();
      const { status, body } = await register({ ...METADATA, scope: "profile account:read" });
      expect(status).toBe(400);
      expect(body.error).toBe("invalid_client_metadata");
      expect(body.issues).toEqual([{ path: "/scope", message: expect.stringMatching(/^scope "account:read": /) }]);
    });

    it("unapproved_software_statement for a software statement", async () => {
      const { register, stored } = setup();
      const { status, body } = await register({ ...METADATA, software_statement: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln" });
      expect(status).toBe(400);
      expect(body.error).toBe("unapproved_software_statement");
      expect(await stored()).toEqual([]);
    });

    it("400 for a body that is not a JSON object, empty, malformed, or repeats a member name", async () => {
      const { send, stored } = setup();
      const post = (body: string) => send("/register", { method: "POST", body, headers: { "content-type": "application/json" } });
      for (const body of ["[]", '"x"', "", "{", '{"client_name":"A","client_name":"B","redirect_uris":["https://a.example/cb"]}']) {
        const response = await post(body);
        expect(response.status, body).toBe(400);
        expect(response.body.error, body).toBe("invalid_client_metadata");
      }
      expect((await post('{"redirect_uris":["https://a.example/cb"],"redirect_uris":[]}')).body).toMatchObject({
        error: "invalid_client_metadata",
        issues: [{ path: "/redirect_uris", message: expect.stringContaining("duplicate member name") }],
      });
      expect(await stored()).toEqual([]);
    });

    it("415 for a body that is not declared JSON", async () => {
      const { send, stored } = setup();
      const response = await send("/register", { method: "POST", body: JSON.stringify(METADATA), headers: { "content-type": "text/plain" } });
      expect(response.status).toBe(415);
      expect(response.body).toMatchObject({ error: "invalid_request" });
      expect(await stored()).toEqual([]);
    });

    it("413 for a body over maxBodyBytes", async () => {
      const { register, stored } = setup({ maxBodyBytes: 256 });
      const response = await register({ ...METADATA, client_name: "x".repeat(300) });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ error: "invalid_request", error_description: "the request body exceeds 256 bytes" });
      expect(await stored()).toEqual([]);
    });
  });

  it("needs a valid initial access token when initialAccessToken is set (401 with WWW-Authenticate otherwise)", async () => {
    const check = vi.fn((token: string | null) => token === "iat-1");
    const { register, stored } = setup({ initialAccessToken: check });
    const missing = await register();
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    expect(missing.body).toEqual({ error: "invalid_token", error_description: "send a valid initial access token as Authorization: Bearer <token>" });
    const wrong = await register(METADATA, bearer("iat-2"));
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(wrong.body).toEqual({ error: "invalid_token", error_description: "the initial access token is not valid for this request" });
    const malformed = await register(METADATA, { authorization: "Basic aWF0LTE6" });
    expect(malformed.status).toBe(401);
    expect(malformed.body).toEqual({ error: "invalid_token", error_description: "the Authorization header is not a bearer token" });
    expect(check.mock.calls.map(([token]) => token)).toEqual([null, "iat-2"]);
    expect(await stored()).toEqual([]);
    expect((await register(METADATA, bearer("iat-1"))).status).toBe(201);
    expect(await stored()).toHaveLength(1);
  });

  it("answers 429 with Retry-After when rateLimit says no, before reading anything", async () => {
    let allow = false;
    const { register, stored, send } = setup({ rateLimit: () => allow, rateLimitRetryAfterSeconds: 30 });
    const limited = await register();
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(limited.body.error).toBe("invalid_request");
    expect((await send("/register/abc", { headers: bearer("t") })).status).toBe(429);
    expect(await stored()).toEqual([]);
    allow = true;
    expect((await register()).status).toBe(201);
  });

  describe("policy hook", () => {
    it("may rewrite the metadata: forcing none and trimming scopes", async () => {
      const policy = vi.fn((metadata: Parameters<NonNullable<RegistrationHandlerOptions["policy"]>>[0]) => ({
        ...metadata,
        token_endpoint_auth_method: "none" as const,
        scopes: metadata.scopes.filter((scope) => scope === "profile"),
      }));
      const { register, stored } = setup({ policy });
      const { status, body } = await register({ ...METADATA, scope: "profile email", software_id: "tool-1" });
      expect(status).toBe(201);
      expect(body).toMatchObject({ token_endpoint_auth_method: "none", scope: "profile" });
      expect(body).not.toHaveProperty("client_secret");
      expect(await stored()).toEqual([expect.objectContaining({ token_endpoint_auth_method: "none", scopes: ["profile"] })]);
      expect(policy).toHaveBeenCalledWith(
        expect.objectContaining({ token_endpoint_auth_method: "client_secret_basic", scopes: ["profile", "email"] }),
        expect.objectContaining({ operation: "register", accountId: ACCOUNT, clientId: null, metadata: expect.objectContaining({ software_id: "tool-1" }) }),
      );
    });

    it("may refuse with RegistrationPolicyError: that code and description, nothing stored", async () => {
      const { register, stored } = setup({
        policy: (metadata) => {
          if (!metadata.redirect_uris.every((uri) => new URL(uri).hostname.endsWith(".trusted.example"))) {
            throw new RegistrationPolicyError("invalid_redirect_uri", "redirect URIs must be on *.trusted.example");
          }
          return metadata;
        },
      });
      const { status, body } = await register();
      expect(status).toBe(400);
      expect(body).toEqual({ error: "invalid_redirect_uri", error_description: "redirect URIs must be on *.trusted.example" });
      expect(await stored()).toEqual([]);
    });

    it("is still held to every registry rule", async () => {
      const { register, stored } = setup({ policy: (metadata) => ({ ...metadata, redirect_uris: ["javascript:alert(1)"] }) });
      const { status, body } = await register();
      expect(status).toBe(400);
      expect(body.error).toBe("invalid_redirect_uri");
      expect(await stored()).toEqual([]);
    });

    it("a policy that crashes answers 500 server_error, reported, nothing stored", async () => {
      const failure = new Error("policy database down");
      const { register, stored, onError } = setup({
        policy: () => {
          throw failure;
        },
      });
      const { status, body } = await register();
      expect(status).toBe(500);
      expect(body).toEqual({ error: "server_error", error_description: "internal server error" });
      expect(onError).toHaveBeenCalledWith(failure, expect.any(Request));
      expect(await stored()).toEqual([]);
    });
  });

  it("a resolveAccount that returns an unusable account id is a reported 500, nothing stored", async () => {
    const memory = createMemoryStore();
    const insert = vi.fn(memory.insert.bind(memory));
    const { register, onError } = setup({ accountId: undefined, resolveAccount: () => "bad\u0000id" }, { ...memory, insert });
    const { status, body } = await register();
    expect(status).toBe(500);
    expect(body.error).toBe("server_error");
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringContaining("control characters") }), expect.any(Request));
    expect(insert).not.toHaveBeenCalled();
  });

  it("answers 503 temporarily_unavailable with Retry-After when the store is down", async () => {
    const store = createMemoryStore();
    const down = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
    const failing: ClientStore = { ...store, insert: () => Promise.reject(down) };
    const { register } = setup({}, failing);
    const { status, headers, body } = await register();
    expect(status).toBe(503);
    expect(headers.get("retry-after")).toBe("1");
    expect(body.error).toBe("temporarily_unavailable");
  });

  it("405 with Allow for other methods, 404 outside the path, 400 for encoded slashes", async () => {
    const { send } = setup();
    const get = await send("/register");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const post = await send("/register/abc", { method: "POST", json: METADATA });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, PUT, DELETE");
    expect((await send("/registers", { method: "POST", json: METADATA })).status).toBe(404);
    expect((await send("/register/a/b", { headers: bearer("t") })).status).toBe(404);
    expect((await send("/register/a%2Fb", { headers: bearer("t") })).status).toBe(400);
  });
});

describe("RFC 7592 management (GET | PUT | DELETE /register/{client_id})", () => {
  async function registered(options: Partial<RegistrationHandlerOptions> = {}, metadata: Record<string, unknown> = METADATA) {
    const context = setup(options);
    const { body } = await context.register(metadata);
    const clientId = body.client_id as string;
    return { ...context, clientId, token: body.registration_access_token as string, secret: body.client_secret as string | undefined, path: `/register/${clientId}` };
  }

  it("GET reads the registration with its registration access token", async () => {
    const { send, path, token, clientId } = await registered();
    const { status, body } = await send(path, { headers: bearer(token) });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      client_id: clientId,
      client_name: "Tool",
      client_secret_expires_at: 0,
      registration_access_token: token,
      registration_client_uri: `${ORIGIN}${path}`,
    });
    expect(body).not.toHaveProperty("client_secret");
  });

  it("401 with WWW-Authenticate for a missing or wrong token, another client's token, or an unknown client", async () => {
    const { send, path, token, register } = await registered();
    const other = (await register()).body;
    const cases: [string, Record<string, string>, string][] = [
      [path, {}, "Bearer"],
      [path, bearer("wrong"), 'Bearer error="invalid_token"'],
      [path, bearer(other.registration_access_token as string), 'Bearer error="invalid_token"'],
      ["/register/00000000000000000000000000000000", bearer(token), 'Bearer error="invalid_token"'],
      [path, { authorization: `Bearer ${"a".repeat(2000)}` }, 'Bearer error="invalid_token"'],
    ];
    for (const method of ["GET", "PUT", "DELETE"]) {
      for (const [target, headers, challenge] of cases) {
        const response = await send(target, { method, headers, ...(method === "PUT" ? { json: { ...METADATA, client_id: path.slice(10) } } : {}) });
        expect(response.status, `${method} ${JSON.stringify(headers).slice(0, 40)}`).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe(challenge);
        expect(response.body.error).toBe("invalid_token");
      }
    }
    expect((await send(path, { headers: bearer(token) })).status).toBe(200);
  });

  it("PUT replaces the metadata, keeps the secret, rotates the registration access token", async () => {
    const { send, path, token, clientId, secret, registry } = await registered({}, { ...METADATA, logo_uri: "https://tool.example.com/logo.png" });
    const { status, body } = await send(path, {
      method: "PUT",
      headers: bearer(token),
      json: { client_id: clientId, client_secret: secret, client_name: "Tool 2", redirect_uris: ["https://tool.example.com/cb2"], scope: "email" },
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ client_id: clientId, client_name: "Tool 2", redirect_uris: ["https://tool.example.com/cb2"], scope: "email", client_secret_expires_at: 0 });
    expect(body).not.toHaveProperty("logo_uri");
    expect(body).not.toHaveProperty("client_secret");
    const rotated = body.registration_access_token as string;
    expect(rotated).toEqual(expect.any(String));
    expect(rotated).not.toBe(token);
    expect((await send(path, { headers: bearer(token) })).status).toBe(401);
    expect((await send(path, { headers: bearer(rotated) })).body).toMatchObject({ client_name: "Tool 2" });
    expect(await registry.authenticate(clientId, secret!)).toMatchObject({ matched: "current" });
  });

  it("PUT applies the openid rule to the replacement metadata, whose scope is what the client asks for", async () => {
    const { send, path, token, clientId } = await registered({}, { ...METADATA, scope: "openid profile" });
    let current = token;
    const put = async (metadata: Record<string, unknown>) => {
      const { status, body } = await send(path, { method: "PUT", headers: bearer(current), json: { ...METADATA, client_id: clientId, ...metadata } });
      expect(status).toBe(200);
      current = body.registration_access_token as string;
      return body.scope;
    };
    // Sending back what was read keeps openid for the code flow.
    expect(await put({ scope: "profile openid" })).toBe("profile openid");
    // Leaving it out of the replacement is asking for it no more.
    expect(await put({ scope: "profile" })).toBe("profile");
    expect(await put({ scope: "openid profile" })).toBe("profile openid");
  });

  it("PUT refuses a missing or different client_id, and a client_secret other than the issued one, changing nothing", async () => {
    const { send, path, token, clientId, registry } = await registered();
    const before = await registry.get(ACCOUNT, clientId);
    const put = (json: Record<string, unknown>) => send(path, { method: "PUT", headers: bearer(token), json });
    const missing = await put({ ...METADATA });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: "/client_id" }] });
    expect((await put({ ...METADATA, client_id: "someone-else" })).body).toMatchObject({ issues: [{ path: "/client_id" }] });
    const chosen = await put({ ...METADATA, client_id: clientId, client_secret: "my-own-secret" });
    expect(chosen.status).toBe(400);
    expect(chosen.body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: "/client_secret" }] });
    expect(await registry.get(ACCOUNT, clientId)).toEqual(before);
    expect((await send(path, { headers: bearer(token) })).status).toBe(200);
  });

  it("PUT runs every registry rule: no switch from a secret method to none, redirect URIs checked", async () => {
    const { send, path, token, clientId, registry } = await registered();
    const before = await registry.get(ACCOUNT, clientId);
    const put = (json: Record<string, unknown>) => send(path, { method: "PUT", headers: bearer(token), json: { ...METADATA, client_id: clientId, ...json } });
    const toNone = await put({ token_endpoint_auth_method: "none" });
    expect(toNone.status).toBe(400);
    expect(toNone.body).toMatchObject({ error: "invalid_client_metadata", issues: [{ path: "/token_endpoint_auth_method" }] });
    expect((await put({ redirect_uris: ["http://tool.example.com/cb"] })).body).toMatchObject({ error: "invalid_redirect_uri" });
    expect(await registry.get(ACCOUNT, clientId)).toEqual(before);
  });

  it("PUT goes through the policy hook with operation update", async () => {
    const seen: unknown[] = [];
    const { send, path, token, clientId } = await registered({
      policy: (metadata, context) => {
        seen.push([context.operation, context.clientId, context.accountId]);
        return metadata;
      },
    });
    expect((await send(path, { method: "PUT", headers: bearer(token), json: { ...METADATA, client_id: clientId } })).status).toBe(200);
    expect(seen).toEqual([
      ["register", null, ACCOUNT],
      ["update", clientId, ACCOUNT],
    ]);
  });

  it("DELETE answers 204, the client is gone, and the token no longer works", async () => {
    const { send, path, token, clientId, registry } = await registered();
    const deleted = await send(path, { method: "DELETE", headers: bearer(token) });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    await expect(registry.get(ACCOUNT, clientId)).rejects.toMatchObject({ code: "not_found" });
    expect((await send(path, { method: "DELETE", headers: bearer(token) })).status).toBe(401);
    expect((await send(path, { headers: bearer(token) })).status).toBe(401);
  });
});

describe("cors option", () => {
  it("answers preflights and lets any origin read responses when on", async () => {
    const { send, register } = setup({ cors: true, rateLimit: () => false });
    const origin = { origin: "https://inspector.example", "access-control-request-method": "POST" };
    const registration = await send("/register", { method: "OPTIONS", headers: origin });
    expect(registration.status).toBe(204);
    expect(registration.headers.get("access-control-allow-origin")).toBe("*");
    expect(registration.headers.get("access-control-allow-methods")).toBe("POST");
    expect(registration.headers.get("access-control-allow-headers")).toBe("Authorization, Content-Type");
    const management = await send("/register/abc", { method: "OPTIONS", headers: origin });
    expect(management.headers.get("access-control-allow-methods")).toBe("GET, PUT, DELETE");
    // Every other response carries the header too, refusals included (here: the rate limit).
    const limited = await register(METADATA, { origin: "https://inspector.example" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("access-control-allow-origin")).toBe("*");
    expect(limited.headers.get("access-control-expose-headers")).toBe("WWW-Authenticate, Retry-After");
  });

  it("is off by default: no CORS headers, OPTIONS is not allowed", async () => {
    const { send, register } = setup();
    const options = await send("/register", { method: "OPTIONS" });
    expect(options.status).toBe(405);
    expect((await register()).headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("createRegistrationHandler options", () => {
  it("needs exactly one of accountId and resolveAccount, and a usable path and baseUrl", () => {
    const { registry } = registryFixture();
    expect(() => createRegistrationHandler(registry, {})).toThrow(TypeError);
    expect(() => createRegistrationHandler(registry, { accountId: "a", resolveAccount: () => "b" })).toThrow(TypeError);
    expect(() => createRegistrationHandler(registry, { accountId: "a", path: "register" })).toThrow(/path/);
    expect(() => createRegistrationHandler(registry, { accountId: "a", baseUrl: "auth.example.com" })).toThrow(/baseUrl/);
    expect(() => createRegistrationHandler(registry, { accountId: "a", secretLifetimeSeconds: 0 })).toThrow(/secretLifetimeSeconds/);
    expect(() => createRegistrationHandler(registry, { accountId: "a", secretLifetimeSeconds: 200 * 365 * 86_400 })).toThrow(/secretLifetimeSeconds/);
    expect(() => createRegistrationHandler(registry, { accountId: "" })).toThrow(/accountId/);
  });
});

describe("registrationMetadata (RFC 8414 members)", () => {
  it("defaults the endpoint to <issuer>/register and lists the secret and public methods", () => {
    expect(registrationMetadata({ issuer: "https://auth.example.com/" })).toEqual({
      registration_endpoint: "https://auth.example.com/register",
      client_id_metadata_document_supported: false,
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    });
  });

  it("advertises signing algorithms when private_key_jwt is listed, and CIMD support when enabled", () => {
    const metadata = registrationMetadata({
      issuer: "https://auth.example.com",
      registrationEndpoint: "https://auth.example.com/oauth/register",
      clientIdMetadataDocumentSupported: true,
      tokenEndpointAuthMethods: ["none", "private_key_jwt"],
      tokenEndpointAuthSigningAlgorithms: ["ES256"],
    });
    expect(metadata).toEqual({
      registration_endpoint: "https://auth.example.com/oauth/register",
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ["none", "private_key_jwt"],
      token_endpoint_auth_signing_alg_values_supported: ["ES256"],
    });
    expect(registrationMetadata({ issuer: "https://a.example", tokenEndpointAuthMethods: ["private_key_jwt"] }).token_endpoint_auth_signing_alg_values_supported).not.toContain("HS256");
  });

  it("refuses an issuer or endpoint that is not an http(s) URL, and an empty method list", () => {
    expect(() => registrationMetadata({ issuer: "auth.example.com" })).toThrow(TypeError);
    expect(() => registrationMetadata({ issuer: "https://a.example", registrationEndpoint: "ftp://a.example/r" })).toThrow(TypeError);
    expect(() => registrationMetadata({ issuer: "https://a.example", tokenEndpointAuthMethods: [] })).toThrow(TypeError);
  });
});
