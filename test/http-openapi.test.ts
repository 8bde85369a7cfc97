import { readFile } from "node:fs/promises";
import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { generateOpenApiDocument, HTTP_ERROR_CODES } from "../src/http/index.js";
import { apiRequest, createHarness } from "./helpers/http.js";

const committedPath = new URL("../docs/openapi.json", import.meta.url);

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await validate(structuredClone(generateOpenApiDocument()) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
  });

  it("docs/openapi.json is exactly what `npm run openapi` generates", async () => {
    const committed = await readFile(committedPath, "utf8");
    expect(committed, "docs/openapi.json is stale: run `npm run openapi`").toBe(`${JSON.stringify(generateOpenApiDocument(), null, 2)}\n`);
  });

  it("describes the seven client operations at the Cloudflare paths", () => {
    const { paths } = generateOpenApiDocument();
    const operations = Object.entries(paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toEqual(
      expect.arrayContaining([
        "GET /accounts/{account_id}/oauth_clients",
        "POST /accounts/{account_id}/oauth_clients",
        "GET /accounts/{account_id}/oauth_clients/{oauth_client_id}",
        "PATCH /accounts/{account_id}/oauth_clients/{oauth_client_id}",
        "DELETE /accounts/{account_id}/oauth_clients/{oauth_client_id}",
        "POST /accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret",
        "DELETE /accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret",
        "GET /oauth/scopes",
      ]),
    );
  });

  it("request bodies come from the zod schemas: closed objects with the create-time requirements", () => {
    const schemas = generateOpenApiDocument().components.schemas as Record<string, { required?: string[]; additionalProperties?: boolean; properties: Record<string, unknown> }>;
    expect(schemas.CreateClientInput!.additionalProperties).toBe(false);
    expect(schemas.CreateClientInput!.required).toEqual(
      expect.arrayContaining(["client_name", "grant_types", "response_types", "redirect_uris", "scopes", "token_endpoint_auth_method"]),
    );
    expect(schemas.UpdateClientInput!.required ?? []).toEqual([]);
    expect(schemas.UpdateClientInput!.properties).toHaveProperty("visibility");
    expect(schemas.CreatedOAuthClient!.properties).toHaveProperty("client_secret");
  });

  it("lists every error code, each unique and ≥ 1000", () => {
    const codes = Object.values(HTTP_ERROR_CODES).map((row) => row.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(Math.min(...codes)).toBeGreaterThanOrEqual(1000);
    expect(Object.keys(generateOpenApiDocument()["x-error-codes"] as object)).toEqual(Object.keys(HTTP_ERROR_CODES));
  });

  it("docs/http.md documents every error code with its status and kind", async () => {
    const doc = await readFile(new URL("../docs/http.md", import.meta.url), "utf8");
    for (const [kind, row] of Object.entries(HTTP_ERROR_CODES)) {
      expect(doc, kind).toContain(`| ${row.code} | ${row.status} | \`${kind}\` |`);
    }
  });

  it("the served document uses the handler's basePath as its server", async () => {
    const { handler } = createHarness({ basePath: "/admin/api" });
    const response = await handler(new Request("http://localhost/admin/api/openapi.json"));
    expect(((await response.json()) as { servers: { url: string }[] }).servers).toEqual([{ url: "/admin/api" }]);
    const { handler: standard } = createHarness();
    const served = await (await standard(apiRequest("GET", "/openapi.json"))).text();
    expect(JSON.parse(served)).toEqual(JSON.parse(await readFile(committedPath, "utf8")));
  });
});
