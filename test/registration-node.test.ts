/**
 * The registration handler served by `createNodeRequestListener` directly:
 * the bridge calls its entry point below the fetch signature (no `Request`,
 * body stream or `Response`), so everything the fetch handler's tests check
 * on statuses, headers, bodies and hooks is checked here again over a real
 * socket: the answers must not depend on how the handler is reached.
 */
import { once } from "node:events";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { callHandlerOf } from "../src/http/call.js";
import { createNodeRequestListener } from "../src/http/index.js";
import { createRegistrationHandler, type RegistrationHandlerOptions } from "../src/registration/index.js";
import { registryFixture } from "./helpers/registry.js";

const ACCOUNT = "registered";
const METADATA = { client_name: "Tool", redirect_uris: ["https://tool.example.com/cb"], scope: "profile" };

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function setup(options: Partial<RegistrationHandlerOptions> = {}) {
  const fixture = registryFixture();
  const onError = vi.fn();
  const handler = createRegistrationHandler(fixture.registry, { accountId: ACCOUNT, now: fixture.clock.now, onError, ...options });
  const server = createServer(createNodeRequestListener(handler));
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Every answer, checked for the headers every registration answer carries. */
  const send = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${origin}${path}`, init);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    const text = await response.text();
    const body = text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>);
    if (body !== undefined) expect(response.headers.get("content-type")).toBe("application/json");
    return { status: response.status, headers: response.headers, body: body as Record<string, unknown> & { issues?: { path: string }[] } };
  };
  const register = (json: unknown = METADATA, headers: Record<string, string> = {}) =>
    send("/register", { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(json) });
  const stored = async () => (await fixture.registry.list(ACCOUNT)).clients;
  return { ...fixture, handler, origin, send, register, stored, onError };
}

describe("the registration handler behind createNodeRequestListener", () => {
  it("is served below the fetch signature", async () => {
    const { handler } = await setup();
    expect(callHandlerOf(handler)).toBeTypeOf("function");
  });

  it("registers (201), then reads, updates and deletes with the registration access token", async () => {
    const { register, send, origin, registry, stored } = await setup();
    const created = await register();
    expect(created.status).toBe(201);
    const clientId = created.body.client_id as string;
    expect(created.body).toMatchObject({
      client_name: "Tool",
      scope: "profile",
      token_endpoint_auth_method: "client_secret_basic",
      client_secret_expires_at: 0,
      // Without baseUrl, the origin of the request (the Host header the client sent).
      registration_client_uri: `${origin}/register/${clientId}`,
    });
    expect(await registry.authenticate(clientId, created.body.client_secret as string)).toMatchObject({ account_id: ACCOUNT, matched: "current" });
    const token = created.body.registration_access_token as string;
    const auth = { authorization: `Bearer ${token}` };

    const read = await send(`/register/${clientId}`, { headers: auth });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: clientId, registration_access_token: token });

    const updated = await send(`/register/${clientId}`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ ...METADATA, client_id: clientId, client_name: "Tool 2" }),
    });
    expect(updated.status).toBe(200);
    expect(updated.body.client_name).toBe("Tool 2");
    const rotated = { authorization: `Bearer ${updated.body.registration_access_token as string}` };
    expect((await send(`/register/${clientId}`, { headers: auth })).status).toBe(401);

    const deleted = await send(`/register/${clientId}`, { method: "DELETE", headers: rotated });
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect(await stored()).toEqual([]);
  });

  it("builds registration_client_uri from baseUrl, never from the Host header", async () => {
    const { register } = await setup({ baseUrl: "https://auth.example.com/" });
    const created = await register(METADATA, {});
    expect(created.body.registration_client_uri).toBe(`https://auth.example.com/register/${created.body.client_id as string}`);
  });

  it("refuses bodies as the fetch handler does: 400 (not an object, malformed, duplicate names), 415, 413", async () => {
    const { send, stored } = await setup({ maxBodyBytes: 256 });
    const post = (body: string, contentType = "application/json") => send("/register", { method: "POST", body, headers: { "content-type": contentType } });
    for (const body of ["[]", "", "{", '{"client_name":"A","client_name":"B","redirect_uris":["https://a.example/cb"]}']) {
      const response = await post(body);
      expect(response.status, body).toBe(400);
      expect(response.body.error, body).toBe("invalid_client_metadata");
    }
    expect((await post(JSON.stringify(METADATA), "text/plain")).status).toBe(415);
    const large = await post(JSON.stringify({ ...METADATA, client_name: "x".repeat(300) }));
    expect(large.status).toBe(413);
    expect(large.body).toMatchObject({ error: "invalid_request", error_description: "the request body exceeds 256 bytes" });
    expect(await stored()).toEqual([]);
  });

  it("answers a body declared too large without reading it, and the connection carries the next request", async () => {
    const { origin, stored } = await setup({ maxBodyBytes: 256 });
    const { port } = new URL(origin);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port, method: "POST", path: "/register", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
            res.on("end", () => resolve({ status: res.statusCode!, text }));
          },
        );
        req.on("error", reject);
        req.end(body);
      });
    try {
      expect((await post(JSON.stringify({ ...METADATA, client_name: "x".repeat(2000) }))).status).toBe(413);
      const next = await post(JSON.stringify(METADATA));
      expect(next.status).toBe(201);
      expect(await stored()).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  it("hands the hooks a Request with the method, URL and headers of node's request", async () => {
    const seen: { method: string; url: string; forwarded: string | null; authorization: string | null }[] = [];
    const rateLimit = vi.fn((request: Request) => {
      seen.push({ method: request.method, url: request.url, forwarded: request.headers.get("x-forwarded-for"), authorization: request.headers.get("authorization") });
      return request.headers.get("x-forwarded-for") !== "203.0.113.9";
    });
    const initialAccessToken = vi.fn((token: string | null) => token === "iat-1");
    const resolveAccount = vi.fn((request: Request) => (new URL(request.url).searchParams.get("tenant") === "b" ? "tenant-b" : ACCOUNT));
    const { send, origin, registry, onError } = await setup({ accountId: undefined, resolveAccount, rateLimit, initialAccessToken, rateLimitRetryAfterSeconds: 30 });
    const post = (path: string, headers: Record<string, string>) =>
      send(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(METADATA) });

    const limited = await post("/register", { "x-forwarded-for": "203.0.113.9" });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("30");
    const missing = await post("/register", {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toBe("Bearer");
    const created = await post("/register?tenant=b", { authorization: "Bearer iat-1", "x-forwarded-for": "198.51.100.1" });
    expect(created.status).toBe(201);
    expect(await registry.get("tenant-b", created.body.client_id as string)).toMatchObject({ source: "dcr" });
    expect(seen).toEqual([
      { method: "POST", url: `${origin}/register`, forwarded: "203.0.113.9", authorization: null },
      { method: "POST", url: `${origin}/register`, forwarded: null, authorization: null },
      { method: "POST", url: `${origin}/register?tenant=b`, forwarded: "198.51.100.1", authorization: "Bearer iat-1" },
    ]);
    expect(initialAccessToken.mock.calls.map(([token]) => token)).toEqual([null, "iat-1"]);
    expect(onError).not.toHaveBeenCalled();
  });

  it("adds the CORS headers to every answer and answers preflights, when on", async () => {
    const { send, register } = await setup({ cors: true });
    const preflight = await send("/register", { method: "OPTIONS", headers: { origin: "https://inspector.example", "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST");
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    const created = await register(METADATA, { origin: "https://inspector.example" });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("*");
    expect(created.headers.get("access-control-expose-headers")).toBe("WWW-Authenticate, Retry-After");
  });

  it("405 with Allow, 404 outside the path, and a reported 500 when a hook crashes", async () => {
    const { send, onError } = await setup({
      policy: () => {
        throw new Error("policy crashed");
      },
    });
    const get = await send("/register");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect((await send("/elsewhere")).status).toBe(404);
    const crashed = await send("/register", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(METADATA) });
    expect(crashed.status).toBe(500);
    expect(crashed.body).toEqual({ error: "server_error", error_description: "internal server error" });
    expect(onError).toHaveBeenCalledTimes(1);
    const [failure, request] = onError.mock.calls[0]! as [Error, Request];
    expect(failure.message).toBe("policy crashed");
    expect(request.method).toBe("POST");
    expect(request).toBeInstanceOf(Request);
  });
});
