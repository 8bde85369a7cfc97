/**
 * Upgrading stored clients to the document layout (SQLite schema version 2,
 * Kysely migration oauth_client_registry_0002_document_column): a database
 * written by the version-1 code reads back identical after the upgrade, on
 * every SQL backend, and stays writable. The version-1 encoding below is a
 * frozen copy of what that code wrote, independent of the adapters' own
 * legacy decoder, so that it checks the decoder rather than mirroring it.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import { registryMigrator, VERSION_1 } from "./helpers/kysely-migrator.js";
import { PGliteDialect } from "kysely-pglite-dialect";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKyselyStore, migrateToLatest } from "../adapters/kysely.js";
import { fromClientRow, toClientRow } from "../adapters/rows.js";
import { createSqliteStore, SQLITE_SCHEMA_VERSION } from "../adapters/sqlite.js";
import type { ClientStore, StoredClient } from "../src/model/store.js";
import { makeLargeStoredClient, makeStoredClient } from "../src/testing/records.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "oauth-registry-migration-"));
let fileCounter = 0;
const newFile = () => join(dir, `store-${++fileCounter}.sqlite`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------------------
// Version 1, as released

/** A row of the version-1 table: one column per field, arrays and the verification object as JSON text. */
type Version1Row = Record<string, string | number | null>;

function toVersion1Row(record: StoredClient): Version1Row {
  return {
    client_id: record.client_id,
    account_id: record.account_id,
    visibility: record.visibility,
    client_name: record.client_name,
    grant_types: JSON.stringify(record.grant_types),
    response_types: JSON.stringify(record.response_types),
    redirect_uris: JSON.stringify(record.redirect_uris),
    scopes: JSON.stringify(record.scopes),
    optional_scopes: JSON.stringify(record.optional_scopes),
    token_endpoint_auth_method: record.token_endpoint_auth_method,
    allowed_cors_origins: JSON.stringify(record.allowed_cors_origins),
    post_logout_redirect_uris: JSON.stringify(record.post_logout_redirect_uris),
    client_uri: record.client_uri,
    logo_uri: record.logo_uri,
    policy_uri: record.policy_uri,
    tos_uri: record.tos_uri,
    client_uri_verification: record.client_uri_verification === null ? null : JSON.stringify(record.client_uri_verification),
    secret_hash: record.secret_hash,
    rotated_secret_hash: record.rotated_secret_hash,
    rotated_at: record.rotated_at,
    created_at: record.created_at,
    updated_at: record.updated_at,
    promoted_at: record.promoted_at,
    version: record.version,
  };
}

/** The version-1 SQLite schema (`MIGRATIONS[0]` of the released adapter). */
function version1SqliteSchema(table: string): string {
  return `
    CREATE TABLE ${table} (
      client_id TEXT NOT NULL PRIMARY KEY, account_id TEXT NOT NULL, visibility TEXT NOT NULL,
      client_name TEXT NOT NULL, grant_types TEXT NOT NULL, response_types TEXT NOT NULL,
      redirect_uris TEXT NOT NULL, scopes TEXT NOT NULL, optional_scopes TEXT NOT NULL,
      token_endpoint_auth_method TEXT NOT NULL, allowed_cors_origins TEXT NOT NULL,
      post_logout_redirect_uris TEXT NOT NULL, client_uri TEXT, logo_uri TEXT, policy_uri TEXT, tos_uri TEXT,
      client_uri_verification TEXT, secret_hash TEXT, rotated_secret_hash TEXT, rotated_at TEXT,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, promoted_at TEXT, version INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX ${table}_list_idx ON ${table} (account_id, created_at, client_id);`;
}

