/**
 * The SQLite store's guarantees, checked on one driver: the store opens a
 * file in WAL mode with synchronous = FULL, checks it with quick_check and
 * leaves a refused file byte-identical, waits for another connection's lock
 * from timers (the event loop keeps turning) and then answers 503, and
 * adopts a connection of that driver handed to it without closing it.
 *
 * Written against vitest's API and node:fs/node:crypto only, so that the
 * runtime runners (Bun, Deno) run the same cases through their harness.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SqliteDatabase, SqliteDriverName } from "../../adapters/sqlite-drivers.js";
import { createSqliteStore, SQLITE_SCHEMA_VERSION, SqliteOpenError, type SqliteStoreOptions } from "../../adapters/sqlite.js";
import { LEGACY_CLIENT_COLUMNS, toLegacyClientRow } from "../../adapters/rows.js";
import { StorageUnavailableError } from "../../src/model/errors.js";
import { makeStoredClient, runStoreConformanceSuite } from "../../src/testing/conformance.js";

/** A driver's connection class, as its module exports it. */
export type SqliteDatabaseClass = new (filename: string) => SqliteDatabase;

/** The few raw operations the cases need on a connection of the driver under test. */
interface Raw {
  exec(sql: string): void;
  value(sql: string): unknown;
  close(): void;
}

function raw(db: SqliteDatabase): Raw {
  const statement = (sql: string) => (db.prepare(sql) as { get(): Record<string, unknown> | null | undefined });
  return {
    exec: (sql) => void db.exec(sql),
    value: (sql) => {
      const row = statement(sql).get();
      return row ? Object.values(row)[0] : undefined;
    },
    close: () => void db.close(),
  };
}

/** The file's bytes (as a hash) and which of its side files exist. */
export function fingerprint(file: string) {
  return {
    sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    sideFiles: ["-wal", "-shm", "-journal"].filter((suffix) => existsSync(`${file}${suffix}`)),
  };
}

/** Overwrites every page but the first (header and schema) with garbage. */
export function damagePages(file: string): void {
  const pageSize = 4096;
  const pages = statSync(file).size / pageSize;
  const fd = openSync(file, "r+");
  for (let page = 1; page < pages; page++) writeSync(fd, new Uint8Array(pageSize).fill(0xa5), 0, pageSize, page * pageSize);
  closeSync(fd);
}

/**
 * Opens a store on `file` with `driver` and also returns the connection it
 * opened, caught on the driver's `prepare` (the store keeps it private).
 */
function openCapturing(Database: SqliteDatabaseClass, file: string, options: SqliteStoreOptions) {
  const prototype = Database.prototype as { prepare(this: SqliteDatabase, sql: string): unknown };
  const original = prototype.prepare;
  const seen: SqliteDatabase[] = [];
  prototype.prepare = function (this: SqliteDatabase, sql: string) {
    seen.push(this);
    return original.call(this, sql);
  };
  try {
    const store = createSqliteStore(file, options);
    return { store, connection: seen[0]! };
  } finally {
    prototype.prepare = original;
  }
}

/**
 * Registers the conformance suite and the guarantee cases for `driver`,
 * whose connection class is `Database`.
 */
