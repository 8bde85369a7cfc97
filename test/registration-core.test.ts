import { exportJWK, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createMemoryStore } from "../adapters/memory.js";
import { ValidationError, type CreateClientInput } from "../src/index.js";
import { createBody, registryFixture } from "./helpers/registry.js";

let publicKey: Record<string, unknown>;
let privateKey: Record<string, unknown>;
beforeAll(async () => {
  const pair = await generateKeyPair("ES256", { extractable: true });
  publicKey = { ...(await exportJWK(pair.publicKey)), kid: "k1" };
  privateKey = { ...(await exportJWK(pair.privateKey)), kid: "k1" };
});

const jwtClient = (overrides: Partial<CreateClientInput> = {}) =>
  createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [publicKey] }, ...overrides });

async function issuesOf(promise: Promise<unknown>): Promise<{ path: string; message: string }[]> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return [...(error as ValidationError).issues];
}

describe("new client fields", () => {
  it("a created client reads back with source api, no secret expiry and no use yet", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", createBody());
    expect(created).toMatchObject({ source: "api", client_secret_expires_at: 0 });
    for (const absent of ["jwks", "jwks_uri", "last_used_at", "secret_last_used_at", "rotated_secret_last_used_at"]) {
      expect(created).not.toHaveProperty(absent);
    }
    expect(JSON.stringify(created)).not.toContain("registration_access_token");
  });

  it("a SQLite row written before the new fields existed reads back with their defaults, and authenticates", async () => {
    const Database = (await import("better-sqlite3")).default;
    const { createSqliteStore } = await import("../adapters/sqlite.js");
    const db = new Database(":memory:");
    const store = createSqliteStore(db);
    const { registry } = registryFixture({ store });
    const created = await registry.create("acct", createBody());
    const newKeys = ["source", "jwks", "jwks_uri", "client_secret_expires_at", "last_used_at", "secret_last_used_at",
      "rotated_secret_last_used_at", "registration_access_token_hash", "rotated_secret_expires_at"];
    // The document as an older version of the library wrote it: none of the new keys.
    db.prepare(`UPDATE oauth_clients SET document = json_remove(document, ${newKeys.map(() => "?").join(", ")}) WHERE client_id = ?`).run(
      ...newKeys.map((key) => `$.${key}`),
      created.client_id,
    );
    const raw = db.prepare("SELECT document FROM oauth_clients WHERE client_id = ?").get(created.client_id) as { document: string };
    expect(Object.keys(JSON.parse(raw.document))).not.toContain("source");
    const { client_secret: _secret, ...client } = created;
    expect(await registry.get("acct", created.client_id)).toStrictEqual(client);
    expect(client).toMatchObject({ source: "api", client_secret_expires_at: 0 });
    expect(await registry.authenticate(created.client_id, created.client_secret!)).toMatchObject({ matched: "current" });
    db.close();
  });

  it("a private_key_jwt client with jwks is created without a secret", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", jwtClient());
    expect(created.client_secret).toBeUndefined();
    expect(created.jwks).toEqual({ keys: [publicKey] });
    expect(await registry.authenticate(created.client_id, "anything")).toBeNull();
  });

  it("a private_key_jwt client with jwks_uri is accepted; jwks_uri must be https", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", jwtClient({ jwks: undefined, jwks_uri: "https://app.example.com/jwks.json" }));
    expect(created.jwks_uri).toBe("https://app.example.com/jwks.json");
    expect(await issuesOf(registry.create("acct", jwtClient({ jwks: undefined, jwks_uri: "http://localhost/jwks.json" })))).toEqual([
      { path: "/jwks_uri", message: "must use https" },
    ]);
  });

  it("private_key_jwt without keys is refused on /token_endpoint_auth_method", async () => {
    const { registry } = registryFixture();
    const issues = await issuesOf(registry.create("acct", jwtClient({ jwks: undefined })));
    expect(issues).toEqual([{ path: "/token_endpoint_auth_method", message: expect.stringContaining("jwks or jwks_uri") }]);
  });

  it("jwks and jwks_uri together are refused", async () => {
    const { registry } = registryFixture();
    const issues = await issuesOf(registry.create("acct", jwtClient({ jwks_uri: "https://app.example.com/jwks.json" })));
    expect(issues).toEqual([{ path: "/jwks_uri", message: expect.stringContaining("mutually exclusive") }]);
  });

  it("private and symmetric keys are refused, and nothing is stored", async () => {
    const store = createMemoryStore();
    const { registry } = registryFixture({ store });
    const issues = await issuesOf(
      registry.create(
        "acct",
        jwtClient({ jwks: { keys: [privateKey, { kty: "oct", k: "c2VjcmV0" }, { kty: "AKP", alg: "ML-DSA-44", pub: "cHVi", priv: "cHJpdg" }] } }),
      ),
    );
    expect(issues).toEqual([
      { path: "/jwks/keys/0", message: "must be a public key: remove the private member d" },
      { path: "/jwks/keys/1/kty", message: expect.stringContaining("symmetric") },
      { path: "/jwks/keys/1", message: "must be a public key: remove the private member k" },
      // The same member list as the key sets assertions are verified with: an AKP key's priv too.
      { path: "/jwks/keys/2", message: "must be a public key: remove the private member priv" },
      // Bounded key material: only key types the verifier uses (RSA, EC, OKP).
      { path: "/jwks/keys/2/kty", message: expect.stringContaining('"AKP" is not accepted') },
    ]);
    expect((await registry.list("acct")).clients).toEqual([]);
  });

  it("jwks shape and bounds: a key needs kty; at most 10 keys; at most 16 KiB", async () => {
    const { registry } = registryFixture();
    expect(await issuesOf(registry.create("acct", jwtClient({ jwks: { keys: [{ crv: "P-256" }] } })))).toEqual([
      { path: "/jwks/keys/0/kty", message: expect.any(String) },
    ]);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ ...publicKey, kid: `k${i}` }));
    expect(await issuesOf(registry.create("acct", jwtClient({ jwks: { keys: eleven } })))).toEqual([
      { path: "/jwks/keys", message: "must contain at most 10 keys" },
    ]);
    const big = { kty: "RSA", e: "AQAB", n: "A".repeat(17_000) };
    expect(await issuesOf(registry.create("acct", jwtClient({ jwks: { keys: [big] } })))).toEqual([
      // Bounded key material: the modulus itself is refused too (a leading zero byte, and far too long).
      { path: "/jwks/keys/0/n", message: expect.any(String) },
      { path: "/jwks", message: expect.stringMatching(/at most 16384 bytes/) },
    ]);
  });

  it("none <-> private_key_jwt may switch; a secretless method cannot switch to a secret method or back", async () => {
    const { registry } = registryFixture();
    const publicClient = await registry.create("acct", createBody({ token_endpoint_auth_method: "none" }));
    const switched = await registry.update("acct", publicClient.client_id, { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [publicKey] } });
    expect(switched.token_endpoint_auth_method).toBe("private_key_jwt");
    expect(await issuesOf(registry.update("acct", publicClient.client_id, { token_endpoint_auth_method: "client_secret_post" }))).toEqual([
      { path: "/token_endpoint_auth_method", message: expect.stringContaining("cannot switch") },
    ]);
    const confidential = await registry.create("acct", createBody());
    expect(
      await issuesOf(registry.update("acct", confidential.client_id, { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [publicKey] } })),
    ).toEqual([{ path: "/token_endpoint_auth_method", message: expect.stringContaining("cannot switch") }]);
  });

  it("removing the keys of a private_key_jwt client is refused on /jwks", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", jwtClient());
    expect(await issuesOf(registry.update("acct", created.client_id, { jwks: null }))).toEqual([
      { path: "/jwks", message: expect.stringContaining("jwks or jwks_uri") },
    ]);
  });

  it("rotateSecret refuses a private_key_jwt client", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", jwtClient());
    await expect(registry.rotateSecret("acct", created.client_id)).rejects.toThrow(/private_key_jwt/);
  });

  it("importClient stores source import; a private_key_jwt import takes no secret", async () => {
    const { registry } = registryFixture();
    const imported = await registry.importClient("acct", { ...createBody(), client_id: "legacy-app", client_secret: "s3cret-from-before" });
    expect(imported.source).toBe("import");
    await expect(
      registry.importClient("acct", { ...jwtClient(), client_id: "legacy-jwt", client_secret: "x" }),
    ).rejects.toMatchObject({ issues: [{ path: "/client_secret", message: expect.stringContaining("private_key_jwt") }] });
    expect((await registry.importClient("acct", { ...jwtClient(), client_id: "legacy-jwt" })).source).toBe("import");
  });
});

