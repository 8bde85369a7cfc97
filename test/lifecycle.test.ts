import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { ValidationError, type ClientStore } from "../src/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A store whose `update` can be made to fail or to lose every compare-and-swap. */
function flakyStore(inner: ClientStore = createMemoryStore()) {
  const mode = { update: "ok" as "ok" | "throw" | "lose" };
  const store: ClientStore = {
    ...inner,
    get: inner.get.bind(inner),
    getById: inner.getById.bind(inner),
    list: inner.list.bind(inner),
    insert: inner.insert.bind(inner),
    delete: inner.delete.bind(inner),
    async update(record, expected) {
      if (mode.update === "throw") throw new Error("connection reset");
      if (mode.update === "lose") return false;
      return inner.update(record, expected);
    },
  };
  return { store, mode };
}

describe("last use, written at most once per interval", () => {
  it("the first authentication records the client's and the current secret's last use", async () => {
    const { registry, store, clock } = registryFixture();
    const { client_id, client_secret } = await registry.create("acct", createBody());
    const at = clock.tick();
    const auth = await registry.authenticate(client_id, client_secret!);
    expect(auth!.client).toMatchObject({ last_used_at: at, secret_last_used_at: at });
    expect(auth!.client).not.toHaveProperty("rotated_secret_last_used_at");
    expect(await registry.get("acct", client_id)).toMatchObject({ last_used_at: at, secret_last_used_at: at });
    expect((await store.getById(client_id))!.updated_at).not.toBe(at);
  });

  it("within the interval nothing is written; after it, the times move on", async () => {
    const { registry, store, clock } = registryFixture({ lastUsedWriteIntervalMs: HOUR });
    const { client_id, client_secret } = await registry.create("acct", createBody());
    const first = clock.tick();
    await registry.authenticate(client_id, client_secret!);
    const version = (await store.getById(client_id))!.version;
    clock.advance(HOUR - 1000);
    await registry.authenticate(client_id, client_secret!);
    expect((await store.getById(client_id))!).toMatchObject({ version, last_used_at: first });
    const later = clock.tick(1000);
    await registry.authenticate(client_id, client_secret!);
    expect((await store.getById(client_id))!).toMatchObject({ version: version + 1, last_used_at: later });
  });

  it("a matched rotated secret records its own time; rotation moves the current secret's time to the rotated one", async () => {
    const { registry, clock } = registryFixture();
    const { client_id, client_secret: oldSecret } = await registry.create("acct", createBody());
    const usedOld = clock.tick();
    await registry.authenticate(client_id, oldSecret!);
    clock.tick();
    const { client_secret: newSecret } = await registry.rotateSecret("acct", client_id);
    const rotated = await registry.get("acct", client_id);
    expect(rotated).toMatchObject({ rotated_secret_last_used_at: usedOld, last_used_at: usedOld });
    expect(rotated).not.toHaveProperty("secret_last_used_at");
    const usedNew = clock.tick(2 * HOUR);
    await registry.authenticate(client_id, newSecret);
    const usedRotated = clock.tick(2 * HOUR);
    expect((await registry.authenticate(client_id, oldSecret!))!.matched).toBe("rotated");
    expect(await registry.get("acct", client_id)).toMatchObject({
      secret_last_used_at: usedNew,
      rotated_secret_last_used_at: usedRotated,
      last_used_at: usedRotated,
    });
  });

  it("a failing or lost write never fails the authentication", async () => {
    const { store, mode } = flakyStore();
    const { registry } = registryFixture({ store });
    const { client_id, client_secret } = await registry.create("acct", createBody());
    for (const failure of ["throw", "lose"] as const) {
      mode.update = failure;
      const auth = await registry.authenticate(client_id, client_secret!);
      expect(auth).toMatchObject({ matched: "current" });
      expect(auth!.client).not.toHaveProperty("last_used_at");
    }
    mode.update = "ok";
    expect((await registry.authenticate(client_id, client_secret!))!.client.last_used_at).toBeDefined();
  });

  it("resolveClient records a use only when asked", async () => {
    const { registry, clock } = registryFixture();
    const { client_id } = await registry.create("acct", createBody({ token_endpoint_auth_method: "none" }));
    const at = clock.tick();
    expect(await registry.resolveClient(client_id)).not.toHaveProperty("last_used_at");
    const used = await registry.resolveClient(client_id, { recordUse: true });
    expect(used).toMatchObject({ last_used_at: at });
    expect(used).not.toHaveProperty("secret_last_used_at");
  });

  it("authenticate builds no timestamp without a listener and without a write", async () => {
    let formatted = 0;
    let ms = Date.parse("2026-01-01T00:00:00.000Z");
    const now = () => {
      const date = new Date(ms);
      date.toISOString = () => (formatted++, Date.prototype.toISOString.call(date));
      return date;
    };
    const { registry } = registryFixture({ now, onEvent: undefined });
    const { client_id, client_secret } = await registry.create("acct", createBody());
    ms += 1000;
    await registry.authenticate(client_id, client_secret!);
    formatted = 0;
    ms += 1000;
    expect(await registry.authenticate(client_id, client_secret!)).not.toBeNull();
    expect(await registry.authenticate(client_id, "wrong")).toBeNull();
    expect(formatted).toBe(0);
  });

  it("refuses a negative write interval", () => {
    expect(() => registryFixture({ lastUsedWriteIntervalMs: -1 })).toThrow(TypeError);
  });
});

