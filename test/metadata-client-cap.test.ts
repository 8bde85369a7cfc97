/**
 * A bound on metadata-document clients (issue 20, "also observed"): anyone
 * serving a JSON document makes the registry store a client, one per
 * distinct URL, without authentication. The account that holds them is
 * capped (`clientIdMetadataDocuments.maxClients`, default 10,000): past it a
 * new client id URL is refused before its document is fetched and nothing
 * is stored, while stored clients keep resolving; and `purgeClients`
 * deletes idle metadata-document clients by default, which come back from
 * their document on next use.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { ClientMetadataError, type ClientStore } from "../src/index.js";
import { DEFAULT_MAX_METADATA_CLIENTS } from "../src/registry/metadata-client-cap.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const ACCOUNT = "acct_cimd";
const DAY = 86_400_000;
const urlOf = (i: number) => `https://tool${i}.example.com/client.json`;

/** Documents for any URL, counting fetches; `invalid` URLs serve a document that breaks a rule. */
function capFixture(options: { maxClients?: number; store?: ClientStore; invalid?: Set<string> } = {}) {
  const fetched: string[] = [];
  const fixture = registryFixture({
    store: options.store,
    clientIdMetadataDocuments: {
      accountId: ACCOUNT,
      ...(options.maxClients === undefined ? {} : { maxClients: options.maxClients }),
      fetchClientMetadata: async (url) => {
        fetched.push(url);
        const redirect = options.invalid?.has(url) ? "http://tool.example.com/cb" : "https://tool.example.com/cb";
        return { client_id: url, client_name: "Tool", redirect_uris: [redirect], token_endpoint_auth_method: "none" };
      },
    },
  });
  const cimdClients = async () => (await fixture.registry.list(ACCOUNT, { source: "cimd", limit: 100 })).clients.map((c) => c.client_id);
  return { ...fixture, fetched, cimdClients };
}

async function capRefusal(promise: Promise<unknown>): Promise<ClientMetadataError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientMetadataError);
  expect((error as ClientMetadataError).issues).toEqual([{ path: "", message: expect.stringMatching(/maximum of \d+ clients from metadata documents/) }]);
  return error as ClientMetadataError;
}

