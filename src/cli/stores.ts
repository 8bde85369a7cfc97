/**
 * The storage `serve` runs on: embedded SQLite (no set-up) on the driver
 * the runtime has, or PostgreSQL or MySQL / MariaDB through Kysely, migrated
 * to the latest schema before serving. Drivers are optional peers, loaded only when chosen.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ClientStore } from "../model/store.js";
import type { ServeOptions } from "./args.js";
import { messageOf, StartupError } from "./errors.js";

/** An open store, how to name it in the startup line, and how to close it. */
export interface OpenedStore {
  store: ClientStore;
  description: string;
  close(): Promise<void>;
}

/**
 * Opens the store the options name: PostgreSQL or MySQL / MariaDB when
 * `databaseUrl` is set (by its scheme), else the SQLite file `db`. Rejects with a {@link StartupError} saying what
 * is wrong (missing driver, unwritable file, unreachable server, failed
 * migration); never prints a database password.
 *
 * @example
 * ```ts
 * const opened = await openStore({ db: "./oauth-clients.sqlite", databaseUrl: null }, console.error);
 * await opened.close();
 * ```
 */
export function openStore(options: Pick<ServeOptions, "db" | "databaseUrl">, log: (line: string) => void): Promise<OpenedStore> {
  if (options.databaseUrl === null) return openSqlite(options.db);
  return /^(mysql|mariadb):\/\//i.test(options.databaseUrl) ? openMysql(options.databaseUrl) : openPostgres(options.databaseUrl, log);
}

/** Removes the password from a database URL before it is printed. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable database URL>";
  }
}

/** True when a dynamic import failed because an optional peer (a driver) is not installed. */
function isMissingModule(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === "ERR_MODULE_NOT_FOUND";
}

/** Checks the file's directory and permissions first, so the message names the actual problem. */
async function openSqlite(file: string): Promise<OpenedStore> {
  const path = resolve(file);
  const directory = dirname(path);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new StartupError(`cannot open SQLite database ${path}: directory ${directory} does not exist`);
  }
  try {
    accessSync(existsSync(path) ? path : directory, fsConstants.R_OK | fsConstants.W_OK);
  } catch {
    throw new StartupError(`cannot open SQLite database ${path}: not writable`);
  }
  // The adapter imports no driver: opening the file picks the first that
  // loads here (better-sqlite3, then node:sqlite on Node >= 22.5 and Deno,
  // then bun:sqlite), and says what to install when none does.
  const adapter = await import("../../adapters/sqlite.js");
  let store: import("../../adapters/sqlite.js").SqliteClientStore;
  try {
    // The store's defaults are the server's: an integrity check before
    // serving, synchronous = FULL, and lock waits that never block requests.
    store = adapter.createSqliteStore(path);
  } catch (error) {
    const reason = error instanceof adapter.SqliteOpenError ? error.reason : messageOf(error);
    throw new StartupError(`cannot open SQLite database ${path}: ${reason}`, { cause: error });
  }
  return { store, description: `SQLite ${path} (${store.driver})`, close: async () => store.close() };
}

/** Connects (5 s timeout), proves the connection with a query, then migrates. */
async function openPostgres(url: string, log: (line: string) => void): Promise<OpenedStore> {
  const shown = redactUrl(url);
  let kysely: typeof import("kysely");
  let pg: typeof import("pg");
  let adapter: typeof import("../../adapters/kysely.js");
  try {
    [kysely, pg, adapter] = await Promise.all([import("kysely"), import("pg"), import("../../adapters/kysely.js")]);
  } catch (error) {
    if (isMissingModule(error)) throw new StartupError("PostgreSQL storage needs kysely and pg: npm install kysely pg");
    throw error;
  }
  const Pool = pg.default?.Pool ?? pg.Pool;
  const pool = new Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  // A connection the server drops (restart, failover, pg_terminate_backend)
  // emits 'error': on the pool while idle, on the client itself while checked
  // out (the socket can close just after a query failed, before the client is
  // released). Unheard, either would end the process. The pool discards the
  // broken connection and opens a new one on demand; requests meanwhile get 503.
  const lost = (error: Error) => log(`PostgreSQL connection lost (the pool reconnects on demand): ${messageOf(error)}`);
  pool.on("error", lost);
  pool.on("connect", (client: import("pg").PoolClient) => client.on("error", lost));
  const db = new kysely.Kysely<unknown>({ dialect: new kysely.PostgresDialect({ pool }) });
  try {
    await kysely.sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot connect to PostgreSQL at ${shown}: ${messageOf(error)}`);
  }
  try {
    await adapter.migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot migrate the PostgreSQL database at ${shown}: ${messageOf(error)}`);
  }
  const store = adapter.createKyselyStore(db);
  return { store, description: `PostgreSQL ${shown}`, close: () => db.destroy() };
}

/** Connects (5 s timeout), proves the connection with a query, then migrates. */
async function openMysql(url: string): Promise<OpenedStore> {
  const shown = redactUrl(url);
  let kysely: typeof import("kysely");
  let mysql: typeof import("mysql2");
  let adapter: typeof import("../../adapters/kysely.js");
  try {
    [kysely, mysql, adapter] = await Promise.all([import("kysely"), import("mysql2"), import("../../adapters/kysely.js")]);
  } catch (error) {
    if (isMissingModule(error)) throw new StartupError("MySQL / MariaDB storage needs kysely and mysql2: npm install kysely mysql2");
    throw error;
  }
  const createPool = (mysql as { default?: typeof mysql }).default?.createPool ?? mysql.createPool;
  // mysql2 takes mysql:// only; mariadb:// names the same protocol.
  const pool = createPool({ uri: url.replace(/^mariadb:/i, "mysql:"), connectionLimit: 10, connectTimeout: 5000 });
  const db = new kysely.Kysely<unknown>({ dialect: new kysely.MysqlDialect({ pool }) });
  try {
    await kysely.sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot connect to MySQL / MariaDB at ${shown}: ${messageOf(error)}`);
  }
  try {
    await adapter.migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new StartupError(`cannot migrate the MySQL / MariaDB database at ${shown}: ${messageOf(error)}`);
  }
  const store = adapter.createKyselyStore(db);
  return { store, description: `MySQL / MariaDB ${shown}`, close: () => db.destroy() };
}
