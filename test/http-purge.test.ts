/**
 * GET|POST …/accounts/{a}/oauth_clients_purge, the extension route over
 * `purgeClients`: the preview lists (list permission) exactly what the
 * purge deletes (delete permission), both in bounded batches with a cursor.
 */
import { describe, expect, it } from "vitest";
import type { OAuthClient } from "../src/index.js";
import { createFetchHandler, HTTP_ERROR_CODES } from "../src/http/index.js";
import { MAX_IDLE_SECONDS } from "../src/http/extensions.js";
import { ACCOUNT, apiRequest, envelopeOf, OTHER_ACCOUNT, READER_TOKEN, SCOPE_CATALOG, tokenAuthorize, validCreateBody } from "./helpers/http.js";
import { registryFixture } from "./helpers/registry.js";

const purge = `/accounts/${ACCOUNT}/oauth_clients_purge`;
const DAY = 86_400_000;
const WEEK_SECONDS = 7 * 86_400;

/** An api client, three idle dcr clients and one dcr client used recently. */
async function harness() {
  const fixture = registryFixture({ scopeCatalog: SCOPE_CATALOG, counterIds: true });
  const { registry, clock } = fixture;
  const handler = createFetchHandler(registry, { authorize: tokenAuthorize, onError: () => {} });
  const api = await registry.create(ACCOUNT, validCreateBody() as never);
  const idle: string[] = [];
  for (let i = 0; i < 3; i++) idle.push((await registry.registerClient(ACCOUNT, validCreateBody() as never)).client.client_id);
  const used = await registry.registerClient(ACCOUNT, validCreateBody() as never);
  clock.advance(10 * DAY);
  await registry.authenticate(used.client.client_id, used.client_secret!);
  const ids = async () => (await registry.list(ACCOUNT)).clients.map((c) => c.client_id);
  return { ...fixture, handler, api: api.client_id, idle, used: used.client.client_id, ids };
}

describe("GET …/oauth_clients_purge (preview, extension)", () => {
  it("lists the idle self-registered clients as client objects, deleting nothing", async () => {
    const { handler, idle, ids, events } = await harness();
    const before = await ids();
    const eventCount = events.length;
    const response = await handler(apiRequest("GET", `${purge}?idle_for_seconds=${WEEK_SECONDS}`, { token: READER_TOKEN }));
    expect(response.status).toBe(200);
    const envelope = await envelopeOf(response);
    expect(envelope).toMatchObject({ success: true, errors: [], result_info: { count: 3, per_page: 100 } });
    expect(envelope.result_info).not.toHaveProperty("cursor");
    expect((envelope.result as OAuthClient[]).map((c) => [c.client_id, c.source])).toEqual(idle.map((id) => [id, "dcr"]));
    expect(await ids()).toEqual(before);
    expect(events.length).toBe(eventCount);
  });

  it("pages with per_page and cursor; source names other sources", async () => {
    const { handler, idle, api } = await harness();
    const first = await envelopeOf(await handler(apiRequest("GET", `${purge}?idle_for_seconds=${WEEK_SECONDS}&per_page=2`)));
    expect((first.result as OAuthClient[]).map((c) => c.client_id)).toEqual(idle.slice(0, 2));
    expect(first.result_info).toMatchObject({ count: 2, per_page: 2, cursor: expect.any(String) });
    const second = await envelopeOf(
      await handler(apiRequest("GET", `${purge}?idle_for_seconds=${WEEK_SECONDS}&per_page=2&cursor=${first.result_info!.cursor!}`)),
    );
    expect((second.result as OAuthClient[]).map((c) => c.client_id)).toEqual(idle.slice(2));
    const apiOnly = await envelopeOf(await handler(apiRequest("GET", `${purge}?idle_for_seconds=${WEEK_SECONDS}&source=api`)));
    expect((apiOnly.result as OAuthClient[]).map((c) => c.client_id)).toEqual([api]);
  });

  it("refuses missing, malformed, repeated and unknown query parameters with 400 invalid_parameter", async () => {
    const { handler } = await harness();
    const cases: [string, string][] = [
      ["", "idle_for_seconds is required"],
      ["idle_for_seconds=-1", `idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}`],
      ["idle_for_seconds=1.5", `idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}`],
      [`idle_for_seconds=${MAX_IDLE_SECONDS + 1}`, `idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}`],
      ["idle_for_seconds=60&per_page=101", "per_page must be an integer from 1 to 100"],
      ["idle_for_seconds=60&source=dcr,robot", "source must be one or more of api, import, dcr, cimd (comma-separated)"],
      ["idle_for_seconds=60&idle_for_days=1", "unknown query parameter idle_for_days"],
      ["idle_for_seconds=60&idle_for_seconds=70", "idle_for_seconds is given more than once"],
      ["idle_for_seconds=60&cursor=nope", "cursor is malformed: pass result_info.cursor of a previous page unchanged"],
    ];
    for (const [query, message] of cases) {
      const response = await handler(apiRequest("GET", `${purge}?${query}`));
      expect(response.status, query).toBe(400);
      expect((await envelopeOf(response)).errors, query).toEqual([{ code: HTTP_ERROR_CODES.invalid_parameter.code, message }]);
    }
  });
});

