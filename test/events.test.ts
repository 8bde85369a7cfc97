/**
 * Audit events through `onEvent`: one per operation, with who/what/when, and
 * never a secret or a secret hash. A misbehaving listener must not affect
 * the operation it reports on.
 */
import { describe, expect, it } from "vitest";
import { createBody, registryFixture } from "./helpers/registry.js";

const T0 = "2025-03-01T12:00:00.000Z";

// client_secret_post, so a switch to client_secret_basic is a change of value.
const confidential = createBody({ client_name: "Events", token_endpoint_auth_method: "client_secret_post" });

describe("onEvent: one event per operation, with type, account_id, client_id and at", () => {
  it("reports create, update, rotate, delete-rotated and delete with the injected time", async () => {
    const { registry, events, clock } = registryFixture({ start: T0 });
    const created = await registry.create("acct_a", confidential);
    const id = created.client_id;
    expect(events).toEqual([{ type: "client.created", account_id: "acct_a", client_id: id, at: T0, source: "api" }]);

    let at = clock.tick();
    await registry.update("acct_a", id, { client_name: "Renamed" });
    expect(events.at(-1)).toEqual({ type: "client.updated", account_id: "acct_a", client_id: id, at, changed_fields: ["client_name"] });

    at = clock.tick();
    await registry.rotateSecret("acct_a", id);
    expect(events.at(-1)).toEqual({ type: "client.secret_rotated", account_id: "acct_a", client_id: id, at });

    at = clock.tick();
    await registry.deleteRotatedSecret("acct_a", id);
    expect(events.at(-1)).toEqual({ type: "client.rotated_secret_deleted", account_id: "acct_a", client_id: id, at });

    at = clock.tick();
    await registry.delete("acct_a", id);
    expect(events.at(-1)).toEqual({ type: "client.deleted", account_id: "acct_a", client_id: id, at });
    expect(events).toHaveLength(5);
  });

  it("lists in changed_fields what changed in value, not what was sent", async () => {
    const { registry, events } = registryFixture();
    const { client_id: id } = await registry.create("acct_a", confidential);

    await registry.update("acct_a", id, {
      client_name: "Events", // unchanged
      redirect_uris: ["https://app.example.com/cb", "https://app.example.com/cb2"],
      scopes: ["zone.read", "zone.write"],
      token_endpoint_auth_method: "client_secret_basic",
    });
    const updated = events.at(-1);
    expect(updated?.type).toBe("client.updated");
    expect(updated && "changed_fields" in updated ? [...updated.changed_fields].sort() : null).toEqual([
      "redirect_uris",
      "scopes",
      "token_endpoint_auth_method",
    ]);

    await registry.update("acct_a", id, { client_name: "Events" });
    expect(events.at(-1)).toMatchObject({ type: "client.updated", changed_fields: [] });
  });

  it("reports client_uri verification and promotion (with visibility among the changed fields)", async () => {
    const { registry, events, txt, clock } = registryFixture();
    const { client_id: id, client_uri_verification } = await registry.create("acct_a", {
      ...confidential,
      client_uri: "https://app.example.com",
      logo_uri: "https://app.example.com/logo.png",
      scopes: ["zone.read"], // an API scope, as promotion requires
    });
    txt.set("app.example.com", [[client_uri_verification!.text]]);

    let at = clock.tick();
    await registry.verifyClientUri("acct_a", id);
    expect(events.at(-1)).toEqual({
      type: "client.uri_verification_changed",
      account_id: "acct_a",
      client_id: id,
      at,
      status: "verified",
    });

    at = clock.tick();
    await registry.update("acct_a", id, { visibility: "public" });
    expect(events.slice(-2)).toEqual([
      { type: "client.updated", account_id: "acct_a", client_id: id, at, changed_fields: ["visibility"] },
      { type: "client.promoted", account_id: "acct_a", client_id: id, at },
    ]);
  });

  it("reports a failed client_uri verification", async () => {
    const { registry, events } = registryFixture();
    const { client_id: id } = await registry.create("acct_a", { ...confidential, client_uri: "https://nowhere.example" });
    await registry.verifyClientUri("acct_a", id);
    expect(events.at(-1)).toMatchObject({ type: "client.uri_verification_changed", client_id: id, status: "failed" });
  });

  it("reports an import", async () => {
    const { registry, events } = registryFixture({ start: T0 });
    await registry.importClient("acct_b", { ...confidential, client_id: "legacy-1", client_secret: "s3cret-legacy" });
    expect(events).toEqual([{ type: "client.imported", account_id: "acct_b", client_id: "legacy-1", at: T0 }]);
  });

  it("reports which secret authenticated, so operators can see who still uses the rotated one", async () => {
    const { registry, events } = registryFixture({ start: T0 });
    const created = await registry.create("acct_a", confidential);
    const id = created.client_id;
    const { client_secret: fresh } = await registry.rotateSecret("acct_a", id);

    await registry.authenticate(id, fresh);
    expect(events.at(-1)).toEqual({ type: "client.authenticated", account_id: "acct_a", client_id: id, at: T0, matched: "current" });
    await registry.authenticate(id, created.client_secret!);
    expect(events.at(-1)).toEqual({ type: "client.authenticated", account_id: "acct_a", client_id: id, at: T0, matched: "rotated" });
  });

  it("reports every kind of failed authentication, with a null account for an unknown client id", async () => {
    const { registry, events } = registryFixture({ start: T0 });
    const { client_id: id } = await registry.create("acct_a", confidential);
    const { client_id: publicId } = await registry.create("acct_a", { ...confidential, token_endpoint_auth_method: "none" });

    await registry.authenticate(id, "wrong");
    await registry.authenticate("0123456789abcdef0123456789abcdef", "whatever");
    await registry.authenticate(publicId, "whatever");
    expect(events.slice(-3)).toEqual([
      { type: "client.authentication_failed", account_id: "acct_a", client_id: id, at: T0, reason: "invalid_secret" },
      {
        type: "client.authentication_failed",
        account_id: null,
        client_id: "0123456789abcdef0123456789abcdef",
        at: T0,
        reason: "unknown_client",
      },
      { type: "client.authentication_failed", account_id: "acct_a", client_id: publicId, at: T0, reason: "no_secret" },
    ]);
  });

  it("emits nothing for a refused operation", async () => {
    const { registry, events } = registryFixture();
    const { client_id: id } = await registry.create("acct_a", confidential);
    const before = events.length;

    await expect(registry.update("acct_a", id, { redirect_uris: ["http://evil.example/cb"] })).rejects.toMatchObject({ status: 400 });
    await expect(registry.update("acct_b", id, { client_name: "x" })).rejects.toMatchObject({ status: 404 });
    await expect(registry.delete("acct_b", id)).rejects.toMatchObject({ status: 404 });
    await expect(registry.deleteRotatedSecret("acct_a", id)).rejects.toMatchObject({ status: 404 });
    await registry.rotateSecret("acct_a", id);
    const afterRotate = events.length;
    await expect(registry.rotateSecret("acct_a", id)).rejects.toMatchObject({ status: 409 });
    await expect(registry.create("acct_a", { ...confidential, scopes: ["bad scope"] })).rejects.toMatchObject({ status: 400 });

    expect(before + 1).toBe(afterRotate);
    expect(events).toHaveLength(afterRotate);
  });
});

