/**
 * Store on Kysely, for any SQL database Kysely has a dialect for. Tested on
 * SQLite and PostgreSQL (PGlite and a real server).
 *
 * The schema uses only portable column types (varchar, text, integer):
 * arrays and the verification object are JSON text, timestamps are the
 * RFC 3339 strings of the record, so they compare and sort as text.
 */
import { Migrator, type Kysely, type Migration, type MigrationResult } from "kysely";
import type { ClientStore, ListQuery } from "../src/store.js";
import { CLIENT_COLUMNS as COLUMNS, fromClientRow, toClientRow, type OAuthClientsTable } from "./rows.js";

export type { OAuthClientsTable } from "./rows.js";

/** Options shared by {@link createKyselyStore}, {@link migrateToLatest} and the migrations. */
export interface KyselyStoreOptions {
  /**
   * Prepended to every table and index name this library creates, e.g.
   * `"auth_"` gives `auth_oauth_clients`. Letters, digits and `_`, at most
   * 32 characters. Default `""`.
   */
  tablePrefix?: string;
}


/** Names of the tables and index for a prefix. */
interface SchemaNames {
  clients: string;
  listIndex: string;
  migrations: string;
  migrationLock: string;
}

const PREFIX = /^[A-Za-z0-9_]{0,32}$/;

function schemaNames(options: KyselyStoreOptions): SchemaNames {
  const prefix = options.tablePrefix ?? "";
  if (!PREFIX.test(prefix)) {
    throw new Error(`tablePrefix must match ${PREFIX} (letters, digits and _), got ${JSON.stringify(prefix)}`);
  }
  // Short names keep every identifier within PostgreSQL's 63-byte limit.
  return {
    clients: `${prefix}oauth_clients`,
    listIndex: `${prefix}oauth_clients_list_idx`,
    migrations: `${prefix}oauth_clients_migrations`,
    migrationLock: `${prefix}oauth_clients_migrations_lock`,
  };
}


/**
 * The migrations that create and evolve this library's schema, keyed by
 * name. Names sort after date-named migrations, so you can merge them into
 * your own migration provider instead of calling {@link migrateToLatest}
 * (do one or the other for a given database, not both).
 *
 * @example
 * const migrator = new Migrator({
 *   db,
 *   provider: { getMigrations: async () => ({ ...myMigrations, ...oauthClientRegistryMigrations() }) },
 * });
 */
export function oauthClientRegistryMigrations(options: KyselyStoreOptions = {}): Record<string, Migration> {
  const names = schemaNames(options);
  return {
    oauth_client_registry_0001_create_clients: {
      async up(db) {
        // Indexed columns are bounded varchars so that every dialect
        // (MySQL included) can index them; the rest is unbounded text.
        await db.schema
          .createTable(names.clients)
          .addColumn("client_id", "varchar(255)", (c) => c.primaryKey().notNull())
          .addColumn("account_id", "varchar(255)", (c) => c.notNull())
          .addColumn("visibility", "text", (c) => c.notNull())
          .addColumn("client_name", "text", (c) => c.notNull())
          .addColumn("grant_types", "text", (c) => c.notNull())
          .addColumn("response_types", "text", (c) => c.notNull())
          .addColumn("redirect_uris", "text", (c) => c.notNull())
          .addColumn("scopes", "text", (c) => c.notNull())
          .addColumn("optional_scopes", "text", (c) => c.notNull())
          .addColumn("token_endpoint_auth_method", "text", (c) => c.notNull())
          .addColumn("allowed_cors_origins", "text", (c) => c.notNull())
          .addColumn("post_logout_redirect_uris", "text", (c) => c.notNull())
          .addColumn("client_uri", "text")
          .addColumn("logo_uri", "text")
          .addColumn("policy_uri", "text")
          .addColumn("tos_uri", "text")
          .addColumn("client_uri_verification", "text")
          .addColumn("secret_hash", "text")
          .addColumn("rotated_secret_hash", "text")
          .addColumn("rotated_at", "text")
          .addColumn("created_at", "varchar(64)", (c) => c.notNull())
          .addColumn("updated_at", "text", (c) => c.notNull())
          .addColumn("promoted_at", "text")
          .addColumn("version", "integer", (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex(names.listIndex)
          .on(names.clients)
          .columns(["account_id", "created_at", "client_id"])
          .execute();
      },
      async down(db) {
        await db.schema.dropTable(names.clients).execute();
      },
    },
  };
}

function createMigrator<DB>(db: Kysely<DB>, options: KyselyStoreOptions): Migrator {
  const names = schemaNames(options);
  const migrations = oauthClientRegistryMigrations(options);
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Own bookkeeping tables, so these migrations never mix with the
    // application's own Kysely migrations.
    migrationTableName: names.migrations,
    migrationLockTableName: names.migrationLock,
  });
}