describe("client_secret_expires_at", () => {
  it("an expired secret no longer authenticates (reason secret_expired); one not yet expired does", async () => {
    const { registry, clock, events } = registryFixture();
    const expiresAt = Math.floor(clock.now().getTime() / 1000) + 60;
    const registered = await registry.registerClient("acct", createBody(), { secretExpiresAt: expiresAt });
    const id = registered.client.client_id;
    expect(await registry.authenticate(id, registered.client_secret!)).not.toBeNull();
    clock.advance(60_000);
    expect(await registry.authenticate(id, registered.client_secret!)).toBeNull();
    expect(events.at(-1)).toMatchObject({ type: "client.authentication_failed", reason: "secret_expired", client_id: id });
    expect(await registry.authenticate(id, "wrong")).toBeNull();
    expect(events.at(-1)).toMatchObject({ reason: "invalid_secret" });
  });

  it("a rotation issues a secret without that expiry", async () => {
    const { registry, clock } = registryFixture();
    const registered = await registry.registerClient("acct", createBody(), { secretExpiresAt: Math.floor(clock.now().getTime() / 1000) + 60 });
    const { client_secret } = await registry.rotateSecret("acct", registered.client.client_id);
    clock.advance(DAY);
    expect(await registry.authenticate(registered.client.client_id, client_secret)).toMatchObject({ matched: "current" });
    expect((await registry.get("acct", registered.client.client_id)).client_secret_expires_at).toBe(0);
  });
});

describe("rotateSecret gracePeriodMs", () => {
  it("the rotated secret works for this rotation's grace period, overriding rotatedSecretTtlMs", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: DAY });
    const { client_id, client_secret } = await registry.create("acct", createBody());
    await registry.rotateSecret("acct", client_id, { gracePeriodMs: HOUR });
    clock.advance(HOUR - 1);
    expect(await registry.authenticate(client_id, client_secret!)).toMatchObject({ matched: "rotated" });
    clock.advance(1);
    expect(await registry.authenticate(client_id, client_secret!)).toBeNull();
    expect((await registry.get("acct", client_id)).has_rotated_secret).toBe(false);
    // The window is over, so the next rotation is allowed without deleting anything.
    await expect(registry.rotateSecret("acct", client_id)).resolves.toHaveProperty("client_secret");
  });

  it("refuses a grace period that is not a positive number, changing nothing", async () => {
    const { registry, store } = registryFixture();
    const { client_id } = await registry.create("acct", createBody());
    for (const gracePeriodMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(registry.rotateSecret("acct", client_id, { gracePeriodMs })).rejects.toBeInstanceOf(ValidationError);
    }
    expect((await store.getById(client_id))!.version).toBe(1);
  });
});

describe("list filters", () => {
  async function population() {
    const fixture = registryFixture({ counterIds: true });
    const { registry, clock } = fixture;
    const api = await registry.create("acct", createBody());
    const dcrUsed = await registry.registerClient("acct", createBody());
    const dcrIdle = await registry.registerClient("acct", createBody());
    clock.tick();
    await registry.authenticate(dcrUsed.client.client_id, dcrUsed.client_secret!);
    const usedAt = clock.iso();
    clock.advance(DAY);
    return { ...fixture, api, dcrUsed: dcrUsed.client, dcrIdle: dcrIdle.client, usedAt };
  }
  const ids = (page: { clients: { client_id: string }[] }) => page.clients.map((c) => c.client_id);

  it("by source, by never used, and by last use before a time", async () => {
    const { registry, api, dcrUsed, dcrIdle, usedAt } = await population();
    expect(ids(await registry.list("acct", { source: "dcr" }))).toEqual([dcrUsed.client_id, dcrIdle.client_id]);
    expect(ids(await registry.list("acct", { source: ["api", "import"] }))).toEqual([api.client_id]);
    expect(ids(await registry.list("acct", { neverUsed: true }))).toEqual([api.client_id, dcrIdle.client_id]);
    expect(ids(await registry.list("acct", { neverUsed: false }))).toEqual([dcrUsed.client_id]);
    expect(ids(await registry.list("acct", { source: "dcr", usedBefore: usedAt }))).toEqual([dcrIdle.client_id]);
    const after = new Date(Date.parse(usedAt) + 1).toISOString();
    expect(ids(await registry.list("acct", { usedBefore: after, neverUsed: false }))).toEqual([dcrUsed.client_id]);
  });

  it("a page stops after limits.maxFilterScan records, with a cursor to go on", async () => {
    const { registry } = registryFixture({ counterIds: true, limits: { maxFilterScan: 3 } });
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await registry.create("acct", createBody())).client_id);
    const registered = await registry.registerClient("acct", createBody());
    const first = await registry.list("acct", { source: "dcr" });
    expect(first.clients).toEqual([]);
    expect(first.next_cursor).not.toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    let calls = 0;
    do {
      const page = await registry.list("acct", { source: "dcr", cursor });
      seen.push(...ids(page));
      cursor = page.next_cursor;
      calls++;
    } while (cursor !== null);
    expect(seen).toEqual([registered.client.client_id]);
    expect(calls).toBe(3);
  });

  it("refuses unknown sources and malformed times", async () => {
    const { registry } = registryFixture();
    await expect(registry.list("acct", { source: "ftp" as never, usedBefore: "yesterday" })).rejects.toMatchObject({
      issues: [
        { path: "/source", message: expect.stringContaining("api, import, dcr, cimd") },
        { path: "/usedBefore", message: expect.stringContaining("RFC 3339") },
      ],
    });
  });
});

