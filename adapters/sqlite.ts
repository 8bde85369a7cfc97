/**
 * SQLite store on better-sqlite3: one file, no server, safe for several
 * processes sharing it (WAL journal, busy timeout, compare-and-swap writes).
 *
 * Schema versions live in `PRAGMA user_version`; opening the store creates
 * or migrates the table inside one IMMEDIATE transaction, so two processes
 * opening the same new file at once cannot both migrate it.
 */
import Database from "better-sqlite3";
import { InternalError } from "../src/errors.js";
import type { ClientStore, ListQuery } from "../src/store.js";
import { CLIENT_COLUMNS as COLUMNS, fromClientRow, toClientRow, type OAuthClientsTable } from "./rows.js";

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Table holding the clients. Letters, digits and `_`. Default `"oauth_clients"`. */
  tableName?: string;
  /**
   * How long a write waits for another connection's write lock before it
   * fails, in milliseconds. Default 5000. Applied to a Database you pass in
   * only when set explicitly.
   */
  busyTimeoutMs?: number;
}

/** A {@link ClientStore} over SQLite; `close` releases the file if the store opened it. */
export interface SqliteClientStore extends ClientStore {
  close(): Promise<void>;
}

/** The schema version this code writes; stored in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 1;

const DEFAULT_TABLE = "oauth_clients";
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;


/** A row as better-sqlite3 returns it; `version` is a bigint on safe-integer connections. */
type Row = Omit<OAuthClientsTable, "version"> & { version: number | bigint };

/**
 * Each entry upgrades the schema from version `index` to `index + 1`.
 * Entries only ever get appended: a released migration never changes.
 */
