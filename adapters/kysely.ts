/**
 * Store on Kysely, for any SQL database Kysely has a dialect for. Tested on
 * SQLite, PostgreSQL (PGlite and a real server) and MariaDB (MysqlDialect).
 *
 * The schema uses portable column types (varchar, text, integer; on MySQL
 * and MariaDB a binary collation and longtext, see documentColumnTypes): the
 * columns the database must compare (id, account, list order, version) and
 * the rest of the record as one JSON text document. Timestamps are the
 * RFC 3339 strings of the record, so they compare and sort as text.
 */
import * as kyselyModule from "kysely";
import {
  MysqlAdapter,
  sql,
  type Compilable,
  type CompiledQuery,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  type SqliteDatabase,
  type SqliteStatement,
} from "kysely";
import { assertAccountListQuery, assertClaimRequest, CLAIM_CLEANUP_BATCH, type ClaimRequest, type ClaimResult, type ClientStore, type ListQuery } from "../src/model/store.js";
import {
  CLIENT_COLUMNS as COLUMNS,
  fromClientRow,
  fromLegacyClientRow,
  LEGACY_CLIENT_COLUMNS,
  toClientRow,
  toLegacyClientRow,
  type ClientRowRead,
  type LegacyClientRow,
  type OAuthClientsTable,
} from "./rows.js";

export type { OAuthClientsTable } from "./rows.js";

/**
 * A migration as Kysely's `Migrator` takes it. Declared here, structurally,
 * because kysely 0.28 exports these types from "kysely" and 0.29 only from
 * "kysely/migration" (a subpath 0.28 does not have).
 */
export interface Migration {
  up(db: Kysely<unknown>): Promise<void>;
  down?(db: Kysely<unknown>): Promise<void>;
}

/** One migration's outcome, as Kysely's `Migrator` reports it. */
export interface MigrationResult {
  readonly migrationName: string;
  readonly direction: "Up" | "Down";
  readonly status: "Success" | "Error" | "NotExecuted";
}

interface MigratorLike {
  migrateToLatest(): Promise<{ error?: unknown; results?: MigrationResult[] }>;
}
type MigratorClass = new (props: {
  db: Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  provider: { getMigrations(): Promise<Record<string, Migration>> };
  migrationTableName?: string;
  migrationLockTableName?: string;
}) => MigratorLike;

let migratorClass: Promise<MigratorClass> | undefined;

/** Kysely's `Migrator`: exported by "kysely" up to 0.28, by "kysely/migration" from 0.29. */
function loadMigrator(): Promise<MigratorClass> {
  migratorClass ??= (async () => {
    const fromRoot = (kyselyModule as unknown as { Migrator?: MigratorClass }).Migrator;
    if (typeof fromRoot === "function") return fromRoot;
    const subpath = "kysely/migration"; // a variable, so that TypeScript with kysely 0.28 does not resolve it
    return ((await import(subpath)) as { Migrator: MigratorClass }).Migrator;
  })();
  return migratorClass;
}

/** Options shared by {@link createKyselyStore}, {@link migrateToLatest} and the migrations. */
export interface KyselyStoreOptions {
  /**
   * Prepended to every table and index name this library creates, e.g.
   * `"auth_"` gives `auth_oauth_clients`. Letters, digits and `_`, at most
   * 32 characters. Default `""`.
   */
  tablePrefix?: string;
}


/** Names of the tables and indexes for a prefix. */
interface SchemaNames {
  clients: string;
  /** The clients table while a migration rebuilds it. */
  rebuilt: string;
  /** The primary key of the clients table since migration 0002. */
  primaryKey: string;
  /** Its name before (PostgreSQL's default name for migration 0001's key). */
  version1PrimaryKey: string;
  listIndex: string;
  /** The claims table ({@link ClientStore.claimOnce}) and its indexes, since migration 0003. */
  claims: string;
  claimsOwnerIndex: string;
  claimsExpiryIndex: string;
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
    rebuilt: `${prefix}oauth_clients_rebuilt`,
    primaryKey: `${prefix}oauth_clients_pk`,
    version1PrimaryKey: `${prefix}oauth_clients_pkey`,
    listIndex: `${prefix}oauth_clients_list_idx`,
    claims: `${prefix}oauth_clients_claims`,
    claimsOwnerIndex: `${prefix}oauth_clients_claims_owner_idx`,
    claimsExpiryIndex: `${prefix}oauth_clients_claims_expiry_idx`,
    migrations: `${prefix}oauth_clients_migrations`,
    migrationLock: `${prefix}oauth_clients_migrations_lock`,
  };
}

