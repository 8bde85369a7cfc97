/**
 * Store on Cloudflare D1, for a registry running in a Worker.
 *
 * D1 has no interactive transactions, and the store needs none: every write
 * is one statement, and compare-and-swap is a conditional
 * `UPDATE … WHERE version = ?` (or `DELETE`) whose `meta.changes` says
 * whether it applied. Migrations, which must apply together with the record
 * of having applied them, go through `batch`, which D1 runs as one
 * transaction.
 *
 * The schema is the `.sql` files of `migrations/d1/` in the package, for
 * `wrangler d1 migrations apply`; {@link migrateD1} runs the same files from
 * code (adapters/d1-migrations.ts is generated from them) and records them
 * in wrangler's `d1_migrations` table, so the two ways mix.
 */
import { InternalError, StorageUnavailableError } from "../src/model/errors.js";
import { assertAccountListQuery, assertClaimRequest, CLAIM_CLEANUP_BATCH, type ClientStore, type ListQuery, type StoredClient } from "../src/model/store.js";
import { D1_MIGRATIONS, type D1Migration } from "./d1-migrations.js";
import { accountPageSql, CLIENT_COLUMNS as COLUMNS, fromClientRow, toClientRow, type ClientRowRead } from "./rows.js";

export type { D1Migration } from "./d1-migrations.js";

/**
 * The part of a D1 prepared statement the store uses, written out so that
 * this package's types never require `@cloudflare/workers-types`.
 */
export interface D1PreparedStatementLike {
  bind(...values: unknown[]): D1PreparedStatementLike;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  all<T = Record<string, unknown>>(): Promise<{ results: T[] }>;
  run(): Promise<{ meta: { changes: number } }>;
}

/** The part of a D1 binding (`env.DB`) the store uses. */
export interface D1DatabaseLike {
  prepare(query: string): D1PreparedStatementLike;
  batch(statements: D1PreparedStatementLike[]): Promise<unknown[]>;
}

/** Options of {@link migrateD1}. */
export interface MigrateD1Options {
  /**
   * The table recording applied migrations; the same as wrangler's
   * `migrations_table` setting. Default `"d1_migrations"`, wrangler's default.
   */
  migrationsTable?: string;
}

/** What {@link migrateD1} did. */
export interface MigrateD1Result {
  /** The migration files it applied now, in order; empty when the database was up to date. */
  applied: string[];
}

const DEFAULT_MIGRATIONS_TABLE = "d1_migrations";
const TABLE = "oauth_clients";
const CLAIMS = "oauth_clients_claims";
/** Stands for "no budget" in the conditional insert of a claim. */
const NO_BUDGET = Number.MAX_SAFE_INTEGER;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Splits a migration file into statements: D1's `batch` takes one statement
 * each. The shipped files keep to what this handles: `--` comments on lines
 * of their own and `;` only at the end of a statement.
 */
function splitSqlStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

/**
 * D1's messages for failures that pass: the database object was reset or
 * overloaded, or the connection to it was lost. Cloudflare documents these
 * as safe to retry; the store answers 503 for them instead of 500.
 */
const TRANSIENT_D1 = /Network connection lost|overloaded|object to be reset|storage operation exceeded timeout|Cannot resolve D1 DB due to transient issue/i;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Turns D1's errors into the registry's: transient ones into 503, a missing table into a clear 500. */
function translate(error: unknown): never {
  const message = messageOf(error);
  if (TRANSIENT_D1.test(message)) {
    throw new StorageUnavailableError("the D1 database is temporarily unavailable; retry shortly", { cause: error });
  }
  const missing = /no such table: (oauth_clients\w*)/i.exec(message)?.[1];
  if (missing !== undefined) {
    throw new InternalError(
      `the D1 database has no ${missing} table: apply the migrations (wrangler d1 migrations apply, or migrateD1)`,
      { cause: error },
    );
  }
  throw error;
}

async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    translate(error);
  }
}

