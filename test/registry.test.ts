import { describe, expect, it } from "vitest";
import {
  ConflictError,
  createOAuthClientRegistry,
  NotFoundError,
  OAuthClientError,
  ValidationError,
  type ClientStore,
  type CreateClientInput,
  type SecretHasher,
  type StoredClient,
} from "../src/index.js";
import { createMemoryStore } from "../adapters/memory.js";
import { createBody, registryFixture, type RegistryFixture } from "./helpers/registry.js";

const ACCOUNT = "acct_a";
const OTHER = "acct_b";

async function snapshot(store: ClientStore, accountId: string): Promise<StoredClient[]> {
  return store.list(accountId, { limit: 10_000 });
}

async function rejection(promise: Promise<unknown>): Promise<OAuthClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OAuthClientError) return error;
    throw error;
  }
  throw new Error("expected the operation to be refused");
}

describe("create", () => {
  it("returns the client with a secret for confidential clients and stores only its hash", async () => {
    const { registry, store } = registryFixture({ start: "2026-01-01T00:00:00.000Z" });
    const created = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "client_secret_basic" }));
    expect(created.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.visibility).toBe("private");
    expect(created.has_rotated_secret).toBe(false);
    expect(created.client_secret).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(created.created_at).toBe("2026-01-01T00:00:00.000Z");
    expect(created.updated_at).toBe(created.created_at);
    const stored = await store.get(ACCOUNT, created.client_id);
    expect(JSON.stringify(stored)).not.toContain(created.client_secret);
    expect(stored?.secret_hash).toMatch(/^sha256\$[0-9a-f]{64}$/);
  });

  it("gives a public client (none) no secret", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "none" }));
    expect(created).not.toHaveProperty("client_secret");
    expect((await store.get(ACCOUNT, created.client_id))?.secret_hash).toBeNull();
  });

  it("prepends the configured secret prefix", async () => {
    const { registry } = registryFixture({ secretPrefix: "ocs_" });
    const created = await registry.create(ACCOUNT, createBody());
    expect(created.client_secret?.startsWith("ocs_")).toBe(true);
    const rotated = await registry.rotateSecret(ACCOUNT, created.client_id);
    expect(rotated.client_secret.startsWith("ocs_")).toBe(true);
  });

  it("never returns the secret again on reads", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    const reads = [
      await registry.get(ACCOUNT, created.client_id),
      (await registry.list(ACCOUNT)).clients[0],
      await registry.findClient(created.client_id),
      await registry.update(ACCOUNT, created.client_id, { client_name: "Renamed" }),
      (await registry.authenticate(created.client_id, created.client_secret!))?.client,
    ];
    for (const read of reads) {
      expect(read).toBeDefined();
      expect(read).not.toHaveProperty("client_secret");
      expect(JSON.stringify(read)).not.toContain(created.client_secret);
    }
  });

  it("manages openid and offline_access from response and grant types", async () => {
    const { registry } = registryFixture();
    const withBoth = await registry.create(
      ACCOUNT,
      createBody({
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code", "id_token"],
        scopes: ["offline", "email", "openid"],
      }),
    );
    expect(withBoth.scopes).toEqual(["email", "openid", "offline_access"]);
    const withNeither = await registry.create(
      ACCOUNT,
      createBody({
        grant_types: ["authorization_code"],
        response_types: ["token"],
        scopes: ["openid", "offline_access", "profile"],
      }),
    );
    expect(withNeither.scopes).toEqual(["profile"]);
  });

  it("keeps openid for a code-flow client that asks for it, and adds it to none that does not", async () => {
    const { registry } = registryFixture();
    const asked = await registry.create(ACCOUNT, createBody({ grant_types: ["authorization_code"], response_types: ["code"], scopes: ["openid", "profile"] }));
    expect(asked.scopes).toEqual(["profile", "openid"]);
    await expect(registry.get(ACCOUNT, asked.client_id)).resolves.toMatchObject({ scopes: ["profile", "openid"] });
    const notAsked = await registry.create(ACCOUNT, createBody({ grant_types: ["authorization_code"], response_types: ["code"], scopes: ["profile"] }));
    expect(notAsked.scopes).toEqual(["profile"]);
  });

  it("refuses a body with many problems, reporting every one, and stores nothing", async () => {
    const { registry, store } = registryFixture({ scopeCatalog: ["zone.read"] });
    const error = await rejection(
      registry.create(ACCOUNT, {
        client_name: "   ",
        grant_types: ["refresh_token"],
        response_types: [],
        redirect_uris: ["http://evil.example.com/cb", "javascript:alert(1)"],
        scopes: ["account:read", "zone.write"],
        token_endpoint_auth_method: "client_secret_basic",
        client_id: "mine",
        extra: true,
      } as unknown as CreateClientInput),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.status).toBe(400);
    const paths = error.issues.map((i) => i.path);
    for (const path of [
      "/client_name",
      "/grant_types",
      "/response_types",
      "/redirect_uris/0",
      "/redirect_uris/1",
      "/scopes/0",
      "/scopes/1",
      "/client_id",
      "/extra",
    ]) {
      expect(paths).toContain(path);
    }
    expect(await snapshot(store, ACCOUNT)).toEqual([]);
  });

  it("refuses an optional scope that is not in scopes", async () => {
    const { registry } = registryFixture();
    const error = await rejection(registry.create(ACCOUNT, createBody({ scopes: ["zone.read"], optional_scopes: ["zone.edit"] })));
    expect(error.issues).toEqual([
      { path: "/optional_scopes/0", message: expect.stringContaining("must also be in scopes") },
    ]);
  });

  it("refuses a non-string account id", async () => {
    const { registry } = registryFixture();
    const error = await rejection(registry.create("" as string, createBody()));
    expect(error.code).toBe("validation_failed");
    expect(error.issues[0]?.path).toBe("/account_id");
  });

  it("picks another id when the generated one is taken", async () => {
    const ids = ["0".repeat(32), "0".repeat(32), "1".repeat(32)];
    const { registry } = registryFixture({ generateClientId: () => ids.shift()! });
    await registry.create(ACCOUNT, createBody());
    const second = await registry.create(ACCOUNT, createBody());
    expect(second.client_id).toBe("1".repeat(32));
  });
});

