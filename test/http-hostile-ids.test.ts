/**
 * NUL, other control characters and lone surrogates in the path or the
 * cursor get 400 (account, cursor) or 404 (client id) over HTTP, never a 500,
 * whatever the store (the store conformance case "hostile-identifiers"
 * proves the registry side on every adapter).
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry } from "../src/index.js";
import { createFetchHandler } from "../src/http/index.js";
import { apiRequest, envelopeOf, validCreateBody } from "./helpers/http.js";

function setup() {
  const registry = createOAuthClientRegistry(createMemoryStore());
  // Every account is allowed, as with serve's single token: the registry must stand alone.
  const handler = createFetchHandler(registry, { authorize: () => true, onError: () => {} });
  return { registry, handler };
}

describe("hostile identifiers over HTTP", () => {
  const encoded = ["%00", "a%00b", "%01", "x%1Fy", "%7F", "%C2%80"];

  it("answers 400 with a pointer for an account id carrying a control character", async () => {
    const { handler } = setup();
    for (const bad of encoded) {
      for (const [method, path] of [
        ["GET", `/accounts/${bad}/oauth_clients`],
        ["GET", `/accounts/${bad}/oauth_clients/0123456789abcdef0123456789abcdef`],
        ["DELETE", `/accounts/${bad}/oauth_clients/0123456789abcdef0123456789abcdef`],
      ] as const) {
        const response = await handler(apiRequest(method, path));
        expect(response.status, `${method} ${path}`).toBe(400);
        expect((await envelopeOf(response)).errors[0]?.source?.pointer).toBe("/account_id");
      }
    }
  });

  it("answers 404 for a client id carrying a control character", async () => {
    const { handler, registry } = setup();
    const created = await registry.create("acct", validCreateBody({ scopes: [] }) as never);
    for (const bad of [...encoded, `${created.client_id}%00`]) {
      for (const method of ["GET", "DELETE"]) {
        const response = await handler(apiRequest(method, `/accounts/acct/oauth_clients/${bad}`));
        expect(response.status, `${method} ${bad}`).toBe(404);
      }
      const rotate = await handler(apiRequest("POST", `/accounts/acct/oauth_clients/${bad}/rotate_secret`));
      expect(rotate.status).toBe(404);
    }
    expect((await registry.get("acct", created.client_id)).client_id).toBe(created.client_id);
  });

  it("answers 400 invalid_parameter for a cursor naming an impossible position", async () => {
    const { handler } = setup();
    for (const position of [["2025-01-01T00:00:00.000Z", "a\u0000b"], ["2025-01-01T00:00:00.000Z\u0000", "abc"], ["x", "abc"]]) {
      const cursor = btoa(JSON.stringify(position)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      const response = await handler(apiRequest("GET", `/accounts/acct/oauth_clients?per_page=5&cursor=${cursor}`));
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).errors[0]?.code).toBe(1002);
    }
  });
});