describe("clientIdMetadataDocuments.maxClients", () => {
  it("defaults to 10,000; must be a positive integer or Infinity", () => {
    expect(DEFAULT_MAX_METADATA_CLIENTS).toBe(10_000);
    for (const bad of [0, -1, 1.5, Number.NaN, "10" as never]) {
      expect(() => capFixture({ maxClients: bad })).toThrow(TypeError);
    }
    expect(() => capFixture({ maxClients: Number.POSITIVE_INFINITY })).not.toThrow();
  });

  it("the reproduction, bounded: 300 distinct URLs with a cap of 100 store 100 clients; the rest are refused unfetched", async () => {
    const { registry, fetched, cimdClients } = capFixture({ maxClients: 100 });
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => registry.resolveClient(urlOf(i))));
    const refused = outcomes.filter((o) => o.status === "rejected");
    expect(refused).toHaveLength(200);
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ClientMetadataError);
    expect(await cimdClients()).toHaveLength(100);
    expect(fetched).toHaveLength(100);
  });

  it("past the cap a new id is refused and nothing is stored, while stored clients keep resolving and refreshing", async () => {
    const { registry, store, fetched, cimdClients } = capFixture({ maxClients: 2 });
    await registry.resolveClient(urlOf(1));
    await registry.resolveClient(urlOf(2));
    await capRefusal(registry.resolveClient(urlOf(3)));
    expect(fetched).toEqual([urlOf(1), urlOf(2)]);
    expect(await store.getById(urlOf(3))).toBeNull();
    expect(await registry.resolveClient(urlOf(1))).toMatchObject({ client_id: urlOf(1), source: "cimd" });
    expect(await cimdClients()).toEqual([urlOf(1), urlOf(2)]);
  });

  it("only metadata-document clients count: other clients of the account do not use the room", async () => {
    const { registry, cimdClients } = capFixture({ maxClients: 1 });
    await registry.create(ACCOUNT, createBody());
    await registry.registerClient(ACCOUNT, createBody());
    await registry.resolveClient(urlOf(1));
    await capRefusal(registry.resolveClient(urlOf(2)));
    expect(await cimdClients()).toEqual([urlOf(1)]);
  });

  it("a refused document gives its room back", async () => {
    const { registry, cimdClients } = capFixture({ maxClients: 1, invalid: new Set([urlOf(1)]) });
    await expect(registry.resolveClient(urlOf(1))).rejects.toBeInstanceOf(ClientMetadataError);
    await registry.resolveClient(urlOf(2));
    expect(await cimdClients()).toEqual([urlOf(2)]);
  });

  it("concurrent resolutions of one new id take its room once", async () => {
    const { registry, cimdClients } = capFixture({ maxClients: 2 });
    await Promise.all(Array.from({ length: 5 }, () => registry.resolveClient(urlOf(1))));
    await registry.resolveClient(urlOf(2));
    expect(await cimdClients()).toEqual([urlOf(1), urlOf(2)]);
  });

  it("the count comes from the store: a second process on the same store sees the clients the first one stored", async () => {
    const store = createMemoryStore();
    const first = capFixture({ maxClients: 2, store });
    await first.registry.resolveClient(urlOf(1));
    await first.registry.resolveClient(urlOf(2));
    const second = capFixture({ maxClients: 2, store });
    await capRefusal(second.registry.resolveClient(urlOf(3)));
    expect(second.fetched).toEqual([]);
  });

  it("room made by purging idle clients is seen within seconds, and a purged client comes back from its document", async () => {
    const { registry, clock, cimdClients } = capFixture({ maxClients: 2 });
    await registry.resolveClient(urlOf(1));
    await registry.resolveClient(urlOf(2));
    await capRefusal(registry.resolveClient(urlOf(3)));
    clock.advance(30 * DAY);
    const purged = await registry.purgeClients(ACCOUNT, { idleForMs: 7 * DAY });
    expect(purged.deleted).toEqual([urlOf(1), urlOf(2)]);
    expect(await registry.resolveClient(urlOf(3))).toMatchObject({ client_id: urlOf(3), source: "cimd" });
    expect(await registry.resolveClient(urlOf(1))).toMatchObject({ client_id: urlOf(1), source: "cimd" });
    await capRefusal(registry.resolveClient(urlOf(2)));
    expect((await cimdClients()).sort()).toEqual([urlOf(1), urlOf(3)]);
  });

  it("Infinity turns the cap off", async () => {
    const { registry, cimdClients } = capFixture({ maxClients: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 5; i++) await registry.resolveClient(urlOf(i));
    expect(await cimdClients()).toHaveLength(5);
  });
});

describe("purgeClients covers metadata-document clients by default", () => {
  it("deletes idle dcr and cimd clients; api and import clients stay; sources still narrows it", async () => {
    const { registry, clock, events } = capFixture();
    const api = await registry.create(ACCOUNT, createBody());
    const registered = await registry.registerClient(ACCOUNT, createBody());
    await registry.resolveClient(urlOf(1));
    await registry.resolveClient(urlOf(2));
    clock.advance(10 * DAY);
    // Only urlOf(2) is used within the idle window.
    await registry.resolveClient(urlOf(2), { recordUse: true });

    const onlyDcr = await registry.purgeClients(ACCOUNT, { idleForMs: 7 * DAY, sources: ["dcr"] });
    expect(onlyDcr.deleted).toEqual([registered.client.client_id]);
    const byDefault = await registry.purgeClients(ACCOUNT, { idleForMs: 7 * DAY });
    expect(byDefault.deleted).toEqual([urlOf(1)]);
    expect(events.at(-1)).toMatchObject({ type: "client.deleted", client_id: urlOf(1), reason: "purged" });
    expect(await registry.findClient(api.client_id)).not.toBeNull();
    expect(await registry.findClient(urlOf(2))).not.toBeNull();
    // Its next use stores it again from its document.
    expect(await registry.resolveClient(urlOf(1))).toMatchObject({ client_id: urlOf(1), source: "cimd" });
  });
});