describe("get, list and tenant isolation", () => {
  it("answers NotFound for a client of another account on every account-scoped operation", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ client_uri: "https://dash.example.com" }));
    const before = await snapshot(store, ACCOUNT);
    const attempts = [
      registry.get(OTHER, created.client_id),
      registry.update(OTHER, created.client_id, { client_name: "Hijacked" }),
      registry.delete(OTHER, created.client_id),
      registry.rotateSecret(OTHER, created.client_id),
      registry.deleteRotatedSecret(OTHER, created.client_id),
      registry.verifyClientUri(OTHER, created.client_id),
    ];
    for (const attempt of attempts) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error.status).toBe(404);
    }
    expect((await registry.list(OTHER)).clients).toEqual([]);
    expect(await snapshot(store, ACCOUNT)).toEqual(before);
  });

  it("answers NotFound for unknown and malformed ids", async () => {
    const { registry } = registryFixture();
    for (const id of ["0".repeat(32), "", "x".repeat(500)]) {
      expect((await rejection(registry.get(ACCOUNT, id))).code).toBe("not_found");
    }
    expect(await registry.findClient("nope")).toBeNull();
  });

  it("finds a client across accounts for the authorize endpoint", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(OTHER, createBody());
    expect((await registry.findClient(created.client_id))?.client_id).toBe(created.client_id);
  });

  it("pages in creation order and returns every client exactly once while clients are added", async () => {
    // Counter ids sort in creation order, so clients sharing a timestamp list as they were created.
    const { registry, clock } = registryFixture({ counterIds: true });
    const existing: string[] = [];
    for (let i = 0; i < 25; i++) {
      existing.push((await registry.create(ACCOUNT, createBody({ client_name: `c${i}` }))).client_id);
      if (i % 3 === 0) clock.advance(1); // several clients share a timestamp
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await registry.list(ACCOUNT, { limit: 4, cursor });
      expect(page.clients.length).toBeLessThanOrEqual(4);
      seen.push(...page.clients.map((c) => c.client_id));
      cursor = page.next_cursor;
      pages++;
      await registry.create(ACCOUNT, createBody({ client_name: `added during page ${pages}` }));
      clock.advance(1);
    } while (cursor !== null && pages < 100);
    for (const id of existing) expect(seen.filter((s) => s === id)).toHaveLength(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, existing.length)).toEqual(existing);
  });

  it("refuses a bad limit or a forged cursor", async () => {
    const { registry } = registryFixture();
    for (const limit of [0, -1, 1.5, 101]) {
      expect((await rejection(registry.list(ACCOUNT, { limit }))).issues[0]?.path).toBe("/limit");
    }
    for (const cursor of ["%%%", "bm90IGpzb24", btoa(JSON.stringify({ a: 1 }))]) {
      expect((await rejection(registry.list(ACCOUNT, { cursor }))).issues[0]?.path).toBe("/cursor");
    }
  });

  it("lists with an empty next_cursor on the last page", async () => {
    const { registry } = registryFixture();
    await registry.create(ACCOUNT, createBody());
    const page = await registry.list(ACCOUNT, { limit: 1 });
    expect(page.clients).toHaveLength(1);
    expect(page.next_cursor).toBeNull();
  });
});