describe("registerClient / readRegistration / updateRegistration / deleteRegistration", () => {
  it("registers a dcr client with a secret and a registration access token that reads it back", async () => {
    const { registry, events, store } = registryFixture();
    const registered = await registry.registerClient("acct", createBody(), { secretExpiresAt: 1_900_000_000 });
    expect(registered.client).toMatchObject({ source: "dcr", client_secret_expires_at: 1_900_000_000 });
    expect(registered.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(registered.registration_access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(events.at(-1)).toMatchObject({ type: "client.created", source: "dcr" });
    // Hashed at rest: the stored record never holds the token itself.
    const stored = await store.getById(registered.client.client_id);
    expect(stored!.registration_access_token_hash).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(registered.registration_access_token);

    const read = await registry.readRegistration(registered.client.client_id, registered.registration_access_token!);
    expect(read).toEqual({ client: registered.client, account_id: "acct" });
    expect(await registry.authenticate(registered.client.client_id, registered.client_secret!)).toMatchObject({ matched: "current" });
  });

  it("a secretless registration gets no secret and no expiry", async () => {
    const { registry } = registryFixture();
    const registered = await registry.registerClient("acct", createBody({ token_endpoint_auth_method: "none" }), { secretExpiresAt: 1_900_000_000 });
    expect(registered.client_secret).toBeUndefined();
    expect(registered.client.client_secret_expires_at).toBe(0);
  });

  it("a wrong token, an unknown client and an operator client without a token all read null", async () => {
    const { registry } = registryFixture();
    const registered = await registry.registerClient("acct", createBody());
    const operator = await registry.create("acct", createBody());
    expect(await registry.readRegistration(registered.client.client_id, "wrong")).toBeNull();
    expect(await registry.readRegistration("unknown-client", registered.registration_access_token!)).toBeNull();
    expect(await registry.readRegistration(operator.client_id, registered.registration_access_token!)).toBeNull();
    expect(await registry.readRegistration(registered.client.client_id, "")).toBeNull();
    expect(await registry.readRegistration("a\u0000b", "x")).toBeNull();
  });

  it("an unknown client costs the same hash work as a wrong token", async () => {
    let verifications = 0;
    const { createSecretHasher } = await import("../src/index.js");
    const inner = createSecretHasher();
    const hasher = { hash: inner.hash, verify: (s: string, h: string) => (verifications++, inner.verify(s, h)) };
    const { registry } = registryFixture({ hasher });
    const registered = await registry.registerClient("acct", createBody());
    verifications = 0;
    await registry.readRegistration(registered.client.client_id, "wrong-token");
    const forWrongToken = verifications;
    verifications = 0;
    await registry.readRegistration("0123456789abcdef0123456789abcdef", "wrong-token");
    expect(verifications).toBe(forWrongToken);
    expect(forWrongToken).toBeGreaterThan(0);
  });

  it("updateRegistration replaces every settable field, keeps the secret and rotates the token", async () => {
    const { registry, events } = registryFixture();
    const registered = await registry.registerClient(
      "acct",
      createBody({ allowed_cors_origins: ["https://dash.example.com"], logo_uri: "https://dash.example.com/logo.png" }),
    );
    const id = registered.client.client_id;
    const updated = await registry.updateRegistration(id, registered.registration_access_token!, createBody({ client_name: "Renamed" }));
    expect(updated!.client).toMatchObject({ client_name: "Renamed", allowed_cors_origins: [], source: "dcr" });
    expect(updated!.client).not.toHaveProperty("logo_uri");
    expect(updated!.client_secret).toBeUndefined();
    expect(updated!.registration_access_token).not.toBe(registered.registration_access_token);
    expect(events.at(-1)).toMatchObject({ type: "client.updated", via: "registration", changed_fields: ["client_name", "allowed_cors_origins", "logo_uri"] });
    // The old token stopped working, the new one works, the secret is unchanged.
    expect(await registry.readRegistration(id, registered.registration_access_token!)).toBeNull();
    expect(await registry.readRegistration(id, updated!.registration_access_token!)).not.toBeNull();
    expect(await registry.authenticate(id, registered.client_secret!)).toMatchObject({ matched: "current" });
  });

  it("updateRegistration runs every rule and changes nothing when refused", async () => {
    const { registry } = registryFixture();
    const registered = await registry.registerClient("acct", createBody());
    const id = registered.client.client_id;
    const token = registered.registration_access_token!;
    await expect(registry.updateRegistration(id, token, createBody({ redirect_uris: ["http://evil.example.com/cb"] }))).rejects.toMatchObject({
      code: "validation_failed",
      issues: [{ path: "/redirect_uris/0", message: expect.stringContaining("https") }],
    });
    await expect(registry.updateRegistration(id, token, createBody({ token_endpoint_auth_method: "none" }))).rejects.toBeInstanceOf(ValidationError);
    // The refused update did not rotate the token.
    expect((await registry.readRegistration(id, token))!.client).toEqual(registered.client);
    expect(await registry.updateRegistration(id, "wrong", createBody())).toBeNull();
  });

  it("deleteRegistration deletes with the token only", async () => {
    const { registry, events } = registryFixture();
    const registered = await registry.registerClient("acct", createBody());
    const id = registered.client.client_id;
    expect(await registry.deleteRegistration(id, "wrong")).toBe(false);
    expect(await registry.findClient(id)).not.toBeNull();
    expect(await registry.deleteRegistration(id, registered.registration_access_token!)).toBe(true);
    expect(await registry.findClient(id)).toBeNull();
    expect(events.at(-1)).toMatchObject({ type: "client.deleted", client_id: id, reason: "registration" });
    expect(await registry.deleteRegistration(id, registered.registration_access_token!)).toBe(false);
  });

  it("registerClient refuses a malformed secretExpiresAt and a bad body, storing nothing", async () => {
    const { registry } = registryFixture();
    await expect(registry.registerClient("acct", createBody(), { secretExpiresAt: -1 })).rejects.toMatchObject({
      issues: [{ path: "/client_secret_expires_at", message: expect.any(String) }],
    });
    await expect(registry.registerClient("acct", { client_name: "x" } as CreateClientInput)).rejects.toBeInstanceOf(ValidationError);
    expect((await registry.list("acct")).clients).toEqual([]);
  });
});

describe("clientObject", () => {
  it("the generated builder and the loop give the same object, in table order, sharing nothing with the record", async () => {
    const { clientObject, clientObjectByLoop } = await import("../src/fields.js");
    const { makeLargeStoredClient } = await import("../src/testing/records.js");
    const record = makeLargeStoredClient({
      jwks: { keys: [{ ...publicKey }] },
      last_used_at: "2026-01-02T00:00:00.000Z",
      registration_access_token_hash: `sha256$${"e".repeat(64)}`,
      rotated_secret_expires_at: "2026-01-03T00:00:00.000Z",
    });
    const generated = clientObject(record, { has_rotated_secret: true });
    const looped = clientObjectByLoop(record as never, { has_rotated_secret: true });
    expect(generated).toStrictEqual(looped);
    expect(Object.keys(generated)).toEqual(Object.keys(looped));
    expect(generated).not.toHaveProperty("registration_access_token_hash");
    // Copied as stored; the registry fills in the effective end before building the object.
    expect(generated).toHaveProperty("rotated_secret_expires_at", "2026-01-03T00:00:00.000Z");
    const { makeStoredClient } = await import("../src/testing/records.js");
    const minimal = clientObject(makeStoredClient(), { has_rotated_secret: false });
    for (const unset of ["client_uri", "jwks", "jwks_uri", "last_used_at", "promoted_at"]) expect(minimal).not.toHaveProperty(unset);
    for (const built of [generated, looped] as Record<string, unknown>[]) {
      (built.redirect_uris as string[]).push("https://changed.example.com");
      ((built.jwks as { keys: Record<string, unknown>[] }).keys[0]!).kid = "changed";
      (built.client_uri_verification as { status: string }).status = "failed";
    }
    expect(record.redirect_uris).toHaveLength(100);
    expect(record.jwks!.keys[0]!.kid).toBe("k1");
    expect(record.client_uri_verification!.status).toBe("verified");
  });
});

describe("the management API shows clients of every source", () => {
  it("lists and reads a registered client with its source, never its token hash", async () => {
    const { apiRequest, createHarness, envelopeOf, ACCOUNT } = await import("./helpers/http.js");
    const harness = createHarness();
    const registered = await harness.registry.registerClient(ACCOUNT, createBody({ scopes: ["zone.read"] }));
    const listed = await envelopeOf(await harness.handler(apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients`)));
    expect(listed.result).toEqual([expect.objectContaining({ client_id: registered.client.client_id, source: "dcr" })]);
    const read = await harness.handler(apiRequest("GET", `/accounts/${ACCOUNT}/oauth_clients/${registered.client.client_id}`));
    const text = await read.text();
    expect(JSON.parse(text).result).toMatchObject({ source: "dcr", client_secret_expires_at: 0 });
    expect(text).not.toContain("registration_access_token");
  });
});
