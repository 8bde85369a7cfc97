/**
 * The rotation window with and without `rotatedSecretTtlMs`, driven by an
 * injected clock: no test waits for real time to pass.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClientRegistry } from "../src/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

const HOUR = 60 * 60 * 1000;
const TTL = 24 * HOUR;

async function confidentialClient(registry: OAuthClientRegistry) {
  const created = await registry.create("acct", createBody({ token_endpoint_auth_method: "client_secret_basic" }));
  return { id: created.client_id, secret: created.client_secret! };
}

async function matched(registry: OAuthClientRegistry, id: string, secret: string) {
  return (await registry.authenticate(id, secret))?.matched ?? null;
}

describe("rotatedSecretTtlMs: the rotated secret expires on its own", () => {
  it("authenticates with the rotated secret until the TTL has elapsed, and not from then on", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id, secret: oldSecret } = await confidentialClient(registry);
    const { client_secret: newSecret } = await registry.rotateSecret("acct", id);

    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    clock.advance(TTL - 1);
    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    expect(await matched(registry, id, newSecret)).toBe("current");

    clock.advance(1);
    expect(await matched(registry, id, oldSecret)).toBeNull();
    clock.advance(365 * 24 * HOUR);
    expect(await matched(registry, id, oldSecret)).toBeNull();
    // Expiry of the rotated secret never touches the current one.
    expect(await matched(registry, id, newSecret)).toBe("current");
  });

  it("reports has_rotated_secret true inside the window and false after it, in get and list", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);

    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    clock.advance(TTL);
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(false);
    expect((await registry.list("acct")).clients[0]!.has_rotated_secret).toBe(false);
    expect((await registry.findClient(id))!.has_rotated_secret).toBe(false);
  });

  it("shows rotated_secret_expires_at (rotated_at + TTL) while the rotated secret lasts, and leaves it out after", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    expect(await registry.get("acct", id)).not.toHaveProperty("rotated_secret_expires_at");
    const rotatedAt = clock.now().getTime();
    await registry.rotateSecret("acct", id);
    expect((await registry.get("acct", id)).rotated_secret_expires_at).toBe(new Date(rotatedAt + TTL).toISOString());
    clock.advance(TTL);
    expect(await registry.get("acct", id)).not.toHaveProperty("rotated_secret_expires_at");
  });

  it("refuses a second rotation inside the window but allows one after expiry", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id, secret: first } = await confidentialClient(registry);
    const { client_secret: second } = await registry.rotateSecret("acct", id);

    clock.advance(TTL - 1);
    await expect(registry.rotateSecret("acct", id)).rejects.toMatchObject({ status: 409, code: "rotated_secret_exists" });

    clock.advance(1);
    const { client_secret: third } = await registry.rotateSecret("acct", id);
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    expect(await matched(registry, id, third)).toBe("current");
    expect(await matched(registry, id, second)).toBe("rotated");
    expect(await matched(registry, id, first)).toBeNull();
  });

  it("starts a fresh window at each rotation", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    clock.advance(10 * TTL);
    const { client_secret: first } = await registry.rotateSecret("acct", id);
    clock.advance(TTL);
    await registry.rotateSecret("acct", id);
    // `first` was just rotated out: its window starts now, not at its own creation.
    clock.advance(TTL - 1);
    expect(await matched(registry, id, first)).toBe("rotated");
    clock.advance(1);
    expect(await matched(registry, id, first)).toBeNull();
  });

  it("answers NotFound to deleteRotatedSecret once the rotated secret has expired", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    clock.advance(TTL);
    await expect(registry.deleteRotatedSecret("acct", id)).rejects.toMatchObject({ status: 404, code: "rotated_secret_not_found" });
  });

  it("drops an expired rotated secret's hash from the store at the next update", async () => {
    const { registry, store, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    clock.advance(TTL - 1);
    await registry.update("acct", id, { client_name: "Inside the window" });
    expect((await store.getById(id))?.rotated_secret_hash).not.toBeNull();
    clock.advance(1);
    await registry.update("acct", id, { client_name: "After the window" });
    expect(await store.getById(id)).toMatchObject({ rotated_secret_hash: null, rotated_at: null });
  });

  it("still lets deleteRotatedSecret end the window early", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id, secret: oldSecret } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    clock.advance(HOUR);
    await registry.deleteRotatedSecret("acct", id);
    expect(await matched(registry, id, oldSecret)).toBeNull();
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(false);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])("refuses rotatedSecretTtlMs = %s at construction", (ttl) => {
    expect(() => createOAuthClientRegistry(createMemoryStore(), { rotatedSecretTtlMs: ttl })).toThrow(TypeError);
  });
});

describe("without rotatedSecretTtlMs the rotated secret lives until deleteRotatedSecret", () => {
  it("keeps authenticating the rotated secret however much time passes", async () => {
    const { registry, clock } = registryFixture();
    const { id, secret: oldSecret } = await confidentialClient(registry);
    const { client_secret: newSecret } = await registry.rotateSecret("acct", id);

    clock.advance(10 * 365 * 24 * HOUR);
    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    expect(await matched(registry, id, newSecret)).toBe("current");
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    // No end to show: the rotated secret lasts until deleted.
    expect(await registry.get("acct", id)).not.toHaveProperty("rotated_secret_expires_at");
    await expect(registry.rotateSecret("acct", id)).rejects.toMatchObject({ code: "rotated_secret_exists" });
  });

  it("a per-call gracePeriodMs is shown as rotated_secret_expires_at, in get and list, until it passes", async () => {
    const { registry, clock } = registryFixture({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    const end = new Date(clock.now().getTime() + 2 * HOUR).toISOString();
    await registry.rotateSecret("acct", id, { gracePeriodMs: 2 * HOUR });
    expect((await registry.get("acct", id)).rotated_secret_expires_at).toBe(end);
    expect((await registry.list("acct")).clients[0]!.rotated_secret_expires_at).toBe(end);
    clock.advance(2 * HOUR);
    expect(await registry.get("acct", id)).not.toHaveProperty("rotated_secret_expires_at");
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(false);
  });

  it("stops the rotated secret at deleteRotatedSecret and then allows a new rotation", async () => {
    const { registry } = registryFixture();
    const { id, secret: oldSecret } = await confidentialClient(registry);
    const { client_secret: newSecret } = await registry.rotateSecret("acct", id);

    await expect(registry.deleteRotatedSecret("acct", id)).resolves.toEqual({ id });
    expect(await matched(registry, id, oldSecret)).toBeNull();
    expect(await matched(registry, id, newSecret)).toBe("current");
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(false);
    await expect(registry.deleteRotatedSecret("acct", id)).rejects.toMatchObject({ status: 404 });

    const { client_secret: newest } = await registry.rotateSecret("acct", id);
    expect(await matched(registry, id, newest)).toBe("current");
    expect(await matched(registry, id, newSecret)).toBe("rotated");
  });
});