describe("update", () => {
  it("changes only the fields sent, keeps created_at and moves updated_at", async () => {
    const { registry, clock } = registryFixture({ start: "2026-01-01T00:00:00.000Z" });
    const created = await registry.create(ACCOUNT, createBody({ logo_uri: "https://dash.example.com/logo.png" }));
    clock.advance(60_000);
    const updated = await registry.update(ACCOUNT, created.client_id, { client_name: "New name" });
    expect(updated.client_name).toBe("New name");
    expect(updated.logo_uri).toBe("https://dash.example.com/logo.png");
    expect(updated.redirect_uris).toEqual(created.redirect_uris);
    expect(updated.created_at).toBe(created.created_at);
    expect(updated.updated_at).toBe("2026-01-01T00:01:00.000Z");
  });

  it("clears an optional URL with null", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ tos_uri: "https://dash.example.com/tos" }));
    const updated = await registry.update(ACCOUNT, created.client_id, { tos_uri: null });
    expect(updated).not.toHaveProperty("tos_uri");
  });

  it("null puts optional fields back to their defaults: lists [], URIs cleared (with client_uri verification)", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(
      ACCOUNT,
      createBody({
        scopes: ["profile", "email"],
        optional_scopes: ["email"],
        allowed_cors_origins: ["https://App.example.com"],
        post_logout_redirect_uris: ["https://app.example.com/bye"],
        client_uri: "https://app.example.com",
        logo_uri: "https://app.example.com/logo.png",
      }),
    );
    expect(created.client_uri_verification?.status).toBe("pending");
    const cleared = await registry.update(ACCOUNT, created.client_id, {
      optional_scopes: null,
      allowed_cors_origins: null,
      post_logout_redirect_uris: null,
      client_uri: null,
      logo_uri: null,
      visibility: null,
    });
    expect(cleared).toMatchObject({ optional_scopes: [], allowed_cors_origins: [], post_logout_redirect_uris: [], visibility: "private" });
    for (const key of ["client_uri", "client_uri_verification", "logo_uri"]) expect(cleared).not.toHaveProperty(key);
    expect(await registry.get(ACCOUNT, created.client_id)).toEqual(cleared);
  });

  it("null on a required field is refused, naming it, and nothing changes", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    const before = await registry.get(ACCOUNT, created.client_id);
    const error = await rejection(registry.update(ACCOUNT, created.client_id, { client_name: null, redirect_uris: null } as never));
    expect(error.issues).toEqual([
      { path: "/client_name", message: "client_name is required and cannot be cleared (null); send a value" },
      { path: "/redirect_uris", message: "redirect_uris is required and cannot be cleared (null); send a value" },
    ]);
    expect(await registry.get(ACCOUNT, created.client_id)).toEqual(before);
  });

  it("renormalizes scopes when grant or response types change", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(
      ACCOUNT,
      createBody({ grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], scopes: ["profile", "zone.read"] }),
    );
    expect(created.scopes).toEqual(["profile", "zone.read", "offline_access"]);
    const updated = await registry.update(ACCOUNT, created.client_id, {
      grant_types: ["authorization_code"],
      response_types: ["code", "id_token"],
    });
    expect(updated.scopes).toEqual(["profile", "zone.read", "openid"]);
  });

  it("a stored openid counts as asked for: kept while response_types has code, removed with token alone", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ grant_types: ["authorization_code"], response_types: ["code"], scopes: ["openid", "profile"] }));
    const regranted = await registry.update(ACCOUNT, created.client_id, { grant_types: ["authorization_code", "refresh_token"] });
    expect(regranted.scopes).toEqual(["profile", "openid", "offline_access"]);
    const implicit = await registry.update(ACCOUNT, created.client_id, { response_types: ["token"] });
    expect(implicit.scopes).toEqual(["profile", "offline_access"]);
    // Gone once removed: a later return to code does not bring it back unasked.
    const back = await registry.update(ACCOUNT, created.client_id, { response_types: ["code"] });
    expect(back.scopes).toEqual(["profile", "offline_access"]);
  });

  it("openid added for id_token stays when id_token is dropped but code remains", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ grant_types: ["authorization_code"], response_types: ["code", "id_token"], scopes: ["profile"] }));
    expect(created.scopes).toEqual(["profile", "openid"]);
    const updated = await registry.update(ACCOUNT, created.client_id, { response_types: ["code"] });
    expect(updated.scopes).toEqual(["profile", "openid"]);
  });

  it("scopes sent in an update are what is asked for: openid left out is removed from a code client", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ grant_types: ["authorization_code"], response_types: ["code"], scopes: ["openid", "profile"] }));
    const without = await registry.update(ACCOUNT, created.client_id, { scopes: ["profile", "email"] });
    expect(without.scopes).toEqual(["profile", "email"]);
    const withIt = await registry.update(ACCOUNT, created.client_id, { scopes: ["email", "openid"] });
    expect(withIt.scopes).toEqual(["email", "openid"]);
  });

  it("refuses a scope change that would orphan an optional scope, and keeps the record", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ scopes: ["profile", "zone.read"], optional_scopes: ["zone.read"] }));
    const before = await store.get(ACCOUNT, created.client_id);
    const error = await rejection(registry.update(ACCOUNT, created.client_id, { scopes: ["profile"] }));
    expect(error.issues).toEqual([
      { path: "/optional_scopes/0", message: expect.stringContaining("remove it from optional_scopes") },
    ]);
    expect(await store.get(ACCOUNT, created.client_id)).toEqual(before);
  });

  it("refuses switching between none and a secret method, allows basic ↔ post", async () => {
    const { registry, store } = registryFixture();
    const confidential = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "client_secret_basic" }));
    const before = await store.get(ACCOUNT, confidential.client_id);
    const error = await rejection(
      registry.update(ACCOUNT, confidential.client_id, { token_endpoint_auth_method: "none" }),
    );
    expect(error.issues[0]?.path).toBe("/token_endpoint_auth_method");
    expect(await store.get(ACCOUNT, confidential.client_id)).toEqual(before);
    const switched = await registry.update(ACCOUNT, confidential.client_id, {
      token_endpoint_auth_method: "client_secret_post",
    });
    expect(switched.token_endpoint_auth_method).toBe("client_secret_post");
    expect(await registry.authenticate(confidential.client_id, confidential.client_secret!)).not.toBeNull();

    const publicClient = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "none" }));
    const refused = await rejection(
      registry.update(ACCOUNT, publicClient.client_id, { token_endpoint_auth_method: "client_secret_basic" }),
    );
    expect(refused.code).toBe("validation_failed");
  });

  it("reports shape and rule problems together and changes nothing", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    const before = await store.get(ACCOUNT, created.client_id);
    const error = await rejection(
      registry.update(ACCOUNT, created.client_id, {
        redirect_uris: [],
        token_endpoint_auth_method: "none",
        created_at: "2020-01-01T00:00:00Z",
      } as never),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual(["/created_at", "/redirect_uris", "/token_endpoint_auth_method"]);
    expect(await store.get(ACCOUNT, created.client_id)).toEqual(before);
  });

  it("retries a lost compare-and-swap and then answers Conflict", async () => {
    const inner = createMemoryStore();
    let losses = 0;
    const flaky: ClientStore = {
      ...inner,
      async update(record, expected) {
        if (losses > 0) {
          losses--;
          return false;
        }
        return inner.update(record, expected);
      },
    };
    const { registry } = registryFixture({ maxWriteAttempts: 3, store: flaky });
    const created = await registry.create(ACCOUNT, createBody());
    losses = 2;
    expect((await registry.update(ACCOUNT, created.client_id, { client_name: "After two losses" })).client_name).toBe(
      "After two losses",
    );
    losses = 3;
    const error = await rejection(registry.update(ACCOUNT, created.client_id, { client_name: "Never" }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.code).toBe("concurrent_modification");
    expect((await registry.get(ACCOUNT, created.client_id)).client_name).toBe("After two losses");
  });

  it("keeps concurrent updates of different fields", async () => {
    const { registry } = registryFixture({ maxWriteAttempts: 50 });
    const created = await registry.create(ACCOUNT, createBody());
    await Promise.all([
      registry.update(ACCOUNT, created.client_id, { logo_uri: "https://dash.example.com/logo.png" }),
      registry.update(ACCOUNT, created.client_id, { tos_uri: "https://dash.example.com/tos" }),
      registry.update(ACCOUNT, created.client_id, { policy_uri: "https://dash.example.com/policy" }),
      registry.update(ACCOUNT, created.client_id, { client_name: "Concurrent" }),
    ]);
    const final = await registry.get(ACCOUNT, created.client_id);
    expect(final).toMatchObject({
      logo_uri: "https://dash.example.com/logo.png",
      tos_uri: "https://dash.example.com/tos",
      policy_uri: "https://dash.example.com/policy",
      client_name: "Concurrent",
    });
  });
});

