/**
 * POST …/rotate_secret with the optional `{ grace_period_seconds }` body (an
 * extension): a bodiless call is what Cloudflare's API and SDK send and
 * stays as it was; the body ends the previous secret after a grace period,
 * shown as the client's rotated_secret_expires_at.
 */
import { describe, expect, it } from "vitest";
import type { OAuthClient } from "../src/index.js";
import { createFetchHandler, HTTP_ERROR_CODES } from "../src/http/index.js";
import { MAX_GRACE_PERIOD_SECONDS } from "../src/http/extensions.js";
import { ACCOUNT, apiRequest, envelopeOf, SCOPE_CATALOG, tokenAuthorize, validCreateBody } from "./helpers/http.js";
import { registryFixture } from "./helpers/registry.js";

const clients = `/accounts/${ACCOUNT}/oauth_clients`;
const HOUR = 3_600_000;

async function harness() {
  const { registry, clock } = registryFixture({ scopeCatalog: SCOPE_CATALOG });
  const handler = createFetchHandler(registry, { authorize: tokenAuthorize, onError: () => {} });
  const created = await handler(apiRequest("POST", clients, { json: validCreateBody() }));
  const client = (await envelopeOf(created)).result as OAuthClient & { client_secret: string };
  const rotate = (init: Parameters<typeof apiRequest>[2] = {}) => handler(apiRequest("POST", `${clients}/${client.client_id}/rotate_secret`, init));
  const read = async () => (await envelopeOf(await handler(apiRequest("GET", `${clients}/${client.client_id}`)))).result as OAuthClient;
  return { registry, clock, handler, client, rotate, read };
}

describe("POST …/rotate_secret { grace_period_seconds } (extension)", () => {
  it("without a body rotates as before: the previous secret lasts until deleted, no end is shown", async () => {
    const { rotate, read, registry, client } = await harness();
    const response = await rotate();
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(Object.keys((await envelopeOf(response)).result as object)).toEqual(["client_secret"]);
    const after = await read();
    expect(after.has_rotated_secret).toBe(true);
    expect(after).not.toHaveProperty("rotated_secret_expires_at");
    expect((await registry.authenticate(client.client_id, client.client_secret))?.matched).toBe("rotated");
  });

  it("an empty object, null, and an empty body with a JSON content type are the same as no body", async () => {
    for (const init of [{ json: {} }, { json: null }, { body: "", headers: { "content-type": "application/json" } }]) {
      const { rotate, read } = await harness();
      expect((await rotate(init)).status, JSON.stringify(init)).toBe(200);
      const after = await read();
      expect(after.has_rotated_secret).toBe(true);
      expect(after).not.toHaveProperty("rotated_secret_expires_at");
    }
  });

  it("ends the previous secret after the grace period, shown as rotated_secret_expires_at", async () => {
    const { rotate, read, registry, client, clock } = await harness();
    const end = new Date(clock.now().getTime() + 2 * HOUR).toISOString();
    const response = await rotate({ json: { grace_period_seconds: 7200 } });
    expect(response.status).toBe(200);
    const { client_secret: newSecret } = (await envelopeOf(response)).result as { client_secret: string };
    expect(await read()).toMatchObject({ has_rotated_secret: true, rotated_secret_expires_at: end });
    clock.advance(2 * HOUR - 1);
    expect((await registry.authenticate(client.client_id, client.client_secret))?.matched).toBe("rotated");
    clock.advance(1);
    expect(await registry.authenticate(client.client_id, client.client_secret)).toBeNull();
    expect((await registry.authenticate(client.client_id, newSecret))?.matched).toBe("current");
    const after = await read();
    expect(after.has_rotated_secret).toBe(false);
    expect(after).not.toHaveProperty("rotated_secret_expires_at");
  });

  it("refuses a grace period out of range or not an integer, and unknown fields, each at its pointer; nothing rotates", async () => {
    const { rotate, read } = await harness();
    const range = `grace_period_seconds must be an integer from 1 to ${MAX_GRACE_PERIOD_SECONDS} (90 days)`;
    for (const value of [0, -1, 1.5, MAX_GRACE_PERIOD_SECONDS + 1, "3600", null, true]) {
      const response = await rotate({ json: { grace_period_seconds: value } });
      expect(response.status, JSON.stringify(value)).toBe(400);
      expect((await envelopeOf(response)).errors).toEqual([
        { code: HTTP_ERROR_CODES.validation_failed.code, message: range, source: { pointer: "/grace_period_seconds" } },
      ]);
    }
    const typo = await rotate({ json: { grace_period_secs: 60, "a/b": 1 } });
    expect(typo.status).toBe(400);
    expect((await envelopeOf(typo)).errors).toEqual([
      { code: HTTP_ERROR_CODES.validation_failed.code, message: "unknown field grace_period_secs", source: { pointer: "/grace_period_secs" } },
      { code: HTTP_ERROR_CODES.validation_failed.code, message: "unknown field a/b", source: { pointer: "/a~1b" } },
    ]);
    for (const body of [[], "3600", 3600]) {
      const response = await rotate({ json: body });
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).errors[0]).toMatchObject({ message: "must be a JSON object", source: { pointer: "" } });
    }
    expect((await read()).has_rotated_secret).toBe(false);
  });

  it("a body that is not declared JSON is 415, malformed JSON 400, as on the other routes", async () => {
    const { rotate, read } = await harness();
    const text = await rotate({ body: '{"grace_period_seconds":60}', headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    expect((await envelopeOf(text)).errors[0]!.code).toBe(HTTP_ERROR_CODES.unsupported_media_type.code);
    const broken = await rotate({ body: "{", headers: { "content-type": "application/json" } });
    expect(broken.status).toBe(400);
    expect((await envelopeOf(broken)).errors[0]!.code).toBe(HTTP_ERROR_CODES.malformed_json.code);
    expect((await read()).has_rotated_secret).toBe(false);
  });

  it("the grace period does not lift the 409 while a rotated secret exists", async () => {
    const { rotate } = await harness();
    expect((await rotate({ json: { grace_period_seconds: 60 } })).status).toBe(200);
    const again = await rotate({ json: { grace_period_seconds: 60 } });
    expect(again.status).toBe(409);
    expect((await envelopeOf(again)).errors[0]!.code).toBe(HTTP_ERROR_CODES.rotated_secret_exists.code);
  });

  it("is documented in the OpenAPI document as an optional body", async () => {
    const { handler } = await harness();
    const doc = (await (await handler(apiRequest("GET", "/openapi.json", { token: null }))).json()) as {
      paths: Record<string, Record<string, { requestBody?: { required: boolean }; description: string }>>;
      components: { schemas: Record<string, { properties: Record<string, unknown>; additionalProperties?: boolean }> };
    };
    const post = doc.paths["/accounts/{account_id}/oauth_clients/{oauth_client_id}/rotate_secret"]!.post!;
    expect(post.requestBody?.required).toBe(false);
    expect(post.description).toContain("grace_period_seconds");
    expect(Object.keys(doc.components.schemas.RotateSecretInput!.properties)).toEqual(["grace_period_seconds"]);
    expect(doc.components.schemas.RotateSecretInput!.additionalProperties).toBe(false);
    expect(doc.components.schemas.OAuthClient!.properties).toHaveProperty("rotated_secret_expires_at");
  });
});