/** Rows read per query while a migration rewrites the table. */
const MIGRATION_BATCH = 100;
/**
 * Text per INSERT while a migration rewrites the table, in UTF-16 code
 * units: at most 3 MiB of UTF-8, under MySQL's smallest `max_allowed_packet`
 * (4 MiB). A larger row goes alone.
 */
const MIGRATION_INSERT_CHARS = 1 << 20;

/** Any table name maps to some row: migrations name their tables at run time. */
type AnyTables = Record<string, Record<string, unknown>>;

/**
 * The table of migration 0001: one column per field. `primaryKey` names the
 * key when the table is built under a temporary name (0002's `down`).
 */
async function createVersion1Table(db: Kysely<unknown>, table: string, primaryKey?: string): Promise<void> {
  // Indexed columns are bounded varchars so that every dialect
  // (MySQL included) can index them; the rest is unbounded text.
  await db.schema
    .createTable(table)
    .addColumn("client_id", "varchar(255)", (c) => (primaryKey ? c.notNull() : c.primaryKey().notNull()))
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
    .$call((builder) => (primaryKey ? builder.addPrimaryKeyConstraint(primaryKey, ["client_id"]) : builder))
    .execute();
}

/** Column types of the document table: portable, or MySQL's when the dialect is. */
interface DocumentColumnTypes {
  key: (length: number) => `varchar(${number})` | RawBuilder<unknown>;
  document: "text" | RawBuilder<unknown>;
}

/**
 * Portable types everywhere but on MySQL and MariaDB (any dialect on
 * Kysely's MysqlAdapter), where `text` holds only 64 KiB and the default
 * collation folds case and accents and ignores trailing spaces: there the
 * key columns get a binary NO PAD collation (exact comparison, code point
 * order like the other stores) and the document is a utf8mb4 `longtext`.
 */
async function documentColumnTypes(db: Kysely<unknown>): Promise<DocumentColumnTypes> {
  if (!(db.getExecutor().adapter instanceof MysqlAdapter)) {
    return { key: (length) => `varchar(${length})`, document: "text" };
  }
  // MySQL 8's utf8mb4_0900_bin or MariaDB's utf8mb4_nopad_bin; utf8mb4_bin
  // (which ignores trailing spaces) only where neither exists.
  const { rows } = await sql<{ name: string }>`
    SELECT COLLATION_NAME AS name FROM information_schema.COLLATIONS
    WHERE COLLATION_NAME IN ('utf8mb4_0900_bin', 'utf8mb4_nopad_bin')`.execute(db);
  const found = rows.map((r) => r.name);
  const collation = found.includes("utf8mb4_0900_bin") ? "utf8mb4_0900_bin" : (found[0] ?? "utf8mb4_bin");
  return {
    key: (length) => sql.raw(`varchar(${length}) CHARACTER SET utf8mb4 COLLATE ${collation}`),
    document: sql.raw(`longtext CHARACTER SET utf8mb4 COLLATE ${collation}`),
  };
}

