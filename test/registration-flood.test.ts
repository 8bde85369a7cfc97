/**
 * Open registration that cannot be flooded: the store-backed rate limit
 * (one budget for every process on the database), the cap on registered
 * clients, and the scheduled purge of idle registrations.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import {
  addressBucket,
  createRegistrationClientLimit,
  createRegistrationHandler,
  createStoreRateLimiter,
  scheduleIdlePurge,
} from "../src/registration/index.js";
import { StorageUnavailableError } from "../src/model/errors.js";
import type { ClientStore } from "../src/model/store.js";
import { createBody, fakeClock, registryFixture } from "./helpers/registry.js";

const dir = mkdtempSync(join(tmpdir(), "ocr-flood-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const from = (address: string) => new Request("https://auth.example.com/register", { method: "POST", headers: { "x-test-address": address } });
const byTestAddress = (request: Request) => addressBucket(request.headers.get("x-test-address"));

const metadata = { redirect_uris: ["https://app.example.com/cb"], client_name: "App", token_endpoint_auth_method: "none" };
const registerRequest = (address = "198.51.100.1") =>
  new Request("https://auth.example.com/register", {
    method: "POST",
    headers: { "content-type": "application/json", "x-test-address": address },
    body: JSON.stringify(metadata),
  });

describe("createStoreRateLimiter", () => {
  it("two limiters on one SQLite file share one budget per address; the window slides", async () => {
    const file = join(dir, "rate.sqlite");
    const [a, b] = [createSqliteStore(file), createSqliteStore(file)];
    try {
      const clock = fakeClock();
      const options = { limit: 3, windowSeconds: 60, bucket: byTestAddress, now: clock.now };
      const [limitA, limitB] = [createStoreRateLimiter(a, options), createStoreRateLimiter(b, options)];
      expect(await limitA(from("203.0.113.7"))).toBe(true);
      expect(await limitB(from("203.0.113.7"))).toBe(true);
      clock.advance(30_000);
      expect(await limitA(from("203.0.113.7"))).toBe(true);
      expect(await limitB(from("203.0.113.7"))).toBe(false);
      expect(await limitA(from("203.0.113.7"))).toBe(false);
      // Another address has its own budget.
      expect(await limitB(from("203.0.113.8"))).toBe(true);
      // The first two admitted requests leave the window 60 s after they came.
      clock.advance(30_000);
      expect(await limitB(from("203.0.113.7"))).toBe(true);
      expect(await limitA(from("203.0.113.7"))).toBe(true);
      expect(await limitA(from("203.0.113.7"))).toBe(false);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("counts an IPv6 /64 as one caller, an IPv4-mapped address as its IPv4 address, and leaves requests without a bucket alone", async () => {
    const limit = createStoreRateLimiter(createMemoryStore(), { limit: 1, windowSeconds: 60, bucket: byTestAddress });
    expect(await limit(from("2001:db8:1:2::1"))).toBe(true);
    expect(await limit(from("2001:db8:1:2:ffff:ffff:ffff:ffff"))).toBe(false);
    expect(await limit(from("2001:db8:1:3::1"))).toBe(true);
    expect(await limit(from("198.51.100.9"))).toBe(true);
    expect(await limit(from("::ffff:198.51.100.9"))).toBe(false);
    expect(await limit(from("not an address"))).toBe(true);
    expect(await limit(from("not an address"))).toBe(true);
    expect(addressBucket("[2001:DB8::1]")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("1:2:3:4:5:6:7:8:9")).toBeNull();
  });

  it("refuses a store without claimOnce at creation, and answers 503 (never unlimited) while the store is down", async () => {
    const { claimOnce: _none, ...plain } = createMemoryStore();
    expect(() => createStoreRateLimiter(plain, { limit: 1, windowSeconds: 1, bucket: () => "x" })).toThrow(/claimOnce/);
    const down: ClientStore = {
      ...createMemoryStore(),
      claimOnce: async () => {
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
      },
    };
    const { registry } = registryFixture();
    const handler = createRegistrationHandler(registry, {
      accountId: "registered",
      rateLimit: createStoreRateLimiter(down, { limit: 1, windowSeconds: 1, bucket: byTestAddress }),
      onError: () => undefined,
    });
    const response = await handler(registerRequest());
    expect(response.status).toBe(503);
    await expect(createStoreRateLimiter(down, { limit: 1, windowSeconds: 1, bucket: () => "x" })(from("x"))).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it("as the handler's rateLimit: past the budget 429 with Retry-After, and nothing registered", async () => {
    const { registry, store } = registryFixture();
    const handler = createRegistrationHandler(registry, {
      accountId: "registered",
      rateLimit: createStoreRateLimiter(store, { limit: 2, windowSeconds: 3600, bucket: byTestAddress }),
      rateLimitRetryAfterSeconds: 120,
    });
    expect((await handler(registerRequest())).status).toBe(201);
    expect((await handler(registerRequest())).status).toBe(201);
    const refused = await handler(registerRequest());
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("120");
    expect((await handler(registerRequest("198.51.100.2"))).status).toBe(201);
    expect((await registry.list("registered")).clients).toHaveLength(3);
  });
});

describe("createRegistrationClientLimit", () => {
  it("refuses registrations past maxClients with 429 and a message naming the cap; a purge makes room again", async () => {
    const { registry, store, clock } = registryFixture();
    const handler = createRegistrationHandler(registry, {
      accountId: "registered",
      clientLimit: createRegistrationClientLimit(store, { maxClients: 3, now: clock.now }),
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await handler(registerRequest())).status);
    expect(statuses).toEqual([201, 201, 201]);
    const refused = await handler(registerRequest());
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: "invalid_request", error_description: expect.stringContaining("maximum of 3 registered clients") });
    expect((await registry.list("registered")).clients).toHaveLength(3);

    // A refused registration (bad metadata) takes no room.
    clock.advance(31 * 86_400_000);
    expect(await registry.purgeClients("registered", { idleForMs: 30 * 86_400_000 })).toMatchObject({ next_cursor: null });
    const bad = new Request("https://auth.example.com/register", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    // Room is seen at the next read of the store (every five seconds at the cap).
    clock.advance(5_000);
    expect((await handler(bad)).status).toBe(400);
    for (let i = 0; i < 3; i++) expect((await handler(registerRequest())).status).toBe(201);
    expect((await handler(registerRequest())).status).toBe(429);
  });

  it("counts concurrent registrations as they are in flight: never more than maxClients", async () => {
    const { registry, store } = registryFixture();
    const handler = createRegistrationHandler(registry, { accountId: "registered", clientLimit: createRegistrationClientLimit(store, { maxClients: 5 }) });
    const statuses = await Promise.all(Array.from({ length: 12 }, () => handler(registerRequest()).then((r) => r.status)));
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  });

  it("is checked as an option", () => {
    const { registry } = registryFixture();
    expect(() => createRegistrationHandler(registry, { accountId: "registered", clientLimit: {} as never })).toThrow(/clientLimit/);
    expect(() => createRegistrationClientLimit(createMemoryStore(), { maxClients: 0 })).toThrow(/maxClients/);
  });
});

describe("scheduleIdlePurge", () => {
  it("deletes idle registrations in bounded runs, keeps recent ones, and stops cleanly", async () => {
    const { registry, clock, events } = registryFixture();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await registry.registerClient("registered", createBody({ token_endpoint_auth_method: "none" }))).client.client_id);
    clock.advance(10 * 86_400_000);
    const recent = (await registry.registerClient("registered", createBody({ token_endpoint_auth_method: "none" }))).client.client_id;
    const purged: string[][] = [];
    const schedule = scheduleIdlePurge(registry, { accountId: "registered", idleForMs: 5 * 86_400_000, maxPerRun: 3, intervalMs: 3_600_000, onPurged: (d) => void purged.push([...d]) });
    try {
      expect(await schedule.runNow()).toBe(3);
      expect(await schedule.runNow()).toBe(2);
      expect(await schedule.runNow()).toBe(0);
      expect(purged.flat().sort()).toEqual([...ids].sort());
      expect(events.filter((e) => e.type === "client.deleted")).toHaveLength(5);
      expect((await registry.list("registered")).clients.map((c) => c.client_id)).toEqual([recent]);
    } finally {
      await schedule.stop();
    }
  });

  it("two schedules on one store delete each idle client exactly once", async () => {
    const store = createMemoryStore();
    const a = registryFixture({ store });
    const b = registryFixture({ store });
    for (let i = 0; i < 30; i++) await a.registry.registerClient("registered", createBody({ token_endpoint_auth_method: "none" }));
    a.clock.advance(10 * 86_400_000);
    b.clock.advance(10 * 86_400_000);
    const options = { accountId: "registered", idleForMs: 86_400_000 };
    const [sa, sb] = [scheduleIdlePurge(a.registry, options), scheduleIdlePurge(b.registry, options)];
    try {
      const [na, nb] = await Promise.all([sa.runNow(), sb.runNow()]);
      expect(na + nb).toBe(30);
      const deleted = [...a.events, ...b.events].filter((e) => e.type === "client.deleted");
      expect(deleted).toHaveLength(30);
      expect(new Set(deleted.map((e) => e.client_id)).size).toBe(30);
    } finally {
      await Promise.all([sa.stop(), sb.stop()]);
    }
  });
});
