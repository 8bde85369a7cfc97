/**
 * A real PostgreSQL server for the tests that need one. They run when
 * DATABASE_URL is set; with REQUIRE_REAL_POSTGRES=1 (CI) a missing or
 * unreachable server fails them instead of skipping them.
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { realDatabase, type RealDatabase } from "./real-database.js";

export const DATABASE_URL = process.env.DATABASE_URL;
export const REQUIRE_REAL_POSTGRES = process.env.REQUIRE_REAL_POSTGRES === "1";

/** A real PostgreSQL server; `connect()` takes no arguments. */
export type RealPostgres = RealDatabase<[]>;

/**
 * The PostgreSQL server at `connectionString`, each Kysely over a pg pool of its own.
 *
 * @example
 * const server = realPostgres(DATABASE_URL!);
 */
export function realPostgres(connectionString: string): RealPostgres {
  return realDatabase(connectionString, "PostgreSQL at DATABASE_URL", () => {
    const pool = new pg.Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000 });
    return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  });
}
