import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { ClientMetadataError, metadataUrlProblem, ValidationError, type ClientStore } from "../src/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const URL_ID = "https://app.example.com/oauth/client.json";

/** A Client ID Metadata Document served from a map, counting fetches; nothing leaves the machine. */
function documents(initial: Record<string, unknown> = {}) {
  const served = new Map<string, unknown>(Object.entries(initial));
  const fetched: string[] = [];
  return {
    served,
    fetched,
    fetchClientMetadata: async (url: string) => {
      fetched.push(url);
      if (!served.has(url)) throw new Error(`HTTP 404 for ${url}`);
      return structuredClone(served.get(url));
    },
  };
}

const cimdDocument = (overrides: Record<string, unknown> = {}) => ({
  client_id: URL_ID,
  client_name: "Example MCP client",
  redirect_uris: ["http://127.0.0.1:33418/callback"],
  grant_types: ["authorization_code"],
  response_types: ["code"],
  token_endpoint_auth_method: "none",
  ...overrides,
});

function cimdFixture(initial: Record<string, unknown> = { [URL_ID]: cimdDocument() }, store: ClientStore = createMemoryStore()) {
  const docs = documents(initial);
  const fixture = registryFixture({
    store,
    clientIdMetadataDocuments: { accountId: "acct_cimd", fetchClientMetadata: docs.fetchClientMetadata },
  });
  return { ...fixture, docs };
}

async function metadataError(promise: Promise<unknown>): Promise<ClientMetadataError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientMetadataError);
  expect(error).toBeInstanceOf(ValidationError);
  expect(error).toMatchObject({ code: "invalid_client_metadata", status: 400 });
  return error as ClientMetadataError;
}

describe("resolveClient: stored clients of every source", () => {
  it("resolves created, imported and registered clients; null for unknown or impossible ids", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", createBody());
    const imported = await registry.importClient("acct", { ...createBody(), client_id: "legacy-app", client_secret: "s3cret-before" });
    const registered = await registry.registerClient("acct", createBody());
    for (const client of [created, imported, registered.client]) {
      expect(await registry.resolveClient(client.client_id)).toEqual(await registry.get("acct", client.client_id));
    }
    expect(await registry.resolveClient("0".repeat(32))).toBeNull();
    expect(await registry.resolveClient("x".repeat(256))).toBeNull();
    expect(await registry.resolveClient("a\u0000b")).toBeNull();
  });

  it("without clientIdMetadataDocuments a URL id is a plain id: unknown, nothing fetched", async () => {
    const { registry } = registryFixture();
    expect(await registry.resolveClient(URL_ID)).toBeNull();
  });
});

