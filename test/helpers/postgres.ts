/**
 * A real PostgreSQL server for the tests that need one. They run when
 * DATABASE_URL is set; with REQUIRE_REAL_POSTGRES=1 (CI) a missing or
 * unreachable server fails them instead of skipping them.
 */
import { randomBytes } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";

export const DATABASE_URL = process.env.DATABASE_URL;
export const REQUIRE_REAL_POSTGRES = process.env.REQUIRE_REAL_POSTGRES === "1";

/** The tables migrateToLatest creates under one prefix. */
const REGISTRY_TABLES = ["oauth_clients", "oauth_clients_migrations", "oauth_clients_migrations_lock"];

export interface RealPostgres {
  /** A Kysely over its own pool: its own server connections, as another process would have. */
  connect(): Kysely<unknown>;
  /** Ends the pool of a Kysely from {@link connect} before {@link cleanup}. */
  disconnect(db: Kysely<unknown>): Promise<void>;
  /** A table prefix unique to this run, so reruns and parallel runs never see each other's rows; dropped at cleanup. */
  prefix(name: string): string;
  /** Throws, naming the server (password masked), when it does not answer. */
  assertReachable(db: Kysely<unknown>): Promise<void>;
  /** Drops every table made under a {@link prefix} and ends every pool still open. */
  cleanup(): Promise<void>;
}

export function realPostgres(connectionString: string): RealPostgres {
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}_`;
  const prefixes = new Set<string>();
  const pools = new Map<Kysely<unknown>, pg.Pool>();
  let reachable = false;

  function connect(): Kysely<unknown> {
    const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    return db;
  }

  return {
    connect,
    async disconnect(db) {
      const pool = pools.get(db);
      pools.delete(db);
      await pool?.end();
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
        const where = new URL(connectionString);
        where.password = where.password ? "***" : "";
        throw new Error(`PostgreSQL at DATABASE_URL (${where.href}) is unreachable: ${String(error)}`, { cause: error });
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
        await Promise.all(open.map((pool) => pool.end()));
      }
    },
  };
}