/** The table of migration 0002: key columns and the JSON document. */
async function createDocumentTable(db: Kysely<unknown>, table: string, names: SchemaNames): Promise<void> {
  const types = await documentColumnTypes(db);
  await db.schema
    .createTable(table)
    .addColumn("client_id", types.key(255), (c) => c.notNull())
    .addColumn("account_id", types.key(255), (c) => c.notNull())
    .addColumn("created_at", types.key(64), (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("document", types.document, (c) => c.notNull())
    // Named for the final table: PostgreSQL would name it after the
    // temporary one, and the old table's <table>_pkey still exists.
    .addPrimaryKeyConstraint(names.primaryKey, ["client_id"])
    .execute();
}

/**
 * The claims table of migration 0003: one row per live key; an owner's
 * budget is counted on (scope, owner, expires_at), expired rows are found on
 * expires_at. Expiries are milliseconds since the epoch (bigint).
 */
async function createClaimsTable(db: Kysely<unknown>, names: SchemaNames): Promise<void> {
  const types = await documentColumnTypes(db);
  await db.schema
    .createTable(names.claims)
    .addColumn("scope", types.key(64), (c) => c.notNull())
    .addColumn("claim_key", types.key(255), (c) => c.notNull())
    .addColumn("owner", types.key(255))
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint(`${names.claims}_pk`, ["scope", "claim_key"])
    .execute();
  await db.schema.createIndex(names.claimsOwnerIndex).on(names.claims).columns(["scope", "owner", "expires_at"]).execute();
  await db.schema.createIndex(names.claimsExpiryIndex).on(names.claims).column("expires_at").execute();
}

async function createListIndex(db: Kysely<unknown>, names: SchemaNames): Promise<void> {
  await db.schema.createIndex(names.listIndex).on(names.clients).columns(["account_id", "created_at", "client_id"]).execute();
}

/** Splits rows into INSERTs of at most {@link MIGRATION_INSERT_CHARS} code units of text each. */
function insertChunks<Row extends object>(rows: readonly Row[]): Row[][] {
  const chunks: Row[][] = [];
  let chars = Infinity;
  for (const row of rows) {
    const length = Object.values(row).reduce<number>((n, value) => n + (typeof value === "string" ? value.length : 8), 0);
    if (chars + length > MIGRATION_INSERT_CHARS) {
      chunks.push([]);
      chars = 0;
    }
    chunks.at(-1)!.push(row);
    chars += length;
  }
  return chunks;
}

/**
 * Rebuilds the clients table in another layout: creates it under a
 * temporary name, copies every row through `convert` in batches keyed on
 * client_id (so no table is ever read whole into memory), drops the old
 * table with its indexes, renames the new one and creates the list index.
 * The old table stays whole until every row is copied.
 */
async function rebuildClientsTable<From extends { client_id: string }>(
  db: Kysely<unknown>,
  names: SchemaNames,
  create: (db: Kysely<unknown>, table: string) => Promise<void>,
  columns: readonly string[],
  convert: (row: From) => object,
): Promise<void> {
  await create(db, names.rebuilt);
  const k = db as unknown as Kysely<AnyTables>;
  for (let after: string | undefined; ; ) {
    let select = k.selectFrom(names.clients).select(columns).orderBy("client_id").limit(MIGRATION_BATCH);
    if (after !== undefined) select = select.where("client_id", ">", after);
    const rows = (await select.execute()) as From[];
    for (const chunk of insertChunks(rows.map(convert))) {
      await k.insertInto(names.rebuilt).values(chunk as Record<string, unknown>[]).execute();
    }
    if (rows.length < MIGRATION_BATCH) break;
    after = rows.at(-1)!.client_id;
  }
  await db.schema.dropTable(names.clients).execute();
  await db.schema.alterTable(names.rebuilt).renameTo(names.clients).execute();
  await createListIndex(db, names);
}

/**
 * Runs a migration's steps in one transaction. Kysely's Migrator opens one
 * on PostgreSQL but not on SQLite (its adapter declares no transactional
 * DDL, although SQLite has it), where an interrupted rebuild would
 * otherwise leave half a schema. MySQL commits each DDL statement
 * implicitly whatever one does; docs/storage.md says what that means.
 */
async function atomically(db: Kysely<unknown>, body: (db: Kysely<unknown>) => Promise<void>): Promise<void> {
  if (db.isTransaction) await body(db);
  else await db.transaction().execute(body);
}

/**
 * The migrations that create and evolve this library's schema, keyed by
 * name. Names sort after date-named migrations, so you can merge them into
 * your own migration provider instead of calling {@link migrateToLatest}
 * (do one or the other for a given database, not both).
 *
 * @example
 * ```ts
 * import { Kysely, Migrator, type Migration } from "kysely";
 *
 * declare const db: Kysely<unknown>;
 * declare const myMigrations: Record<string, Migration>; // your application's own
 * const migrator = new Migrator({
 *   db,
 *   provider: { getMigrations: async () => ({ ...myMigrations, ...oauthClientRegistryMigrations() }) },
 * });
 * await migrator.migrateToLatest();
 * ```
 */
export function oauthClientRegistryMigrations(options: KyselyStoreOptions = {}): Record<string, Migration> {
  const names = schemaNames(options);
  return {
    oauth_client_registry_0001_create_clients: {
      async up(db) {
        await createVersion1Table(db, names.clients);
        await createListIndex(db, names);
      },
      async down(db) {
        await db.schema.dropTable(names.clients).execute();
      },
    },
    // Key columns plus one JSON document, so that a new field needs no
    // migration. Rewrites every row once; `down` rewrites them back
    // (dropping any field version 1 has no column for).
    oauth_client_registry_0002_document_column: {
      async up(db) {
        await atomically(db, (trx) =>
          rebuildClientsTable(
            trx,
            names,
            (d, table) => createDocumentTable(d, table, names),
            LEGACY_CLIENT_COLUMNS,
            (row: LegacyClientRow) => toClientRow(fromLegacyClientRow(row)),
          ),
        );
      },
      async down(db) {
        await atomically(db, (trx) =>
          rebuildClientsTable(
            trx,
            names,
            (d, table) => createVersion1Table(d, table, names.version1PrimaryKey),
            COLUMNS,
            (row: ClientRowRead) => toLegacyClientRow(fromClientRow(row)),
          ),
        );
      },
    },
    // Single-use keys and rate-limit windows several processes share.
    oauth_client_registry_0003_claims_table: {
      async up(db) {
        await atomically(db, (trx) => createClaimsTable(trx, names));
      },
      async down(db) {
        await db.schema.dropTable(names.claims).execute();
      },
    },
  };
}

async function createMigrator<DB>(db: Kysely<DB>, options: KyselyStoreOptions): Promise<MigratorLike> {
  const names = schemaNames(options);
  const migrations = oauthClientRegistryMigrations(options);
  const Migrator = await loadMigrator();
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    // Own bookkeeping tables, so these migrations never mix with the
    // application's own Kysely migrations.
    migrationTableName: names.migrations,
    migrationLockTableName: names.migrationLock,
  });
}

