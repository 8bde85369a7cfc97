import { describe, expect, it, vi } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClientRegistry } from "../src/index.js";
import type { ClientStore } from "../src/model/store.js";
import {
  createFetchHandler,
  HTTP_ERROR_CODES,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  type Authorize,
} from "../src/http/index.js";
import {
  ACCOUNT,
  OTHER_ACCOUNT,
  READER_TOKEN,
  SCOPE_CATALOG,
  apiRequest,
  createHarness,
  envelopeOf,
  validCreateBody,
} from "./helpers/http.js";

const clients = `/accounts/${ACCOUNT}/oauth_clients`;

async function createClient(handler: (r: Request) => Promise<Response>, overrides: Record<string, unknown> = {}) {
  const response = await handler(apiRequest("POST", clients, { json: validCreateBody(overrides) }));
  expect(response.status).toBe(200);
  return (await envelopeOf(response)).result as { client_id: string; client_secret?: string };
}

async function accountSnapshot(registry: OAuthClientRegistry, account = ACCOUNT) {
  return (await registry.list(account, { limit: 100 })).clients;
}

describe("createFetchHandler: the seven client operations", () => {
  it("create answers 200 with the envelope, the secret, and Cache-Control: no-store", async () => {
    const { handler, registry } = createHarness();
    const response = await handler(apiRequest("POST", clients, { json: validCreateBody() }));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = await envelopeOf(response);
    expect(body).toMatchObject({ success: true, errors: [], messages: [] });
    const created = body.result as { client_id: string; client_secret: string; scopes: string[] };
    expect(created.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.client_secret.length).toBeGreaterThanOrEqual(43);
    expect(created.scopes).toEqual(["zone.read", "offline_access"]);
    expect((await registry.authenticate(created.client_id, created.client_secret))?.matched).toBe("current");
  });

  it("get returns the client without its secret and without no-store", async () => {
    const { handler } = createHarness();
    const created = await createClient(handler);
    const response = await handler(apiRequest("GET", `${clients}/${created.client_id}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBeNull();
    const result = (await envelopeOf(response)).result as Record<string, unknown>;
    expect(result.client_id).toBe(created.client_id);
    expect(result).not.toHaveProperty("client_secret");
  });

  it("patch changes only the fields sent; {} changes nothing", async () => {
    const { handler, registry } = createHarness();
    const created = await createClient(handler);
    const renamed = await handler(apiRequest("PATCH", `${clients}/${created.client_id}`, { json: { client_name: "Renamed" } }));
    expect(renamed.status).toBe(200);
    expect((await envelopeOf(renamed)).result).toMatchObject({ client_name: "Renamed", scopes: ["zone.read", "offline_access"] });
    const empty = await handler(apiRequest("PATCH", `${clients}/${created.client_id}`, { json: {} }));
    expect(empty.status).toBe(200);
    expect((await registry.get(ACCOUNT, created.client_id)).client_name).toBe("Renamed");
  });

  it("delete answers { id } and the client is gone", async () => {
    const { handler, registry } = createHarness();
    const created = await createClient(handler);
    const response = await handler(apiRequest("DELETE", `${clients}/${created.client_id}`));
    expect(response.status).toBe(200);
    expect((await envelopeOf(response)).result).toEqual({ id: created.client_id });
    expect(await registry.findClient(created.client_id)).toBeNull();
    const again = await handler(apiRequest("GET", `${clients}/${created.client_id}`));
    expect(again.status).toBe(404);
    expect((await envelopeOf(again)).errors[0]!.code).toBe(HTTP_ERROR_CODES.not_found.code);
  });

  it("rotate (no body, no content-type) → second rotate 409 → delete rotated → delete again 404", async () => {
    const { handler, registry } = createHarness();
    const created = await createClient(handler);
    const rotate = () =>
      handler(new Request(`http://localhost/client/v4${clients}/${created.client_id}/rotate_secret`, {
        method: "POST",
        headers: { authorization: "Bearer admin-token" },
      }));
    const first = await rotate();
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    const { client_secret: newSecret } = (await envelopeOf(first)).result as { client_secret: string };
    expect((await registry.authenticate(created.client_id, newSecret))?.matched).toBe("current");
    expect((await registry.authenticate(created.client_id, created.client_secret!))?.matched).toBe("rotated");

    const second = await rotate();
    expect(second.status).toBe(409);
    expect(second.headers.get("x-should-retry")).toBe("false");
    expect((await envelopeOf(second)).errors[0]!.code).toBe(HTTP_ERROR_CODES.rotated_secret_exists.code);

    const retire = await handler(apiRequest("DELETE", `${clients}/${created.client_id}/rotate_secret`));
    expect(retire.status).toBe(200);
    expect((await envelopeOf(retire)).result).toEqual({ id: created.client_id });
    expect(await registry.authenticate(created.client_id, created.client_secret!)).toBeNull();

    const nothingLeft = await handler(apiRequest("DELETE", `${clients}/${created.client_id}/rotate_secret`));
    expect(nothingLeft.status).toBe(404);
    expect((await envelopeOf(nothingLeft)).errors[0]!.code).toBe(HTTP_ERROR_CODES.rotated_secret_not_found.code);
  });

  it("rotating a public (none) client is a 400", async () => {
    const { handler } = createHarness();
    const created = await createClient(handler, { token_endpoint_auth_method: "none" });
    expect(created).not.toHaveProperty("client_secret");
    const response = await handler(apiRequest("POST", `${clients}/${created.client_id}/rotate_secret`));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]).toMatchObject({ code: 1000, source: { pointer: "/token_endpoint_auth_method" } });
  });

  it("a client of one account is 404 from another", async () => {
    const { handler } = createHarness();
    const created = await createClient(handler);
    for (const [method, suffix] of [["GET", ""], ["PATCH", ""], ["DELETE", ""], ["POST", "/rotate_secret"]] as const) {
      const response = await handler(
        apiRequest(method, `/accounts/${OTHER_ACCOUNT}/oauth_clients/${created.client_id}${suffix}`, method === "PATCH" ? { json: {} } : {}),
      );
      expect(response.status, `${method} ${suffix}`).toBe(404);
    }
  });
});