describe("POST …/oauth_clients_purge (extension)", () => {
  it("deletes what the preview listed and answers { deleted, next_cursor }", async () => {
    const { handler, idle, api, used, ids, events } = await harness();
    const preview = await envelopeOf(await handler(apiRequest("GET", `${purge}?idle_for_seconds=${WEEK_SECONDS}`)));
    const response = await handler(apiRequest("POST", purge, { json: { idle_for_seconds: WEEK_SECONDS } }));
    expect(response.status).toBe(200);
    const envelope = await envelopeOf(response);
    expect(envelope).toMatchObject({ success: true, errors: [] });
    expect(envelope.result).toEqual({ deleted: (preview.result as OAuthClient[]).map((c) => c.client_id), next_cursor: null });
    expect(envelope.result).toEqual({ deleted: idle, next_cursor: null });
    expect(await ids()).toEqual([api, used]);
    expect(events.filter((e) => e.type === "client.deleted").map((e) => [e.client_id, "reason" in e ? e.reason : undefined])).toEqual(
      idle.map((id) => [id, "purged"]),
    );
  });

  it("works in bounded batches: limit and cursor", async () => {
    const { handler, idle } = await harness();
    const first = await envelopeOf(await handler(apiRequest("POST", purge, { json: { idle_for_seconds: WEEK_SECONDS, limit: 2 } })));
    const batch = first.result as { deleted: string[]; next_cursor: string | null };
    expect(batch.deleted).toEqual(idle.slice(0, 2));
    expect(batch.next_cursor).toEqual(expect.any(String));
    const second = await envelopeOf(
      await handler(apiRequest("POST", purge, { json: { idle_for_seconds: WEEK_SECONDS, limit: 2, cursor: batch.next_cursor, sources: ["dcr", "cimd"] } })),
    );
    expect(second.result).toEqual({ deleted: idle.slice(2), next_cursor: null });
  });

  it("needs the delete permission; the preview needs list; another account's purge is 403", async () => {
    const asked: string[] = [];
    const { registry } = await harness();
    const spy = createFetchHandler(registry, { authorize: (_r, c) => (asked.push(c.permission), true), onError: () => {} });
    await spy(apiRequest("GET", `${purge}?idle_for_seconds=60`));
    await spy(apiRequest("POST", purge, { json: { idle_for_seconds: 99 * 86_400 } }));
    expect(asked).toEqual(["account.oauth-client.list", "account.oauth-client.delete"]);

    const { handler, ids } = await harness();
    const before = await ids();
    const reader = await handler(apiRequest("POST", purge, { json: { idle_for_seconds: 0 }, token: READER_TOKEN }));
    expect(reader.status).toBe(403);
    expect((await envelopeOf(reader)).errors[0]!.message).toContain("account.oauth-client.delete");
    const elsewhere = await handler(apiRequest("GET", `/accounts/${OTHER_ACCOUNT}/oauth_clients_purge?idle_for_seconds=0`, { token: READER_TOKEN }));
    expect(elsewhere.status).toBe(403);
    expect(await ids()).toEqual(before);
  });

  it("refuses a bad body with one issue per problem, each at its pointer, and deletes nothing", async () => {
    const { handler, ids } = await harness();
    const before = await ids();
    const response = await handler(
      apiRequest("POST", purge, { json: { idle_for_seconds: -5, sources: [], limit: 101, cursor: 7, dry_run: true } }),
    );
    expect(response.status).toBe(400);
    const code = HTTP_ERROR_CODES.validation_failed.code;
    expect((await envelopeOf(response)).errors).toEqual([
      { code, message: "unknown field dry_run", source: { pointer: "/dry_run" } },
      { code, message: `idle_for_seconds must be an integer from 0 to ${MAX_IDLE_SECONDS}`, source: { pointer: "/idle_for_seconds" } },
      { code, message: "sources must be a non-empty array of api, import, dcr, cimd", source: { pointer: "/sources" } },
      { code, message: "limit must be an integer from 1 to 100", source: { pointer: "/limit" } },
      { code, message: "cursor must be a string or null", source: { pointer: "/cursor" } },
    ]);
    const missing = await handler(apiRequest("POST", purge, { json: {} }));
    expect((await envelopeOf(missing)).errors).toEqual([{ code, message: "idle_for_seconds is required", source: { pointer: "/idle_for_seconds" } }]);
    const empty = await handler(apiRequest("POST", purge));
    expect((await envelopeOf(empty)).errors).toEqual([{ code, message: "a JSON object body is required", source: { pointer: "" } }]);
    const malformedCursor = await handler(apiRequest("POST", purge, { json: { idle_for_seconds: 0, cursor: "nope" } }));
    expect((await envelopeOf(malformedCursor)).errors[0]).toMatchObject({ code, source: { pointer: "/cursor" } });
    const text = await handler(apiRequest("POST", purge, { body: '{"idle_for_seconds":0}', headers: { "content-type": "text/plain" } }));
    expect(text.status).toBe(415);
    expect(await ids()).toEqual(before);
  });

  it("other methods are 405 with Allow; a client called purge is still reachable under oauth_clients", async () => {
    const { handler, registry } = await harness();
    const response = await handler(apiRequest("DELETE", purge));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD, POST");
    await registry.importClient(ACCOUNT, { ...(validCreateBody({ token_endpoint_auth_method: "none" }) as object), client_id: "purge" } as never);
    const read = await handler(apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients/purge`));
    expect(read.status).toBe(200);
    expect(((await envelopeOf(read)).result as OAuthClient).client_id).toBe("purge");
  });

  it("is documented in the OpenAPI document as an extension with its permissions", async () => {
    const { handler } = await harness();
    const doc = (await (await handler(apiRequest("GET", "/openapi.json", { token: null }))).json()) as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const item = doc.paths["/accounts/{account_id}/oauth_clients_purge"]!;
    expect(item.get).toMatchObject({ operationId: "previewPurge", "x-extension": true, "x-permission": "account.oauth-client.list" });
    expect(item.post).toMatchObject({
      operationId: "purgeClients",
      "x-extension": true,
      "x-permission": "account.oauth-client.delete",
      requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/PurgeInput" } } } },
    });
  });
});
