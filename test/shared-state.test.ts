/**
 * State several instances share through their store (SPEC §5): an
 * assertion accepted by one registry is refused as replayed by another
 * registry on the same database, and a client's assertion budget counts
 * across them. Each pair of registries has its own connection, as two
 * processes would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import Database from "better-sqlite3";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { Kysely, SqliteDialect } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import { afterAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { createMemoryStore } from "../adapters/memory.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import { createOAuthClientRegistry, type OAuthClientRegistry, type RegistryEvent } from "../src/index.js";
import type { ClientStore } from "../src/model/store.js";
import { DATABASE_URL, realPostgres } from "./helpers/postgres.js";
import { createBody } from "./helpers/registry.js";

const TOKEN_ENDPOINT = "https://auth.example.com/token";
const START = Date.UTC(2026, 0, 1);

const dir = mkdtempSync(join(tmpdir(), "ocr-shared-"));
const pglite = new PGlite();
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pglite.close();
});

/** Two stores on one database, each over its own connection. */
const databases: [string, () => Promise<[ClientStore, ClientStore, () => Promise<void>]>][] = [
  [
    "SQLite file (two connections)",
    async () => {
      const file = join(dir, `${crypto.randomUUID()}.sqlite`);
      const a = createSqliteStore(file);
      const b = createSqliteStore(file);
      return [a, b, async () => void (await Promise.all([a.close(), b.close()]))];
    },
  ],
  [
    "Kysely on a SQLite file (two connections)",
    async () => {
      const file = join(dir, `${crypto.randomUUID()}.sqlite`);
      const open = () => new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(file) }) });
      const [dbA, dbB] = [open(), open()];
      await migrateToLatest(dbA);
      return [createKyselyStore(dbA), createKyselyStore(dbB), async () => void (await Promise.all([dbA.destroy(), dbB.destroy()]))];
    },
  ],
  [
    "Kysely on PGlite (two Kysely instances)",
    async () => {
      const prefix = `p${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}_`;
      const [dbA, dbB] = [new Kysely<unknown>({ dialect: new PGliteDialect(pglite) }), new Kysely<unknown>({ dialect: new PGliteDialect(pglite) })];
      await migrateToLatest(dbA, { tablePrefix: prefix });
      return [createKyselyStore(dbA, { tablePrefix: prefix }), createKyselyStore(dbB, { tablePrefix: prefix }), async () => undefined];
    },
  ],
];

// A real PostgreSQL server when DATABASE_URL names one: two pools, as two processes would have.
if (DATABASE_URL) {
  const server = realPostgres(DATABASE_URL);
  databases.push([
    "Kysely on PostgreSQL at DATABASE_URL (two pools)",
    async () => {
      const tablePrefix = server.prefix("shared");
      const [dbA, dbB] = [server.connect(), server.connect()];
      await migrateToLatest(dbA, { tablePrefix });
      return [createKyselyStore(dbA, { tablePrefix }), createKyselyStore(dbB, { tablePrefix }), async () => undefined];
    },
  ]);
}

async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  return { privateKey, jwk };
}

/** Signs a fresh assertion (new jti, valid for a minute from START) for `clientId` at each call. */
function assertionsOf(clientId: string, privateKey: CryptoKey): () => Promise<string> {
  return () =>
    new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(TOKEN_ENDPOINT)
      .setJti(crypto.randomUUID())
      .setIssuedAt(START / 1000)
      .setExpirationTime(START / 1000 + 60)
      .sign(privateKey);
}

function registryOn(store: ClientStore, events: RegistryEvent[]): OAuthClientRegistry {
  return createOAuthClientRegistry(store, { now: () => new Date(START), onEvent: (event) => void events.push(event) });
}

describe.each(databases)("shared single use of client assertions: %s", (_name, open) => {
  it("an assertion accepted by one registry is refused as replayed by the other; a fresh one passes on either", async () => {
    const [storeA, storeB, close] = await open();
    try {
      const events: RegistryEvent[] = [];
      const [a, b] = [registryOn(storeA, events), registryOn(storeB, events)];
      const signer = await keyPair();
      const client = await a.create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [signer.jwk] } }));
      const sign = assertionsOf(client.client_id, signer.privateKey);

      const jwt = await sign();
      expect(await a.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toMatchObject({ method: "private_key_jwt" });
      expect(await b.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
      expect(await a.authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
      const refused = events.filter((e) => e.type === "client.authentication_failed");
      expect(refused.map((e) => (e.type === "client.authentication_failed" ? e.detail : null))).toEqual(["replayed", "replayed"]);

      const fresh = await sign();
      expect(await b.authenticateAssertion(fresh, { audience: TOKEN_ENDPOINT })).not.toBeNull();
      // Both at once, one on each: exactly one is accepted.
      const raced = await sign();
      const results = await Promise.all([a, b].map((r) => r.authenticateAssertion(raced, { audience: TOKEN_ENDPOINT })));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    } finally {
      await close();
    }
  });
});

describe("the replay cache a registry uses by default", () => {
  it("is the store's when it has claimOnce, the registry's own memory otherwise", async () => {
    const signer = await keyPair();
    const shared = createMemoryStore();
    // A store without the capability: the same store with claimOnce hidden.
    const { claimOnce: _hidden, ...withoutClaims } = shared;
    const events: RegistryEvent[] = [];
    const withStore = [registryOn(shared, events), registryOn(shared, events)] as const;
    const perProcess = [registryOn(withoutClaims, events), registryOn(withoutClaims, events)] as const;
    const client = await withStore[0].create("acct", createBody({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [signer.jwk] } }));
    const sign = assertionsOf(client.client_id, signer.privateKey);
    const jwt = await sign();
    expect(await withStore[0].authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).not.toBeNull();
    expect(await withStore[1].authenticateAssertion(jwt, { audience: TOKEN_ENDPOINT })).toBeNull();
    // Without claimOnce each registry remembers only its own: the documented per-process limit.
    const other = await sign();
    expect(await perProcess[0].authenticateAssertion(other, { audience: TOKEN_ENDPOINT })).not.toBeNull();
    expect(await perProcess[0].authenticateAssertion(other, { audience: TOKEN_ENDPOINT })).toBeNull();
    expect(await perProcess[1].authenticateAssertion(other, { audience: TOKEN_ENDPOINT })).not.toBeNull();
  });
});
