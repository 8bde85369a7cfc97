import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  Kysely,
  OperationNodeTransformer,
  SqliteDialect,
  ValueNode,
  sql,
  type KyselyPlugin,
  type SqliteDatabase,
} from "kysely";
import { Migrator } from "./helpers/kysely-migrator.js";
import { afterAll, describe, expect, it } from "vitest";
import { cacheSqliteStatements, createKyselyStore, migrateToLatest, oauthClientRegistryMigrations } from "../adapters/kysely.js";
import { makeStoredClient, runStoreConformanceSuite } from "../src/testing/conformance.js";

const dir = mkdtempSync(join(tmpdir(), "oauth-registry-kysely-sqlite-"));
let fileCounter = 0;
const newFile = () => join(dir, `store-${++fileCounter}.sqlite`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openKysely(file: string): Kysely<unknown> {
  const database = new Database(file);
  database.pragma("journal_mode = WAL");
  return new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
}

async function tableNames(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`.execute(db);
  return rows.map((r) => r.name);
}

runStoreConformanceSuite("Kysely + SQLite (better-sqlite3)", async () => {
  const db = openKysely(newFile());
  await migrateToLatest(db, { tablePrefix: "app_" });
  return { store: createKyselyStore(db, { tablePrefix: "app_" }), cleanup: () => db.destroy() };
});

runStoreConformanceSuite("Kysely + SQLite with cached statements", async () => {
  const database = new Database(newFile());
  database.pragma("journal_mode = WAL");
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cacheSqliteStatements(database) }) });
  await migrateToLatest(db, { tablePrefix: "app_" });
  return { store: createKyselyStore(db, { tablePrefix: "app_" }), cleanup: () => db.destroy() };
});

describe("Kysely store: migrations", () => {
  it("creates the prefixed table, index and bookkeeping tables once; a second run does nothing", async () => {
    const db = openKysely(newFile());
    const first = await migrateToLatest(db, { tablePrefix: "auth_" });
    expect(first.map((r) => [r.migrationName, r.status])).toEqual([
      ["oauth_client_registry_0001_create_clients", "Success"],
      ["oauth_client_registry_0002_document_column", "Success"],
      ["oauth_client_registry_0003_claims_table", "Success"],
    ]);
    expect(await migrateToLatest(db, { tablePrefix: "auth_" })).toEqual([]);
    expect(await tableNames(db)).toEqual([
      "auth_oauth_clients",
      "auth_oauth_clients_claims",
      "auth_oauth_clients_migrations",
      "auth_oauth_clients_migrations_lock",
    ]);
    const { rows } = await sql<{ sql: string }>`SELECT sql FROM sqlite_schema WHERE name = 'auth_oauth_clients_list_idx'`.execute(db);
    expect(rows[0]?.sql).toMatch(/\("account_id", "created_at", "client_id"\)/);
    await db.destroy();
  });

  it("leaves the application's own Kysely migrations alone", async () => {
    const db = openKysely(newFile());
    const appMigrator = new Migrator({
      db,
      provider: {
        getMigrations: async () => ({
          "2024_01_01_users": { up: async (k) => void (await k.schema.createTable("users").addColumn("id", "integer").execute()) },
        }),
      },
    });
    expect((await appMigrator.migrateToLatest()).error).toBeUndefined();
    await migrateToLatest(db);
    // Both bookkeeping histories stay consistent: neither migrator sees the other's entries.
    expect((await appMigrator.migrateToLatest()).error).toBeUndefined();
    expect(await migrateToLatest(db)).toEqual([]);
    expect(await tableNames(db)).toEqual(expect.arrayContaining(["users", "oauth_clients", "kysely_migration"]));
    await db.destroy();
  });

  it("exports migrations that run inside an application's own migrator", async () => {
    const db = openKysely(newFile());
    const migrator = new Migrator({
      db,
      provider: { getMigrations: async () => ({ ...oauthClientRegistryMigrations({ tablePrefix: "x_" }) }) },
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const store = createKyselyStore(db, { tablePrefix: "x_" });
    const record = makeStoredClient();
    expect(await store.insert(record)).toBe(true);
    expect(await store.getById(record.client_id)).toStrictEqual(record);
    await db.destroy();
  });

  it("reports a failed migration with its name and cause", async () => {
    const db = openKysely(newFile());
    await sql`CREATE TABLE oauth_clients (unrelated TEXT)`.execute(db);
    await expect(migrateToLatest(db)).rejects.toThrow(
      /migrating the clients table failed in oauth_client_registry_0001_create_clients: .*already exists/,
    );
    await db.destroy();
  });

  it("refuses a table prefix that is not a plain identifier", () => {
    const db = openKysely(":memory:");
    expect(() => createKyselyStore(db, { tablePrefix: "a-b" })).toThrow(/tablePrefix must match/);
    expect(() => oauthClientRegistryMigrations({ tablePrefix: "x".repeat(33) })).toThrow(/tablePrefix must match/);
    void db.destroy();
  });
});

describe("Kysely store on SQLite: list query plan", () => {
  it("serves a list page after a position from the list index without sorting", async () => {
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const database = new Database(newFile());
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database }),
      log: (event) => void queries.push({ sql: event.query.sql, parameters: event.query.parameters }),
    });
    await migrateToLatest(db);
    const store = createKyselyStore(db);
    await store.list("acct", { limit: 10, after: { created_at: "2025-01-01T00:00:00.000Z", client_id: "x" } });
    const list = queries.find((q) => /order by "created_at", "client_id"/.test(q.sql))!;
    const plan = database.prepare(`EXPLAIN QUERY PLAN ${list.sql}`).all(...list.parameters) as { detail: string }[];
    const details = plan.map((r) => r.detail).join("\n");
    expect(details).toMatch(/SEARCH oauth_clients USING INDEX oauth_clients_list_idx \(account_id=\? AND created_at>\?\)/);
    expect(details).not.toMatch(/TEMP B-TREE/);
    await db.destroy();
  });
});

/** A SQLite database that counts how often each SQL text is prepared. */
function countingDatabase(file: string): { database: SqliteDatabase; prepared: Map<string, number>; closed: () => boolean } {
  const inner = new Database(file);
  const prepared = new Map<string, number>();
  let closed = false;
  return {
    prepared,
    closed: () => closed,
    database: {
      prepare(text) {
        prepared.set(text, (prepared.get(text) ?? 0) + 1);
        return inner.prepare(text);
      },
      close() {
        closed = true;
        inner.close();
      },
    },
  };
}

describe("Kysely store: compiled once, prepared once", () => {
  it("sends the same SQL text for every call of a query shape, with each call's parameters", async () => {
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(newFile()) }),
      log: (event) => void queries.push({ sql: event.query.sql, parameters: event.query.parameters }),
    });
    await migrateToLatest(db);
    const store = createKyselyStore(db);
    const [a, b] = [makeStoredClient({ account_id: "acct_a" }), makeStoredClient({ account_id: "acct_b" })];
    await store.insert(a);
    await store.insert(b);
    queries.length = 0;
    expect(await store.get("acct_a", a.client_id)).toStrictEqual(a);
    expect(await store.get("acct_b", b.client_id)).toStrictEqual(b);
    expect(await store.get("acct_a", b.client_id)).toBeNull();
    expect(new Set(queries.map((q) => q.sql)).size).toBe(1);
    expect(queries.map((q) => q.parameters)).toEqual([
      [a.client_id, "acct_a"],
      [b.client_id, "acct_b"],
      [b.client_id, "acct_a"],
    ]);
    await db.destroy();
  });

  it("with cacheSqliteStatements, prepares each SQL text once however often it runs", async () => {
    const counting = countingDatabase(newFile());
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cacheSqliteStatements(counting.database) }) });
    await migrateToLatest(db);
    const store = createKyselyStore(db);
    const records = Array.from({ length: 5 }, () => makeStoredClient({ account_id: "acct" }));
    for (const record of records) await store.insert(record);
    for (const record of records) expect(await store.getById(record.client_id)).toStrictEqual(record);
    for (const record of records) expect(await store.delete("acct", record.client_id)).toBe(true);
    expect(Math.max(...counting.prepared.values())).toBe(1);
    await db.destroy();
    expect(counting.closed()).toBe(true);
  });

  it("cacheSqliteStatements keeps at most maxStatements, dropping the least recently used", async () => {
    const counting = countingDatabase(":memory:");
    const cached = cacheSqliteStatements(counting.database, { maxStatements: 2 });
    const [one, two, three] = ["SELECT 1", "SELECT 2", "SELECT 3"];
    for (const text of [one, two, one, three, one, two]) cached.prepare(text);
    // three evicted two (least recently used), so two was prepared again; one stayed.
    expect(Object.fromEntries(counting.prepared)).toEqual({ [one]: 1, [two]: 2, [three]: 1 });
    expect(() => cacheSqliteStatements(counting.database, { maxStatements: 0 })).toThrow(/maxStatements must be a positive integer/);
    cached.close();
  });

  it("a plugin that rewrites parameters still gets correct answers: each call builds its query", async () => {
    // Turns every number into a bigint (the same value to SQLite), so the
    // compiled shape's numeric placeholders cannot be found again.
    const bigintParameters: KyselyPlugin = {
      transformQuery: ({ node }) =>
        new (class extends OperationNodeTransformer {
          protected override transformValue(value: ValueNode): ValueNode {
            return typeof value.value === "number" ? ValueNode.create(BigInt(value.value)) : value;
          }
        })().transformNode(node),
      transformResult: async ({ result }) => result,
    };
    const queries: { sql: string; parameters: readonly unknown[] }[] = [];
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new Database(newFile()) }),
      log: (event) => void queries.push({ sql: event.query.sql, parameters: event.query.parameters }),
    });
    await migrateToLatest(db);
    const store = createKyselyStore(db.withPlugin(bigintParameters));
    const records = Array.from({ length: 4 }, (_, i) => makeStoredClient({ account_id: "acct", created_at: `2025-01-0${i + 1}T00:00:00.000Z` }));
    for (const record of records) expect(await store.insert(record)).toBe(true);
    queries.length = 0;
    expect((await store.list("acct", { limit: 2, after: records[0] })).map((r) => r.client_id)).toEqual(
      records.slice(1, 3).map((r) => r.client_id),
    );
    expect((await store.list("acct", { limit: 3 })).map((r) => r.client_id)).toEqual(records.slice(0, 3).map((r) => r.client_id));
    expect(queries.map((q) => q.parameters.at(-1))).toEqual([2n, 3n]);
    const next = { ...records[0]!, client_name: "Renamed", version: 2 };
    expect(await store.update(next, 1)).toBe(true);
    expect(await store.update(next, 1)).toBe(false);
    expect(await store.getById(next.client_id)).toStrictEqual(next);
    expect(await store.delete("acct", next.client_id, 1)).toBe(false);
    expect(await store.delete("acct", next.client_id, 2)).toBe(true);
    await db.destroy();
  });
});