describe("onEvent: events never carry a secret or a secret hash", () => {
  it("contains none of the secrets or stored hashes of a full client life cycle", async () => {
    const { registry, store, events } = registryFixture();
    const secrets: string[] = [];
    const hashes: string[] = [];
    const remember = async (id: string) => {
      const record = await store.getById(id);
      for (const hash of [record?.secret_hash, record?.rotated_secret_hash]) if (hash) hashes.push(hash);
    };

    const created = await registry.create("acct_a", confidential);
    const id = created.client_id;
    secrets.push(created.client_secret!);
    await remember(id);
    const rotated = await registry.rotateSecret("acct_a", id);
    secrets.push(rotated.client_secret);
    await remember(id);
    await registry.authenticate(id, created.client_secret!);
    await registry.authenticate(id, rotated.client_secret);
    await registry.authenticate(id, "a-wrong-guess-that-is-also-secret");
    secrets.push("a-wrong-guess-that-is-also-secret");
    await registry.update("acct_a", id, { client_name: "Renamed" });
    await registry.deleteRotatedSecret("acct_a", id);
    await registry.importClient("acct_a", { ...confidential, client_id: "legacy-2", client_secret: "legacy-secret-value" });
    secrets.push("legacy-secret-value");
    await remember("legacy-2");
    await registry.authenticate("legacy-2", "legacy-secret-value");
    await registry.delete("acct_a", id);

    expect(new Set(events.map((e) => e.type)).size).toBeGreaterThanOrEqual(8);
    expect(hashes.length).toBeGreaterThanOrEqual(3);
    const serialized = JSON.stringify(events);
    for (const secret of secrets) expect(serialized).not.toContain(secret);
    for (const hash of hashes) {
      expect(serialized).not.toContain(hash);
      // Neither the digest alone (without its "sha256$" / "scrypt$…$" prefix).
      expect(serialized).not.toContain(hash.split("$").at(-1)!);
    }
    expect(serialized).not.toMatch(/sha256\$|scrypt\$/);
    for (const event of events) {
      for (const key of Object.keys(event)) expect(key).not.toMatch(/secret|hash|password/i);
    }
  });
});