/** A closed version-1 SQLite file holding `records`, in WAL mode as the version-1 store left it. */
function version1SqliteFile(records: readonly StoredClient[], tables: readonly string[] = ["oauth_clients"]): string {
  const file = newFile();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.transaction(() => {
    for (const table of tables) {
      db.exec(version1SqliteSchema(table));
      const columns = Object.keys(toVersion1Row(records[0]!));
      const insert = db.prepare(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
      for (const record of records) insert.run(toVersion1Row(record));
    }
    db.pragma("user_version = 1");
  })();
  db.close();
  return file;
}

// ---------------------------------------------------------------------------
// What the upgrade must keep

/**
 * Records as the version-1 code wrote them: the large one (emoji, RTL,
 * quotes, 100 URIs), with and without a rotated secret, a public client
 * without any secret, ties on created_at, three accounts, and `bulk` more
 * so that the copy takes several batches.
 */
function version1Records(bulk: number): StoredClient[] {
  const [a, b, c] = ["acct_a", "acct_b", "acct_c"];
  const tie = "2025-03-01T00:00:00.000Z";
  return [
    makeLargeStoredClient({ account_id: a }),
    makeStoredClient({
      account_id: a,
      rotated_secret_hash: `sha256$${"d".repeat(64)}`,
      rotated_at: "2025-02-02T02:02:02.002Z",
      client_uri: "https://app.example.com",
      client_uri_verification: { status: "pending", text: "oauth-client-verification=abc" },
      version: 4,
    }),
    makeStoredClient({ account_id: a, token_endpoint_auth_method: "none", secret_hash: null, created_at: tie }),
    makeStoredClient({ account_id: a, client_name: "« guillemets » and \"quotes\"", created_at: tie }),
    makeStoredClient({ account_id: a, client_name: "שלום 👋🏽", created_at: tie }),
    makeStoredClient({ account_id: b, optional_scopes: ["email"], scopes: ["profile", "email"] }),
    ...Array.from({ length: bulk }, (_, i) =>
      makeStoredClient({ account_id: c, created_at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(), version: 1 + (i % 5) }),
    ),
  ];
}

/** An account's records in list order. */
function inListOrder(records: readonly StoredClient[], accountId: string): StoredClient[] {
  return records
    .filter((r) => r.account_id === accountId)
    .sort((x, y) =>
      x.created_at !== y.created_at ? (x.created_at < y.created_at ? -1 : 1) : x.client_id < y.client_id ? -1 : 1,
    );
}

async function listAll(store: ClientStore, accountId: string, limit: number): Promise<StoredClient[]> {
  const all: StoredClient[] = [];
  for (let page = await store.list(accountId, { limit }); page.length > 0; ) {
    all.push(...page);
    const last = page.at(-1)!;
    page = await store.list(accountId, { limit, after: { created_at: last.created_at, client_id: last.client_id } });
  }
  return all;
}

/** Every record reads back exactly through get, getById and list. */
async function expectAllReadBack(store: ClientStore, records: readonly StoredClient[]): Promise<void> {
  for (const record of records) {
    expect(await store.get(record.account_id, record.client_id)).toStrictEqual(record);
    expect(await store.getById(record.client_id)).toStrictEqual(record);
  }
  for (const account of new Set(records.map((r) => r.account_id))) {
    expect(await listAll(store, account, 7)).toStrictEqual(inListOrder(records, account));
  }
}

/** Compare-and-swap updates, conditional deletes and inserts work on migrated rows. */
async function expectWritable(store: ClientStore, records: readonly StoredClient[]): Promise<void> {
  const [large, rotated] = records as [StoredClient, StoredClient];
  const renamed = { ...large, client_name: "Renamed after the upgrade", redirect_uris: ["https://new.example.com/cb"], version: large.version + 1 };
  expect(await store.update(renamed, large.version)).toBe(true);
  expect(await store.update({ ...renamed, version: large.version + 1 }, large.version)).toBe(false);
  expect(await store.get(large.account_id, large.client_id)).toStrictEqual(renamed);

  expect(await store.delete(rotated.account_id, rotated.client_id, rotated.version - 1)).toBe(false);
  expect(await store.delete(rotated.account_id, rotated.client_id, rotated.version)).toBe(true);
  expect(await store.getById(rotated.client_id)).toBeNull();

  const added = makeStoredClient({ account_id: large.account_id });
  expect(await store.insert(added)).toBe(true);
  expect(await store.insert({ ...added, account_id: "acct_other" })).toBe(false);
  expect(await store.getById(added.client_id)).toStrictEqual(added);
}

// ---------------------------------------------------------------------------
// The codec

describe("row codec: key columns plus one JSON document", () => {
  it("stores every key that is not a key column in the document, generically", () => {
    const record = makeLargeStoredClient();
    const row = toClientRow(record);
    expect(Object.keys(row).sort()).toEqual(["account_id", "client_id", "created_at", "document", "version"]);
    const { client_id: _id, account_id: _account, created_at: _created, version: _version, ...rest } = record;
    expect(JSON.parse(row.document)).toStrictEqual(rest);
    expect(fromClientRow(row)).toStrictEqual(record);
  });

  it("round-trips a key the codec has never heard of", () => {
    const record = { ...makeStoredClient(), software_statement_claims: { a: [1, "two", null] } } as StoredClient;
    expect(fromClientRow(toClientRow(record))).toStrictEqual(record);
  });

  it("fills fields the document lacks from the defaults; stored values and key columns win", () => {
    const record = makeStoredClient({ client_name: "Stored" });
    const row = toClientRow(record);
    const defaults = { client_name: "Default", software_id: null, contacts: [] as string[] } as Partial<StoredClient>;
    const decoded = fromClientRow({ ...row, version: String(record.version) }, defaults);
    expect(decoded).toStrictEqual({ ...record, software_id: null, contacts: [] });
    const document = JSON.stringify({ ...JSON.parse(row.document), client_id: "forged", version: 99 });
    expect(fromClientRow({ ...row, document })).toStrictEqual(record);
  });

  it("copies default values, so two records never share an array", () => {
    const defaults = { contacts: [] as string[] } as Partial<StoredClient>;
    const a = fromClientRow(toClientRow(makeStoredClient()), defaults) as StoredClient & { contacts: string[] };
    const b = fromClientRow(toClientRow(makeStoredClient()), defaults) as StoredClient & { contacts: string[] };
    a.contacts.push("x");
    expect(b.contacts).toEqual([]);
    expect(defaults).toEqual({ contacts: [] });
  });

  it("refuses a document that is not a JSON object, naming the client", () => {
    const row = toClientRow(makeStoredClient({ client_id: "c1" }));
    for (const document of ["null", "[]", '"text"', "3"]) {
      expect(() => fromClientRow({ ...row, document })).toThrow(/stored document of client "c1" is not a JSON object/);
    }
    expect(() => fromClientRow({ ...row, document: "{" })).toThrow(/stored document of client "c1" is not valid JSON/);
  });
});

// ---------------------------------------------------------------------------
// SQLite

/** The file's bytes (as a hash) and which of its side files exist. */
function fingerprint(file: string) {
  return {
    sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    sideFiles: ["-wal", "-shm", "-journal"].filter((suffix) => existsSync(`${file}${suffix}`)),
  };
}

/** What the file's schema holds: user_version, named objects, the columns of `table`. */
function schemaOf(file: string, table = "oauth_clients") {
  const db = new Database(file, { readonly: true });
  try {
    return {
      userVersion: db.pragma("user_version", { simple: true }),
      objects: db
        .prepare<[], { type: string; name: string; tableName: string }>(
          "SELECT type, name, tbl_name AS tableName FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name",
        )
        .all(),
      columns: db.prepare("SELECT name FROM pragma_table_info(?)").pluck().all(table),
    };
  } finally {
    db.close();
  }
}

describe("SQLite store: upgrading a version-1 file", () => {
  it("migrates at open: the document layout, user_version 2, the list index; every record reads back identical and stays writable", async () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(2);
    // More than one copy batch (500 rows).
    const records = version1Records(1100);
    const file = version1SqliteFile(records);
    const store = createSqliteStore(file);
    const schema = schemaOf(file);
    expect(schema.userVersion).toBe(2);
    expect(schema.columns).toEqual(["client_id", "account_id", "created_at", "version", "document"]);
    expect(schema.objects).toEqual([
      { type: "table", name: "oauth_clients", tableName: "oauth_clients" },
      { type: "table", name: "oauth_clients_claims", tableName: "oauth_clients_claims" },
      { type: "index", name: "oauth_clients_claims_expiry_idx", tableName: "oauth_clients_claims" },
      { type: "index", name: "oauth_clients_claims_owner_idx", tableName: "oauth_clients_claims" },
      { type: "index", name: "oauth_clients_list_idx", tableName: "oauth_clients" },
    ]);
    await expectAllReadBack(store, records);
    await expectWritable(store, records);
    await store.close();
  });

  it("leaves an already-migrated file byte-identical when opened again", async () => {
    const records = version1Records(20);
    const file = version1SqliteFile(records);
    await createSqliteStore(file).close();
    const before = fingerprint(file);
    expect(before.sideFiles).toEqual([]);
    const store = createSqliteStore(file);
    await expectAllReadBack(store, records);
    await store.close();
    expect(fingerprint(file)).toEqual(before);
  });

  it("migrates a version-1 table by its columns, even when another table of the file already set user_version 2", async () => {
    const records = version1Records(10);
    const file = version1SqliteFile(records, ["clients_a", "clients_b"]);
    const a = createSqliteStore(file, { tableName: "clients_a" });
    await expectAllReadBack(a, records);
    expect(schemaOf(file).userVersion).toBe(2);
    const b = createSqliteStore(file, { tableName: "clients_b" });
    await expectAllReadBack(b, records);
    expect(schemaOf(file, "clients_b").columns).toEqual(["client_id", "account_id", "created_at", "version", "document"]);
    await Promise.all([a.close(), b.close()]);
  });

  it("rolls a failing migration back whole: the file keeps its version-1 table and every row", () => {
    const records = version1Records(600);
    const file = version1SqliteFile(records);
    const db = new Database(file);
    // A row the version-1 code could never have written, past the first batch.
    db.prepare("UPDATE oauth_clients SET redirect_uris = '[' WHERE client_id = ?").run(
      records.map((r) => r.client_id).sort().at(-1),
    );
    db.close();
    expect(() => createSqliteStore(file)).toThrow(/cannot open the SQLite client store at .*: the stored redirect_uris of client ".*" is not valid JSON$/);
    const schema = schemaOf(file);
    expect(schema.userVersion).toBe(1);
    expect(schema.columns).toHaveLength(24);
    expect(schema.objects.map((o) => o.name)).toEqual(["oauth_clients", "oauth_clients_list_idx"]);
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT count(*) FROM oauth_clients").pluck().get()).toBe(records.length);
    check.close();
  });

  it.each([
    {
      table: "the document layout without its document column",
      create: "CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, account_id TEXT, created_at TEXT, version INTEGER)",
      reason: /table oauth_clients exists but is not this library's: missing columns document$/,
    },
    {
      table: "the document layout with a column of its own",
      create: "CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, account_id TEXT, created_at TEXT, version INTEGER, document TEXT, note TEXT)",
      reason: /table oauth_clients exists but is not this library's: unexpected columns note$/,
    },
    {
      table: "the document layout keyed on another column",
      create: "CREATE TABLE oauth_clients (client_id TEXT, account_id TEXT PRIMARY KEY, created_at TEXT, version INTEGER, document TEXT)",
      reason: /table oauth_clients exists but is not this library's: client_id is not its primary key$/,
    },
  ])("refuses a table with $table and leaves the file byte-identical", ({ create, reason }) => {
    const file = newFile();
    const db = new Database(file);
    db.exec(create);
    db.close();
    const before = fingerprint(file);
    expect(() => createSqliteStore(file)).toThrow(reason);
    expect(fingerprint(file)).toEqual(before);
  });

  it("is migrated once when two processes open the version-1 file at the same time", async () => {
    const records = version1Records(3000);
    const file = version1SqliteFile(records);
    // Hold the write lock until both processes are opening the file, so
    // both find version 1 and both must wait for the lock to migrate.
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    const adapter = pathToFileURL(join(root, "adapters/sqlite.ts")).href;
    const script = `
      import { createSqliteStore } from ${JSON.stringify(adapter)};
      console.log("opening");
      const store = createSqliteStore(process.argv[1], { lockTimeoutMs: 60000 });
      const ids = JSON.parse(process.argv[2]);
      const found = await Promise.all(ids.map((id) => store.getById(id)));
      console.log(JSON.stringify(found));
      await store.close();`;
    const sample = [records[0]!, records[1]!, records.at(-1)!];
    const processes = [0, 1].map(() => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script, file, JSON.stringify(sample.map((r) => r.client_id))],
        { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exit = once(child, "exit").then(([code]) => ({ code: code as number | null, stdout, stderr }));
      const opening = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", () => stdout.includes("opening\n") && resolve());
        void exit.then((result) => reject(new Error(`exited before opening: ${JSON.stringify(result)}`)));
      });
      return { exit, opening };
    });
    try {
      await Promise.all(processes.map((p) => p.opening));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(schemaOf(file).userVersion).toBe(1);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    for (const { code, stdout, stderr } of await Promise.all(processes.map((p) => p.exit))) {
      expect(code, stderr).toBe(0);
      expect(JSON.parse(stdout.split("\n")[1]!)).toStrictEqual(sample);
    }
    const schema = schemaOf(file);
    expect(schema.userVersion).toBe(2);
    expect(schema.objects.map((o) => o.name)).toEqual([
      "oauth_clients",
      "oauth_clients_claims",
      "oauth_clients_claims_expiry_idx",
      "oauth_clients_claims_owner_idx",
      "oauth_clients_list_idx",
    ]);
    const store = createSqliteStore(file);
    await expectAllReadBack(store, records);
    await store.close();
  }, 60_000);
});

