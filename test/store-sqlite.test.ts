import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createSqliteStore, SQLITE_SCHEMA_VERSION } from "../adapters/sqlite.js";
import { InternalError } from "../src/index.js";
import { makeStoredClient, runStoreConformanceSuite } from "../src/testing/conformance.js";

const dir = mkdtempSync(join(tmpdir(), "oauth-registry-sqlite-"));
let fileCounter = 0;
const newFile = () => join(dir, `store-${++fileCounter}.sqlite`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformanceSuite("SQLite (temp file)", async () => {
  const store = createSqliteStore(newFile());
  return { store, cleanup: () => store.close() };
});

describe("SQLite store: opening and migrating", () => {
  it("creates the table and list index on open, records the schema in user_version, enables WAL", async () => {
    const file = newFile();
    const store = createSqliteStore(file);
    const db = new Database(file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const index = db
      .prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'oauth_clients' AND sql IS NOT NULL")
      .pluck()
      .all();
    expect(index).toEqual([expect.stringMatching(/\(account_id, created_at, client_id\)/)]);
    db.close();
    await store.close();
  });

  it("reopens an existing file and keeps its records", async () => {
    const file = newFile();
    const record = makeStoredClient();
    const first = createSqliteStore(file);
    await first.insert(record);
    await first.close();
    const second = createSqliteStore(file);
    expect(await second.get(record.account_id, record.client_id)).toStrictEqual(record);
    await second.close();
  });

  it("fails at open with a clear error when the file cannot be opened", () => {
    expect(() => createSqliteStore(join(dir, "no-such-dir", "x.sqlite"))).toThrow(
      /cannot open the SQLite client store at ".*no-such-dir.*x\.sqlite": Cannot open database because the directory does not exist/,
    );
  });

  it("fails at open with a clear error when the file is not a database", () => {
    const file = newFile();
    writeFileSync(file, "this is not a database, just text ".repeat(100));
    expect(() => createSqliteStore(file)).toThrow(/cannot open the SQLite client store .*not a database/);
  });

  it("refuses a file whose schema is newer than this library knows", () => {
    const file = newFile();
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => createSqliteStore(file)).toThrow(/schema version 2 .* is newer than this oauth-client-registry supports \(1\)/);
  });

  it("refuses a table name that is not a plain identifier", () => {
    expect(() => createSqliteStore(":memory:", { tableName: 'x"; DROP TABLE y; --' })).toThrow(/tableName must match/);
  });

  it("keeps two stores with different table names in one file apart", async () => {
    const file = newFile();
    const a = createSqliteStore(file, { tableName: "clients_a" });
    const b = createSqliteStore(file, { tableName: "clients_b" });
    const record = makeStoredClient();
    await a.insert(record);
    expect(await b.getById(record.client_id)).toBeNull();
    expect(await a.getById(record.client_id)).toStrictEqual(record);
    await Promise.all([a.close(), b.close()]);
  });

  it("adopts a Database it is given without changing its journal mode or closing it", async () => {
    const db = new Database(newFile());
    expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
    const store = createSqliteStore(db);
    const record = makeStoredClient();
    await store.insert(record);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
    expect(db.prepare("SELECT count(*) FROM oauth_clients").pluck().get()).toBe(1);
    db.close();
  });

  it("reads the version as a number even when the Database returns bigints", async () => {
    const db = new Database(":memory:");
    db.defaultSafeIntegers(true);
    const store = createSqliteStore(db);
    const record = makeStoredClient({ version: 3 });
    await store.insert(record);
    expect(await store.getById(record.client_id)).toStrictEqual(record);
    db.close();
  });
});

describe("SQLite store: locking and query plans", () => {
  it("turns a write lock held past busyTimeoutMs into a clear error", async () => {
    const file = newFile();
    const store = createSqliteStore(file, { busyTimeoutMs: 50 });
    const other = new Database(file);
    other.exec("BEGIN IMMEDIATE");
    try {
      const started = Date.now();
      const attempt = store.insert(makeStoredClient());
      await expect(attempt).rejects.toBeInstanceOf(InternalError);
      await expect(attempt).rejects.toThrow(/is busy: another connection held its write lock for longer than busyTimeoutMs \(50 ms\)/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    // Once the lock is gone, writes go through again.
    expect(await store.insert(makeStoredClient())).toBe(true);
    await store.close();
  });

  it("serves every list page from the (account_id, created_at, client_id) index without sorting", async () => {
    const db = new Database(newFile());
    const sources: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((source: string) => {
      sources.push(source);
      return prepare(source);
    }) as typeof db.prepare;
    createSqliteStore(db);
    const listQueries = sources.filter((s) => /ORDER BY created_at, client_id/.test(s));
    expect(listQueries).toHaveLength(2);
    for (const source of listQueries) {
      const params = source.includes("> (?, ?)") ? ["acct", "2025-01-01T00:00:00.000Z", "x", 10] : ["acct", 10];
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as { detail: string }[];
      const details = plan.map((p) => p.detail).join("\n");
      expect(details).toMatch(/SEARCH oauth_clients USING INDEX oauth_clients_list_idx \(account_id=\?/);
      expect(details).not.toMatch(/TEMP B-TREE/);
      if (source.includes("> (?, ?)")) expect(details).toMatch(/\(created_at,client_id\)>\(\?,\?\)/);
    }
    db.close();
  });
});
