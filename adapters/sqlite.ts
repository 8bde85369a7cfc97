/**
 * SQLite store on any synchronous SQLite driver (better-sqlite3, node:sqlite,
 * bun:sqlite; see sqlite-drivers.ts): one file, no server, safe for several
 * processes sharing it (WAL journal, compare-and-swap writes).
 *
 * Schema versions live in `PRAGMA user_version`. Opening the store first
 * inspects the file without writing to it (integrity, schema version, the
 * table's columns), so a file it refuses is left byte-identical; only then
 * does it create or migrate the table, inside one IMMEDIATE transaction, so
 * two processes opening the same file at once cannot both migrate it.
 *
 * Every driver is synchronous: a statement that waits for a lock inside
 * SQLite's busy handler blocks the whole event loop. The store's statements
 * therefore never wait inside SQLite (busy_timeout 0); a locked database is
 * retried from timers, with a randomized backoff, up to a deadline.
 */
import { InternalError, StorageUnavailableError } from "../src/model/errors.js";
import { assertAccountListQuery, assertClaimRequest, CLAIM_CLEANUP_BATCH, type ClaimResult, type ClientStore, type ListQuery, type StoredClient } from "../src/model/store.js";
import {
  CLIENT_COLUMNS as COLUMNS,
  fromClientRow,
  fromLegacyClientRow,
  LEGACY_CLIENT_COLUMNS,
  toClientRow,
  type ClientRowRead,
  type LegacyClientRow,
  accountPageSql,
} from "./rows.js";
import {
  adoptConnection,
  NoSqliteDriverError,
  openConnection,
  SQLITE_DRIVERS,
  sqliteErrorCode,
  sqliteErrorKind,
  type SqliteConnection,
  type SqliteDatabase,
  type SqliteDriverName,
  type SqliteValue,
} from "./sqlite-drivers.js";

export type {
  BetterSqlite3Database,
  BunSqliteDatabase,
  NodeSqliteDatabase,
  SqliteDatabase,
  SqliteDriverName,
} from "./sqlite-drivers.js";

/** Values of {@link SqliteStoreOptions.synchronous}, as `PRAGMA synchronous` names them. */
export type SqliteSynchronous = "normal" | "full" | "extra";

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Table holding the clients. Letters, digits and `_`. Default `"oauth_clients"`. */
  tableName?: string;
  /**
   * How long one store call waits, in total, for a lock held by another
   * connection, in milliseconds; past it the call fails with
   * `StorageUnavailableError` (HTTP 503) and has changed nothing. Default 5000.
   *
   * The wait never blocks the event loop: the store's statements run with
   * SQLite's `busy_timeout` at 0 and a locked database is retried from
   * timers. Only `createSqliteStore` itself, being synchronous, waits
   * synchronously (up to this long) while it opens and migrates the file.
   */
  lockTimeoutMs?: number;
  /**
   * Former name of {@link SqliteStoreOptions.lockTimeoutMs}, used when that
   * one is not given. It no longer sets a synchronous SQLite busy timeout.
   *
   * @deprecated Use `lockTimeoutMs`.
   */
  busyTimeoutMs?: number;
  /**
   * `PRAGMA synchronous` of the connection. `"full"` (the default when the
   * store opens the file) makes every acknowledged write survive a power
   * loss; `"normal"` in WAL mode is faster but a power loss may lose the
   * last committed transactions (never corrupting the database); `"extra"`
   * also syncs the directory. On a `Database` you pass in it is set only
   * when given.
   */
  synchronous?: SqliteSynchronous;
  /**
   * Run `PRAGMA quick_check` when opening, so a damaged file is refused at
   * start-up instead of failing requests later. It reads the whole file
   * (milliseconds for a registry of thousands of clients). Default `true`
   * when the store opens the file, `false` for a `Database` you pass in.
   */
  quickCheck?: boolean;
  /**
   * The driver that opens a filename. Default: the first of better-sqlite3
   * (when installed and its addon loads), `node:sqlite` (Node ≥ 22.5, Deno)
   * and `bun:sqlite` (Bun) that works here. Given, only that driver is tried.
   * Ignored for a `Database` you pass in: its driver is recognised by shape.
   */
  driver?: SqliteDriverName;
}