describe("resolveClient: Client ID Metadata Documents", () => {
  it("fetches, checks and stores the client with source cimd in the configured account", async () => {
    const { registry, docs, events } = cimdFixture();
    const client = await registry.resolveClient(URL_ID);
    expect(client).toMatchObject({
      client_id: URL_ID,
      source: "cimd",
      client_name: "Example MCP client",
      token_endpoint_auth_method: "none",
      redirect_uris: ["http://127.0.0.1:33418/callback"],
    });
    expect(docs.fetched).toEqual([URL_ID]);
    expect((await registry.list("acct_cimd")).clients.map((c) => c.client_id)).toEqual([URL_ID]);
    expect(events).toEqual([expect.objectContaining({ type: "client.created", client_id: URL_ID, source: "cimd" })]);
    // The token endpoint helpers see it like any other client.
    expect(await registry.findClient(URL_ID)).toEqual(client);
  });

  it("writes again only when the document's fields changed", async () => {
    const { registry, docs, events, store } = cimdFixture();
    await registry.resolveClient(URL_ID);
    await registry.resolveClient(URL_ID);
    expect((await store.getById(URL_ID))!.version).toBe(1);
    docs.served.set(URL_ID, cimdDocument({ client_name: "Renamed client" }));
    const renamed = await registry.resolveClient(URL_ID);
    expect(renamed!.client_name).toBe("Renamed client");
    expect((await store.getById(URL_ID))!.version).toBe(2);
    expect(events.map((e) => e.type)).toEqual(["client.created", "client.updated"]);
    expect(events[1]).toMatchObject({ changed_fields: ["client_name"], via: "metadata_document" });
  });

  it("manages openid as every client: kept when the document asks for it with code, gone when it stops asking; implicit response types refused", async () => {
    const { registry, docs, store } = cimdFixture({ [URL_ID]: cimdDocument({ scope: "openid profile" }) });
    expect((await registry.resolveClient(URL_ID))!.scopes).toEqual(["profile", "openid"]);
    // The same document again normalizes to the same scopes: nothing to write.
    await registry.resolveClient(URL_ID);
    expect((await store.getById(URL_ID))!.version).toBe(1);
    for (const responseTypes of [["token"], ["code", "id_token"]]) {
      docs.served.set(URL_ID, cimdDocument({ scope: "openid profile", response_types: responseTypes }));
      const error = await metadataError(registry.resolveClient(URL_ID));
      expect(error.issues.map((i) => i.path)).toEqual([`/response_types/${responseTypes.length - 1}`]);
      expect((await store.getById(URL_ID))!.version).toBe(1);
    }
    docs.served.set(URL_ID, cimdDocument({ scope: "profile" }));
    expect((await registry.resolveClient(URL_ID))!.scopes).toEqual(["profile"]);
  });

  it("concurrent first resolutions store the client once", async () => {
    const { registry, store } = cimdFixture();
    const results = await Promise.all(Array.from({ length: 5 }, () => registry.resolveClient(URL_ID)));
    expect(new Set(results.map((c) => c!.client_id))).toEqual(new Set([URL_ID]));
    expect((await store.list("acct_cimd", { limit: 10 })).length).toBe(1);
  });

  it("a document naming another client_id is refused, nothing stored", async () => {
    const { registry, store } = cimdFixture({ [URL_ID]: cimdDocument({ client_id: "https://other.example.com/client.json" }) });
    const error = await metadataError(registry.resolveClient(URL_ID));
    expect(error.issues.map((i) => i.path)).toContain("/client_id");
    expect(await store.getById(URL_ID)).toBeNull();
  });

  it("a shared-secret method is refused", async () => {
    const { registry } = cimdFixture({ [URL_ID]: cimdDocument({ token_endpoint_auth_method: "client_secret_basic" }) });
    const error = await metadataError(registry.resolveClient(URL_ID));
    expect(error.issues.map((i) => i.path)).toContain("/token_endpoint_auth_method");
  });

  it("the same URI rules as every client: a plain-http redirect URI is refused", async () => {
    const { registry } = cimdFixture({ [URL_ID]: cimdDocument({ redirect_uris: ["http://app.example.com/cb"] }) });
    const error = await metadataError(registry.resolveClient(URL_ID));
    expect(error.issues).toEqual([{ path: "/redirect_uris/0", message: expect.stringContaining("https") }]);
  });

  it("a document that cannot be fetched or is not an object is refused with a clear error", async () => {
    const { registry } = cimdFixture({ "https://app.example.com/array.json": [1, 2] });
    const missing = await metadataError(registry.resolveClient("https://app.example.com/missing.json"));
    expect(missing.message).toMatch(/could not be fetched: HTTP 404/);
    const array = await metadataError(registry.resolveClient("https://app.example.com/array.json"));
    expect(array.issues[0]!.path).toBe("");
  });

  it("a client whose document became unusable stays stored as it was", async () => {
    const { registry, docs, store } = cimdFixture();
    const first = await registry.resolveClient(URL_ID);
    docs.served.set(URL_ID, cimdDocument({ redirect_uris: [] }));
    await metadataError(registry.resolveClient(URL_ID));
    expect(await registry.findClient(URL_ID)).toEqual(first);
    expect((await store.getById(URL_ID))!.version).toBe(1);
  });

  it.each([
    ["http://app.example.com/client.json", "https"],
    ["https://app.example.com", "path"],
    ["https://app.example.com/", "path"],
    ["https://app.example.com/client.json#x", "fragment"],
    ["https://user:pw@app.example.com/client.json", "user information"],
    ["https://app.example.com/a/../client.json", "segments"],
    ["https://app.example.com/a/%2E/client.json", "segments"],
    [`https://app.example.com/${"p".repeat(240)}`, "255"],
  ])("refuses the client id URL %s before fetching (%s)", async (url, why) => {
    expect(metadataUrlProblem(url)).toMatch(new RegExp(why));
    if (!/^https:/.test(url)) return;
    const { registry, docs } = cimdFixture();
    await metadataError(registry.resolveClient(url));
    expect(docs.fetched).toEqual([]);
  });

  it("accepts a URL with a port and a query", () => {
    expect(metadataUrlProblem("https://app.example.com:8443/client.json?v=2")).toBeNull();
  });

  it("a fetcher that is not a function is refused when the registry is made", () => {
    expect(() =>
      registryFixture({ clientIdMetadataDocuments: { accountId: "acct", fetchClientMetadata: "https://fetch" as never } }),
    ).toThrow(TypeError);
  });

  it("without a fetcher of its own, the safe default fetcher refuses a document on a private address", async () => {
    const { registry, store } = registryFixture({ clientIdMetadataDocuments: { accountId: "acct" } });
    const error = await registry.resolveClient("https://127.0.0.1/client.json").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientMetadataError);
    expect((error as ClientMetadataError).issues[0]!.message).toMatch(/could not be fetched.*(address|public|private|loopback)/i);
    expect(await store.getById("https://127.0.0.1/client.json")).toBeNull();
  });
});

describe("resolveClient: a URL id stored by other means", () => {
  it("is returned as stored, never rewritten from a document", async () => {
    const docs = documents({ [URL_ID]: cimdDocument({ client_name: "From the document" }) });
    const { registry } = registryFixture({
      generateClientId: () => URL_ID,
      clientIdMetadataDocuments: { accountId: "acct_cimd", fetchClientMetadata: docs.fetchClientMetadata },
    });
    const created = await registry.create("acct", createBody({ client_name: "Operator client" }));
    expect(created.client_id).toBe(URL_ID);
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ client_name: "Operator client", source: "api" });
    expect(docs.fetched).toEqual([]);
  });
});