// ---------------------------------------------------------------------------
// Kysely

const DOCUMENT_COLUMN = "oauth_client_registry_0002_document_column";
const CLAIMS_TABLE = "oauth_client_registry_0003_claims_table";

/** Brings `db` to version 1 with only migration 0001 and stores `records` as the version-1 code did. */
async function version1Kysely(db: Kysely<unknown>, tablePrefix: string, records: readonly StoredClient[]): Promise<void> {
  const { error, results } = await registryMigrator(db, tablePrefix).migrateTo(VERSION_1);
  expect(error).toBeUndefined();
  expect(results?.map((r) => r.migrationName)).toEqual([VERSION_1]);
  const k = db as unknown as Kysely<Record<string, Version1Row>>;
  for (let i = 0; i < records.length; i += 50) {
    await k.insertInto(`${tablePrefix}oauth_clients`).values(records.slice(i, i + 50).map(toVersion1Row)).execute();
  }
}

/** PostgreSQL only: the indexes of a table, the primary key's included. */
async function postgresIndexes(db: Kysely<unknown>, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT indexname AS name FROM pg_indexes WHERE tablename = ${table} AND schemaname = current_schema() ORDER BY indexname`.execute(db);
  return rows.map((r) => r.name);
}

async function columnsOf(db: Kysely<unknown>, table: string): Promise<string[]> {
  const tables = await db.introspection.getTables();
  return tables.find((t) => t.name === table)?.columns.map((c) => c.name) ?? [];
}

/** The upgrade, checked the same way on every Kysely backend. */
function describeKyselyUpgrade(
  name: string,
  open: () => { db: Kysely<unknown>; tablePrefix: string },
  { start, postgres = false }: { start?: () => Promise<unknown>; postgres?: boolean } = {},
): void {
  describe(`Kysely store on ${name}: upgrading a version-1 database`, () => {
    if (start) beforeAll(start);

    it("migrates with 0002: every record reads back identical, writes work, a second run does nothing", async () => {
      const { db, tablePrefix } = open();
      // More than one copy batch (100 rows).
      const records = version1Records(250);
      await version1Kysely(db, tablePrefix, records);
      const results = await migrateToLatest(db, { tablePrefix });
      expect(results.map((r) => [r.migrationName, r.status])).toEqual([[DOCUMENT_COLUMN, "Success"], [CLAIMS_TABLE, "Success"]]);
      expect((await columnsOf(db, `${tablePrefix}oauth_clients`)).sort()).toEqual(
        ["account_id", "client_id", "created_at", "document", "version"],
      );
      expect(await columnsOf(db, `${tablePrefix}oauth_clients_rebuilt`)).toEqual([]);
      const store = createKyselyStore(db, { tablePrefix });
      await expectAllReadBack(store, records);
      await expectWritable(store, records);
      expect(await migrateToLatest(db, { tablePrefix })).toEqual([]);
    });

    it("migrates back down to 0001 and up again without losing a record", async () => {
      const { db, tablePrefix } = open();
      const records = version1Records(120);
      await version1Kysely(db, tablePrefix, records);
      const table = `${tablePrefix}oauth_clients`;
      const version1Indexes = postgres ? await postgresIndexes(db, table) : [];
      await migrateToLatest(db, { tablePrefix });
      if (postgres) expect(await postgresIndexes(db, table)).toEqual([`${table}_list_idx`, `${table}_pk`]);
      const down = await registryMigrator(db, tablePrefix).migrateTo(VERSION_1);
      expect(down.error).toBeUndefined();
      expect(down.results?.map((r) => [r.migrationName, r.direction, r.status])).toEqual([
        [CLAIMS_TABLE, "Down", "Success"],
        [DOCUMENT_COLUMN, "Down", "Success"],
      ]);
      const k = db as unknown as Kysely<Record<string, Version1Row>>;
      const rows = await k.selectFrom(`${tablePrefix}oauth_clients`).selectAll().orderBy("client_id").execute();
      const expected = records.map(toVersion1Row).sort((x, y) => (String(x.client_id) < String(y.client_id) ? -1 : 1));
      expect(rows.map((row) => ({ ...row, version: Number(row.version) }))).toStrictEqual(expected);
      // Names as migration 0001 left them, so that version-1 code finds its schema unchanged.
      if (postgres) expect(await postgresIndexes(db, table)).toEqual(version1Indexes);
      await migrateToLatest(db, { tablePrefix });
      await expectAllReadBack(createKyselyStore(db, { tablePrefix }), records);
    });
  });
}

const sqliteKyselys: Kysely<unknown>[] = [];
afterAll(() => Promise.all(sqliteKyselys.map((db) => db.destroy())));
describeKyselyUpgrade("SQLite", () => {
  const database = new Database(newFile());
  database.pragma("journal_mode = WAL");
  sqliteKyselys.push(new Kysely<unknown>({ dialect: new SqliteDialect({ database }) }));
  return { db: sqliteKyselys.at(-1)!, tablePrefix: "app_" };
});

describe("Kysely store on SQLite: a failing upgrade", () => {
  it("rolls back whole (the Migrator runs SQLite migrations outside a transaction; 0002 opens its own)", async () => {
    const database = new Database(newFile());
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database }) });
    const records = version1Records(150);
    await version1Kysely(db, "", records);
    database.prepare("UPDATE oauth_clients SET scopes = 'not json' WHERE client_id = ?").run(
      records.map((r) => r.client_id).sort().at(-1),
    );
    await expect(migrateToLatest(db)).rejects.toThrow(
      new RegExp(`migrating the clients table failed in ${DOCUMENT_COLUMN}: the stored scopes of client ".*" is not valid JSON$`),
    );
    expect(await columnsOf(db, "oauth_clients")).toHaveLength(24);
    expect(await columnsOf(db, "oauth_clients_rebuilt")).toEqual([]);
    expect(database.prepare("SELECT count(*) FROM oauth_clients").pluck().get()).toBe(records.length);
    await db.destroy();
  });
});

// Started when its tests start: starting PGlite occupies this process for
// seconds, which would hold up the lock release in the SQLite tests above.
let pglite: PGlite | undefined;
afterAll(() => pglite?.close());
let pgliteRun = 0;
describeKyselyUpgrade(
  "PostgreSQL (PGlite)",
  () => ({ db: new Kysely<unknown>({ dialect: new PGliteDialect(pglite!) }), tablePrefix: `run${++pgliteRun}_` }),
  { start: () => (pglite = new PGlite()).waitReady, postgres: true },
);

const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  // Unique per run, so reruns and parallel runs never see each other's tables.
  const runPrefix = `m${Date.now().toString(36)}${randomBytes(3).toString("hex")}_`;
  const prefixes: string[] = [];
  const pools: pg.Pool[] = [];
  const connect = () => {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 5, connectionTimeoutMillis: 5000 });
    pools.push(pool);
    return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  };
  const [dbA, dbB] = [connect(), connect()];
  const prefix = () => {
    prefixes.push(`${runPrefix}${prefixes.length}_`);
    return prefixes.at(-1)!;
  };

  afterAll(async () => {
    try {
      for (const p of prefixes) {
        for (const table of ["oauth_clients", "oauth_clients_claims", "oauth_clients_rebuilt", "oauth_clients_migrations", "oauth_clients_migrations_lock"]) {
          await dbA.schema.dropTable(`${p}${table}`).ifExists().execute();
        }
      }
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  describeKyselyUpgrade("a real PostgreSQL server", () => ({ db: dbA, tablePrefix: prefix() }), { postgres: true });

  describe("Kysely store on a real PostgreSQL server: concurrent upgrades", () => {
    it("migrates a version-1 database once when two processes upgrade it at the same time", async () => {
      const tablePrefix = prefix();
      const records = version1Records(300);
      await version1Kysely(dbA, tablePrefix, records);
      const [first, second] = await Promise.all([migrateToLatest(dbA, { tablePrefix }), migrateToLatest(dbB, { tablePrefix })]);
      expect([...first, ...second].map((r) => [r.migrationName, r.status])).toEqual([[DOCUMENT_COLUMN, "Success"], [CLAIMS_TABLE, "Success"]]);
      await expectAllReadBack(createKyselyStore(dbB, { tablePrefix }), records);
      expect(await postgresIndexes(dbA, `${tablePrefix}oauth_clients`)).toEqual([
        `${tablePrefix}oauth_clients_list_idx`,
        `${tablePrefix}oauth_clients_pk`,
      ]);
    });
  });
}