/** A {@link ClientStore} over SQLite; `close` releases the file if the store opened it. */
export interface SqliteClientStore extends ClientStore {
  /** The driver the store runs on (for a filename: the one that opened it). */
  readonly driver: SqliteDriverName;
  close(): Promise<void>;
}

/**
 * `createSqliteStore` could not open, check or migrate the database. The
 * message names the file and the reason; `reason` alone is the part after
 * the file name.
 *
 * @example
 * ```ts
 * try {
 *   createSqliteStore("./clients.sqlite");
 * } catch (e) {
 *   if (e instanceof SqliteOpenError) console.error(`${e.filename}: ${e.reason}`);
 * }
 * ```
 */
export class SqliteOpenError extends Error {
  /** The file as given, or the `name` of the Database passed in. */
  readonly filename: string;
  /** Why the open failed, e.g. "the database file is malformed (…)". */
  readonly reason: string;

  constructor(filename: string, reason: string, options: { cause?: unknown } = {}) {
    super(`cannot open the SQLite client store at ${JSON.stringify(filename)}: ${reason}`, options);
    this.name = "SqliteOpenError";
    this.filename = filename;
    this.reason = reason;
  }
}

/** The schema version this code writes; stored in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 2;

const DEFAULT_TABLE = "oauth_clients";
const DEFAULT_LOCK_TIMEOUT_MS = 5000;
const DEFAULT_SYNCHRONOUS: SqliteSynchronous = "full";
const SYNCHRONOUS_VALUES: readonly SqliteSynchronous[] = ["normal", "full", "extra"];
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** Retry delays for a locked database grow from about 1 ms to about 50 ms. */
const FIRST_RETRY_MS = 1;
const MAX_RETRY_MS = 50;

/** Rows copied per statement while migrating, so a large table is never all in memory. */
const MIGRATION_BATCH = 500;

/** The columns an update writes; the key columns identify the row. */
const UPDATED_COLUMNS = COLUMNS.filter((column) => column !== "client_id" && column !== "account_id");

/** The columns of each schema version's table; `inspect` tells the versions apart by them. */
const LAYOUTS: readonly { version: number; columns: readonly string[] }[] = [
  { version: 1, columns: LEGACY_CLIENT_COLUMNS },
  { version: SQLITE_SCHEMA_VERSION, columns: COLUMNS },
];

/** Creates the clients table of the current schema version (its list index is separate: {@link createListIndex}). */
function createClientsTable(db: SqliteConnection, table: string): void {
  db.exec(`
    CREATE TABLE ${quote(table)} (
      client_id TEXT NOT NULL PRIMARY KEY,
      account_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      version INTEGER NOT NULL,
      document TEXT NOT NULL
    ) STRICT
  `);
}

/** Name of the claims table ({@link ClientStore.claimOnce}) beside a clients table. */
function claimsTableOf(table: string): string {
  return `${table}_claims`;
}

/**
 * The claims table: one row per live key, its owner's budget counted on
 * (scope, owner, expires_at) and expired rows found on expires_at. Added
 * beside the clients table of schema version 2 without changing it, so
 * the schema version stays; a file from before it gets it on open.
 */
