/**
 * POST …/oauth_clients/{id}/verify_client_uri, the extension route that
 * checks a client's client_uri TXT record now: the v4 envelope with the
 * client, the update permission, If-Match, and promotion once it passed.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClient } from "../src/index.js";
import { createFetchHandler, HTTP_ERROR_CODES } from "../src/http/index.js";
import { ACCOUNT, apiRequest, envelopeOf, OTHER_ACCOUNT, READER_TOKEN, SCOPE_CATALOG, tokenAuthorize, validCreateBody } from "./helpers/http.js";

const clients = `/accounts/${ACCOUNT}/oauth_clients`;

/** A handler over a registry whose TXT records are the `txt` map (a host without an entry: ENOTFOUND). */
function harness() {
  const txt = new Map<string, string[][]>();
  const lookups: string[] = [];
  const registry = createOAuthClientRegistry(createMemoryStore(), {
    scopeCatalog: SCOPE_CATALOG,
    resolveTxt: async (host) => {
      lookups.push(host);
      const records = txt.get(host);
      if (!records) throw Object.assign(new Error(`queryTxt ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return records;
    },
  });
  const handler = createFetchHandler(registry, { authorize: tokenAuthorize, onError: () => {} });
  return { registry, handler, txt, lookups };
}

async function createWithClientUri(handler: (r: Request) => Promise<Response>, overrides: Record<string, unknown> = {}) {
  const response = await handler(
    apiRequest("POST", clients, {
      json: validCreateBody({ client_uri: "https://app.example.com/home", logo_uri: "https://app.example.com/logo.png", ...overrides }),
    }),
  );
  expect(response.status).toBe(200);
  return (await envelopeOf(response)).result as OAuthClient;
}

describe("POST …/verify_client_uri (extension)", () => {
  it("answers the client verified in the v4 envelope, with its new ETag, when the TXT record is published", async () => {
    const { handler, txt } = harness();
    const created = await createWithClientUri(handler);
    txt.set("app.example.com", [["v=spf1 -all"], [created.client_uri_verification!.text]]);
    const response = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`));
    expect(response.status).toBe(200);
    const envelope = await envelopeOf(response);
    expect(envelope).toMatchObject({ success: true, errors: [], messages: [] });
    const client = envelope.result as OAuthClient;
    expect(client.client_id).toBe(created.client_id);
    expect(client.client_uri_verification).toEqual({ status: "verified", text: created.client_uri_verification!.text });
    expect(response.headers.get("etag")).toMatch(/^"v\d+"$/);
    const read = await handler(apiRequest("GET", `${clients}/${created.client_id}`));
    expect(read.headers.get("etag")).toBe(response.headers.get("etag"));
    expect(((await envelopeOf(read)).result as OAuthClient).client_uri_verification?.status).toBe("verified");
  });

  it("answers failed when no record matches, and verifies on a later call once it is published", async () => {
    const { handler, txt } = harness();
    const created = await createWithClientUri(handler);
    const missing = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`, { json: {} }));
    expect(missing.status).toBe(200);
    expect(((await envelopeOf(missing)).result as OAuthClient).client_uri_verification?.status).toBe("failed");
    txt.set("app.example.com", [[created.client_uri_verification!.text]]);
    const again = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`));
    expect(((await envelopeOf(again)).result as OAuthClient).client_uri_verification?.status).toBe("verified");
  });

  it("a verified client is answered as it is, without a DNS lookup", async () => {
    const { handler, txt, lookups } = harness();
    const created = await createWithClientUri(handler);
    txt.set("app.example.com", [[created.client_uri_verification!.text]]);
    const first = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`));
    txt.delete("app.example.com");
    const second = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`));
    expect(((await envelopeOf(second)).result as OAuthClient).client_uri_verification?.status).toBe("verified");
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(lookups).toEqual(["app.example.com"]);
  });

  it("refuses a client without client_uri with 400 validation_failed at /client_uri", async () => {
    const { handler, lookups } = harness();
    const response = await handler(apiRequest("POST", clients, { json: validCreateBody() }));
    const { client_id } = (await envelopeOf(response)).result as OAuthClient;
    const refused = await handler(apiRequest("POST", `${clients}/${client_id}/verify_client_uri`));
    expect(refused.status).toBe(400);
    expect((await envelopeOf(refused)).errors).toEqual([
      { code: HTTP_ERROR_CODES.validation_failed.code, message: "the client has no client_uri to verify", source: { pointer: "/client_uri" } },
    ]);
    expect(lookups).toEqual([]);
  });

  it("honours If-Match: a stale version answers 412 and looks nothing up; the current one runs the check", async () => {
    const { handler, txt, lookups } = harness();
    const created = await createWithClientUri(handler);
    txt.set("app.example.com", [[created.client_uri_verification!.text]]);
    const path = `${clients}/${created.client_id}`;
    const etag = (await handler(apiRequest("GET", path))).headers.get("etag")!;
    await handler(apiRequest("PATCH", path, { json: { client_name: "Renamed" } }));
    const stale = await handler(apiRequest("POST", `${path}/verify_client_uri`, { headers: { "if-match": etag } }));
    expect(stale.status).toBe(412);
    expect((await envelopeOf(stale)).errors[0]?.code).toBe(HTTP_ERROR_CODES.precondition_failed.code);
    expect(lookups).toEqual([]);
    const current = (await handler(apiRequest("GET", path))).headers.get("etag")!;
    const fresh = await handler(apiRequest("POST", `${path}/verify_client_uri`, { headers: { "if-match": current } }));
    expect(fresh.status).toBe(200);
    expect(((await envelopeOf(fresh)).result as OAuthClient).client_uri_verification?.status).toBe("verified");
  });

  it("needs account.oauth-client.update: a read-only token gets 403, another account's client is 404", async () => {
    const { handler } = harness();
    const created = await createWithClientUri(handler);
    const reader = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`, { token: READER_TOKEN }));
    expect(reader.status).toBe(403);
    expect((await envelopeOf(reader)).errors[0]?.message).toBe("missing permission account.oauth-client.update");
    const elsewhere = await handler(apiRequest("POST", `/accounts/${OTHER_ACCOUNT}/oauth_clients/${created.client_id}/verify_client_uri`));
    expect(elsewhere.status).toBe(404);
    const unknown = await handler(apiRequest("POST", `${clients}/${"0".repeat(32)}/verify_client_uri`));
    expect(unknown.status).toBe(404);
  });

  it("takes no body and only POST: a body is 400, GET is 405 with Allow: POST", async () => {
    const { handler } = harness();
    const created = await createWithClientUri(handler);
    const withBody = await handler(apiRequest("POST", `${clients}/${created.client_id}/verify_client_uri`, { json: { client_uri: "https://x.example" } }));
    expect(withBody.status).toBe(400);
    const get = await handler(apiRequest("GET", `${clients}/${created.client_id}/verify_client_uri`));
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("promotion to public succeeds over HTTP once the check passed, and is refused before", async () => {
    const { handler, txt } = harness();
    const created = await createWithClientUri(handler, { scopes: ["zone.read"] });
    const path = `${clients}/${created.client_id}`;
    const early = await handler(apiRequest("PATCH", path, { json: { visibility: "public" } }));
    expect(early.status).toBe(400);
    expect((await envelopeOf(early)).errors.map((e) => e.source?.pointer)).toContain("/client_uri");
    txt.set("app.example.com", [[created.client_uri_verification!.text]]);
    expect((await handler(apiRequest("POST", `${path}/verify_client_uri`))).status).toBe(200);
    const promoted = await handler(apiRequest("PATCH", path, { json: { visibility: "public" } }));
    expect(promoted.status).toBe(200);
    const client = (await envelopeOf(promoted)).result as OAuthClient;
    expect(client.visibility).toBe("public");
    expect(client.promoted_at).toEqual(expect.any(String));
  });

  it("is marked as an extension in the OpenAPI document, with the update permission and If-Match", async () => {
    const { handler } = harness();
    const doc = (await (await handler(apiRequest("GET", "/openapi.json"))).json()) as {
      paths: Record<string, Record<string, { "x-extension"?: boolean; "x-permission"?: string; parameters?: { name: string }[] }>>;
    };
    const operation = doc.paths["/accounts/{account_id}/oauth_clients/{oauth_client_id}/verify_client_uri"]?.post;
    expect(operation?.["x-extension"]).toBe(true);
    expect(operation?.["x-permission"]).toBe("account.oauth-client.update");
    expect(operation?.parameters?.map((p) => p.name)).toContain("If-Match");
    const cloudflare = doc.paths["/accounts/{account_id}/oauth_clients/{oauth_client_id}"]?.patch;
    expect(cloudflare?.["x-extension"]).toBeUndefined();
  });
});