describe("createFetchHandler: list and pagination", () => {
  async function seed(registry: OAuthClientRegistry, count: number) {
    for (let i = 0; i < count; i++) await registry.create(ACCOUNT, validCreateBody({ client_name: `client ${i}` }) as never);
  }

  it("a plain list returns every client of the account, beyond the registry's page size", async () => {
    const { handler, registry } = createHarness();
    await seed(registry, 130);
    await registry.create(OTHER_ACCOUNT, validCreateBody() as never);
    const response = await handler(apiRequest("GET", clients));
    const body = await envelopeOf(response);
    expect(response.status).toBe(200);
    expect((body.result as unknown[]).length).toBe(130);
    expect(body.result_info).toEqual({ count: 130 });
  });

  it("source, used_before and never_used filter the list; malformed filters are a 400 naming the parameter", async () => {
    const { handler, registry } = createHarness();
    const operator = await registry.create(ACCOUNT, validCreateBody({ client_name: "operator" }) as never);
    const registered = await registry.registerClient(ACCOUNT, validCreateBody({ client_name: "registered" }) as never);
    await registry.authenticate(operator.client_id, operator.client_secret!);
    const names = async (query: string) => {
      const response = await handler(apiRequest("GET", `${clients}${query}`));
      expect(response.status).toBe(200);
      return ((await envelopeOf(response)).result as { client_name: string; source: string }[]).map((c) => `${c.client_name}:${c.source}`);
    };
    expect(await names("?source=dcr")).toEqual(["registered:dcr"]);
    // Created within one millisecond, the two may list in either order (ties go by random client id).
    expect((await names("?source=api,dcr&per_page=10")).sort()).toEqual(["operator:api", "registered:dcr"]);
    expect(await names("?never_used=true")).toEqual(["registered:dcr"]);
    expect(await names("?never_used=false")).toEqual(["operator:api"]);
    expect(await names(`?used_before=${encodeURIComponent("2999-01-01T00:00:00Z")}&never_used=false`)).toEqual(["operator:api"]);
    expect(registered.client.client_id).toBeTruthy();
    for (const [query, message] of [
      ["?source=robots", /source must be one or more of api, import, dcr, cimd/],
      ["?used_before=yesterday", /used_before must be an RFC 3339 date-time/],
      ["?never_used=yes", /never_used must be true or false/],
    ] as const) {
      const response = await handler(apiRequest("GET", `${clients}${query}`));
      expect(response.status).toBe(400);
      expect((await envelopeOf(response)).errors[0]!.message).toMatch(message);
    }
  });

  it("per_page and cursor walk the list page by page without repeats", async () => {
    const { handler, registry } = createHarness();
    await seed(registry, 25);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const query = `?per_page=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const body = await envelopeOf(await handler(apiRequest("GET", `${clients}${query}`)));
      const page = body.result as { client_id: string }[];
      expect(body.result_info).toMatchObject({ count: page.length, per_page: 10 });
      seen.push(...page.map((c) => c.client_id));
      cursor = body.result_info!.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
  });

  it.each(["0", "-1", "abc", "101", "1.5"])("per_page=%s is a 400 invalid_parameter", async (value) => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("GET", `${clients}?per_page=${value}`));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]!.code).toBe(HTTP_ERROR_CODES.invalid_parameter.code);
  });

  it("a cursor the server never issued is a 400 invalid_parameter", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("GET", `${clients}?cursor=not-a-cursor`));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]!.code).toBe(HTTP_ERROR_CODES.invalid_parameter.code);
  });

  it("scopes lists the catalog as { id, name } without an account", async () => {
    const authorize = vi.fn<Authorize>(() => true);
    const { handler } = createHarness({ authorize, describeScope: (s) => (s === "zone.read" ? { name: "Zone read", category: "Zone" } : undefined) });
    const response = await handler(apiRequest("GET", "/oauth/scopes"));
    expect(response.status).toBe(200);
    const body = await envelopeOf(response);
    expect(body.result).toEqual([
      { id: "zone.read", name: "Zone read", category: "Zone" },
      ...SCOPE_CATALOG.slice(1).map((id) => ({ id, name: id })),
    ]);
    expect(authorize).toHaveBeenCalledWith(expect.any(Request), { accountId: null, permission: "oauth-scope.list" });
  });
});

describe("createFetchHandler: validation and request errors", () => {
  it("every validation issue becomes one error with a JSON pointer, and nothing is stored", async () => {
    const { handler, registry } = createHarness();
    const response = await handler(
      apiRequest("POST", clients, {
        json: validCreateBody({
          client_name: "",
          redirect_uris: ["javascript:alert(1)"],
          grant_types: ["refresh_token"],
          client_id: "mine",
          surprise: true,
        }),
      }),
    );
    expect(response.status).toBe(400);
    const body = await envelopeOf(response);
    expect(body.success).toBe(false);
    expect(body.result).toBeNull();
    expect(body.errors.every((e) => e.code === 1000)).toBe(true);
    const pointers = body.errors.map((e) => e.source?.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/client_name", "/redirect_uris/0", "/grant_types", "/client_id", "/surprise"]));
    expect(await accountSnapshot(registry)).toEqual([]);
  });

  it.each([
    ["malformed JSON", "{\"client_name\": ", "application/json"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "application/json"],
    ["nesting beyond 32 levels", `{"client_name":${"[".repeat(40)}${"]".repeat(40)}}`, "application/json"],
  ])("%s is a 400 malformed_json", async (_name, body, type) => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("POST", clients, { body: body as BodyInit, headers: { "content-type": type } }));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]!.code).toBe(HTTP_ERROR_CODES.malformed_json.code);
  });

  it.each([
    ["text/plain", "text/plain"],
    ["form", "application/x-www-form-urlencoded"],
    ["json in latin1", "application/json; charset=iso-8859-1"],
  ])("a %s body is a 415", async (_name, type) => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("POST", clients, { body: JSON.stringify(validCreateBody()), headers: { "content-type": type } }));
    expect(response.status).toBe(415);
    expect((await envelopeOf(response)).errors).toEqual([
      { code: HTTP_ERROR_CODES.unsupported_media_type.code, message: new UnsupportedMediaTypeError(type).message },
    ]);
  });

  it("a JSON body without a content-type is a 415; application/merge-patch+json is accepted", async () => {
    const { handler } = createHarness();
    const bare = new Request(`http://localhost/client/v4${clients}`, {
      method: "POST",
      headers: { authorization: "Bearer admin-token" },
      body: new TextEncoder().encode(JSON.stringify(validCreateBody())),
    });
    expect((await handler(bare)).status).toBe(415);
    const created = await createClient(handler);
    const patched = await handler(
      apiRequest("PATCH", `${clients}/${created.client_id}`, { json: { client_name: "x" }, headers: { "content-type": "application/merge-patch+json" } }),
    );
    expect(patched.status).toBe(200);
  });

  it("create without a body is a 400 naming the whole body", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("POST", clients));
    expect(response.status).toBe(400);
    expect((await envelopeOf(response)).errors[0]).toMatchObject({ code: 1000, source: { pointer: "" } });
  });

  it("bodiless routes accept {} but refuse a real body", async () => {
    const { handler } = createHarness();
    const created = await createClient(handler);
    const withEmpty = await handler(apiRequest("POST", `${clients}/${created.client_id}/rotate_secret`, { json: {} }));
    expect(withEmpty.status).toBe(200);
    const withBody = await handler(apiRequest("DELETE", `${clients}/${created.client_id}`, { json: { force: true } }));
    expect(withBody.status).toBe(400);
    expect((await handler(apiRequest("GET", `${clients}/${created.client_id}`))).status).toBe(200);
  });

  it("a body over maxBodyBytes is a 413, declared or streamed, and stores nothing", async () => {
    const { handler, registry } = createHarness({ maxBodyBytes: 1024 });
    const big = JSON.stringify(validCreateBody({ client_name: "x".repeat(2000) }));
    const declared = await handler(apiRequest("POST", clients, { body: big, headers: { "content-type": "application/json" } }));
    expect(declared.status).toBe(413);
    expect((await envelopeOf(declared)).errors).toEqual([{ code: HTTP_ERROR_CODES.payload_too_large.code, message: new PayloadTooLargeError(1024).message }]);

    // No Content-Length: the limit must hold on the bytes actually streamed.
    const chunk = new TextEncoder().encode(" ".repeat(300));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 100) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const streamed = await handler(
      new Request(`http://localhost/client/v4${clients}`, {
        method: "POST",
        headers: { authorization: "Bearer admin-token", "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(10);

    // A lying Content-Length is no way around it either.
    const lying = new Request(`http://localhost/client/v4${clients}`, {
      method: "POST",
      headers: { authorization: "Bearer admin-token", "content-type": "application/json", "content-length": "10" },
      body: big,
    });
    expect((await handler(lying)).status).toBe(413);
    expect(await accountSnapshot(registry)).toEqual([]);
  });
});

describe("createFetchHandler: routing", () => {
  it("an unknown route is a 404 envelope", async () => {
    const { handler } = createHarness();
    for (const path of ["/client/v4/nope", "/client/v4/accounts/a/oauth_clients/b/c/d", "/elsewhere", "/client/v4/accounts//oauth_clients"]) {
      const response = await handler(new Request(`http://localhost${path}`, { headers: { authorization: "Bearer admin-token" } }));
      expect(response.status, path).toBe(404);
      expect((await envelopeOf(response)).errors[0]!.code).toBe(HTTP_ERROR_CODES.route_not_found.code);
    }
  });

  it("a wrong method is a 405 with Allow", async () => {
    const { handler } = createHarness();
    const cases: [string, string, string][] = [
      ["PUT", `${clients}/abc`, "GET, HEAD, PATCH, DELETE"],
      ["DELETE", clients, "GET, HEAD, POST"],
      ["GET", `${clients}/abc/rotate_secret`, "POST, DELETE"],
      ["POST", "/oauth/scopes", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const response = await handler(apiRequest(method, path));
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow")).toBe(allow);
      expect((await envelopeOf(response)).errors[0]!.code).toBe(HTTP_ERROR_CODES.method_not_allowed.code);
    }
  });

  it("HEAD answers like GET without a body", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("HEAD", clients));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("basePath moves every route; a trailing slash on a path is tolerated", async () => {
    const { handler } = createHarness({ basePath: "/api/" });
    const response = await handler(new Request(`http://localhost/api/accounts/${ACCOUNT}/oauth_clients/`, { headers: { authorization: "Bearer admin-token" } }));
    expect(response.status).toBe(200);
    expect((await handler(apiRequest("GET", clients))).status).toBe(404);
  });

  it("percent-encoded path segments are decoded", async () => {
    const { handler, registry } = createHarness({ authorize: (_r, c) => c.accountId === "team one:é" });
    await registry.create("team one:é", validCreateBody() as never);
    const response = await handler(apiRequest("GET", "/accounts/team%20one%3A%C3%A9/oauth_clients"));
    expect((await envelopeOf(response)).result).toHaveLength(1);
  });

  it("the OpenAPI document is served without authentication and can be turned off", async () => {
    const { handler } = createHarness();
    const response = await handler(apiRequest("GET", "/openapi.json", { token: null }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as { openapi: string }).openapi).toBe("3.1.0");
    const { handler: closed } = createHarness({ serveOpenApi: false });
    expect((await closed(apiRequest("GET", "/openapi.json"))).status).toBe(404);
  });
});

describe("createFetchHandler: authorization", () => {
  it("requires an authorize function", () => {
    const registry = createOAuthClientRegistry(createMemoryStore());
    expect(() => createFetchHandler(registry, {} as never)).toThrow(TypeError);
  });

  it("no credentials → 401; a missing permission → 403; nothing is written", async () => {
    const { handler, registry } = createHarness();
    const anonymous = await handler(apiRequest("POST", clients, { json: validCreateBody(), token: null }));
    expect(anonymous.status).toBe(401);
    expect((await envelopeOf(anonymous)).errors[0]!.code).toBe(HTTP_ERROR_CODES.unauthorized.code);
    const reader = await handler(apiRequest("POST", clients, { json: validCreateBody(), token: READER_TOKEN }));
    expect(reader.status).toBe(403);
    expect((await envelopeOf(reader)).errors[0]).toMatchObject({ code: HTTP_ERROR_CODES.forbidden.code, message: expect.stringContaining("account.oauth-client.create") });
    expect(await accountSnapshot(registry)).toEqual([]);
    expect((await handler(apiRequest("GET", clients, { token: READER_TOKEN }))).status).toBe(200);
    expect((await handler(apiRequest("GET", `/accounts/${OTHER_ACCOUNT}/oauth_clients`, { token: READER_TOKEN }))).status).toBe(403);
  });

  it("each operation asks for its permission; rotate and delete-rotated ask for update", async () => {
    const asked: string[] = [];
    const { handler } = createHarness({ authorize: (_r, c) => (asked.push(`${c.permission}@${c.accountId}`), true) });
    const created = await createClient(handler);
    const id = created.client_id;
    await handler(apiRequest("GET", clients));
    await handler(apiRequest("GET", `${clients}/${id}`));
    await handler(apiRequest("PATCH", `${clients}/${id}`, { json: {} }));
    await handler(apiRequest("POST", `${clients}/${id}/rotate_secret`));
    await handler(apiRequest("DELETE", `${clients}/${id}/rotate_secret`));
    await handler(apiRequest("DELETE", `${clients}/${id}`));
    expect(asked).toEqual(
      ["create", "list", "read", "update", "update", "update", "delete"].map((p) => `account.oauth-client.${p}@${ACCOUNT}`),
    );
  });

  it("only a literal true allows", async () => {
    const { handler } = createHarness({ authorize: (() => "yes") as unknown as Authorize });
    expect((await handler(apiRequest("GET", clients))).status).toBe(403);
  });

  it("an authorize that crashes is a generic 500, reported to onError", async () => {
    const onError = vi.fn();
    const { handler } = createHarness({
      authorize: () => {
        throw new Error("session store at 10.0.0.7 is down");
      },
      onError,
    });
    const response = await handler(apiRequest("GET", clients));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("10.0.0.7");
    expect(JSON.parse(text).errors[0]).toEqual({ code: 1500, message: "internal server error" });
    expect(onError).toHaveBeenCalledOnce();
  });
});

describe("createFetchHandler: internal errors", () => {
  it("a failing store is a 500 that leaks nothing", async () => {
    const broken: ClientStore = {
      ...createMemoryStore(),
      async list() {
        throw new Error("SQLITE_CORRUPT: /var/lib/secret/path.db");
      },
    };
    const onError = vi.fn();
    const { handler } = createHarness({ onError }, broken);
    const response = await handler(apiRequest("GET", clients));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toMatch(/SQLITE|secret\/path|storage/);
    expect(onError).toHaveBeenCalledOnce();
  });
});
