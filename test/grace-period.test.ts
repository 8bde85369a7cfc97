/**
 * The rotation window with and without `rotatedSecretTtlMs`, driven by an
 * injected clock: no test waits for real time to pass.
 */
import { describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { createOAuthClientRegistry, type OAuthClientRegistryOptions } from "../src/index.js";

const HOUR = 60 * 60 * 1000;
const TTL = 24 * HOUR;

function setup(options: OAuthClientRegistryOptions = {}) {
  const clock = { ms: Date.parse("2025-01-01T00:00:00.000Z") };
  const advance = (ms: number) => {
    clock.ms += ms;
  };
  const registry = createOAuthClientRegistry(createMemoryStore(), { now: () => new Date(clock.ms), ...options });
  return { registry, advance };
}

async function confidentialClient(registry: ReturnType<typeof setup>["registry"]) {
  const created = await registry.create("acct", {
    client_name: "Grace",
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: ["https://app.example.com/cb"],
    scopes: [],
    token_endpoint_auth_method: "client_secret_basic",
  });
  return { id: created.client_id, secret: created.client_secret! };
}

async function matched(registry: ReturnType<typeof setup>["registry"], id: string, secret: string) {
  return (await registry.authenticate(id, secret))?.matched ?? null;
}

describe("rotatedSecretTtlMs: the rotated secret expires on its own", () => {
  it("authenticates with the rotated secret until the TTL has elapsed, and not from then on", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id, secret: oldSecret } = await confidentialClient(registry);
    const { client_secret: newSecret } = await registry.rotateSecret("acct", id);

    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    advance(TTL - 1);
    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    expect(await matched(registry, id, newSecret)).toBe("current");

    advance(1);
    expect(await matched(registry, id, oldSecret)).toBeNull();
    advance(365 * 24 * HOUR);
    expect(await matched(registry, id, oldSecret)).toBeNull();
    // Expiry of the rotated secret never touches the current one.
    expect(await matched(registry, id, newSecret)).toBe("current");
  });

  it("reports has_rotated_secret true inside the window and false after it, in get and list", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);

    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    advance(TTL);
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(false);
    expect((await registry.list("acct")).clients[0]!.has_rotated_secret).toBe(false);
    expect((await registry.findClient(id))!.has_rotated_secret).toBe(false);
  });

  it("refuses a second rotation inside the window but allows one after expiry", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id, secret: first } = await confidentialClient(registry);
    const { client_secret: second } = await registry.rotateSecret("acct", id);

    advance(TTL - 1);
    await expect(registry.rotateSecret("acct", id)).rejects.toMatchObject({ status: 409, code: "rotated_secret_exists" });

    advance(1);
    const { client_secret: third } = await registry.rotateSecret("acct", id);
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    expect(await matched(registry, id, third)).toBe("current");
    expect(await matched(registry, id, second)).toBe("rotated");
    expect(await matched(registry, id, first)).toBeNull();
  });

  it("starts a fresh window at each rotation", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    advance(10 * TTL);
    const { client_secret: first } = await registry.rotateSecret("acct", id);
    advance(TTL);
    await registry.rotateSecret("acct", id);
    // `first` was just rotated out: its window starts now, not at its own creation.
    advance(TTL - 1);
    expect(await matched(registry, id, first)).toBe("rotated");
    advance(1);
    expect(await matched(registry, id, first)).toBeNull();
  });

  it("answers NotFound to deleteRotatedSecret once the rotated secret has expired", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    advance(TTL);
    await expect(registry.deleteRotatedSecret("acct", id)).rejects.toMatchObject({ status: 404, code: "rotated_secret_not_found" });
  });

  it("drops an expired rotated secret's hash from the store at the next update", async () => {
    const store = createMemoryStore();
    let ms = Date.parse("2025-01-01T00:00:00.000Z");
    const registry = createOAuthClientRegistry(store, { now: () => new Date(ms), rotatedSecretTtlMs: TTL });
    const { id } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    ms += TTL - 1;
    await registry.update("acct", id, { client_name: "Inside the window" });
    expect((await store.getById(id))?.rotated_secret_hash).not.toBeNull();
    ms += 1;
    await registry.update("acct", id, { client_name: "After the window" });
    expect(await store.getById(id)).toMatchObject({ rotated_secret_hash: null, rotated_at: null });
  });

  it("still lets deleteRotatedSecret end the window early", async () => {
    const { registry, advance } = setup({ rotatedSecretTtlMs: TTL });
    const { id, secret: oldSecret } = await confidentialClient(registry);
    await registry.rotateSecret("acct", id);
    advance(HOUR);
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
    const { registry, advance } = setup();
    const { id, secret: oldSecret } = await confidentialClient(registry);
    const { client_secret: newSecret } = await registry.rotateSecret("acct", id);

    advance(10 * 365 * 24 * HOUR);
    expect(await matched(registry, id, oldSecret)).toBe("rotated");
    expect(await matched(registry, id, newSecret)).toBe("current");
    expect((await registry.get("acct", id)).has_rotated_secret).toBe(true);
    await expect(registry.rotateSecret("acct", id)).rejects.toMatchObject({ code: "rotated_secret_exists" });
  });

  it("stops the rotated secret at deleteRotatedSecret and then allows a new rotation", async () => {
    const { registry } = setup();
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
