/**
 * importClient: moving clients from another server keeps their ids, their
 * creation time and their existing secret (hashed with the slow import
 * hasher), under the same rules as create.
 */
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  createSecretHasher,
  OverloadedError,
  ValidationError,
  type ImportClientInput,
} from "../src/index.js";
import { cheapImportHasher, createBody, registryFixture } from "./helpers/registry.js";

const NOW = "2025-06-01T08:00:00.000Z";
const CHEAP_SCRYPT_HASH = /^imported:scrypt\$10\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/;

// What the old server knew besides the create body. With refresh_token
// among the grants, the scopes read back as ["profile", "offline_access"].
const legacyBody = createBody({
  client_name: "Legacy app",
  grant_types: ["authorization_code", "refresh_token"],
  scopes: ["profile"],
  token_endpoint_auth_method: "client_secret_basic",
});
const legacy: ImportClientInput = {
  ...legacyBody,
  client_id: "legacy-app_01.v2~x",
  client_secret: "correct horse battery staple",
  created_at: "2019-05-17T10:20:30Z",
};

async function validationIssues(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).issues;
}

describe("importClient keeps what the old server knew", () => {
  it("keeps client_id and created_at, sets updated_at to now, and returns no secret", async () => {
    const { registry } = registryFixture({ start: NOW });
    const imported = await registry.importClient("acct", legacy);

    expect(imported).toMatchObject({
      client_id: "legacy-app_01.v2~x",
      client_name: "Legacy app",
      created_at: "2019-05-17T10:20:30.000Z",
      updated_at: NOW,
      visibility: "private",
      has_rotated_secret: false,
      scopes: ["profile", "offline_access"],
    });
    expect(imported).not.toHaveProperty("client_secret");
    expect(JSON.stringify(imported)).not.toContain(legacy.client_secret!);
    await expect(registry.get("acct", legacy.client_id)).resolves.toEqual(imported);
  });

  it("converts a created_at with an offset to UTC and defaults it to now", async () => {
    const { registry } = registryFixture({ start: NOW });
    const withOffset = await registry.importClient("acct", { ...legacy, client_id: "a", created_at: "2020-01-01T02:00:00+02:00" });
    expect(withOffset.created_at).toBe("2020-01-01T00:00:00.000Z");
    const { created_at: _omitted, ...withoutCreatedAt } = legacy;
    const defaulted = await registry.importClient("acct", { ...withoutCreatedAt, client_id: "b" });
    expect(defaulted.created_at).toBe(NOW);
  });

  it("stores the secret only as a scrypt hash made by the import hasher", async () => {
    const { registry, store } = registryFixture({ importHasher: cheapImportHasher });
    await registry.importClient("acct", legacy);
    const record = await store.getById(legacy.client_id);

    expect(record?.account_id).toBe("acct");
    expect(record?.secret_hash).toMatch(CHEAP_SCRYPT_HASH);
    expect(record?.rotated_secret_hash).toBeNull();
    expect(JSON.stringify(record)).not.toContain(legacy.client_secret!);
  });

  it("salts each imported hash, so equal secrets do not give equal hashes", async () => {
    const { registry, store } = registryFixture();
    await registry.importClient("acct", { ...legacy, client_id: "one" });
    await registry.importClient("acct", { ...legacy, client_id: "two" });
    const [one, two] = await Promise.all([store.getById("one"), store.getById("two")]);
    expect(one?.secret_hash).not.toBe(two?.secret_hash);
  });

  it("authenticates with the imported secret and refuses another one", async () => {
    const { registry } = registryFixture();
    await registry.importClient("acct", legacy);

    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toMatchObject({
      account_id: "acct",
      matched: "current",
      client: { client_id: legacy.client_id },
    });
    await expect(registry.authenticate(legacy.client_id, "correct horse battery stapler")).resolves.toBeNull();
    await expect(registry.authenticate(legacy.client_id, "")).resolves.toBeNull();
  });

  it("rotates an imported client to a generated secret, keeping the imported one in the window", async () => {
    const { registry, store } = registryFixture({ importHasher: cheapImportHasher });
    await registry.importClient("acct", legacy);
    const { client_secret } = await registry.rotateSecret("acct", legacy.client_id);

    const record = await store.getById(legacy.client_id);
    expect(record?.secret_hash).toMatch(/^sha256\$[0-9a-f]{64}$/);
    expect(record?.rotated_secret_hash).toMatch(CHEAP_SCRYPT_HASH);
    await expect(registry.authenticate(legacy.client_id, client_secret)).resolves.toMatchObject({ matched: "current" });
    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toMatchObject({ matched: "rotated" });
    await registry.deleteRotatedSecret("acct", legacy.client_id);
    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toBeNull();
  });

  it("imports a public client without a secret; it is found but never authenticates", async () => {
    const { registry, store } = registryFixture();
    const { client_secret: _none, ...publicLegacy } = legacy;
    await registry.importClient("acct", { ...publicLegacy, token_endpoint_auth_method: "none" });

    expect((await store.getById(legacy.client_id))?.secret_hash).toBeNull();
    await expect(registry.findClient(legacy.client_id)).resolves.toMatchObject({ token_endpoint_auth_method: "none" });
    await expect(registry.authenticate(legacy.client_id, "anything")).resolves.toBeNull();
  });

  it("manages openid as create does: kept when asked for with code, added with id_token, removed with token alone", async () => {
    const { registry } = registryFixture();
    const { client_secret: _none, ...publicLegacy } = legacy;
    const base = { ...publicLegacy, token_endpoint_auth_method: "none" as const, grant_types: ["authorization_code" as const] };
    const kept = await registry.importClient("acct", { ...base, client_id: "oidc-code", response_types: ["code"], scopes: ["openid", "profile"] });
    expect(kept.scopes).toEqual(["profile", "openid"]);
    const added = await registry.importClient("acct", { ...base, client_id: "oidc-hybrid", response_types: ["code", "id_token"], scopes: ["profile"] });
    expect(added.scopes).toEqual(["profile", "openid"]);
    const removed = await registry.importClient("acct", { ...base, client_id: "implicit", response_types: ["token"], scopes: ["openid", "profile"] });
    expect(removed.scopes).toEqual(["profile"]);
  });

  it("uses scrypt with the default parameters (N = 2^17) when no import hasher is given", async () => {
    const { registry, store } = registryFixture({ importHasher: undefined });
    await registry.importClient("acct", legacy);
    expect((await store.getById(legacy.client_id))?.secret_hash).toMatch(/^imported:scrypt\$17\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
  });
});

describe("importClient refuses what it cannot keep", () => {
  it("answers Conflict client_id_taken for an id that exists, in any account, and leaves that client alone", async () => {
    const { registry } = registryFixture();
    await registry.importClient("acct", legacy);

    for (const account of ["acct", "other_acct"]) {
      const error = await registry.importClient(account, { ...legacy, client_secret: "another secret", client_name: "Impostor" }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ status: 409, code: "client_id_taken" });
    }
    await expect(registry.get("acct", legacy.client_id)).resolves.toMatchObject({ client_name: "Legacy app" });
    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toMatchObject({ account_id: "acct" });
    await expect(registry.authenticate(legacy.client_id, "another secret")).resolves.toBeNull();
  });

  it("answers Conflict for the id of a client created by the registry", async () => {
    const { registry } = registryFixture();
    const created = await registry.create("acct", legacyBody);
    await expect(registry.importClient("acct", { ...legacy, client_id: created.client_id })).rejects.toMatchObject({
      code: "client_id_taken",
    });
  });

  it.each([
    ["empty", ""],
    ["with a space", "legacy app"],
    ["with a slash", "legacy/app"],
    ["with a colon", "legacy:app"],
    ["non-ASCII", "légacy"],
    ["longer than 128 characters", "a".repeat(129)],
  ])("refuses a client_id that is %s", async (_rule, clientId) => {
    const { registry, store } = registryFixture();
    const issues = await validationIssues(registry.importClient("acct", { ...legacy, client_id: clientId }));
    expect(issues.map((i) => i.path)).toEqual(["/client_id"]);
    if (clientId !== "") expect(await store.getById(clientId)).toBeNull();
  });

  it("accepts a client_id of exactly 128 URL-safe characters", async () => {
    const { registry } = registryFixture();
    const id = "A-z_0.~".repeat(18).slice(0, 128);
    await expect(registry.importClient("acct", { ...legacy, client_id: id })).resolves.toMatchObject({ client_id: id });
  });

  it.each([
    ["not a date", "yesterday"],
    ["a date without a time", "2019-05-17"],
    ["without a time zone", "2019-05-17T10:20:30"],
    ["in month 13", "2019-13-17T10:20:30Z"],
    ["with hour 25", "2019-05-17T25:20:30Z"],
    ["a number", 1558088430000 as unknown as string],
  ])("refuses a created_at that is %s", async (_rule, createdAt) => {
    const { registry } = registryFixture();
    const issues = await validationIssues(registry.importClient("acct", { ...legacy, created_at: createdAt }));
    expect(issues.map((i) => i.path)).toEqual(["/created_at"]);
  });

  // RFC 3339 §5.7: the day must exist in its month. Date.parse rolls 2019-02-30
  // over to 2019-03-02, so the registry stores a creation time the old server never had.
  it("refuses a created_at on a day that does not exist (February 30)", async () => {
    const { registry } = registryFixture();
    const issues = await validationIssues(registry.importClient("acct", { ...legacy, created_at: "2019-02-30T10:20:30Z" }));
    expect(issues.map((i) => i.path)).toEqual(["/created_at"]);
  });

  it("requires a secret for a confidential client", async () => {
    const { registry } = registryFixture();
    const { client_secret: _dropped, ...withoutSecret } = legacy;
    for (const method of ["client_secret_basic", "client_secret_post"] as const) {
      const issues = await validationIssues(registry.importClient("acct", { ...withoutSecret, token_endpoint_auth_method: method }));
      expect(issues).toEqual([{ path: "/client_secret", message: expect.stringMatching(/required/) }]);
    }
  });

  it("refuses a secret for a public client, and an empty or oversized secret", async () => {
    const { registry } = registryFixture();
    for (const body of [
      { ...legacy, token_endpoint_auth_method: "none" as const },
      { ...legacy, client_secret: "" },
      { ...legacy, client_secret: "x".repeat(1025) },
    ]) {
      const issues = await validationIssues(registry.importClient("acct", body));
      expect(issues.map((i) => i.path)).toEqual(["/client_secret"]);
    }
  });

  it("reports every problem at once, together with the create rules", async () => {
    const { registry, store } = registryFixture();
    const { client_secret: _dropped, ...withoutSecret } = legacy;
    const issues = await validationIssues(
      registry.importClient("acct", {
        ...withoutSecret,
        client_id: "bad id",
        created_at: "last tuesday",
        redirect_uris: ["http://legacy.example.com/callback"],
        scopes: ["account:read"],
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(["/client_id", "/client_secret", "/created_at", "/redirect_uris/0", "/scopes/0"]);
    expect(await store.list("acct", { limit: 10, after: null })).toEqual([]);
  });

  it("refuses read-only and unknown fields like create does", async () => {
    const { registry } = registryFixture();
    const issues = await validationIssues(
      registry.importClient("acct", { ...legacy, has_rotated_secret: true, favourite_colour: "blue" } as unknown as ImportClientInput),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(["/favourite_colour", "/has_rotated_secret"]);
  });
});

describe("importClient: authentication cost and hashers", () => {
  function recording(label: string, log: string[]) {
    const base = label === "import" ? cheapImportHasher : createSecretHasher({ algorithm: "sha256" });
    return {
      hash: (secret: string) => base.hash(secret),
      verify: (secret: string, stored: string) => {
        log.push(label);
        return base.verify(secret, stored);
      },
    };
  }

  // An unknown client id, of any shape, costs what a generated client costs:
  // ids are public, so nothing is gained by paying the slow hash for them.
  it("never runs the slow import hasher for an unknown client id, whatever its shape", async () => {
    const log: string[] = [];
    const { registry } = registryFixture({ hasher: recording("generated", log), importHasher: recording("import", log) });
    await registry.importClient("acct", legacy);
    const generated = await registry.create("acct", legacyBody);

    const work = async (id: string) => {
      log.length = 0;
      await registry.authenticate(id, "guess");
      return [...log].sort();
    };
    for (const unknown of ["x", "no-such-client", "f".repeat(32), "legacy-app-2", "z".repeat(128)]) {
      expect(await work(unknown)).toEqual(["generated", "generated"]);
    }
    expect(await work(generated.client_id)).toEqual(["generated", "generated"]);
    expect(await work(legacy.client_id)).toEqual(["import", "import"]);
  });

  it("does not derive the decoy from the id format, so a custom id generator changes nothing", async () => {
    const log: string[] = [];
    let n = 0;
    const { registry } = registryFixture({
      hasher: recording("generated", log),
      importHasher: recording("import", log),
      generateClientId: () => `app-${++n}`,
    });
    const generated = await registry.create("acct", legacyBody);
    expect(generated.client_id).toBe("app-1");
    for (const id of [generated.client_id, "app-2", "x"]) {
      log.length = 0;
      await registry.authenticate(id, "guess");
      expect(log).toEqual(["generated", "generated"]);
    }
  });

  it("bounds concurrent slow-hash work and refuses the excess with OverloadedError instead of queueing it all", async () => {
    let running = 0;
    let peak = 0;
    const base = cheapImportHasher;
    let calls = 0;
    const gated = {
      hash: (secret: string) => base.hash(secret),
      verify: async (secret: string, stored: string) => {
        calls++;
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return base.verify(secret, stored);
      },
    };
    const { registry } = registryFixture({ importHasher: gated, slowHashConcurrency: 2, slowHashQueueLimit: 4 });
    await registry.importClient("acct", legacy);
    // 10 authentications want 20 verifications; 2 run, 4 wait, the rest are refused.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => registry.authenticate(legacy.client_id, legacy.client_secret!)),
    );
    expect(peak).toBe(2);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(OverloadedError);
    expect(calls).toBeLessThanOrEqual(2 + 4 + 2 * 2);
    // Once the burst is over, the same client authenticates again.
    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toMatchObject({ matched: "current" });
  });

  it("authenticates an imported client when the custom hasher knows only its own format", async () => {
    const base = createSecretHasher();
    const ownFormatOnly = {
      hash: async (secret: string) => `own$${(await base.hash(secret)).slice("sha256$".length)}`,
      verify: (secret: string, stored: string) =>
        stored.startsWith("own$") ? base.verify(secret, `sha256$${stored.slice("own$".length)}`) : false,
    };
    const { registry } = registryFixture({ hasher: ownFormatOnly });
    await registry.importClient("acct", legacy);
    await expect(registry.authenticate(legacy.client_id, legacy.client_secret!)).resolves.toMatchObject({ matched: "current" });
  });
});

describe("importClient: secrets are well-formed text", () => {
  it("refuses a secret with a lone surrogate, which hashing would confuse with another secret", async () => {
    const { registry, store } = registryFixture();
    const issues = await validationIssues(registry.importClient("acct", { ...legacy, client_secret: "\ud800x" }));
    expect(issues.map((i) => i.path)).toEqual(["/client_secret"]);
    expect(await store.getById(legacy.client_id)).toBeNull();
  });
});
