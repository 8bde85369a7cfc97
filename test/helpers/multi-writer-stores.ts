/**
 * Every store, opened the way two processes sharing one database open it:
 * two stores (two connections where the adapter has them) over one
 * database, and a raw reader that sees what the database holds at rest
 * without going through either store. test/multi-writer.test.ts runs the
 * scenarios of storage-scenarios.ts over each row.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { PGliteDialect } from "kysely-pglite-dialect";
import { expect } from "vitest";
import { createKyselyStore, migrateToLatest } from "../../adapters/kysely.js";
import { createMemoryStore } from "../../adapters/memory.js";
import { createSqliteStore } from "../../adapters/sqlite.js";
import type { ClientStore } from "../../src/model/store.js";
import { MYSQL_URL, realMariadb, REQUIRE_REAL_MARIADB, type RealMariadb } from "./mariadb.js";
import { DATABASE_URL, realPostgres, REQUIRE_REAL_POSTGRES, type RealPostgres } from "./postgres.js";

/** One database with two stores over it, opened for one test. */
export interface SharedDatabase {
  /** The two writers' stores. */
  readonly stores: readonly [ClientStore, ClientStore];
  /** What the database holds for one client, read around both stores: the file bytes, or the row as text. */
  readAtRest(clientId: string): Promise<Buffer | string>;
  /** Closes both stores; a second call does nothing. */
  close(): Promise<void>;
}

export interface MultiWriterStore {
  readonly name: string;
  /** Why this row does not run here; absent when it runs. */
  readonly skipReason?: string;
  /** The database is a file that outlives its connections: `readAtRest` still works after `close`. */
  readonly outlivesStores: boolean;
  /** A fresh database with both stores open. */
  open(): Promise<SharedDatabase>;
  /** Releases what the row shares between its databases (a temp directory, a PGlite, a server's tables). */
  dispose(): Promise<void>;
}

/** Runs `close` once, however often it is called. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/**
 * A row whose database is a SQLite file in a temp directory, with the
 * stores `openStores` opens over it. The raw reader reads the file and its
 * WAL: while the stores are open the recent writes sit in the WAL, so it
 * must be there to be read.
 */