/** Further attempts of {@link migrateToLatest} when the migrator failed before running any migration. */
const MIGRATION_BOOKKEEPING_RETRIES = 3;

/**
 * Creates or upgrades the clients table to the latest schema. Safe to call
 * on every start and from several processes at once (Kysely's migration
 * lock serializes them). Throws if a migration fails.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from "kysely";
 * import pg from "pg";
 * import { createKyselyStore, migrateToLatest } from "oauth-client-registry/kysely";
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }) });
 * await migrateToLatest(db);
 * const store = createKyselyStore(db);
 * ```
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  options: KyselyStoreOptions = {},
): Promise<readonly MigrationResult[]> {
  const migrator = await createMigrator(db, options);
  let { error, results } = await migrator.migrateToLatest();
  // No result means the migrator failed in its own bookkeeping, before any
  // migration ran: it lists every table of the database to find its own,
  // and on a shared PostgreSQL that listing fails when another session
  // alters or drops a table meanwhile. Nothing changed, so trying again is safe.
  for (let retry = 1; error !== undefined && results === undefined && retry <= MIGRATION_BOOKKEEPING_RETRIES; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 50 * retry));
    ({ error, results } = await migrator.migrateToLatest());
  }
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

/** The arguments of one query shape, by name. */
type QueryArgs = Record<string, string | number>;

/**
 * Values that stand for the arguments while a query shape is compiled: each
 * is found again among the compiled parameters, which tells at which
 * positions the arguments of a call go. Numbers no client field takes.
 */
function placeholders<A extends QueryArgs>(kinds: { [K in keyof A]: A[K] extends number ? "number" : "string" }): A {
  const out: QueryArgs = {};
  let n = 0;
  for (const [name, kind] of Object.entries(kinds)) {
    n++;
    out[name] = kind === "number" ? -1_000_000_007 * n : `\u0000oauth-client-registry:${name}\u0000`;
  }
  return out as A;
}

