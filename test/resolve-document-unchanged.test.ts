/**
 * A metadata-document client whose document has not changed resolves
 * without mapping and rules again (the hot path), and stays correct when
 * the document changes — in place, as a new object, or to something
 * invalid — or when its stored record changes underneath.
 */
import { describe, expect, it } from "vitest";
import { ClientMetadataError, type RegistryEvent } from "../src/index.js";
import { registryFixture } from "./helpers/registry.js";

const URL_ID = "https://app.example.com/oauth/client.json";

function fixture() {
  const document: Record<string, unknown> = {
    client_id: URL_ID,
    client_name: "Example",
    redirect_uris: ["http://127.0.0.1:33418/callback"],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
  let served: unknown = document;
  const fixtureParts = registryFixture({
    clientIdMetadataDocuments: { accountId: "acct_cimd", fetchClientMetadata: async () => served },
  });
  const updates = (events: RegistryEvent[]) => events.filter((e) => e.type === "client.updated").length;
  return { ...fixtureParts, document, serve: (value: unknown) => void (served = value), updates };
}

describe("resolveClient of a metadata-document client whose document is unchanged", () => {
  it("answers the stored client, with no write, whether the fetcher returns the same object or an equal copy", async () => {
    const { registry, document, serve, events, updates } = fixture();
    const first = await registry.resolveClient(URL_ID);
    expect(first).toMatchObject({ client_name: "Example", source: "cimd" });
    expect(await registry.resolveClient(URL_ID)).toStrictEqual(first);
    serve(structuredClone(document));
    expect(await registry.resolveClient(URL_ID)).toStrictEqual(first);
    expect(updates(events)).toBe(0);
  });

  it("sees a document changed in place (the same object), as a new object, and back", async () => {
    const { registry, document, serve, events, updates } = fixture();
    await registry.resolveClient(URL_ID);
    await registry.resolveClient(URL_ID);
    document.client_name = "Renamed in place";
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ client_name: "Renamed in place" });
    serve({ ...document, redirect_uris: ["http://127.0.0.1:33418/other"] });
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ redirect_uris: ["http://127.0.0.1:33418/other"] });
    serve(document);
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ redirect_uris: ["http://127.0.0.1:33418/callback"] });
    expect(updates(events)).toBe(3);
  });

  it("refuses a document that became invalid, and a fetch that fails, instead of answering the last good client", async () => {
    const { registry, document, serve } = fixture();
    await registry.resolveClient(URL_ID);
    serve({ ...document, token_endpoint_auth_method: "client_secret_basic" });
    await expect(registry.resolveClient(URL_ID)).rejects.toBeInstanceOf(ClientMetadataError);
    serve(document);
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ token_endpoint_auth_method: "none" });
    serve(Object.defineProperty({ ...document }, "client_name", { enumerable: true, get: () => { throw new Error("hostile getter"); } }));
    await expect(registry.resolveClient(URL_ID)).rejects.toBeInstanceOf(ClientMetadataError);
  });

  it("checks the document again once the stored record changed (another writer, a purge)", async () => {
    const { registry, store, clock } = fixture();
    const first = await registry.resolveClient(URL_ID);
    const record = (await store.getById(URL_ID))!;
    // Another process stored another version of the client meanwhile.
    expect(await store.update({ ...record, client_name: "Written elsewhere", version: record.version + 1 }, record.version)).toBe(true);
    expect(await registry.resolveClient(URL_ID)).toMatchObject({ client_name: "Example" });
    clock.advance(40 * 86_400_000);
    await registry.purgeClients("acct_cimd", { idleForMs: 86_400_000 });
    const again = await registry.resolveClient(URL_ID);
    expect(again).toMatchObject({ client_name: "Example" });
    expect(again!.created_at).not.toBe(first!.created_at);
  });
});