function sqliteFileRow(
  name: string,
  openStores: (file: string) => Promise<{ stores: SharedDatabase["stores"]; close(): Promise<void> }>,
): MultiWriterStore {
  let dir: string | undefined;
  let count = 0;
  return {
    name,
    outlivesStores: true,
    async open() {
      const file = join((dir ??= mkdtempSync(join(tmpdir(), "oauth-registry-multi-writer-"))), `db-${++count}.sqlite`);
      const { stores, close } = await openStores(file);
      let open = true;
      return {
        stores,
        async readAtRest() {
          const wal = `${file}-wal`;
          if (open) expect(existsSync(wal), "the WAL holds the recent writes while the stores are open").toBe(true);
          return Buffer.concat([file, wal].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
        },
        close: once(async () => {
          await close();
          open = false;
        }),
      };
    },
    dispose: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One row of a Kysely PostgreSQL table as text, read with plain SQL. */
async function postgresRowAtRest(db: Kysely<unknown>, tablePrefix: string, clientId: string): Promise<string> {
  const table = sql.table(`${tablePrefix}oauth_clients`);
  const { rows } = await sql<{ row: string }>`SELECT t::text AS row FROM ${table} t WHERE client_id = ${clientId}`.execute(db);
  expect(rows).toHaveLength(1);
  return rows.map((r) => r.row).join("\n");
}

function memoryRow(): MultiWriterStore {
  return {
    name: "memory (one store behind both registries)",
    outlivesStores: false,
    async open() {
      const store = createMemoryStore();
      return {
        stores: [store, store],
        // A memory store holds the records it returns, copied: that is all it keeps.
        readAtRest: async (clientId) => JSON.stringify(await store.getById(clientId)),
        close: async () => {},
      };
    },
    dispose: async () => {},
  };
}

function sqliteRow(): MultiWriterStore {
  return sqliteFileRow("SQLite file, two connections", async (file) => {
    const stores = [createSqliteStore(file), createSqliteStore(file)] as const;
    return { stores, close: async () => void (await Promise.all(stores.map((s) => s.close()))) };
  });
}

function kyselySqliteRow(): MultiWriterStore {
  const connect = (file: string) => {
    const database = new Database(file);
    database.pragma("journal_mode = WAL");
    return new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
  };
  return sqliteFileRow("Kysely + SQLite file, two connections", async (file) => {
    const dbs = [connect(file), connect(file)] as const;
    await migrateToLatest(dbs[0]);
    return {
      stores: [createKyselyStore(dbs[0]), createKyselyStore(dbs[1])],
      close: async () => void (await Promise.all(dbs.map((db) => db.destroy()))),
    };
  });
}

function kyselyPgliteRow(): MultiWriterStore {
  // One PGlite for the row: starting one costs seconds. Two Kysely instances
  // over it interleave their statements like two clients of one database
  // (PGlite has a single session, so nothing here uses transactions from
  // both at once; the real-server row covers separate connections).
  let pglite: PGlite | undefined;
  let count = 0;
  return {
    name: "Kysely + PostgreSQL (PGlite), two clients",
    outlivesStores: false,
    async open() {
      pglite ??= new PGlite();
      const tablePrefix = `mw${++count}_`;
      const dbA = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
      const dbB = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
      await migrateToLatest(dbA, { tablePrefix });
      return {
        stores: [createKyselyStore(dbA, { tablePrefix }), createKyselyStore(dbB, { tablePrefix })],
        readAtRest: (clientId) => postgresRowAtRest(dbB, tablePrefix, clientId),
        // Destroying a Kysely over PGlite would close the PGlite the next test needs.
        close: async () => {},
      };
    },
    dispose: async () => {
      await pglite?.close();
    },
  };
}

function kyselyPostgresRow(): MultiWriterStore {
  const name = "Kysely + PostgreSQL (real server), two connection pools";
  if (!DATABASE_URL) {
    // Skipped without a server, unless CI requires one: then it fails.
    return {
      name,
      ...(!REQUIRE_REAL_POSTGRES && { skipReason: "set DATABASE_URL to run" }),
      outlivesStores: false,
      open: async () => {
        throw new Error("REQUIRE_REAL_POSTGRES=1 but DATABASE_URL is not set");
      },
      dispose: async () => {},
    };
  }
  const connectionString = DATABASE_URL;
  let server: RealPostgres | undefined;
  let count = 0;
  return {
    name,
    outlivesStores: false,
    async open() {
      const pg = (server ??= realPostgres(connectionString));
      // Two pools: two sets of independent server connections, like two processes.
      const [dbA, dbB] = [pg.connect(), pg.connect()];
      await pg.assertReachable(dbA);
      const tablePrefix = pg.prefix(`mw${++count}`);
      await migrateToLatest(dbA, { tablePrefix });
      return {
        stores: [createKyselyStore(dbA, { tablePrefix }), createKyselyStore(dbB, { tablePrefix })],
        readAtRest: (clientId) => postgresRowAtRest(dbB, tablePrefix, clientId),
        close: once(async () => {
          await Promise.all([pg.disconnect(dbA), pg.disconnect(dbB)]);
        }),
      };
    },
    dispose: async () => {
      await server?.cleanup();
    },
  };
}

/** One row of a Kysely MariaDB table as text, read with plain SQL. */
async function mariadbRowAtRest(db: Kysely<unknown>, tablePrefix: string, clientId: string): Promise<string> {
  const table = sql.table(`${tablePrefix}oauth_clients`);
  const { rows } = await sql<{ row: string }>`
    SELECT CONCAT_WS('|', client_id, account_id, created_at, version, document) AS \`row\` FROM ${table} WHERE client_id = ${clientId}`.execute(db);
  expect(rows).toHaveLength(1);
  return rows.map((r) => r.row).join("\n");
}

function kyselyMariadbRow(): MultiWriterStore {
  const name = "Kysely + MariaDB (real server, MysqlDialect), two connection pools";
  if (!MYSQL_URL) {
    // Skipped without a server, unless CI requires one: then it fails.
    return {
      name,
      ...(!REQUIRE_REAL_MARIADB && { skipReason: "set MYSQL_URL to run" }),
      outlivesStores: false,
      open: async () => {
        throw new Error("REQUIRE_REAL_MARIADB=1 but MYSQL_URL is not set");
      },
      dispose: async () => {},
    };
  }
  const url = MYSQL_URL;
  let server: RealMariadb | undefined;
  let count = 0;
  return {
    name,
    outlivesStores: false,
    async open() {
      const maria = (server ??= realMariadb(url));
      const [dbA, dbB] = [maria.connect(), maria.connect()];
      await maria.assertReachable(dbA);
      const tablePrefix = maria.prefix(`mw${++count}`);
      await migrateToLatest(dbA, { tablePrefix });
      return {
        stores: [createKyselyStore(dbA, { tablePrefix }), createKyselyStore(dbB, { tablePrefix })],
        readAtRest: (clientId) => mariadbRowAtRest(dbB, tablePrefix, clientId),
        close: once(async () => {
          await Promise.all([maria.disconnect(dbA), maria.disconnect(dbB)]);
        }),
      };
    },
    dispose: async () => {
      await server?.cleanup();
    },
  };
}

/** Every store the library ships, each as two writers over one database. */
export function multiWriterStores(): MultiWriterStore[] {
  return [memoryRow(), sqliteRow(), kyselySqliteRow(), kyselyPgliteRow(), kyselyPostgresRow(), kyselyMariadbRow()];
}
