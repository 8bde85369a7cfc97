/**
 * The D1 store's SQL and error handling, on a D1-shaped wrapper over
 * better-sqlite3 so that `npm test` covers it without workerd. The real
 * thing — the conformance suite inside workerd on miniflare's local D1 — is
 * `npm run test:runtimes` (test/runtimes/d1-worker.ts).
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { D1_MIGRATIONS } from "../adapters/d1-migrations.js";
import { createSqliteStore } from "../adapters/sqlite.js";
import { createD1Store, migrateD1, type D1DatabaseLike, type D1PreparedStatementLike } from "../adapters/d1.js";
import { InternalError, StorageUnavailableError } from "../src/model/errors.js";
import { makeStoredClient, runStoreConformanceSuite } from "../src/testing/conformance.js";

type Value = string | number | bigint | null;

/** D1's binding API over a better-sqlite3 connection; `fail` makes the next call throw. */
function d1Over(db: Database.Database, fail?: { next?: Error }): D1DatabaseLike {
  const execute = (sql: string, values: Value[]) => {
    if (fail?.next) {
      const error = fail.next;
      fail.next = undefined;
      throw error;
    }
    const statement = db.prepare(sql);
    return statement.reader
      ? { results: statement.all(...values), meta: { changes: 0 } }
      : { results: [], meta: { changes: statement.run(...values).changes } };
  };
  const statement = (sql: string, values: Value[] = []) =>
    ({
      bind: (...next: Value[]) => statement(sql, next),
      first: async () => execute(sql, values).results[0] ?? null,
      all: async () => ({ results: execute(sql, values).results }),
      run: async () => execute(sql, values),
      sql,
      values,
    }) as unknown as D1PreparedStatementLike & { sql: string; values: Value[] };
  return {
    prepare: (sql) => statement(sql),
    // D1 runs a batch as one transaction.
    batch: async (statements) =>
      db.transaction(() => statements.map((s) => execute((s as ReturnType<typeof statement>).sql, (s as ReturnType<typeof statement>).values)))(),
  } as D1DatabaseLike;
}

runStoreConformanceSuite("D1 store (D1 API over better-sqlite3)", async () => {
  const db = new Database(":memory:");
  const d1 = d1Over(db);
  await migrateD1(d1);
  return { store: createD1Store(d1), cleanup: async () => void db.close() };
});

describe("D1 store: migrations", () => {
  it("adapters/d1-migrations.ts is the text of migrations/d1/*.sql (npm run d1:migrations)", () => {
    const check = spawnSync(process.execPath, ["scripts/d1-migrations.mjs", "--check"], { encoding: "utf8" });
    expect(check.stderr).toBe("");
    expect(check.status).toBe(0);
    const files = readdirSync("migrations/d1").filter((name) => name.endsWith(".sql")).sort();
    expect(D1_MIGRATIONS.map((migration) => migration.name)).toStrictEqual(files);
    for (const migration of D1_MIGRATIONS) expect(migration.sql).toBe(readFileSync(join("migrations/d1", migration.name), "utf8"));
  });

  it("makes the schema the SQLite store makes: the shipped .sql files and the SQLite adapter's DDL stay one design", () => {
    const schema = (db: Database.Database) =>
      db
        .prepare<[], { type: string; name: string; sql: string }>("SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .all()
        .map(({ type, name, sql }) => `${type} ${name}: ${sql.replace(/"/g, "").replace(/IF NOT EXISTS /g, "").replace(/\s+/g, " ").trim()}`);
    const sqlite = new Database(":memory:");
    const d1 = new Database(":memory:");
    try {
      createSqliteStore(sqlite);
      for (const migration of D1_MIGRATIONS) d1.exec(migration.sql);
      expect(schema(d1)).toEqual(schema(sqlite));
      expect(schema(d1).length).toBeGreaterThan(0);
    } finally {
      sqlite.close();
      d1.close();
    }
  });

  it("applies each migration once, with its d1_migrations row, and recognises wrangler's record of it", async () => {
    const db = new Database(":memory:");
    const names = ["0001_create_oauth_clients.sql", "0002_create_oauth_clients_claims.sql"];
    expect(await migrateD1(d1Over(db))).toStrictEqual({ applied: names });
    expect(await migrateD1(d1Over(db))).toStrictEqual({ applied: [] });
    expect(db.prepare("SELECT name FROM d1_migrations").pluck().all()).toStrictEqual(names);

    // A database wrangler migrated: the same files, its own row.
    const byWrangler = new Database(":memory:");
    byWrangler.exec(
      "CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    );
    byWrangler.exec(D1_MIGRATIONS[0]!.sql);
    byWrangler.prepare("INSERT INTO d1_migrations (name) VALUES (?)").run(D1_MIGRATIONS[0]!.name);
    // Only the files wrangler did not apply run.
    expect(await migrateD1(d1Over(byWrangler))).toStrictEqual({ applied: ["0002_create_oauth_clients_claims.sql"] });
    expect(await migrateD1(d1Over(byWrangler))).toStrictEqual({ applied: [] });
  });

  it("leaves nothing behind when a migration fails: the batch and its record roll back together", async () => {
    const db = new Database(":memory:");
    // A table of that name already there makes the migration's CREATE TABLE fail.
    db.exec("CREATE TABLE oauth_clients (x)");
    await expect(migrateD1(d1Over(db))).rejects.toThrow(/table oauth_clients already exists/);
    expect(db.prepare("SELECT count(*) FROM d1_migrations").pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'oauth_clients_list_idx'").pluck().get()).toBe(0);
  });

  it("refuses a migrations table name that is not a plain identifier", async () => {
    await expect(migrateD1(d1Over(new Database(":memory:")), { migrationsTable: "x; DROP TABLE y" })).rejects.toThrow(
      /migrationsTable must match/,
    );
  });
});

describe("D1 store: errors", () => {
  it("answers 503 (StorageUnavailableError) for D1's transient failures, and changes nothing", async () => {
    const db = new Database(":memory:");
    const fail: { next?: Error } = {};
    const d1 = d1Over(db, fail);
    await migrateD1(d1);
    const store = createD1Store(d1);
    fail.next = new Error("D1_ERROR: Network connection lost.");
    await expect(store.insert(makeStoredClient())).rejects.toBeInstanceOf(StorageUnavailableError);
    fail.next = new Error("D1 DB storage operation exceeded timeout which caused object to be reset.");
    await expect(store.getById("x")).rejects.toMatchObject({ status: 503, code: "storage_unavailable" });
    expect(db.prepare("SELECT count(*) FROM oauth_clients").pluck().get()).toBe(0);
  });

  it("names the missing migration when the table does not exist", async () => {
    const store = createD1Store(d1Over(new Database(":memory:")));
    const error = await store.getById("x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as Error).message).toMatch(/apply the migrations \(wrangler d1 migrations apply, or migrateD1\)/);
  });

  it("passes other errors through unchanged", async () => {
    const fail: { next?: Error } = {};
    const d1 = d1Over(new Database(":memory:"), fail);
    await migrateD1(d1);
    const original = new Error("D1_ERROR: something else");
    fail.next = original;
    expect(await createD1Store(d1).getById("x").catch((caught: unknown) => caught)).toBe(original);
  });
});
