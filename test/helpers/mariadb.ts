/**
 * A real MariaDB (or MySQL) server for the tests that need one, through
 * Kysely's MysqlDialect and mysql2. They run when MYSQL_URL is set
 * (mysql://user:password@host:port/database); with REQUIRE_REAL_MARIADB=1
 * (CI) a missing or unreachable server fails them instead of skipping them.
 */
import { randomBytes } from "node:crypto";
import { Kysely, MysqlDialect, sql } from "kysely";
import { createPool, type Pool } from "mysql2";

export const MYSQL_URL = process.env.MYSQL_URL;
export const REQUIRE_REAL_MARIADB = process.env.REQUIRE_REAL_MARIADB === "1";

/** The tables migrateToLatest (and a migration's rebuild) can leave under one prefix. */
const REGISTRY_TABLES = ["oauth_clients", "oauth_clients_rebuilt", "oauth_clients_migrations", "oauth_clients_migrations_lock"];

export interface RealMariadb {
  /**
   * A Kysely over its own pool: its own server connections, as another
   * process would have. `flags` are mysql2's client flags, e.g.
   * `["-FOUND_ROWS"]` for affected rows that count changed rows only.
   */
  connect(flags?: string[]): Kysely<unknown>;
  /** Ends the pool of a Kysely from {@link connect} before {@link cleanup}. */
  disconnect(db: Kysely<unknown>): Promise<void>;
  /** A table prefix unique to this run, so reruns and parallel runs never see each other's rows; dropped at cleanup. */
  prefix(name: string): string;
  /** Throws, naming the server (password masked), when it does not answer. */
  assertReachable(db: Kysely<unknown>): Promise<void>;
  /** Drops every table made under a {@link prefix} and ends every pool still open. */
  cleanup(): Promise<void>;
}

export function realMariadb(url: string): RealMariadb {
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}_`;
  const prefixes = new Set<string>();
  const pools = new Map<Kysely<unknown>, Kysely<unknown>>();
  let reachable = false;

  function connect(flags?: string[]): Kysely<unknown> {
    // Kysely#destroy ends the pool.
    const pool: Pool = createPool({ uri: url, connectionLimit: 5, connectTimeout: 5000, ...(flags && { flags }) });
    const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
    pools.set(db, db);
    return db;
  }

  return {
    connect,
    async disconnect(db) {
      pools.delete(db);
      await db.destroy();
    },
    prefix(name) {
      const full = `${runPrefix}${name}_`;
      prefixes.add(full);
      return full;
    },
    async assertReachable(db) {
      try {
        await sql`SELECT 1`.execute(db);
      } catch (error) {
        const where = new URL(url);
        where.password = where.password ? "***" : "";
        throw new Error(`MariaDB at MYSQL_URL (${where.href}) is unreachable: ${String(error)}`, { cause: error });
      }
      reachable = true;
    },
    async cleanup() {
      try {
        if (reachable && prefixes.size > 0) {
          const db = connect();
          for (const p of prefixes) {
            for (const table of REGISTRY_TABLES) await db.schema.dropTable(`${p}${table}`).ifExists().execute();
          }
        }
      } finally {
        const open = [...pools.values()];
        pools.clear();
        await Promise.all(open.map((db) => db.destroy()));
      }
    },
  };
}