/**
 * Applies the migrations of `migrations/d1/` that `database` lacks, each in
 * one `batch` together with its row in the migrations table, so a migration
 * is applied completely or not at all. Safe to run on every start and from
 * several Workers at once: a migration another one applied meanwhile is
 * skipped. A database migrated with `wrangler d1 migrations apply` from the
 * same files is already up to date.
 *
 * @example
 * ```ts
 * declare const env: { DB: D1DatabaseLike };
 * let migrated: Promise<unknown> | undefined; // once per isolate, tried again after a failure
 * migrated ??= migrateD1(env.DB).catch((error: unknown) => {
 *   migrated = undefined;
 *   throw error;
 * }); // or: wrangler d1 migrations apply
 * await migrated;
 * ```
 */
export async function migrateD1(database: D1DatabaseLike, options: MigrateD1Options = {}): Promise<MigrateD1Result> {
  const table = options.migrationsTable ?? DEFAULT_MIGRATIONS_TABLE;
  if (!IDENTIFIER.test(table)) {
    throw new Error(`migrationsTable must match ${IDENTIFIER} (letters, digits and _), got ${JSON.stringify(table)}`);
  }
  // wrangler's own definition of the table, so that wrangler reads ours and we read its.
  await database
    .prepare(
      `CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, ` +
        `applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`,
    )
    .run();
  const appliedNames = async () =>
    new Set((await database.prepare(`SELECT name FROM ${table}`).all<{ name: string }>()).results.map((row) => row.name));
  let done = await appliedNames();
  const applied: string[] = [];
  for (const migration of D1_MIGRATIONS as readonly D1Migration[]) {
    if (done.has(migration.name)) continue;
    const statements = splitSqlStatements(migration.sql).map((sql) => database.prepare(sql));
    statements.push(database.prepare(`INSERT INTO ${table} (name) VALUES (?)`).bind(migration.name));
    try {
      await database.batch(statements);
      applied.push(migration.name);
    } catch (error) {
      // Another Worker may have applied it between our read and our batch;
      // then its row is there and the batch, rolled back whole, is moot.
      done = await appliedNames();
      if (!done.has(migration.name)) translate(error);
    }
  }
  return { applied };
}

/**
 * A store over a D1 database migrated with {@link migrateD1} or
 * `wrangler d1 migrations apply` (the `.sql` files in the package's
 * `migrations/d1/`). Every operation is one statement: reads with
 * `first`/`all`, writes with `run`, compare-and-swap through
 * `WHERE version = ?` and `meta.changes`. D1's transient failures (a reset
 * or overloaded database, a lost connection) surface as
 * `StorageUnavailableError` (HTTP 503); the registry changes nothing then.
 *
 * @example
 * ```ts
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 *
 * declare const env: { DB: D1DatabaseLike };
 * const registry = createOAuthClientRegistry(createD1Store(env.DB));
 * ```
 */
