/**
 * The synchronous SQLite drivers the SQLite store runs on — better-sqlite3,
 * Node's built-in `node:sqlite` (Node ≥ 22.5, Deno) and `bun:sqlite` — behind
 * one small connection interface, so that the store's logic (inspection,
 * migration, lock retries) is written once.
 *
 * Every driver is used through the subset they share: `prepare` with
 * positional parameters, `get`/`all`/`run`, `exec`, `close`. Pragmas are read
 * with `prepare(…).get()` and set with `exec`, and transactions are plain
 * `BEGIN IMMEDIATE`/`COMMIT`, because only better-sqlite3 has `pragma()` and
 * `transaction()`. Named parameters are avoided: bun:sqlite binds them only
 * with their prefix (`$name`) unless the connection was opened `strict`.
 *
 * No driver is imported at load time: a filename is opened through a
 * synchronous `require` made by `createRequire`, so
 * `import "oauth-client-registry/sqlite"` loads no native addon, and runs on
 * runtimes where better-sqlite3 cannot load.
 */
import { createRequire } from "node:module";

/** Which driver a connection runs on. */
export type SqliteDriverName = "better-sqlite3" | "node:sqlite" | "bun:sqlite";

/** The drivers a filename may be opened with, in the order they are tried. */
export const SQLITE_DRIVERS: readonly SqliteDriverName[] = ["better-sqlite3", "node:sqlite", "bun:sqlite"];

/**
 * The part of a better-sqlite3 `Database` the store uses, written out so that
 * this package's types never require `@types/better-sqlite3`. A
 * `new Database(…)` from better-sqlite3 (any supported major) fits it.
 */
export interface BetterSqlite3Database {
  /** The file name the connection was opened with. */
  readonly name: string;
  /** Whether the connection is open. */
  readonly open: boolean;
  prepare(source: string): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
  close(): unknown;
}

/**
 * The part of a `node:sqlite` `DatabaseSync` (Node ≥ 22.5, Deno) the store
 * uses. `isOpen` (Node ≥ 22.15) and `location()` are read when present.
 */
export interface NodeSqliteDatabase {
  readonly isOpen?: boolean;
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  close(): unknown;
  location?(dbName?: string): string | null;
}

/** The part of a `bun:sqlite` `Database` the store uses. */
export interface BunSqliteDatabase {
  /** The file name the connection was opened with. */
  readonly filename: string;
  prepare(sql: string): unknown;
  query(sql: string): unknown;
  exec(sql: string): unknown;
  close(): unknown;
}

/** A connection of any supported driver, recognised by its shape. */
export type SqliteDatabase = BetterSqlite3Database | NodeSqliteDatabase | BunSqliteDatabase;

/** A value bound to a `?` parameter. */
export type SqliteValue = string | number | bigint | null;

/** A prepared statement, the same on every driver. */
export interface SqliteStatement<Row> {
  /** The first row, or undefined (bun:sqlite's null is turned into undefined). */
  get(...params: SqliteValue[]): Row | undefined;
  all(...params: SqliteValue[]): Row[];
  /** Runs a statement that returns no rows; `changes` counts the rows it changed. */
  run(...params: SqliteValue[]): { changes: number };
}

/** A connection, the same on every driver. */
export interface SqliteConnection {
  readonly driver: SqliteDriverName;
  /** The file name, for messages. */
  readonly label: string;
  prepare<Row>(sql: string): SqliteStatement<Row>;
  exec(sql: string): void;
  isOpen(): boolean;
  close(): void;
}

/** The drivers' statement methods, as far as the store calls them. */
interface DriverStatement {
  get(...params: SqliteValue[]): unknown;
  all(...params: SqliteValue[]): unknown[];
  run(...params: SqliteValue[]): { changes: number | bigint };
  /** better-sqlite3: integers as numbers whatever the connection's default. */
  safeIntegers?(toggle: boolean): unknown;
  /** node:sqlite: the same. */
  setReadBigInts?(toggle: boolean): unknown;
  /** bun:sqlite: releases the statement; a connection with live statements does not really close. */
  finalize?(): unknown;
}

/** Which driver `database` belongs to, from the methods only that driver has. */
export function driverOf(database: SqliteDatabase): SqliteDriverName {
  const shape = database as unknown as Record<string, unknown>;
  if (typeof shape.pragma === "function" && typeof shape.transaction === "function") return "better-sqlite3";
  if (typeof shape.query === "function" && typeof shape.filename === "string") return "bun:sqlite";
  if (typeof shape.prepare === "function" && typeof shape.exec === "function" && typeof shape.close === "function") {
    return "node:sqlite";
  }
  throw new TypeError(
    "createSqliteStore expects a filename or a better-sqlite3 Database, a node:sqlite DatabaseSync or a bun:sqlite Database",
  );
}