/**
 * One query shape, built and compiled by Kysely once, then executed with new
 * parameters on every call: building and compiling cost more than the
 * query itself on SQLite (the compiled SQL text is also the same every
 * time, which lets a statement cache serve it, see
 * {@link cacheSqliteStatements}). If a plugin or dialect hides where an
 * argument goes (a placeholder is not found exactly once among the
 * parameters), every call builds and compiles its query as before.
 */
function precompiled<A extends QueryArgs>(sample: A, build: (args: A) => Compilable<unknown>): (args: A) => CompiledQuery<unknown> {
  let compiled: CompiledQuery<unknown> | undefined;
  let slots: (keyof A | undefined)[] | null = null;
  return (args) => {
    if (compiled === undefined) {
      compiled = build(sample).compile();
      const found = compiled.parameters.map((value) => (Object.keys(sample) as (keyof A)[]).find((name) => sample[name] === value));
      const everyOnce = Object.keys(sample).every((name) => found.filter((slot) => slot === name).length === 1);
      slots = everyOnce ? found : null;
    }
    if (slots === null) return build(args).compile();
    const template = compiled;
    return { ...template, parameters: slots.map((name, i) => (name === undefined ? template.parameters[i] : args[name])) };
  };
}

/** A row as query arguments (an interface has no index signature; this mapped copy does). */
type RowArgs = { [K in keyof OAuthClientsTable]: OAuthClientsTable[K] };

const affectedRows = (result: QueryResult<unknown>): bigint => result.numAffectedRows ?? 0n;

/** Options of {@link cacheSqliteStatements}. */
export interface SqliteStatementCacheOptions {
  /** Prepared statements kept, least recently used dropped first. Default 256. */
  maxStatements?: number;
}

/**
 * Wraps the SQLite database you give Kysely's `SqliteDialect` so that each
 * SQL text is prepared once and its statement reused: the dialect prepares
 * the statement again on every query otherwise, which costs as much as
 * running a point query. Works for every query of the Kysely instance (it
 * is keyed by SQL text), and the store's queries always compile to the same
 * text. Closing the wrapper closes the database.
 *
 * Streaming (`.stream()`) over a cached statement is safe: Kysely's SQLite
 * driver runs one query at a time on its one connection.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { Kysely, SqliteDialect } from "kysely";
 * import { cacheSqliteStatements, createKyselyStore } from "oauth-client-registry/kysely";
 *
 * const database = cacheSqliteStatements(new Database("app.db"));
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
 * const store = createKyselyStore(db);
 * ```
 */
