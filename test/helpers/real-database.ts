/**
 * What the real-server test helpers (PostgreSQL, MariaDB) share: Kysely
 * instances each over a pool of their own, table prefixes unique to the run
 * and dropped afterwards, and a reachability check that names the server
 * with its password masked.
 */
import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";

/** The tables migrateToLatest (and a migration's rebuild) can leave under one prefix. */
const REGISTRY_TABLES = ["oauth_clients", "oauth_clients_claims", "oauth_clients_rebuilt", "oauth_clients_migrations", "oauth_clients_migrations_lock"];

/** A real database server reached through Kysely. */
export interface RealDatabase<ConnectArgs extends unknown[]> {
  /** A Kysely over its own pool: its own server connections, as another process would have. */
  connect(...args: ConnectArgs): Kysely<unknown>;
  /** Ends the pool of a Kysely from {@link connect} before {@link cleanup}. */
  disconnect(db: Kysely<unknown>): Promise<void>;
  /** A table prefix unique to this run, so reruns and parallel runs never see each other's rows; dropped at cleanup. */
  prefix(name: string): string;
  /** Throws, naming the server (password masked), when it does not answer. */
  assertReachable(db: Kysely<unknown>): Promise<void>;
  /** Drops every table made under a {@link prefix} and ends every pool still open. */
  cleanup(): Promise<void>;
}

/**
 * A {@link RealDatabase} whose `open` makes a Kysely over a new pool
 * (Kysely#destroy ends that pool).
 *
 * @example
 * const server = realDatabase(url, "PostgreSQL at DATABASE_URL", () => new Kysely({ dialect }));
 */
export function realDatabase<ConnectArgs extends unknown[]>(
  url: string,
  label: string,
  open: (...args: ConnectArgs) => Kysely<unknown>,
): RealDatabase<ConnectArgs> {
  const runPrefix = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}_`;
  const prefixes = new Set<string>();
  const instances = new Set<Kysely<unknown>>();
  let reachable = false;

  function connect(...args: ConnectArgs): Kysely<unknown> {
    const db = open(...args);
    instances.add(db);
    return db;
  }

  return {
    connect,
    async disconnect(db) {
      instances.delete(db);
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
        throw new Error(`${label} (${where.href}) is unreachable: ${String(error)}`, { cause: error });
      }
      reachable = true;
    },
    async cleanup() {
      try {
        if (reachable && prefixes.size > 0) {
          const db = connect(...([] as unknown as ConnectArgs));
          for (const p of prefixes) {
            for (const table of REGISTRY_TABLES) await db.schema.dropTable(`${p}${table}`).ifExists().execute();
          }
        }
      } finally {
        const all = [...instances];
        instances.clear();
        await Promise.all(all.map((db) => db.destroy()));
      }
    },
  };
}