export function createD1Store(database: D1DatabaseLike): ClientStore {
  const columns = COLUMNS.join(", ");
  const updated = COLUMNS.filter((column) => column !== "client_id" && column !== "account_id");
  const sql = {
    get: `SELECT ${columns} FROM ${TABLE} WHERE client_id = ? AND account_id = ?`,
    getById: `SELECT ${columns} FROM ${TABLE} WHERE client_id = ?`,
    listFirst: `SELECT ${columns} FROM ${TABLE} WHERE account_id = ? ORDER BY created_at, client_id LIMIT ?`,
    // A row-value comparison lets SQLite seek straight to the position in the list index.
    listAfter:
      `SELECT ${columns} FROM ${TABLE} WHERE account_id = ? AND (created_at, client_id) > (?, ?) ` +
      `ORDER BY created_at, client_id LIMIT ?`,
    insert: `INSERT INTO ${TABLE} (${columns}) VALUES (${COLUMNS.map(() => "?").join(", ")}) ON CONFLICT (client_id) DO NOTHING`,
    update:
      `UPDATE ${TABLE} SET ${updated.map((column) => `${column} = ?`).join(", ")} ` +
      `WHERE client_id = ? AND account_id = ? AND version = ?`,
    delete: `DELETE FROM ${TABLE} WHERE client_id = ? AND account_id = ?`,
    deleteVersion: `DELETE FROM ${TABLE} WHERE client_id = ? AND account_id = ? AND version = ?`,
    accountPage: accountPageSql(TABLE),
  };
  const changed = async (statement: D1PreparedStatementLike) => (await statement.run()).meta.changes === 1;
  const claimSql = {
    cleanup: `DELETE FROM ${CLAIMS} WHERE rowid IN (SELECT rowid FROM ${CLAIMS} WHERE expires_at <= ? LIMIT ${CLAIM_CLEANUP_BATCH})`,
    dropExpired: `DELETE FROM ${CLAIMS} WHERE scope = ? AND claim_key = ? AND expires_at <= ?`,
    state:
      `SELECT EXISTS (SELECT 1 FROM ${CLAIMS} WHERE scope = ? AND claim_key = ?) AS seen, ` +
      `(SELECT count(*) FROM ${CLAIMS} WHERE scope = ? AND owner = ? AND expires_at > ?) AS held`,
    // Inserted only while the owner is under its budget: the batch is one
    // transaction, so what `state` read still holds here.
    insert:
      `INSERT INTO ${CLAIMS} (scope, claim_key, owner, expires_at) SELECT ?, ?, ?, ? ` +
      `WHERE (SELECT count(*) FROM ${CLAIMS} WHERE scope = ? AND owner = ? AND expires_at > ?) < ? ON CONFLICT DO NOTHING`,
  };

  return {
    async claimOnce(claim) {
      assertClaimRequest(claim);
      const { scope, key, expiresAtMs, nowMs, owner = null, maxPerOwner = NO_BUDGET } = claim;
      return call(async () => {
        // One batch, one transaction: D1 has no other way to read and write atomically.
        const statements = [
          database.prepare(claimSql.cleanup).bind(nowMs),
          database.prepare(claimSql.dropExpired).bind(scope, key, nowMs),
          database.prepare(claimSql.state).bind(scope, key, scope, owner, nowMs),
        ];
        // Already expired: nothing could be refused by it, so nothing is held.
        if (expiresAtMs > nowMs) {
          statements.push(database.prepare(claimSql.insert).bind(scope, key, owner, expiresAtMs, scope, owner, nowMs, maxPerOwner));
        }
        const results = (await database.batch(statements)) as { results?: { seen: number; held: number }[] }[];
        const state = results[2]?.results?.[0];
        if (state === undefined) throw new Error("D1 answered a claim's batch without the state row");
        if (state.seen === 1) return "seen";
        return owner !== null && state.held >= maxPerOwner ? "over_budget" : "new";
      });
    },
    get(accountId, clientId) {
      return call(async () => {
        const row = await database.prepare(sql.get).bind(clientId, accountId).first<ClientRowRead>();
        return row ? fromClientRow(row) : null;
      });
    },
    getById(clientId) {
      return call(async () => {
        const row = await database.prepare(sql.getById).bind(clientId).first<ClientRowRead>();
        return row ? fromClientRow(row) : null;
      });
    },
    list(accountId, query: ListQuery) {
      return call(async () => {
        const statement = query.after
          ? database.prepare(sql.listAfter).bind(accountId, query.after.created_at, query.after.client_id, query.limit)
          : database.prepare(sql.listFirst).bind(accountId, query.limit);
        return (await statement.all<ClientRowRead>()).results.map((row) => fromClientRow(row));
      });
    },
    async listAccounts(query) {
      assertAccountListQuery(query);
      return call(async () => {
        const { results } = await database.prepare(sql.accountPage).bind(query.after ?? "", query.limit).all<{ account_id: string }>();
        return results.map((row) => row.account_id);
      });
    },
    insert(record: StoredClient) {
      const row = toClientRow(record);
      return call(() => changed(database.prepare(sql.insert).bind(...COLUMNS.map((column) => row[column]))));
    },
    update(record: StoredClient, expectedVersion: number) {
      const row = toClientRow(record);
      const values = [...updated.map((column) => row[column]), row.client_id, row.account_id, expectedVersion];
      return call(() => changed(database.prepare(sql.update).bind(...values)));
    },
    delete(accountId, clientId, expectedVersion) {
      return call(() =>
        changed(
          expectedVersion === undefined
            ? database.prepare(sql.delete).bind(clientId, accountId)
            : database.prepare(sql.deleteVersion).bind(clientId, accountId, expectedVersion),
        ),
      );
    },
  };
}