/** Wraps a connection of any supported driver. */
export function adoptConnection(database: SqliteDatabase): SqliteConnection {
  const driver = driverOf(database);
  let closed = false;
  const prepared: DriverStatement[] = [];
  const shape = database as unknown as Record<string, unknown>;
  const label =
    driver === "better-sqlite3"
      ? String(shape.name)
      : driver === "bun:sqlite"
        ? String(shape.filename)
        : // location() is null for an in-memory database and absent before Node 22.16.
          (typeof shape.location === "function" ? (database as NodeSqliteDatabase).location?.() : null) ?? "node:sqlite database";
  return {
    driver,
    label,
    prepare<Row>(sql: string): SqliteStatement<Row> {
      const statement = database.prepare(sql) as DriverStatement;
      if (typeof statement.finalize === "function") prepared.push(statement);
      statement.safeIntegers?.(false);
      statement.setReadBigInts?.(false);
      return {
        get: (...params) => (statement.get(...params) ?? undefined) as Row | undefined,
        all: (...params) => statement.all(...params) as Row[],
        run: (...params) => ({ changes: Number(statement.run(...params).changes) }),
      };
    },
    exec(sql) {
      database.exec(sql);
    },
    isOpen() {
      if (closed) return false;
      if (driver === "better-sqlite3") return (database as BetterSqlite3Database).open;
      const flag = (database as NodeSqliteDatabase).isOpen;
      // bun:sqlite, and node:sqlite before Node 22.15, have no flag: a
      // connection the caller closed shows up as the driver's own error.
      return typeof flag === "boolean" ? flag : true;
    },
    close() {
      closed = true;
      // bun:sqlite closes with sqlite3_close_v2, which keeps the file open
      // (its WAL not checkpointed) while any statement is alive.
      for (const statement of prepared.splice(0)) statement.finalize?.();
      database.close();
    },
  };
}

type DatabaseConstructor = new (filename: string) => SqliteDatabase;

/**
 * Loads one driver's connection class synchronously, or returns the reason it
 * cannot be used here. better-sqlite3 is also made to open an in-memory
 * database, because it loads its native addon only then (Deno, for one,
 * resolves the package but cannot load the addon).
 */
function loadDriver(driver: SqliteDriverName): DatabaseConstructor | Error {
  const require = createRequire(import.meta.url);
  try {
    switch (driver) {
      case "better-sqlite3": {
        const Database = require("better-sqlite3") as DatabaseConstructor;
        (new Database(":memory:") as BetterSqlite3Database).close();
        return Database;
      }
      case "node:sqlite":
        return (require("node:sqlite") as { DatabaseSync: DatabaseConstructor }).DatabaseSync;
      case "bun:sqlite":
        return (require("bun:sqlite") as { Database: DatabaseConstructor }).Database;
    }
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const loaded = new Map<SqliteDriverName, DatabaseConstructor | Error>();

function driverClass(driver: SqliteDriverName): DatabaseConstructor | Error {
  let found = loaded.get(driver);
  if (found === undefined) {
    found = loadDriver(driver);
    loaded.set(driver, found);
  }
  return found;
}

/** No driver could be loaded; `attempts` says why for each one tried. */
export class NoSqliteDriverError extends Error {
  constructor(readonly attempts: readonly { driver: SqliteDriverName; error: Error }[]) {
    super(
      attempts.length === 1
        ? `the SQLite driver ${attempts[0]!.driver} cannot be loaded here (${firstLine(attempts[0]!.error.message)})`
        : `no SQLite driver can be loaded here: install better-sqlite3, or run on Node >= 22.5, Deno or Bun ` +
            `(${attempts.map(({ driver, error }) => `${driver}: ${firstLine(error.message)}`).join("; ")})`,
    );
    this.name = "NoSqliteDriverError";
  }
}

function firstLine(text: string): string {
  return text.split("\n", 1)[0]!;
}

/**
 * Opens `filename` with `driver`, or with the first driver of
 * {@link SQLITE_DRIVERS} that loads here. Throws
 * {@link NoSqliteDriverError} when none does; errors of opening the file
 * itself (SQLite's) propagate as they are.
 */
export function openConnection(filename: string, driver?: SqliteDriverName): SqliteConnection {
  const attempts: { driver: SqliteDriverName; error: Error }[] = [];
  for (const candidate of driver === undefined ? SQLITE_DRIVERS : [driver]) {
    const Database = driverClass(candidate);
    if (Database instanceof Error) {
      attempts.push({ driver: candidate, error: Database });
      continue;
    }
    return adoptConnection(new Database(filename));
  }
  throw new NoSqliteDriverError(attempts);
}

/** What a driver's error means for the store. */
export type SqliteErrorKind = "busy" | "corrupt" | "notadb" | "other";

/** SQLite's primary result codes the store tells apart (https://sqlite.org/rescode.html). */
const PRIMARY_CODES: Readonly<Record<number, string>> = {
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  11: "SQLITE_CORRUPT",
  26: "SQLITE_NOTADB",
};

/**
 * SQLite's result code name of a driver's error, e.g. `"SQLITE_BUSY"`, or ""
 * for an error that is not SQLite's. better-sqlite3 and bun:sqlite put the
 * name in `code`; node:sqlite puts `ERR_SQLITE_ERROR` there and the number in
 * `errcode`.
 */
export function sqliteErrorCode(error: unknown): string {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  if (typeof errcode === "number") return PRIMARY_CODES[errcode & 0xff] ?? `SQLITE_ERROR_${errcode}`;
  return "";
}

/** Classifies a driver's error by its result code. */
export function sqliteErrorKind(error: unknown): SqliteErrorKind {
  const code = sqliteErrorCode(error);
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "busy";
  if (code.startsWith("SQLITE_CORRUPT")) return "corrupt";
  if (code === "SQLITE_NOTADB") return "notadb";
  return "other";
}