describe("delete", () => {
  it("removes the client and answers { id }; a second delete is NotFound", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    expect(await registry.delete(ACCOUNT, created.client_id)).toEqual({ id: created.client_id });
    expect(await store.getById(created.client_id)).toBeNull();
    expect(await registry.authenticate(created.client_id, created.client_secret!)).toBeNull();
    expect((await rejection(registry.delete(ACCOUNT, created.client_id))).code).toBe("not_found");
  });
});

describe("two-secret rotation window", () => {
  it("authenticates current and rotated secrets until the rotated one is deleted", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    const original = created.client_secret!;
    expect((await registry.authenticate(created.client_id, original))?.matched).toBe("current");

    const { client_secret: next } = await registry.rotateSecret(ACCOUNT, created.client_id);
    expect(next).not.toBe(original);
    expect((await registry.get(ACCOUNT, created.client_id)).has_rotated_secret).toBe(true);
    expect((await registry.authenticate(created.client_id, next))?.matched).toBe("current");
    expect((await registry.authenticate(created.client_id, original))?.matched).toBe("rotated");

    const second = await rejection(registry.rotateSecret(ACCOUNT, created.client_id));
    expect(second).toBeInstanceOf(ConflictError);
    expect(second.code).toBe("rotated_secret_exists");
    expect(second.message).toContain("delete the rotated secret first");

    expect(await registry.deleteRotatedSecret(ACCOUNT, created.client_id)).toEqual({ id: created.client_id });
    expect((await registry.get(ACCOUNT, created.client_id)).has_rotated_secret).toBe(false);
    expect(await registry.authenticate(created.client_id, original)).toBeNull();
    expect((await registry.authenticate(created.client_id, next))?.matched).toBe("current");

    const again = await rejection(registry.deleteRotatedSecret(ACCOUNT, created.client_id));
    expect(again).toBeInstanceOf(NotFoundError);

    const third = await registry.rotateSecret(ACCOUNT, created.client_id);
    expect((await registry.authenticate(created.client_id, third.client_secret))?.matched).toBe("current");
    expect((await registry.authenticate(created.client_id, next))?.matched).toBe("rotated");
  });

  it("refuses to rotate a public client", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "none" }));
    const before = await store.get(ACCOUNT, created.client_id);
    const error = await rejection(registry.rotateSecret(ACCOUNT, created.client_id));
    expect(error.status).toBe(400);
    expect(await store.get(ACCOUNT, created.client_id)).toEqual(before);
  });

  it("gives exactly one success to concurrent rotations", async () => {
    const { registry } = registryFixture({ maxWriteAttempts: 20 });
    const created = await registry.create(ACCOUNT, createBody());
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => registry.rotateSecret(ACCOUNT, created.client_id)),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    expect(ok).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as OAuthClientError).code).toBe("rotated_secret_exists");
    }
    const winner = (ok[0] as PromiseFulfilledResult<{ client_secret: string }>).value.client_secret;
    expect((await registry.authenticate(created.client_id, winner))?.matched).toBe("current");
    expect((await registry.authenticate(created.client_id, created.client_secret!))?.matched).toBe("rotated");
  });
});