describe("purgeClients", () => {
  it("deletes idle dcr clients and keeps api clients unless named, with client.deleted reason purged", async () => {
    const { registry, clock, events } = registryFixture({ counterIds: true });
    const api = await registry.create("acct", createBody());
    const idle = await registry.registerClient("acct", createBody());
    const used = await registry.registerClient("acct", createBody());
    clock.advance(10 * DAY);
    await registry.authenticate(used.client.client_id, used.client_secret!);
    clock.advance(DAY);
    const result = await registry.purgeClients("acct", { idleForMs: 7 * DAY });
    expect(result).toEqual({ deleted: [idle.client.client_id], next_cursor: null });
    expect(events.at(-1)).toMatchObject({ type: "client.deleted", client_id: idle.client.client_id, reason: "purged" });
    expect(await registry.findClient(api.client_id)).not.toBeNull();
    expect(await registry.findClient(used.client.client_id)).not.toBeNull();
    expect(await registry.findClient(idle.client.client_id)).toBeNull();
    // With the api source named, the idle operator client goes too.
    expect((await registry.purgeClients("acct", { idleForMs: 7 * DAY, sources: ["api"] })).deleted).toEqual([api.client_id]);
  });

  it("works in bounded batches with a cursor", async () => {
    const { registry, clock } = registryFixture({ counterIds: true });
    const registered: string[] = [];
    for (let i = 0; i < 5; i++) registered.push((await registry.registerClient("acct", createBody())).client.client_id);
    clock.advance(DAY);
    const first = await registry.purgeClients("acct", { idleForMs: HOUR, limit: 2 });
    expect(first.deleted).toEqual(registered.slice(0, 2));
    expect(first.next_cursor).not.toBeNull();
    const second = await registry.purgeClients("acct", { idleForMs: HOUR, limit: 2, cursor: first.next_cursor });
    expect(second.deleted).toEqual(registered.slice(2, 4));
    const third = await registry.purgeClients("acct", { idleForMs: HOUR, limit: 2, cursor: second.next_cursor });
    expect(third).toEqual({ deleted: registered.slice(4), next_cursor: null });
  });

  it("dryRun lists the batch a purge would delete, with client objects, and deletes nothing", async () => {
    const { registry, clock, events } = registryFixture({ counterIds: true });
    await registry.create("acct", createBody());
    const registered: string[] = [];
    for (let i = 0; i < 3; i++) registered.push((await registry.registerClient("acct", createBody())).client.client_id);
    clock.advance(DAY);
    // Never used but created just now: not idle for an hour yet, so neither listed nor deleted.
    const fresh = await registry.registerClient("acct", createBody());
    const eventsBefore = events.length;
    const first = await registry.purgeClients("acct", { idleForMs: HOUR, limit: 2, dryRun: true });
    expect(first.deleted).toEqual(registered.slice(0, 2));
    expect(first.clients!.map((c) => c.client_id)).toEqual(first.deleted);
    expect(first.clients![0]).toStrictEqual(await registry.get("acct", registered[0]!));
    const second = await registry.purgeClients("acct", { idleForMs: HOUR, limit: 2, dryRun: true, cursor: first.next_cursor });
    expect(second.deleted).toEqual(registered.slice(2));
    expect(events.length).toBe(eventsBefore);
    expect((await registry.list("acct")).clients).toHaveLength(5);
    // The real purge deletes exactly what the preview listed.
    expect((await registry.purgeClients("acct", { idleForMs: HOUR })).deleted).toEqual(registered);
    expect(await registry.findClient(fresh.client.client_id)).not.toBeNull();
  });

  it("refuses bad options and deletes nothing", async () => {
    const { registry, clock } = registryFixture();
    const registered = await registry.registerClient("acct", createBody());
    clock.advance(DAY);
    for (const options of [
      { idleForMs: -1 },
      { idleForMs: HOUR, limit: 101 },
      { idleForMs: HOUR, sources: ["x" as never] },
      { idleForMs: HOUR, dryRun: "no" as never },
    ]) {
      await expect(registry.purgeClients("acct", options)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await registry.findClient(registered.client.client_id)).not.toBeNull();
  });
});