export function runSqliteDriverSuite(driver: SqliteDriverName, Database: SqliteDatabaseClass): void {
  const dir = mkdtempSync(join(tmpdir(), `oauth-registry-${driver.replace(/\W/g, "-")}-`));
  let counter = 0;
  const newFile = () => join(dir, `store-${++counter}.sqlite`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  runStoreConformanceSuite(`SQLite on ${driver} (a file the store opens)`, async () => {
    const store = createSqliteStore(newFile(), { driver });
    return { store, cleanup: () => store.close() };
  });

  runStoreConformanceSuite(`SQLite on ${driver} (a connection passed in)`, async () => {
    const db = new Database(newFile());
    const store = createSqliteStore(db);
    return { store, cleanup: async () => void db.close() };
  });

  describe(`SQLite store guarantees on ${driver}`, () => {
    it("opens a file in WAL mode with synchronous = FULL, records the schema version, and close() releases it", async () => {
      const file = newFile();
      const { store, connection } = openCapturing(Database, file, { driver });
      expect(store.driver).toBe(driver);
      expect(raw(connection).value("PRAGMA synchronous")).toBe(2); // FULL
      expect(raw(connection).value("PRAGMA busy_timeout")).toBe(0);
      const reader = raw(new Database(file));
      expect(reader.value("PRAGMA journal_mode")).toBe("wal");
      expect(reader.value("PRAGMA user_version")).toBe(SQLITE_SCHEMA_VERSION);
      reader.close();
      await store.close();
      expect(() => raw(connection).value("SELECT 1")).toThrow();
    });

    it("honours synchronous = NORMAL when asked", async () => {
      const file = newFile();
      const { store, connection } = openCapturing(Database, file, { driver, synchronous: "normal" });
      expect(raw(connection).value("PRAGMA synchronous")).toBe(1);
      await store.close();
    });

    it("refuses a damaged file at open (quick_check) and leaves it byte-identical", async () => {
      const file = newFile();
      const account = `acct_${counter}`;
      const store = createSqliteStore(file, { driver, synchronous: "normal" });
      for (let i = 0; i < 60; i++) await store.insert(makeStoredClient({ account_id: account }));
      await store.close();
      damagePages(file);
      const before = fingerprint(file);
      let error: unknown;
      try {
        createSqliteStore(file, { driver });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(SqliteOpenError);
      expect((error as SqliteOpenError).reason).toMatch(/malformed|not a database/);
      expect(fingerprint(file)).toStrictEqual(before);
    });

    it("refuses a file whose schema is newer than this library knows and leaves it byte-identical", () => {
      const file = newFile();
      const setup = raw(new Database(file));
      setup.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
      setup.close();
      const before = fingerprint(file);
      expect(() => createSqliteStore(file, { driver })).toThrow(/is newer than this oauth-client-registry supports/);
      expect(fingerprint(file)).toStrictEqual(before);
    });

    it("waits for another connection's write lock from timers, then fails with StorageUnavailableError (503)", async () => {
      const file = newFile();
      const store = createSqliteStore(file, { driver, lockTimeoutMs: 300 });
      const other = raw(new Database(file));
      other.exec("PRAGMA busy_timeout = 0");
      other.exec("BEGIN IMMEDIATE");
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const started = Date.now();
      try {
        let error: unknown;
        try {
          await store.insert(makeStoredClient());
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(StorageUnavailableError);
        expect((error as StorageUnavailableError).status).toBe(503);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        // A synchronous wait inside SQLite would have let no timer fire.
        expect(ticks).toBeGreaterThan(10);
      } finally {
        clearInterval(ticker);
        other.exec("ROLLBACK");
      }
      // Once the lock is gone the same call goes through.
      const record = makeStoredClient();
      expect(await store.insert(record)).toBe(true);
      expect(await store.getById(record.client_id)).toStrictEqual(record);
      other.close();
      await store.close();
    });

    it("migrates a schema-version-1 file (one column per field) in batches, every record reading back identical", async () => {
      const file = newFile();
      const connection = new Database(file);
      const setup = raw(connection);
      const columns = LEGACY_CLIENT_COLUMNS;
      setup.exec(
        `CREATE TABLE oauth_clients (${columns.map((c) => (c === "client_id" ? "client_id TEXT NOT NULL PRIMARY KEY" : c === "version" ? "version INTEGER NOT NULL" : `${c} TEXT`)).join(", ")}) STRICT`,
      );
      const account = `acct_v1_${counter}`;
      // More than one copy batch (500 rows).
      const records = Array.from({ length: 520 }, () => makeStoredClient({ account_id: account }));
      const insert = connection.prepare(`INSERT INTO oauth_clients (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
      setup.exec("BEGIN");
      for (const record of records) {
        const row = toLegacyClientRow(record);
        (insert as { run(...values: unknown[]): unknown }).run(...columns.map((c) => row[c]));
      }
      setup.exec("COMMIT");
      setup.exec("PRAGMA user_version = 1");
      setup.close();
      const store = createSqliteStore(file, { driver, synchronous: "normal" });
      for (const record of records.slice(0, 5).concat(records.slice(-5))) {
        expect(await store.getById(record.client_id)).toStrictEqual(record);
      }
      expect((await store.list(account, { limit: 1000 })).length).toBe(records.length);
      await store.close();
      const reader = raw(new Database(file));
      expect(reader.value("PRAGMA user_version")).toBe(SQLITE_SCHEMA_VERSION);
      reader.close();
    });

    it("adopts a connection it is given: keeps its journal mode and busy_timeout, and leaves it open", async () => {
      const file = newFile();
      const db = new Database(file);
      const conn = raw(db);
      conn.exec("PRAGMA busy_timeout = 1234");
      const store = createSqliteStore(db);
      const record = makeStoredClient();
      await store.insert(record);
      await store.close();
      expect(conn.value("PRAGMA journal_mode")).toBe("delete");
      expect(conn.value("PRAGMA busy_timeout")).toBe(1234);
      expect(conn.value("SELECT count(*) FROM oauth_clients")).toBe(1);
      conn.close();
    });
  });
}
