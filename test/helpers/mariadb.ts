/**
 * A real MariaDB (or MySQL) server for the tests that need one, through
 * Kysely's MysqlDialect and mysql2. They run when MYSQL_URL is set
 * (mysql://user:password@host:port/database); with REQUIRE_REAL_MARIADB=1
 * (CI) a missing or unreachable server fails them instead of skipping them.
 */
import { Kysely, MysqlDialect } from "kysely";
import { createPool, type Pool } from "mysql2";
import { realDatabase, type RealDatabase } from "./real-database.js";

export const MYSQL_URL = process.env.MYSQL_URL;
export const REQUIRE_REAL_MARIADB = process.env.REQUIRE_REAL_MARIADB === "1";

/**
 * A real MariaDB server; `connect(flags?)` takes mysql2's client flags, e.g.
 * `["-FOUND_ROWS"]` for affected rows that count changed rows only.
 */
export type RealMariadb = RealDatabase<[flags?: string[]]>;

/**
 * The MariaDB server at `url`, each Kysely over a mysql2 pool of its own.
 *
 * @example
 * const server = realMariadb(MYSQL_URL!);
 */
export function realMariadb(url: string): RealMariadb {
  return realDatabase(url, "MariaDB at MYSQL_URL", (flags?: string[]) => {
    const pool: Pool = createPool({ uri: url, connectionLimit: 5, connectTimeout: 5000, ...(flags && { flags }) });
    return new Kysely<unknown>({ dialect: new MysqlDialect({ pool }) });
  });
}