const MIGRATIONS: readonly ((db: Database.Database, table: string) => void)[] = [
  (db, table) => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${quote(table)} (
        client_id TEXT NOT NULL PRIMARY KEY,
        account_id TEXT NOT NULL,
        visibility TEXT NOT NULL,
        client_name TEXT NOT NULL,
        grant_types TEXT NOT NULL,
        response_types TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        scopes TEXT NOT NULL,
        optional_scopes TEXT NOT NULL,
        token_endpoint_auth_method TEXT NOT NULL,
        allowed_cors_origins TEXT NOT NULL,
        post_logout_redirect_uris TEXT NOT NULL,
        client_uri TEXT,
        logo_uri TEXT,
        policy_uri TEXT,
        tos_uri TEXT,
        client_uri_verification TEXT,
        secret_hash TEXT,
        rotated_secret_hash TEXT,
        rotated_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        promoted_at TEXT,
        version INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX IF NOT EXISTS ${quote(`${table}_list_idx`)}
        ON ${quote(table)} (account_id, created_at, client_id);
    `);
  },
];

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

function migrate(db: Database.Database, table: string): void {
  db.transaction(() => {
    const current = Number(db.pragma("user_version", { simple: true }));
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new Error(
        `schema version ${current} (PRAGMA user_version) is newer than this oauth-client-registry ` +
          `supports (${SQLITE_SCHEMA_VERSION}); upgrade the library or use a separate database file`,
      );
    }
    const tableExists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table);
    // A missing table gets the whole chain, whatever user_version says (it
    // may have been set by another store of this library with another table).
    for (let version = tableExists ? current : 0; version < SQLITE_SCHEMA_VERSION; version++) {
      MIGRATIONS[version]!(db, table);
    }
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  }).immediate();
}


/**
 * Opens (or adopts) a SQLite database and returns a store over it. The
 * table and its list index are created or migrated before this returns;
 * a file that cannot be opened or migrated throws here, not on first use.
 *
 * Given a filename, the store owns the connection: it enables WAL and a
 * busy timeout, and `close()` closes it. Given a `Database`, its journal
 * mode stays as you set it and `close()` leaves it open.
 *
 * @example
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createSqliteStore } from "oauth-client-registry/sqlite";
 *
 * const store = createSqliteStore("./clients.sqlite");
 * const registry = createOAuthClientRegistry(store);
 * // … on shutdown:
 * await store.close();
 */
export function createSqliteStore(
  databaseOrFilename: string | Database.Database,
  options: SqliteStoreOptions = {},
): SqliteClientStore {
  const table = options.tableName ?? DEFAULT_TABLE;
  if (!TABLE_NAME.test(table)) {
    throw new Error(`tableName must match ${TABLE_NAME} (letters, digits and _), got ${JSON.stringify(table)}`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new Error(`busyTimeoutMs must be a non-negative integer, got ${String(options.busyTimeoutMs)}`);
  }

  const ownsConnection = typeof databaseOrFilename === "string";
  const label = ownsConnection ? databaseOrFilename : databaseOrFilename.name;
  let db: Database.Database | undefined;
  try {
    if (typeof databaseOrFilename === "string") {
      db = new Database(databaseOrFilename, { timeout: busyTimeoutMs });
      // WAL lets readers run beside a writer, which matters once several
      // processes share the file.
      db.pragma("journal_mode = WAL");
    } else {
      db = databaseOrFilename;
      if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
    migrate(db, table);
  } catch (error) {
    if (ownsConnection && db?.open) db.close();
    const reason = isSqliteBusy(error)
      ? `the database stayed locked by another connection for longer than busyTimeoutMs (${busyTimeoutMs} ms)`
      : error instanceof Error
        ? error.message
        : String(error);
    throw new Error(`cannot open the SQLite client store at ${JSON.stringify(label)}: ${reason}`, { cause: error });
  }
  const connection = db;

  const t = quote(table);
  const columnList = COLUMNS.join(", ");
  const prepare = (source: string) => connection.prepare<unknown[], Row>(source).safeIntegers(false);
  const statements = {
    get: prepare(`SELECT ${columnList} FROM ${t} WHERE client_id = ? AND account_id = ?`),
    getById: prepare(`SELECT ${columnList} FROM ${t} WHERE client_id = ?`),
    listFirst: prepare(`SELECT ${columnList} FROM ${t} WHERE account_id = ? ORDER BY created_at, client_id LIMIT ?`),
    // A row-value comparison lets SQLite seek straight to the position in
    // the (account_id, created_at, client_id) index.
    listAfter: prepare(
      `SELECT ${columnList} FROM ${t} WHERE account_id = ? AND (created_at, client_id) > (?, ?) ` +
        `ORDER BY created_at, client_id LIMIT ?`,
    ),
    insert: prepare(
      `INSERT INTO ${t} (${columnList}) VALUES (${COLUMNS.map((c) => `@${c}`).join(", ")}) ` +
        `ON CONFLICT (client_id) DO NOTHING`,
    ),
    update: prepare(
      `UPDATE ${t} SET ${COLUMNS.filter((c) => c !== "client_id" && c !== "account_id")
        .map((c) => `${c} = @${c}`)
        .join(", ")} WHERE client_id = @client_id AND account_id = @account_id AND version = @expected_version`,
    ),
    delete: prepare(`DELETE FROM ${t} WHERE client_id = ? AND account_id = ?`),
    deleteVersion: prepare(`DELETE FROM ${t} WHERE client_id = ? AND account_id = ? AND version = ?`),
  };

  function run<T>(operation: () => T): Promise<T> {
    try {
      return Promise.resolve(operation());
    } catch (error) {
      if (isSqliteBusy(error)) {
        return Promise.reject(
          new InternalError(
            `SQLite database ${JSON.stringify(label)} is busy: another connection held its write lock ` +
              `for longer than busyTimeoutMs (${busyTimeoutMs} ms)`,
            { cause: error },
          ),
        );
      }
      return Promise.reject(error);
    }
  }

  return {
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
        return rows.map(fromClientRow);
      });
    },
    insert(record) {
      return run(() => statements.insert.run(toClientRow(record)).changes === 1);
    },
    update(record, expectedVersion) {
      return run(() => statements.update.run({ ...toClientRow(record), expected_version: expectedVersion }).changes === 1);
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
    async close() {
      if (ownsConnection && connection.open) connection.close();
    },
  };
}
