/**
 * A real client nobody here wrote: openid-client 6 discovers a loopback
 * authorization server from its RFC 8414 metadata (with the members of
 * `registrationMetadata`) and registers through `dynamicClientRegistration`.
 * openid-client and oauth4webapi offer no RFC 7592 calls, so the read,
 * update and delete of that registration use plain `fetch`, with the
 * registration access token and URI openid-client received.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as client from "openid-client";
import { afterEach, describe, expect, it } from "vitest";
import { createNodeRequestListener } from "../src/http/index.js";
import { createRegistrationHandler, registrationMetadata, type RegistrationHandlerOptions } from "../src/registration/index.js";
import { registryFixture } from "./helpers/registry.js";

const ACCOUNT = "registered";
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** An authorization server on 127.0.0.1: RFC 8414 metadata and the registration handler. */
async function authorizationServer(options: Partial<RegistrationHandlerOptions> = {}) {
  const fixture = registryFixture();
  const register = createRegistrationHandler(fixture.registry, { accountId: ACCOUNT, now: fixture.clock.now, onError: () => {}, ...options });
  let issuer = "";
  const handler = async (request: Request): Promise<Response> => {
    if (new URL(request.url).pathname === "/.well-known/oauth-authorization-server") {
      return Response.json({
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        response_types_supported: ["code"],
        ...registrationMetadata({ issuer }),
      });
    }
    return register(request);
  };
  const server = createServer(createNodeRequestListener(handler));
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ...fixture, issuer };
}

/** openid-client refuses plain http unless told; the server only listens on loopback. */
const insecure = { algorithm: "oauth2" as const, execute: [client.allowInsecureRequests] };

describe("openid-client dynamic registration against the handler", () => {
  it("registers, then reads, updates and deletes the registration (RFC 7592)", async () => {
    const { issuer, registry } = await authorizationServer();
    const config = await client.dynamicClientRegistration(
      new URL(issuer),
      { client_name: "openid-client test", redirect_uris: ["http://127.0.0.1:8080/cb"], scope: "profile", contacts: ["dev@example.com"] },
      undefined,
      insecure,
    );
    const registered = config.clientMetadata();
    expect(registered).toMatchObject({ client_name: "openid-client test", token_endpoint_auth_method: "client_secret_basic", client_secret_expires_at: 0 });
    expect(config.serverMetadata().registration_endpoint).toBe(`${issuer}/register`);
    const clientId = registered.client_id;
    expect(await registry.authenticate(clientId, registered.client_secret as string)).toMatchObject({ account_id: ACCOUNT, matched: "current" });
    expect(await registry.get(ACCOUNT, clientId)).toMatchObject({ source: "dcr", scopes: ["profile"] });

    const uri = registered.registration_client_uri as string;
    const token = registered.registration_access_token as string;
    expect(uri).toBe(`${issuer}/register/${clientId}`);

    const read = await fetch(uri, { headers: { authorization: `Bearer ${token}` } });
    expect(read.status).toBe(200);
    expect(read.headers.get("cache-control")).toBe("no-store");
    expect(await read.json()).toMatchObject({ client_id: clientId, client_name: "openid-client test", scope: "profile" });

    // RFC 7592 §2.2: send back everything read, changed; the response-only members are ignored.
    const update = await fetch(uri, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ ...registered, client_name: "renamed", redirect_uris: ["http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb2"] }),
    });
    expect(update.status).toBe(200);
    const updated = (await update.json()) as Record<string, unknown>;
    expect(updated).toMatchObject({ client_id: clientId, client_name: "renamed" });
    expect(await registry.get(ACCOUNT, clientId)).toMatchObject({ client_name: "renamed", redirect_uris: ["http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb2"] });
    expect(await registry.authenticate(clientId, registered.client_secret as string)).toMatchObject({ matched: "current" });
    const rotated = updated.registration_access_token as string;
    expect((await fetch(uri, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const deleted = await fetch(uri, { method: "DELETE", headers: { authorization: `Bearer ${rotated}` } });
    expect(deleted.status).toBe(204);
    await expect(registry.get(ACCOUNT, clientId)).rejects.toMatchObject({ code: "not_found" });
  });

  it('registers an OpenID Connect code-flow client with scope "openid profile" and reads openid back', async () => {
    const { issuer, registry } = await authorizationServer();
    // openid-client's defaults: response_types ["code"], grant_types ["authorization_code"].
    const config = await client.dynamicClientRegistration(
      new URL(issuer),
      { client_name: "OIDC app", redirect_uris: ["http://127.0.0.1:8080/cb"], scope: "openid profile" },
      undefined,
      insecure,
    );
    const registered = config.clientMetadata();
    expect(registered).toMatchObject({ response_types: ["code"], scope: "profile openid" });
    expect(await registry.get(ACCOUNT, registered.client_id)).toMatchObject({ scopes: ["profile", "openid"] });
    const read = await fetch(registered.registration_client_uri as string, {
      headers: { authorization: `Bearer ${registered.registration_access_token as string}` },
    });
    expect(await read.json()).toMatchObject({ scope: "profile openid" });
  });

  it("registers a public client and sends the initial access token it was given", async () => {
    const { issuer, registry } = await authorizationServer({ initialAccessToken: (token) => token === "iat-secret" });
    const metadata = { redirect_uris: ["http://127.0.0.1:9000/cb"], token_endpoint_auth_method: "none" };
    const refused = client.dynamicClientRegistration(new URL(issuer), metadata, client.None(), insecure);
    await expect(refused).rejects.toMatchObject({ status: 401 });
    expect((await registry.list(ACCOUNT)).clients).toEqual([]);

    const config = await client.dynamicClientRegistration(new URL(issuer), metadata, client.None(), { ...insecure, initialAccessToken: "iat-secret" });
    expect(config.clientMetadata()).toMatchObject({ token_endpoint_auth_method: "none", client_name: "127.0.0.1:9000" });
    expect(config.clientMetadata()).not.toHaveProperty("client_secret");
  });

  it("sees a refusal as an OAuth error response with the RFC 7591 code", async () => {
    const { issuer, registry } = await authorizationServer();
    const attempt = client.dynamicClientRegistration(new URL(issuer), { redirect_uris: ["http://app.example.com/cb"] }, undefined, insecure);
    await expect(attempt).rejects.toBeInstanceOf(client.ResponseBodyError);
    await expect(attempt).rejects.toMatchObject({ status: 400, error: "invalid_redirect_uri", error_description: expect.stringContaining("https") });
    expect((await registry.list(ACCOUNT)).clients).toEqual([]);
  });
});