describe("authenticate", () => {
  it("rejects wrong secrets, unknown ids, public clients and non-string input", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    const publicClient = await registry.create(ACCOUNT, createBody({ token_endpoint_auth_method: "none" }));
    expect(await registry.authenticate(created.client_id, "wrong")).toBeNull();
    expect(await registry.authenticate(created.client_id, `${created.client_secret}x`)).toBeNull();
    expect(await registry.authenticate("0".repeat(32), created.client_secret!)).toBeNull();
    expect(await registry.authenticate(publicClient.client_id, "anything")).toBeNull();
    expect(await registry.authenticate(created.client_id, 42 as unknown as string)).toBeNull();
    expect(await registry.authenticate(null as unknown as string, "x")).toBeNull();
  });

  it("does the same hashing work for an unknown client id as for a known one", async () => {
    const calls: string[] = [];
    const base = (await import("../src/model/secrets.js")).defaultSecretHasher;
    const counting: SecretHasher = {
      hash: (s) => base.hash(s),
      verify: (s, h) => {
        calls.push("verify");
        return base.verify(s, h);
      },
    };
    const { registry } = registryFixture({ hasher: counting });
    const created = await registry.create(ACCOUNT, createBody());
    calls.length = 0;
    await registry.authenticate(created.client_id, "wrong");
    const known = calls.length;
    calls.length = 0;
    await registry.authenticate("f".repeat(32), "wrong");
    expect(calls.length).toBe(known);
    expect(known).toBe(2);
  });
});