function createClaimsTable(db: SqliteConnection, table: string): void {
  const claims = claimsTableOf(table);
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${quote(claims)} (
      scope TEXT NOT NULL,
      claim_key TEXT NOT NULL,
      owner TEXT,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (scope, claim_key)
    ) STRICT;
    CREATE INDEX IF NOT EXISTS ${quote(`${claims}_owner_idx`)} ON ${quote(claims)} (scope, owner, expires_at);
    CREATE INDEX IF NOT EXISTS ${quote(`${claims}_expiry_idx`)} ON ${quote(claims)} (expires_at);
  `);
}

function hasClaimsTable(db: SqliteConnection, table: string): boolean {
  return db.prepare<{ type: string }>("SELECT type FROM sqlite_schema WHERE name = ? COLLATE NOCASE").get(claimsTableOf(table)) !== undefined;
}

function createListIndex(db: SqliteConnection, table: string): void {
  db.exec(`CREATE INDEX IF NOT EXISTS ${quote(`${table}_list_idx`)} ON ${quote(table)} (account_id, created_at, client_id)`);
}

/** Positional, in CLIENT_COLUMNS order: see {@link rowValues}. */
function insertSql(table: string): string {
  return `INSERT INTO ${quote(table)} (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`;
}

/** A row's values in CLIENT_COLUMNS order, for positional parameters. */
function rowValues(record: StoredClient): SqliteValue[] {
  const row = toClientRow(record);
  return COLUMNS.map((column) => row[column]);
}

/**
 * Version 1 → 2: one column per field becomes key columns plus a JSON
 * document. The table is rebuilt (create, copy, drop, rename), as SQLite
 * recommends for changes ALTER TABLE cannot make in one step; every row is
 * decoded with the version-1 decoder and encoded with today's codec, in
 * batches keyed on client_id.
 */
function moveFieldsIntoDocument(db: SqliteConnection, table: string): void {
  const next = `${table}_v2_migrating`;
  createClientsTable(db, next);
  const select = `SELECT ${LEGACY_CLIENT_COLUMNS.join(", ")} FROM ${quote(table)}`;
  const first = db.prepare<LegacyClientRow>(`${select} ORDER BY client_id LIMIT ?`);
  const after = db.prepare<LegacyClientRow>(`${select} WHERE client_id > ? ORDER BY client_id LIMIT ?`);
  const insert = db.prepare(insertSql(next));
  for (let rows = first.all(MIGRATION_BATCH); rows.length > 0; ) {
    for (const row of rows) insert.run(...rowValues(fromLegacyClientRow(row)));
    if (rows.length < MIGRATION_BATCH) break;
    rows = after.all(rows.at(-1)!.client_id, MIGRATION_BATCH);
  }
  // Dropping the table drops its list index; migrate() creates it again.
  db.exec(`DROP TABLE ${quote(table)}; ALTER TABLE ${quote(next)} RENAME TO ${quote(table)}`);
}

/**
 * Each entry upgrades a table from the schema version it is keyed by to the
 * next; a new table is created at the current version directly. Entries
 * only ever get added: a released upgrade never changes. One that changes
 * the columns adds the new column set to LAYOUTS.
 */
const UPGRADES: Readonly<Record<number, (db: SqliteConnection, table: string) => void>> = {
  1: moveFieldsIntoDocument,
};

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function isSqliteBusy(error: unknown): boolean {
  return sqliteErrorKind(error) === "busy";
}

function isSqliteMalformed(error: unknown): boolean {
  const kind = sqliteErrorKind(error);
  return kind === "corrupt" || kind === "notadb";
}

/** The first column of the single row a pragma returns. */
function readPragma(db: SqliteConnection, pragma: string): unknown {
  const row = db.prepare<Record<string, unknown>>(`PRAGMA ${pragma}`).get();
  return row === undefined ? undefined : Object.values(row)[0];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `body` with the connection's `busy_timeout` at `ms`, then puts the
 * previous value back, so a connection the caller owns keeps its own setting
 * for its own statements. Every driver is synchronous, so nothing else can
 * run on the connection in between.
 */
function withBusyTimeout<T>(db: SqliteConnection, ms: number, body: () => T): T {
  const previous = Number(readPragma(db, "busy_timeout"));
  if (previous === ms) return body();
  db.exec(`PRAGMA busy_timeout = ${ms}`);
  try {
    return body();
  } finally {
    if (db.isOpen()) db.exec(`PRAGMA busy_timeout = ${previous}`);
  }
}

/** Throws when `PRAGMA quick_check` finds damage; reads the file, writes nothing. */
function assertIntact(db: SqliteConnection): void {
  const findings = db
    .prepare<Record<string, unknown>>("PRAGMA quick_check(5)")
    .all()
    .flatMap((row) => String(Object.values(row)[0]).split("\n"))
    .filter((line) => line !== "ok" && !line.startsWith("***"));
  if (findings.length > 0) {
    const shown = findings.slice(0, 3).join("; ") + (findings.length > 3 ? "; …" : "");
    throw new Error(`the database file is malformed (PRAGMA quick_check: ${shown}); restore it from a backup`);
  }
}

/** What the file holds for this store, read without writing anything. */
interface SchemaState {
  /** `PRAGMA user_version`. */
  version: number;
  /** The schema version of the table's columns; 0 when there is no table. */
  layout: number;
}

/**
 * Reads the schema version and checks that a table of the store's name, if
 * there is one, has exactly the columns of one of this library's schema
 * versions. Throws, naming the reason, for a file this store must not
 * adopt: a newer schema, or a table of that name that belongs to something
 * else. The table's columns, not `user_version`, say which version it is:
 * the pragma is shared by every table of the file.
 */
function inspect(db: SqliteConnection, table: string): SchemaState {
  const version = Number(readPragma(db, "user_version"));
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new Error(
      `schema version ${version} (PRAGMA user_version) is newer than this oauth-client-registry ` +
        `supports (${SQLITE_SCHEMA_VERSION}); upgrade the library or use a separate database file`,
    );
  }
  // Names are case-insensitive in SQLite: "OAUTH_CLIENTS" is the same table.
  const type = db.prepare<{ type: string }>("SELECT type FROM sqlite_schema WHERE name = ? COLLATE NOCASE").get(table)?.type;
  if (type === undefined) return { version, layout: 0 };
  if (type !== "table") throw new Error(`${table} exists but is ${type === "index" ? "an" : "a"} ${type}, not this library's table`);
  const info = db.prepare<{ name: string; pk: number }>("SELECT name, pk FROM pragma_table_info(?)").all(table);
  const columns = info.map((column) => column.name.toLowerCase());
  // Compared with the version whose columns it is closest to (the newest on
  // a tie), so the message names what a damaged table of ours lacks.
  const closest = LAYOUTS.map(({ version: layout, columns: expected }) => ({
    layout,
    expected,
    missing: expected.filter((column) => !columns.includes(column)),
    unexpected: columns.filter((column) => !expected.includes(column)),
  })).reduce((best, candidate) =>
    candidate.missing.length + candidate.unexpected.length <= best.missing.length + best.unexpected.length ? candidate : best,
  );
  const { missing, unexpected } = closest;
  const primaryKey = info.filter((column) => column.pk > 0).map((column) => column.name.toLowerCase());
  const problems =
    missing.length === closest.expected.length
      ? [`it has none of this library's columns (its columns: ${unexpected.join(", ")})`]
      : [
          ...(missing.length > 0 ? [`missing columns ${missing.join(", ")}`] : []),
          ...(unexpected.length > 0 ? [`unexpected columns ${unexpected.join(", ")}`] : []),
          // Inserts rely on client_id being unique.
          ...(missing.length === 0 && primaryKey.join() !== "client_id" ? ["client_id is not its primary key"] : []),
        ];
  if (problems.length > 0) throw new Error(`table ${table} exists but is not this library's: ${problems.join("; ")}`);
  return { version, layout: closest.layout };
}

function migrate(db: SqliteConnection, table: string): void {
  // Plain SQL rather than a driver's transaction helper: only better-sqlite3 has one.
  db.exec("BEGIN IMMEDIATE");
  try {
    // Again inside the lock: another process may have migrated meanwhile.
    const { layout } = inspect(db, table);
    if (layout === 0) createClientsTable(db, table);
    else for (let from = layout; from < SQLITE_SCHEMA_VERSION; from++) UPGRADES[from]!(db, table);
    createListIndex(db, table);
    createClaimsTable(db, table);
    db.exec(`PRAGMA user_version = ${SQLITE_SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    // SQLite may have rolled back by itself (an I/O error, a full disk);
    // then ROLLBACK fails, and the first error is the one to report.
    try {
      if (db.isOpen()) db.exec("ROLLBACK");
    } catch {
      // nothing left to roll back
    }
    throw error;
  }
}

/** The store's statements, prepared once per connection. */
function prepareStatements(db: SqliteConnection, table: string) {
  const t = quote(table);
  const columnList = COLUMNS.join(", ");
  const prepare = (source: string) => db.prepare<ClientRowRead>(source);
  return {
    get: prepare(`SELECT ${columnList} FROM ${t} WHERE client_id = ? AND account_id = ?`),
    getById: prepare(`SELECT ${columnList} FROM ${t} WHERE client_id = ?`),
    listFirst: prepare(`SELECT ${columnList} FROM ${t} WHERE account_id = ? ORDER BY created_at, client_id LIMIT ?`),
    // A row-value comparison lets SQLite seek straight to the position in
    // the (account_id, created_at, client_id) index.
    listAfter: prepare(
      `SELECT ${columnList} FROM ${t} WHERE account_id = ? AND (created_at, client_id) > (?, ?) ` +
        `ORDER BY created_at, client_id LIMIT ?`,
    ),
    insert: prepare(`${insertSql(table)} ON CONFLICT (client_id) DO NOTHING`),
    // Parameters: UPDATED_COLUMNS, then client_id, account_id, the expected version.
    update: prepare(
      `UPDATE ${t} SET ${UPDATED_COLUMNS.map((c) => `${c} = ?`).join(", ")} ` +
        `WHERE client_id = ? AND account_id = ? AND version = ?`,
    ),
    delete: prepare(`DELETE FROM ${t} WHERE client_id = ? AND account_id = ?`),
    deleteVersion: prepare(`DELETE FROM ${t} WHERE client_id = ? AND account_id = ? AND version = ?`),
    accountPage: db.prepare<{ account_id: string }>(accountPageSql(t)),
    ...prepareClaimStatements(db, table),
  };
}

function prepareClaimStatements(db: SqliteConnection, table: string) {
  const c = quote(claimsTableOf(table));
  return {
    claimCleanup: db.prepare(`DELETE FROM ${c} WHERE rowid IN (SELECT rowid FROM ${c} WHERE expires_at <= ? LIMIT ${CLAIM_CLEANUP_BATCH})`),
    claimDropExpired: db.prepare(`DELETE FROM ${c} WHERE scope = ? AND claim_key = ? AND expires_at <= ?`),
    claimInsert: db.prepare(`INSERT INTO ${c} (scope, claim_key, owner, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
    claimCount: db.prepare<{ n: number }>(`SELECT count(*) AS n FROM ${c} WHERE scope = ? AND owner = ? AND expires_at > ?`),
    claimRemove: db.prepare(`DELETE FROM ${c} WHERE scope = ? AND claim_key = ?`),
    claimLive: db.prepare(`SELECT 1 AS live FROM ${c} WHERE scope = ? AND claim_key = ? AND expires_at > ?`),
  };
}

/** Half to all of an exponentially growing delay, so waiting writers spread out. */
function retryDelayMs(attempt: number): number {
  const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Opens (or adopts) a SQLite database and returns a store over it. The file
 * is checked and the table created or migrated before this returns; a file
 * that cannot be opened, is damaged, or holds a schema this library must not
 * touch throws here (naming the file and the reason), not on first use, and
 * a refused file is left exactly as it was.
 *
 * The database may be a better-sqlite3 `Database`, a `node:sqlite`
 * `DatabaseSync` or a `bun:sqlite` `Database`, told apart by their methods;
 * a filename is opened with the first of those drivers that works here
 * (see {@link SqliteStoreOptions.driver}).
 *
 * Given a filename, the store owns the connection: it checks the file with
 * `PRAGMA quick_check`, enables WAL and `synchronous = FULL`, and `close()`
 * closes it. Given a `Database`, its journal mode and synchronous setting
 * stay as you set them unless you pass `synchronous`, and `close()` leaves
 * it open.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createSqliteStore } from "oauth-client-registry/sqlite";
 *
 * const store = createSqliteStore("./clients.sqlite", { lockTimeoutMs: 2000 });
 * const registry = createOAuthClientRegistry(store);
 *
 * // Or a connection of your own, on any supported driver (better-sqlite3 here):
 * const shared = createSqliteStore(new Database("./clients.sqlite"));
 * // … on shutdown:
 * await store.close();
 * ```
 */
export function createSqliteStore(
  databaseOrFilename: string | SqliteDatabase,
  options: SqliteStoreOptions = {},
): SqliteClientStore {
  const table = options.tableName ?? DEFAULT_TABLE;
  if (!TABLE_NAME.test(table)) {
    throw new Error(`tableName must match ${TABLE_NAME} (letters, digits and _), got ${JSON.stringify(table)}`);
  }
  const lockTimeoutMs =
    options.lockTimeoutMs !== undefined
      ? nonNegativeInteger("lockTimeoutMs", options.lockTimeoutMs)
      : nonNegativeInteger("busyTimeoutMs", options.busyTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
  const ownsConnection = typeof databaseOrFilename === "string";
  const synchronous = options.synchronous ?? (ownsConnection ? DEFAULT_SYNCHRONOUS : undefined);
  if (synchronous !== undefined && !SYNCHRONOUS_VALUES.includes(synchronous)) {
    throw new Error(`synchronous must be one of ${SYNCHRONOUS_VALUES.join(", ")}, got ${JSON.stringify(synchronous)}`);
  }
  const quickCheck = options.quickCheck ?? ownsConnection;

  if (options.driver !== undefined && !SQLITE_DRIVERS.includes(options.driver)) {
    throw new Error(`driver must be one of ${SQLITE_DRIVERS.join(", ")}, got ${JSON.stringify(options.driver)}`);
  }

  // A caller's connection is recognised (and a wrong object refused) before anything runs on it.
  let db: SqliteConnection | undefined = typeof databaseOrFilename === "string" ? undefined : adoptConnection(databaseOrFilename);
  const label = typeof databaseOrFilename === "string" ? databaseOrFilename : db!.label;
  let statements: ReturnType<typeof prepareStatements>;
  try {
    db ??= openConnection(databaseOrFilename as string, options.driver);
    const opening = db;
    // createSqliteStore is synchronous, so opening waits for locks the
    // ordinary way; the file is only read until it is known to be ours.
    statements = withBusyTimeout(opening, lockTimeoutMs, () => {
      if (quickCheck) assertIntact(opening);
      const { version, layout } = inspect(opening, table);
      // WAL lets readers run beside a writer, which matters once several
      // processes share the file.
      if (ownsConnection) opening.exec("PRAGMA journal_mode = WAL");
      // Set after the journal mode: switching to WAL may change it.
      if (synchronous !== undefined) opening.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`);
      if (layout < SQLITE_SCHEMA_VERSION || version < SQLITE_SCHEMA_VERSION || !hasClaimsTable(opening, table)) migrate(opening, table);
      return prepareStatements(opening, table);
    });
    if (ownsConnection) opening.exec("PRAGMA busy_timeout = 0");
  } catch (error) {
    if (ownsConnection && db?.isOpen()) db.close();
    const reason =
      error instanceof NoSqliteDriverError
        ? error.message
        : isSqliteBusy(error)
          ? `the database stayed locked by another connection for longer than lockTimeoutMs (${lockTimeoutMs} ms)`
          : sqliteErrorKind(error) === "corrupt"
            ? `the database file is malformed (${messageOf(error)}); restore it from a backup`
            : messageOf(error);
    throw new SqliteOpenError(label, reason, { cause: error });
  }
  const connection = db;

  // The store's own connection already has busy_timeout 0; a caller's
  // connection keeps its setting, except around the store's statements.
  const attempt = <T>(operation: () => T): T =>
    ownsConnection ? operation() : withBusyTimeout(connection, 0, operation);

  /**
   * Runs one autocommit statement. SQLITE_BUSY means it changed nothing, so
   * it is safe to run again; it is, from a timer, until `lockTimeoutMs`.
   */
  async function run<T>(operation: () => T): Promise<T> {
    const deadline = performance.now() + lockTimeoutMs;
    for (let retry = 0; ; retry++) {
      let busy: unknown;
      try {
        return attempt(operation);
      } catch (error) {
        if (isSqliteMalformed(error)) {
          throw new InternalError(
            `the SQLite database file ${JSON.stringify(label)} is malformed (${sqliteErrorCode(error)}: ${messageOf(error)}); ` +
              `restore it from a backup`,
            { cause: error },
          );
        }
        if (!isSqliteBusy(error)) throw error;
        busy = error;
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        // Exposed over HTTP, so the message names no path; the cause does.
        throw new StorageUnavailableError(
          `the database stayed locked by another connection for longer than lockTimeoutMs (${lockTimeoutMs} ms); retry shortly`,
          { cause: new Error(`SQLite database ${JSON.stringify(label)} is locked (${sqliteErrorCode(busy)})`, { cause: busy }) },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, retryDelayMs(retry))));
      if (!connection.isOpen()) {
        throw new StorageUnavailableError("the SQLite store was closed while a call waited for a lock");
      }
    }
  }

  return {
    driver: connection.driver,
    get(accountId, clientId) {
      return run(() => {
        const row = statements.get.get(clientId, accountId);
        return row ? fromClientRow(row) : null;
      });
    },
    getById(clientId) {
      return run(() => {
        const row = statements.getById.get(clientId);
        return row ? fromClientRow(row) : null;
      });
    },
    list(accountId, query: ListQuery) {
      return run(() => {
        const rows = query.after
          ? statements.listAfter.all(accountId, query.after.created_at, query.after.client_id, query.limit)
          : statements.listFirst.all(accountId, query.limit);
        return rows.map((row) => fromClientRow(row));
      });
    },
    async listAccounts(query) {
      assertAccountListQuery(query);
      return run(() => statements.accountPage.all(query.after ?? "", query.limit).map((row) => row.account_id));
    },
    insert(record) {
      return run(() => statements.insert.run(...rowValues(record)).changes === 1);
    },
    update(record, expectedVersion) {
      return run(() => {
        const row = toClientRow(record);
        const values = [...UPDATED_COLUMNS.map((column) => row[column]), row.client_id, row.account_id, expectedVersion];
        return statements.update.run(...values).changes === 1;
      });
    },
    delete(accountId, clientId, expectedVersion) {
      return run(
        () =>
          (expectedVersion === undefined
            ? statements.delete.run(clientId, accountId)
            : statements.deleteVersion.run(clientId, accountId, expectedVersion)
          ).changes === 1,
      );
    },
    async claimOnce(claim) {
      assertClaimRequest(claim);
      const { scope, key, expiresAtMs, nowMs, owner, maxPerOwner } = claim;
      // One transaction (a savepoint also nests in a caller's transaction):
      // its first statement writes, so it holds the write lock throughout
      // and the count cannot move under it. SQLITE_BUSY rolls it back whole,
      // which makes the retry in run() safe.
      return run((): ClaimResult => {
        connection.exec("SAVEPOINT oauth_client_registry_claim");
        try {
          statements.claimCleanup.run(nowMs);
          statements.claimDropExpired.run(scope, key, nowMs);
          let result: ClaimResult = "new";
          if (!(expiresAtMs > nowMs)) {
            // Already expired: nothing could be refused by it, so nothing is held.
            if (statements.claimLive.get(scope, key, nowMs) !== undefined) result = "seen";
            else if (maxPerOwner !== undefined && statements.claimCount.get(scope, owner!, nowMs)!.n >= maxPerOwner) result = "over_budget";
          } else if (statements.claimInsert.run(scope, key, owner ?? null, expiresAtMs).changes === 0) {
            result = "seen";
          } else if (maxPerOwner !== undefined && statements.claimCount.get(scope, owner!, nowMs)!.n > maxPerOwner) {
            statements.claimRemove.run(scope, key);
            result = "over_budget";
          }
          connection.exec("RELEASE oauth_client_registry_claim");
          return result;
        } catch (error) {
          try {
            if (connection.isOpen()) connection.exec("ROLLBACK TO oauth_client_registry_claim; RELEASE oauth_client_registry_claim");
          } catch {
            // SQLite rolled back by itself; the first error is the one to report.
          }
          throw error;
        }
      });
    },
    async close() {
      if (ownsConnection && connection.isOpen()) connection.close();
    },
  };
}
