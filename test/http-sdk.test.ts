import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Cloudflare from "cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeRequestListener } from "../src/http/index.js";
import { ACCOUNT, ADMIN_TOKEN, READER_TOKEN, createHarness, validCreateBody, type Harness } from "./helpers/http.js";

let server: Server;
let baseURL: string;
let harness: Harness;

beforeAll(async () => {
  harness = createHarness();
  server = createServer(createNodeRequestListener(harness.handler));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sdk = (apiToken = ADMIN_TOKEN) => new Cloudflare({ apiToken, baseURL, maxRetries: 0 });

describe("the official cloudflare SDK against the local server", () => {
  it("runs all seven iam.oauthClients methods", async () => {
    const cf = sdk();
    const created = await cf.iam.oauthClients.create({
      account_id: ACCOUNT,
      client_name: "SDK app",
      grant_types: ["authorization_code", "refresh_token"],
      redirect_uris: ["https://example.com/callback"],
      response_types: ["code"],
      scopes: ["zone.read"],
      token_endpoint_auth_method: "client_secret_post",
      allowed_cors_origins: ["https://Example.com/"],
      client_uri: "https://example.com",
    });
    expect(created.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.client_secret).toBeTruthy();
    expect(created.allowed_cors_origins).toEqual(["https://Example.com/"]); // kept as sent
    expect(created.client_uri_verification?.status).toBe("pending");

    const fetched = await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT });
    expect(fetched).toMatchObject({ client_id: created.client_id, client_name: "SDK app", visibility: "private" });

    const updated = await cf.iam.oauthClients.update(created.client_id, {
      account_id: ACCOUNT,
      client_name: "SDK app v2",
      response_types: ["code", "id_token"],
    });
    expect(updated.client_name).toBe("SDK app v2");
    expect(updated.scopes).toEqual(["zone.read", "openid", "offline_access"]);
    // Only the account id: the SDK sends {} as the body.
    expect((await cf.iam.oauthClients.update(created.client_id, { account_id: ACCOUNT })).client_name).toBe("SDK app v2");

    const listed = [];
    for await (const client of cf.iam.oauthClients.list({ account_id: ACCOUNT })) listed.push(client.client_id);
    expect(listed).toContain(created.client_id);

    const rotated = await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT });
    expect(rotated.client_secret).toBeTruthy();
    expect((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).has_rotated_secret).toBe(true);
    expect((await harness.registry.authenticate(created.client_id, created.client_secret!))?.matched).toBe("rotated");

    const retired = await cf.iam.oauthClients.deleteRotatedSecret(created.client_id, { account_id: ACCOUNT });
    expect(retired).toEqual({ id: created.client_id });
    expect((await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })).has_rotated_secret).toBe(false);

    const deleted = await cf.iam.oauthClients.delete(created.client_id, { account_id: ACCOUNT });
    expect(deleted).toEqual({ id: created.client_id });
    expect(await harness.registry.findClient(created.client_id)).toBeNull();
  });

  it("lists the scope catalog through iam.oauthScopes.list", async () => {
    const ids = [];
    for await (const scope of sdk().iam.oauthScopes.list()) ids.push(scope.id);
    expect(ids).toEqual(["zone.read", "zone.edit", "account.read"]);
  });

  it("sees our errors as its typed errors, with our codes and pointers", async () => {
    const cf = sdk();
    const invalid = await cf.iam.oauthClients
      .create({ account_id: ACCOUNT, ...validCreateBody({ redirect_uris: ["http://evil.example.com/cb"] }) } as never)
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Cloudflare.BadRequestError);
    expect((invalid as InstanceType<typeof Cloudflare.BadRequestError>).errors).toEqual([
      expect.objectContaining({ code: 1000, source: { pointer: "/redirect_uris/0" } }),
    ]);

    const missing = await cf.iam.oauthClients.get("0".repeat(32), { account_id: ACCOUNT }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Cloudflare.NotFoundError);

    const created = await cf.iam.oauthClients.create({ account_id: ACCOUNT, ...validCreateBody() } as never);
    await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT });
    const conflict = await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(Cloudflare.ConflictError);
    expect((conflict as InstanceType<typeof Cloudflare.ConflictError>).errors[0]).toMatchObject({ code: 1301 });

    const nothingToDelete = sdk();
    await nothingToDelete.iam.oauthClients.deleteRotatedSecret(created.client_id, { account_id: ACCOUNT });
    const again = await nothingToDelete.iam.oauthClients.deleteRotatedSecret(created.client_id, { account_id: ACCOUNT }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(Cloudflare.NotFoundError);

    const unauthenticated = await sdk("wrong-token").iam.oauthClients.list({ account_id: ACCOUNT }).catch((e: unknown) => e);
    expect(unauthenticated).toBeInstanceOf(Cloudflare.AuthenticationError);

    const forbidden = await sdk(READER_TOKEN)
      .iam.oauthClients.delete(created.client_id, { account_id: ACCOUNT })
      .catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(Cloudflare.PermissionDeniedError);
    expect(await harness.registry.findClient(created.client_id)).not.toBeNull();
  });

  it("rotateSecret sends no body, so the grace-period extension stays out of its way: the old secret lasts until deleted", async () => {
    const sent: { method: string; url: string; body: unknown }[] = [];
    const recording: typeof fetch = async (input, init) => {
      sent.push({ method: init?.method ?? "GET", url: String(input), body: init?.body ?? null });
      return fetch(input, init);
    };
    const cf = new Cloudflare({ apiToken: ADMIN_TOKEN, baseURL, maxRetries: 0, fetch: recording });
    const created = await cf.iam.oauthClients.create({ account_id: ACCOUNT, ...validCreateBody() } as never);
    const rotated = await cf.iam.oauthClients.rotateSecret(created.client_id, { account_id: ACCOUNT });
    expect(rotated.client_secret).toBeTruthy();
    const rotation = sent.find((r) => r.method === "POST" && r.url.endsWith("/rotate_secret"))!;
    expect(rotation.body ?? null).toBeNull();
    const read = (await cf.iam.oauthClients.get(created.client_id, { account_id: ACCOUNT })) as { has_rotated_secret?: boolean };
    expect(read.has_rotated_secret).toBe(true);
    // No grace period and no TTL on this registry: the old secret lasts until deleted, no end is shown.
    expect(read).not.toHaveProperty("rotated_secret_expires_at");
    await cf.iam.oauthClients.deleteRotatedSecret(created.client_id, { account_id: ACCOUNT });
  });
});