describe("client_uri verification and visibility", () => {
  async function verifiedClient(ctx: RegistryFixture) {
    const created = await ctx.registry.create(
      ACCOUNT,
      createBody({
        client_uri: "https://dash.example.com/home",
        logo_uri: "https://dash.example.com/logo.png",
        scopes: ["profile", "zone.read"], // an API scope, as promotion requires
      }),
    );
    ctx.txt.set("dash.example.com", [["unrelated"], [created.client_uri_verification!.text.slice(0, 10), created.client_uri_verification!.text.slice(10)]]);
    const verified = await ctx.registry.verifyClientUri(ACCOUNT, created.client_id);
    expect(verified.client_uri_verification?.status).toBe("verified");
    return created;
  }

  it("starts a pending verification with the configured prefix", async () => {
    const { registry } = registryFixture({ verificationPrefix: "example-verify", generateVerificationToken: () => "tok" });
    const created = await registry.create(ACCOUNT, createBody({ client_uri: "https://dash.example.com" }));
    expect(created.client_uri_verification).toEqual({ status: "pending", text: "example-verify=tok" });
  });

  it("fails when the TXT record is missing, and restarts on PATCH of the same client_uri", async () => {
    const ctx = registryFixture();
    const created = await ctx.registry.create(ACCOUNT, createBody({ client_uri: "https://dash.example.com" }));
    const failed = await ctx.registry.verifyClientUri(ACCOUNT, created.client_id);
    expect(failed.client_uri_verification).toEqual({ status: "failed", text: created.client_uri_verification!.text });
    const restarted = await ctx.registry.update(ACCOUNT, created.client_id, { client_uri: "https://dash.example.com" });
    expect(restarted.client_uri_verification).toEqual({ status: "pending", text: created.client_uri_verification!.text });
  });

  it("issues a new token when the host changes before verification", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ client_uri: "https://a.example.com" }));
    const moved = await registry.update(ACCOUNT, created.client_id, { client_uri: "https://b.example.com" });
    expect(moved.client_uri_verification?.status).toBe("pending");
    expect(moved.client_uri_verification?.text).not.toBe(created.client_uri_verification?.text);
  });

  it("locks the host of a verified client_uri but allows a new path", async () => {
    const ctx = registryFixture();
    const created = await verifiedClient(ctx);
    const error = await rejection(
      ctx.registry.update(ACCOUNT, created.client_id, { client_uri: "https://elsewhere.example.org" }),
    );
    expect(error.issues[0]).toEqual({ path: "/client_uri", message: expect.stringContaining("cannot change") });
    const moved = await ctx.registry.update(ACCOUNT, created.client_id, { client_uri: "https://dash.example.com/about" });
    expect(moved.client_uri).toBe("https://dash.example.com/about");
    expect(moved.client_uri_verification?.status).toBe("verified");
  });

  it("refuses verification of a client without client_uri", async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody());
    expect((await rejection(registry.verifyClientUri(ACCOUNT, created.client_id))).issues[0]?.path).toBe("/client_uri");
  });

  it("reports every unmet promotion requirement and stays private", async () => {
    const { registry, store } = registryFixture();
    const created = await registry.create(ACCOUNT, createBody({ scopes: ["profile"] }));
    const before = await store.get(ACCOUNT, created.client_id);
    const error = await rejection(registry.update(ACCOUNT, created.client_id, { visibility: "public" }));
    expect(error.issues.map((i) => i.path).sort()).toEqual(["/client_uri", "/logo_uri", "/scopes"]);
    expect(await store.get(ACCOUNT, created.client_id)).toEqual(before);
  });

  it("promotes a qualifying client, sets promoted_at, and refuses demotion", async () => {
    const ctx = registryFixture({ start: "2026-01-01T00:00:00.000Z" });
    const created = await verifiedClient(ctx);
    ctx.clock.advance(5_000);
    const promoted = await ctx.registry.update(ACCOUNT, created.client_id, { visibility: "public" });
    expect(promoted.visibility).toBe("public");
    expect(promoted.promoted_at).toBe("2026-01-01T00:00:05.000Z");
    const demote = await rejection(ctx.registry.update(ACCOUNT, created.client_id, { visibility: "private" }));
    expect(demote.issues[0]?.path).toBe("/visibility");
  });

  it("keeps a public client meeting the promotion requirements", async () => {
    const ctx = registryFixture();
    const created = await verifiedClient(ctx);
    await ctx.registry.update(ACCOUNT, created.client_id, { visibility: "public" });
    const noLogo = await rejection(ctx.registry.update(ACCOUNT, created.client_id, { logo_uri: null }));
    expect(noLogo.issues.map((i) => i.path)).toEqual(["/logo_uri"]);
    const noApiScope = await rejection(ctx.registry.update(ACCOUNT, created.client_id, { scopes: ["profile"] }));
    expect(noApiScope.issues.map((i) => i.path)).toEqual(["/scopes"]);
    expect((await ctx.registry.get(ACCOUNT, created.client_id)).logo_uri).toBe("https://dash.example.com/logo.png");
  });

  it("visibility: null on a public client leaves it public (null never demotes)", async () => {
    const ctx = registryFixture();
    const created = await verifiedClient(ctx);
    await ctx.registry.update(ACCOUNT, created.client_id, { visibility: "public" });
    const updated = await ctx.registry.update(ACCOUNT, created.client_id, { visibility: null, tos_uri: null });
    expect(updated.visibility).toBe("public");
  });

  it('accepts visibility "private" on create (the default) and refuses "public", explaining promotion', async () => {
    const { registry } = registryFixture();
    const created = await registry.create(ACCOUNT, { ...createBody(), visibility: "private" });
    expect(created.visibility).toBe("private");
    const error = await rejection(registry.create(ACCOUNT, { ...createBody(), visibility: "public" }));
    expect(error.issues).toEqual([{ path: "/visibility", message: expect.stringContaining("create the client \"private\"") }]);
  });
});