describe("onEvent: a misbehaving listener never breaks or blocks an operation", () => {
  it("completes every operation when the listener throws", async () => {
    let calls = 0;
    const { registry } = registryFixture({
      onEvent: () => {
        calls++;
        throw new Error("audit sink down");
      },
    });
    const created = await registry.create("acct_a", confidential);
    await expect(registry.get("acct_a", created.client_id)).resolves.toMatchObject({ client_name: "Events" });
    await expect(registry.update("acct_a", created.client_id, { client_name: "Still works" })).resolves.toMatchObject({
      client_name: "Still works",
    });
    const { client_secret } = await registry.rotateSecret("acct_a", created.client_id);
    await expect(registry.authenticate(created.client_id, client_secret)).resolves.toMatchObject({ matched: "current" });
    await expect(registry.authenticate(created.client_id, "wrong")).resolves.toBeNull();
    await expect(registry.delete("acct_a", created.client_id)).resolves.toEqual({ id: created.client_id });
    expect(calls).toBe(6);
  });

  it("completes every operation when an async listener rejects", async () => {
    let calls = 0;
    const { registry } = registryFixture({
      onEvent: async () => {
        calls++;
        throw new Error("audit sink down");
      },
    });
    const created = await registry.create("acct_a", confidential);
    await expect(registry.authenticate(created.client_id, created.client_secret!)).resolves.toMatchObject({ matched: "current" });
    await expect(registry.delete("acct_a", created.client_id)).resolves.toEqual({ id: created.client_id });
    expect(calls).toBe(3);
  });

  // A short test timeout turns "blocked forever" into a prompt failure without any sleep in the test.
  it("does not wait for an async listener that never settles", { timeout: 2000 }, async () => {
    const seen: string[] = [];
    const { registry } = registryFixture({
      onEvent: (event) => {
        seen.push(event.type);
        return new Promise<void>(() => undefined);
      },
    });
    const created = await registry.create("acct_a", confidential);
    await registry.update("acct_a", created.client_id, { client_name: "Next" });
    const { client_secret } = await registry.rotateSecret("acct_a", created.client_id);
    await expect(registry.authenticate(created.client_id, client_secret)).resolves.toMatchObject({ matched: "current" });
    await registry.deleteRotatedSecret("acct_a", created.client_id);
    await registry.delete("acct_a", created.client_id);
    expect(seen).toEqual([
      "client.created",
      "client.updated",
      "client.secret_rotated",
      "client.authenticated",
      "client.rotated_secret_deleted",
      "client.deleted",
    ]);
  });
});
