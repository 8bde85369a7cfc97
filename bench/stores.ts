/**
 * The stores under test, each opened per size next to its baseline: the
 * SQL baselines work on the very table our store uses (same rows, same
 * index), the memory baseline on its own Map of the same records.
 */
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import { join } from "node:path";
import { cacheSqliteStatements, createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { createMemoryStore } from "../adapters/memory.js";
import { createSqliteStore, type SqliteSynchronous } from "../adapters/sqlite.js";
import type { ClientStore } from "../src/model/store.js";
import { mapBaseline, pgBaseline, sqliteBaseline, sqlTexts, type PgQuery, type RawStore, type SqlTexts } from "./baselines.js";
import type { Population } from "./population.js";

/**
 * A second store over the same table whose Kysely instance records every
 * SQL text it sends, so a run can check that the baseline sends the same.
 */
export interface SqlProbe {
  store: ClientStore;
  sent: string[];
  texts: SqlTexts;
}

/** One store of one size, filled, with its baseline over the same data. */
export interface OpenedStore {
  store: ClientStore;
  raw: RawStore;
  /** Kysely stores only. */
  sqlProbe?: SqlProbe;
  close(): Promise<void>;
}

/** A Kysely instance on `dialect` that records the SQL of every query in `sent`. */
function recordingKysely(dialect: ConstructorParameters<typeof Kysely<unknown>>[0]["dialect"], sent: string[]): Kysely<unknown> {
  return new Kysely<unknown>({
    dialect,
    log: (event) => {
      if (event.level === "query") sent.push(event.query.sql);
    },
  });
}

/** A kind of store: how to open one of a given size, and what the report says about it. */
export interface StoreKind {
  key: string;
  label: string;
  /** Durability setting the numbers were taken under, when the backend has one. */
  durability: string;
  /** What our side is: the registry over this store. */
  ours: string;
  open(population: Population): Promise<OpenedStore>;
  /** Releases what all sizes shared (a database engine). */
  dispose(): Promise<void>;
}

function memoryKind(): StoreKind {
  return {
    key: "memory",
    label: "memory",
    durability: "none (process memory only)",
    ours: "registry over createMemoryStore()",
    async open(population) {
      const store = createMemoryStore();
      for (const record of population.records) await store.insert(record);
      const raw = mapBaseline();
      raw.load(population.records);
      return { store, raw, close: async () => {} };
    },
    async dispose() {},
  };
}

function sqliteKind(dir: string, synchronous: SqliteSynchronous): StoreKind {
  const setting = synchronous.toUpperCase();
  return {
    key: `sqlite-${synchronous}`,
    label: `SQLite, synchronous=${setting}`,
    durability: `WAL, synchronous=${setting}${synchronous === "full" ? ", the store's default" : ""}`,
    ours: `registry over createSqliteStore(file, { synchronous: "${synchronous}" })`,
    async open(population) {
      const file = join(dir, `sqlite-${synchronous}-${population.size}.sqlite`);
      const store = createSqliteStore(file, { synchronous });
      // A second connection to the same file, with the same durability.
      const db = new Database(file);
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${setting}`);
      const raw = sqliteBaseline(db, sqlTexts("oauth_clients", "?", "row-value"));
      raw.load(population.records);
      return {
        store,
        raw,
        async close() {
          await store.close();
          db.close();
        },
      };
    },
    async dispose() {},
  };
}

/**
 * Kysely on SQLite, as the dialect comes (`cached: false`: it prepares each
 * statement again on every query) or with the database wrapped in
 * `cacheSqliteStatements` (each SQL text prepared once), the recommended set-up.
 */
function kyselySqliteKind(dir: string, cached: boolean): StoreKind {
  const key = cached ? "kysely-sqlite-cached" : "kysely-sqlite";
  return {
    key,
    label: cached ? "Kysely + SQLite, cached statements" : "Kysely + SQLite",
    durability: "WAL, synchronous=FULL",
    ours: cached
      ? "registry over createKyselyStore(new Kysely({ dialect: new SqliteDialect({ database: cacheSqliteStatements(db) }) }))"
      : "registry over createKyselyStore(new Kysely({ dialect: new SqliteDialect(…) }))",
    async open(population) {
      const db = new Database(join(dir, `${key}-${population.size}.sqlite`));
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: cached ? cacheSqliteStatements(db) : db }) });
      await migrateToLatest(kysely);
      const store = createKyselyStore(kysely);
      // The same connection Kysely uses, statements prepared once.
      const texts = sqlTexts("oauth_clients", "?");
      const raw = sqliteBaseline(db, texts);
      raw.load(population.records);
      const sent: string[] = [];
      // Never destroyed: destroying a SqliteDialect closes the shared connection.
      const sqlProbe = { store: createKyselyStore(recordingKysely(new SqliteDialect({ database: db }), sent)), sent, texts };
      return { store, raw, sqlProbe, close: () => kysely.destroy() };
    },
    async dispose() {},
  };
}

/** PostgreSQL through Kysely: a real server at `DATABASE_URL`, else PGlite in this process. */
function kyselyPostgresKind(databaseUrl: string | undefined): StoreKind {
  type Engine = { dialect: () => ConstructorParameters<typeof Kysely<unknown>>[0]["dialect"]; query: PgQuery; close(): Promise<void> };
  let engine: Promise<Engine> | undefined;
  const start = (): Promise<Engine> =>
    (engine ??= (async () => {
      if (databaseUrl) {
        const pg = (await import("pg")).default;
        const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
        return {
          dialect: () => new PostgresDialect({ pool }),
          query: async (sql, params) => {
            const result = await pool.query(sql, params);
            return { rows: result.rows, count: result.rowCount ?? 0 };
          },
          close: () => pool.end(),
        };
      }
      const { PGlite } = await import("@electric-sql/pglite");
      const { PGliteDialect } = await import("kysely-pglite-dialect");
      const pglite = new PGlite();
      await pglite.waitReady;
      return {
        dialect: () => new PGliteDialect(pglite),
        query: async (sql, params) => {
          const result = await pglite.query(sql, params);
          return { rows: result.rows as never, count: result.affectedRows ?? 0 };
        },
        close: () => pglite.close(),
      };
    })());
  const where = databaseUrl ? "PostgreSQL server (DATABASE_URL)" : "PGlite (in-process PostgreSQL)";
  return {
    key: databaseUrl ? "kysely-postgres" : "kysely-pglite",
    label: databaseUrl ? "Kysely + PostgreSQL" : "Kysely + PGlite",
    durability: databaseUrl ? "the server's settings" : "PGlite in memory (no fsync)",
    ours: `registry over createKyselyStore(new Kysely(…)) on ${where}`,
    async open(population) {
      const { dialect, query } = await start();
      // Each size in its own tables, named per process so runs never collide.
      const tablePrefix = `bench${process.pid}_${population.size}_`;
      const kysely = new Kysely<unknown>({ dialect: dialect() });
      await migrateToLatest(kysely, { tablePrefix });
      const store = createKyselyStore(kysely, { tablePrefix });
      const table = `${tablePrefix}oauth_clients`;
      const texts = sqlTexts(table, "$n");
      const raw = pgBaseline(query, texts, table, databaseUrl ? "pg Pool" : "PGlite");
      const sent: string[] = [];
      const sqlProbe = { store: createKyselyStore(recordingKysely(dialect(), sent), { tablePrefix }), sent, texts };
      await raw.load(population.records);
      await query(`analyze "${table}"`, []);
      return {
        store,
        raw,
        sqlProbe,
        async close() {
          for (const t of ["oauth_clients", "oauth_clients_migrations", "oauth_clients_migrations_lock"]) {
            await query(`drop table if exists "${tablePrefix}${t}"`, []);
          }
          // Not kysely.destroy(): that would end the pool or close PGlite,
          // which the other sizes share; dispose() releases them once.
        },
      };
    },
    async dispose() {
      if (engine) await (await engine).close();
    },
  };
}

/**
 * Every store the benchmark measures, in report order. SQLite files go
 * into `dir` (a real disk directory, so that synchronous=FULL pays its fsync).
 *
 * @example
 * for (const kind of storeKinds(dir, process.env.DATABASE_URL)) { const s = await kind.open(population); … }
 */
export function storeKinds(dir: string, databaseUrl: string | undefined): StoreKind[] {
  return [memoryKind(), sqliteKind(dir, "full"), sqliteKind(dir, "normal"), kyselySqliteKind(dir, false), kyselySqliteKind(dir, true), kyselyPostgresKind(databaseUrl)];
}