export function cacheSqliteStatements(database: SqliteDatabase, options: SqliteStatementCacheOptions = {}): SqliteDatabase {
  const max = options.maxStatements ?? 256;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxStatements must be a positive integer, got ${String(max)}`);
  const statements = new Map<string, SqliteStatement>();
  return {
    close() {
      statements.clear();
      database.close();
    },
    prepare(text) {
      let statement = statements.get(text);
      if (statement) {
        // Re-inserting moves the entry to the back of the Map's order: least recently used first.
        statements.delete(text);
      } else {
        statement = database.prepare(text);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

/**
 * A store over a Kysely instance you own (the store never destroys it).
 * Run {@link migrateToLatest} with the same options first.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * import { Kysely, SqliteDialect } from "kysely";
 * import { createOAuthClientRegistry } from "oauth-client-registry";
 * import { createKyselyStore, migrateToLatest } from "oauth-client-registry/kysely";
 *
 * const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database("app.db") }) });
 * await migrateToLatest(db, { tablePrefix: "auth_" });
 * const registry = createOAuthClientRegistry(createKyselyStore(db, { tablePrefix: "auth_" }));
 * ```
 */
export function createKyselyStore<DB>(db: Kysely<DB>, options: KyselyStoreOptions = {}): ClientStore {
  const table = schemaNames(options).clients;
  // The table name is only known at run time, so the caller's DB type says
  // nothing about it; view the instance through a schema that has it.
  const k = db as unknown as Kysely<ClientTables>;
  const run = <Row>(query: CompiledQuery<unknown>) => k.executeQuery(query as CompiledQuery<Row>);

  const selectOne = precompiled(placeholders<{ clientId: string; accountId: string }>({ clientId: "string", accountId: "string" }), (a) =>
    k.selectFrom(table).select(COLUMNS).where("client_id", "=", a.clientId).where("account_id", "=", a.accountId),
  );
  const selectById = precompiled(placeholders<{ clientId: string }>({ clientId: "string" }), (a) =>
    k.selectFrom(table).select(COLUMNS).where("client_id", "=", a.clientId),
  );
  const selectExists = precompiled(placeholders<{ clientId: string }>({ clientId: "string" }), (a) =>
    k.selectFrom(table).select("client_id").where("client_id", "=", a.clientId),
  );
  const listFirst = precompiled(placeholders<{ accountId: string; limit: number }>({ accountId: "string", limit: "number" }), (a) =>
    k.selectFrom(table).select(COLUMNS).where("account_id", "=", a.accountId).orderBy("created_at").orderBy("client_id").limit(a.limit),
  );
  const listAfter = precompiled(
    placeholders<{ accountId: string; createdAt: string; createdAfter: string; clientId: string; limit: number }>({
      accountId: "string",
      createdAt: "string",
      createdAfter: "string",
      clientId: "string",
      limit: "number",
    }),
    (a) =>
      k
        .selectFrom(table)
        .select(COLUMNS)
        .where("account_id", "=", a.accountId)
        // (created_at, client_id) > (a, b), spelled so every dialect runs
        // it and uses the index: the `>=` bound lets the database seek to
        // the position instead of scanning the account from its start.
        .where("created_at", ">=", a.createdAt)
        .where((eb) => eb.or([eb("created_at", ">", a.createdAfter), eb("client_id", ">", a.clientId)]))
        .orderBy("created_at")
        .orderBy("client_id")
        .limit(a.limit),
  );
  const insertRow = precompiled(
    placeholders<RowArgs>({ client_id: "string", account_id: "string", created_at: "string", version: "number", document: "string" }),
    (row) => k.insertInto(table).values(row),
  );
  const updateRow = precompiled(
    placeholders<RowArgs & { expectedVersion: number }>({
      client_id: "string",
      account_id: "string",
      created_at: "string",
      version: "number",
      document: "string",
      expectedVersion: "number",
    }),
    (a) =>
      k
        .updateTable(table)
        .set({ created_at: a.created_at, version: a.version, document: a.document })
        .where("client_id", "=", a.client_id)
        .where("account_id", "=", a.account_id)
        .where("version", "=", a.expectedVersion),
  );
  const selectAtVersion = precompiled(
    placeholders<{ clientId: string; accountId: string; version: number }>({ clientId: "string", accountId: "string", version: "number" }),
    (a) =>
      k
        .selectFrom(table)
        .select("client_id")
        .where("client_id", "=", a.clientId)
        .where("account_id", "=", a.accountId)
        .where("version", "=", a.version),
  );
  const deleteRow = precompiled(placeholders<{ clientId: string; accountId: string }>({ clientId: "string", accountId: "string" }), (a) =>
    k.deleteFrom(table).where("client_id", "=", a.clientId).where("account_id", "=", a.accountId),
  );
  const deleteAtVersion = precompiled(
    placeholders<{ clientId: string; accountId: string; version: number }>({ clientId: "string", accountId: "string", version: "number" }),
    (a) => k.deleteFrom(table).where("client_id", "=", a.clientId).where("account_id", "=", a.accountId).where("version", "=", a.version),
  );

  const claimOnce = createKyselyClaims(k as unknown as Kysely<ClaimTables>, schemaNames(options).claims);

  // A loose index scan (as accountPageSql on the SQLite store): one seek in
  // the list index per account, in the column's collation on every dialect
  // (binary on MySQL/MariaDB, the database's on PostgreSQL), which is the
  // order that index keeps.
  const nextAccount = (after: RawBuilder<unknown>) =>
    sql`(SELECT account_id FROM ${sql.table(table)} WHERE account_id > ${after} ORDER BY account_id LIMIT 1)`;
  const accountPage = (after: string, limit: number) =>
    sql<{ account_id: string }>`WITH RECURSIVE page (account_id, n) AS (SELECT ${nextAccount(sql`${after}`)}, 1 UNION ALL SELECT ${nextAccount(
      sql.ref("page.account_id"),
    )}, n + 1 FROM page WHERE page.account_id IS NOT NULL AND n < ${limit}) SELECT account_id FROM page WHERE account_id IS NOT NULL ORDER BY n`;

  return {
    claimOnce,
    async get(accountId, clientId) {
      const { rows } = await run<ClientRowRead>(selectOne({ clientId, accountId }));
      return rows[0] ? fromClientRow(rows[0]) : null;
    },

    async getById(clientId) {
      const { rows } = await run<ClientRowRead>(selectById({ clientId }));
      return rows[0] ? fromClientRow(rows[0]) : null;
    },

    async list(accountId, query: ListQuery) {
      const after = query.after;
      const compiled = after
        ? listAfter({ accountId, createdAt: after.created_at, createdAfter: after.created_at, clientId: after.client_id, limit: query.limit })
        : listFirst({ accountId, limit: query.limit });
      const { rows } = await run<ClientRowRead>(compiled);
      return rows.map((row) => fromClientRow(row));
    },

    async listAccounts(query) {
      assertAccountListQuery(query);
      const { rows } = await accountPage(query.after ?? "", query.limit).execute(k);
      return rows.map((row) => row.account_id);
    },

    async insert(record) {
      try {
        await run(insertRow(toClientRow(record)));
        return true;
      } catch (error) {
        // Dialects disagree on "insert unless exists" syntax and on
        // unique-violation error codes; asking afterwards works everywhere.
        if ((await run(selectExists({ clientId: record.client_id }))).rows.length > 0) return false;
        throw error;
      }
    },

    async update(record, expectedVersion) {
      const result = await run(updateRow({ ...toClientRow(record), expectedVersion }));
      if (affectedRows(result) === 1n) return true;
      // MySQL without the FOUND_ROWS client flag (mysql2 sets it by default)
      // counts changed rows, not matched ones: a write of identical values,
      // possible only when the version does not move, reports 0. Whether the
      // row is at that version tells a match from a miss.
      if (record.version !== expectedVersion) return false;
      const atVersion = selectAtVersion({ clientId: record.client_id, accountId: record.account_id, version: expectedVersion });
      return (await run(atVersion)).rows.length > 0;
    },

    async delete(accountId, clientId, expectedVersion) {
      const compiled =
        expectedVersion === undefined
          ? deleteRow({ clientId, accountId })
          : deleteAtVersion({ clientId, accountId, version: expectedVersion });
      return affectedRows(await run(compiled)) === 1n;
    },
  };
}

/** A row of the claims table. */
interface ClaimsTable {
  scope: string;
  claim_key: string;
  owner: string | null;
  expires_at: number | string | bigint;
}
type ClaimTables = Record<string, ClaimsTable>;

/** Claims per process between two cleanups: a cleanup deletes up to CLAIM_CLEANUP_BATCH rows, so it keeps up with twice the rate rows are added. */
const CLAIM_CLEANUP_EVERY = Math.max(1, Math.floor(CLAIM_CLEANUP_BATCH / 2));

/**
 * {@link ClientStore.claimOnce} on Kysely, in autocommit statements that
 * every dialect runs alike: the primary key makes the insert of a key
 * succeed once (a failed insert followed by a found row is `"seen"`); the
 * owner's live keys are counted after the insert, and a key past the budget
 * is deleted again. Concurrent claims near the budget may then all be
 * refused, never all admitted.
 */
function createKyselyClaims(k: Kysely<ClaimTables>, table: string): (claim: ClaimRequest) => Promise<ClaimResult> {
  const run = <Row>(query: CompiledQuery<unknown>) => k.executeQuery(query as CompiledQuery<Row>);
  const isMysql = k.getExecutor().adapter instanceof MysqlAdapter;
  type Key = { scope: string; key: string };
  type KeyAt = Key & { nowMs: number };
  // MySQL refuses a LIMIT inside IN (subquery) but takes one on DELETE itself.
  const cleanup = precompiled(placeholders<{ nowMs: number }>({ nowMs: "number" }), (a) =>
    isMysql
      ? k.deleteFrom(table).where("expires_at", "<=", a.nowMs).orderBy("expires_at").limit(CLAIM_CLEANUP_BATCH)
      : k
          .deleteFrom(table)
          .where(({ eb, refTuple, selectFrom }) =>
            eb(
              refTuple("scope", "claim_key"),
              "in",
              // The row type of a two-column subquery is not one Kysely's typing of a tuple IN accepts.
              selectFrom(table).select(["scope", "claim_key"]).where("expires_at", "<=", a.nowMs).limit(CLAIM_CLEANUP_BATCH) as never,
            ),
          ),
  );
  const dropExpired = precompiled(placeholders<KeyAt>({ scope: "string", key: "string", nowMs: "number" }), (a) =>
    k.deleteFrom(table).where("scope", "=", a.scope).where("claim_key", "=", a.key).where("expires_at", "<=", a.nowMs),
  );
  const live = precompiled(placeholders<KeyAt>({ scope: "string", key: "string", nowMs: "number" }), (a) =>
    k.selectFrom(table).select("scope").where("scope", "=", a.scope).where("claim_key", "=", a.key).where("expires_at", ">", a.nowMs),
  );
  const insertOwned = precompiled(
    placeholders<Key & { owner: string; expiresAtMs: number }>({ scope: "string", key: "string", owner: "string", expiresAtMs: "number" }),
    (a) => k.insertInto(table).values({ scope: a.scope, claim_key: a.key, owner: a.owner, expires_at: a.expiresAtMs }),
  );
  const insertUnowned = precompiled(placeholders<Key & { expiresAtMs: number }>({ scope: "string", key: "string", expiresAtMs: "number" }), (a) =>
    k.insertInto(table).values({ scope: a.scope, claim_key: a.key, expires_at: a.expiresAtMs }),
  );
  const held = precompiled(placeholders<{ scope: string; owner: string; nowMs: number }>({ scope: "string", owner: "string", nowMs: "number" }), (a) =>
    k
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as("n"))
      .where("scope", "=", a.scope)
      .where("owner", "=", a.owner)
      .where("expires_at", ">", a.nowMs),
  );
  const remove = precompiled(placeholders<Key>({ scope: "string", key: "string" }), (a) =>
    k.deleteFrom(table).where("scope", "=", a.scope).where("claim_key", "=", a.key),
  );
  const count = async (scope: string, owner: string, nowMs: number) =>
    Number((await run<{ n: number | string | bigint }>(held({ scope, owner, nowMs }))).rows[0]?.n ?? 0);
  let calls = 0;

  return async (claim) => {
    assertClaimRequest(claim);
    const { scope, key, expiresAtMs, nowMs, owner, maxPerOwner } = claim;
    if (calls++ % CLAIM_CLEANUP_EVERY === 0) await run(cleanup({ nowMs }));
    await run(dropExpired({ scope, key, nowMs }));
    if (!(expiresAtMs > nowMs)) {
      // Already expired: nothing could be refused by it, so nothing is held.
      if ((await run(live({ scope, key, nowMs }))).rows.length > 0) return "seen";
      return owner !== undefined && maxPerOwner !== undefined && (await count(scope, owner, nowMs)) >= maxPerOwner ? "over_budget" : "new";
    }
    try {
      await run(owner === undefined ? insertUnowned({ scope, key, expiresAtMs }) : insertOwned({ scope, key, owner, expiresAtMs }));
    } catch (error) {
      // Dialects disagree on "insert unless exists" and on unique-violation
      // codes; a live row found afterwards is the conflict. (dropExpired ran
      // first, so a row there now is live.)
      if ((await run(live({ scope, key, nowMs }))).rows.length > 0) return "seen";
      throw error;
    }
    if (owner !== undefined && maxPerOwner !== undefined && (await count(scope, owner, nowMs)) > maxPerOwner) {
      await run(remove({ scope, key }));
      return "over_budget";
    }
    return "new";
  };
}