describe("options", () => {
  it("checks API scopes against a catalog object", async () => {
    const { registry } = registryFixture({
      scopeCatalog: { has: async (s) => s === "zone.read", list: () => ["zone.read"] },
    });
    expect(await registry.listScopes()).toEqual(["zone.read"]);
    const error = await rejection(registry.create(ACCOUNT, createBody({ scopes: ["zone.read", "zone.edit"] })));
    expect(error.issues).toEqual([{ path: "/scopes/1", message: expect.stringContaining("not in the scope catalog") }]);
  });

  it("applies configured limits", async () => {
    const { registry } = registryFixture({ limits: { maxUris: 2, maxUriLength: 40 } });
    const error = await rejection(
      registry.create(
        ACCOUNT,
        createBody({ redirect_uris: ["https://a.example.com/1", "https://a.example.com/2", "https://a.example.com/3"] }),
      ),
    );
    expect(error.issues[0]?.path).toBe("/redirect_uris");
    const long = await rejection(registry.create(ACCOUNT, createBody({ redirect_uris: [`https://a.example.com/${"x".repeat(40)}`] })));
    expect(long.issues[0]?.path).toBe("/redirect_uris/0");
  });

  it("refuses invalid option values at construction", () => {
    expect(() => createOAuthClientRegistry(createMemoryStore(), { limits: { maxUris: 0 } })).toThrow(/maxUris/);
    expect(() => createOAuthClientRegistry(createMemoryStore(), { rotatedSecretTtlMs: -1 })).toThrow(/rotatedSecretTtlMs/);
  });

  it("turns a store fault into an internal error without exposing it", async () => {
    const broken: ClientStore = {
      ...createMemoryStore(),
      async get() {
        throw new Error("disk on fire");
      },
    };
    const { registry } = registryFixture({ store: broken });
    const error = await rejection(registry.get(ACCOUNT, "0".repeat(32)));
    expect(error.status).toBe(500);
    expect(error.code).toBe("internal_error");
    expect(error.expose).toBe(false);
    expect(error.message).not.toContain("disk on fire");
  });
});