/**
 * Creates or upgrades the clients table to the latest schema. Safe to call
 * on every start and from several processes at once (Kysely's migration
 * lock serializes them). Throws if a migration fails.
 *
 * @example
 * import { Kysely, PostgresDialect } from "kysely";
 * import pg from "pg";
 * import { createKyselyStore, migrateToLatest } from "oauth-client-registry/kysely";
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * await migrateToLatest(db);
 * const store = createKyselyStore(db);
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: KyselyStoreOptions = {},
): Promise<readonly MigrationResult[]> {
  const { error, results } = await createMigrator(db, options).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `oauth-client-registry: migrating the clients table failed${failed ? ` in ${failed}` : ""}: ${reason}`,
      { cause: error },
    );
  }
  return results ?? [];
}

/** Any table name maps to the clients row: the name is chosen at run time from the prefix. */
type ClientTables = Record<string, OAuthClientsTable>;



/**
 * A store over a Kysely instance you own (the store never destroys it).
 * Run {@link migrateToLatest} with the same options first.
 *
 * @example
 * import Database from "better-sqlite3";
 * import { Kysely, SqliteDialect } from "kysely";
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createKyselyStore, migrateToLatest } from "oauth-client-registry/kysely";
 *
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database("app.db") }) });
 * await migrateToLatest(db, { tablePrefix: "auth_" });
 * const registry = createOAuthClientRegistry(createKyselyStore(db, { tablePrefix: "auth_" }));
 */
export function createKyselyStore<DB>(db: Kysely<DB>, options: KyselyStoreOptions = {}): ClientStore {
  const table = schemaNames(options).clients;
  // The table name is only known at run time, so the caller's DB type says
  // nothing about it; view the instance through a schema that has it.
  const k = db as unknown as Kysely<ClientTables>;

  async function exists(clientId: string): Promise<boolean> {
    const row = await k.selectFrom(table).select("client_id").where("client_id", "=", clientId).executeTakeFirst();
    return row !== undefined;
  }

  return {
    async get(accountId, clientId) {
      const row = await k
        .selectFrom(table)
        .select(COLUMNS)
        .where("client_id", "=", clientId)
        .where("account_id", "=", accountId)
        .executeTakeFirst();
      return row ? fromClientRow(row) : null;
    },

    async getById(clientId) {
      const row = await k.selectFrom(table).select(COLUMNS).where("client_id", "=", clientId).executeTakeFirst();
      return row ? fromClientRow(row) : null;
    },

    async list(accountId, query: ListQuery) {
      let select = k.selectFrom(table).select(COLUMNS).where("account_id", "=", accountId);
      const after = query.after;
      if (after) {
        // (created_at, client_id) > (a, b), spelled so every dialect runs
        // it and uses the index: the `>=` bound lets the database seek to
        // the position instead of scanning the account from its start.
        select = select
          .where("created_at", ">=", after.created_at)
          .where((eb) => eb.or([eb("created_at", ">", after.created_at), eb("client_id", ">", after.client_id)]));
      }
      const rows = await select.orderBy("created_at").orderBy("client_id").limit(query.limit).execute();
      return rows.map(fromClientRow);
    },

    async insert(record) {
      try {
        await k.insertInto(table).values(toClientRow(record)).execute();
        return true;
      } catch (error) {
        // Dialects disagree on "insert unless exists" syntax and on
        // unique-violation error codes; asking afterwards works everywhere.
        if (await exists(record.client_id)) return false;
        throw error;
      }
    },

    async update(record, expectedVersion) {
      const { client_id: _clientId, account_id: _accountId, ...changes } = toClientRow(record);
      const result = await k
        .updateTable(table)
        .set(changes)
        .where("client_id", "=", record.client_id)
        .where("account_id", "=", record.account_id)
        .where("version", "=", expectedVersion)
        .executeTakeFirst();
      return result.numUpdatedRows === 1n;
    },

    async delete(accountId, clientId, expectedVersion) {
      let query = k.deleteFrom(table).where("client_id", "=", clientId).where("account_id", "=", accountId);
      if (expectedVersion !== undefined) query = query.where("version", "=", expectedVersion);
      const result = await query.executeTakeFirst();
      return result.numDeletedRows === 1n;
    },
  };
}
