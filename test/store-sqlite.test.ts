import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createSqliteStore, SQLITE_SCHEMA_VERSION, type SqliteClientStore } from "../adapters/sqlite.js";
import { parseServeArgs } from "../src/cli/args.js";
import { StartupError } from "../src/cli/errors.js";
import { serve } from "../src/cli/serve.js";
import { createFetchHandler } from "../src/http/index.js";
import { createOAuthClientRegistry, InternalError, StorageUnavailableError } from "../src/index.js";
import { makeStoredClient, runStoreConformanceSuite } from "../src/testing/conformance.js";
import { damagePages, fingerprint } from "./helpers/sqlite-driver-suite.js";

const dir = mkdtempSync(join(tmpdir(), "oauth-registry-sqlite-"));
let fileCounter = 0;
const newFile = () => join(dir, `store-${++fileCounter}.sqlite`);


/** A closed file holding `count` clients of one account, spread over several pages. */
async function fileWithClients(count: number): Promise<{ file: string; account: string }> {
  const file = newFile();
  const account = `acct_${fileCounter}`;
  // Durability does not matter here; skipping the fsyncs keeps the test fast.
  const store = createSqliteStore(file, { synchronous: "normal" });
  await Promise.all(Array.from({ length: count }, () => store.insert(makeStoredClient({ account_id: account }))));
  await store.close();
  return { file, account };
}

/** Opens a store and also returns the connection it opened for itself. */
function openWithConnection(open: () => SqliteClientStore): { store: SqliteClientStore; connection: Database.Database } {
  const prepare = vi.spyOn(Database.prototype, "prepare");
  try {
    const store = open();
    return { store, connection: prepare.mock.contexts[0] as Database.Database };
  } finally {
    prepare.mockRestore();
  }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Resolves after the event loop has gone round: pending I/O callbacks and immediates ran. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformanceSuite("SQLite (temp file)", async () => {
  const store = createSqliteStore(newFile());
  return { store, cleanup: () => store.close() };
});

describe("SQLite store: opening and migrating", () => {
  it("creates the table and list index on open, records the schema in user_version, enables WAL", async () => {
    const file = newFile();
    const store = createSqliteStore(file);
    const db = new Database(file, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const index = db
      .prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'oauth_clients' AND sql IS NOT NULL")
      .pluck()
      .all();
    expect(index).toEqual([expect.stringMatching(/\(account_id, created_at, client_id\)/)]);
    db.close();
    await store.close();
  });

  it("reopens an existing file and keeps its records", async () => {
    const file = newFile();
    const record = makeStoredClient();
    const first = createSqliteStore(file);
    await first.insert(record);
    await first.close();
    const second = createSqliteStore(file);
    expect(await second.get(record.account_id, record.client_id)).toStrictEqual(record);
    await second.close();
  });

  it("fails at open with a clear error when the file cannot be opened", () => {
    expect(() => createSqliteStore(join(dir, "no-such-dir", "x.sqlite"))).toThrow(
      /cannot open the SQLite client store at ".*no-such-dir.*x\.sqlite": Cannot open database because the directory does not exist/,
    );
  });

  it("fails at open with a clear error when the file is not a database", () => {
    const file = newFile();
    writeFileSync(file, "this is not a database, just text ".repeat(100));
    expect(() => createSqliteStore(file)).toThrow(/cannot open the SQLite client store .*not a database/);
  });

  it("refuses a file whose schema is newer than this library knows", () => {
    const file = newFile();
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => createSqliteStore(file)).toThrow(
      new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 1} .* is newer than this oauth-client-registry supports \\(${SQLITE_SCHEMA_VERSION}\\)`),
    );
  });

  it("refuses a table name that is not a plain identifier", () => {
    expect(() => createSqliteStore(":memory:", { tableName: 'x"; DROP TABLE y; --' })).toThrow(/tableName must match/);
  });

  it("keeps two stores with different table names in one file apart", async () => {
    const file = newFile();
    const a = createSqliteStore(file, { tableName: "clients_a" });
    const b = createSqliteStore(file, { tableName: "clients_b" });
    const record = makeStoredClient();
    await a.insert(record);
    expect(await b.getById(record.client_id)).toBeNull();
    expect(await a.getById(record.client_id)).toStrictEqual(record);
    await Promise.all([a.close(), b.close()]);
  });

  it("adopts a Database it is given without changing its journal mode or closing it", async () => {
    const db = new Database(newFile());
    expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
    const store = createSqliteStore(db);
    const record = makeStoredClient();
    await store.insert(record);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.pragma("journal_mode", { simple: true })).toBe("delete");
    expect(db.prepare("SELECT count(*) FROM oauth_clients").pluck().get()).toBe(1);
    db.close();
  });

  it("reads the version as a number even when the Database returns bigints", async () => {
    const db = new Database(":memory:");
    db.defaultSafeIntegers(true);
    const store = createSqliteStore(db);
    const record = makeStoredClient({ version: 3 });
    await store.insert(record);
    expect(await store.getById(record.client_id)).toStrictEqual(record);
    db.close();
  });
});

describe("SQLite store: query plans", () => {
  it("serves every list page from the (account_id, created_at, client_id) index without sorting", async () => {
    const db = new Database(newFile());
    const sources: string[] = [];
    const prepare = db.prepare.bind(db);
    db.prepare = ((source: string) => {
      sources.push(source);
      return prepare(source);
    }) as typeof db.prepare;
    createSqliteStore(db);
    const listQueries = sources.filter((s) => /ORDER BY created_at, client_id/.test(s));
    expect(listQueries).toHaveLength(2);
    for (const source of listQueries) {
      const params = source.includes("> (?, ?)") ? ["acct", "2025-01-01T00:00:00.000Z", "x", 10] : ["acct", 10];
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as { detail: string }[];
      const details = plan.map((p) => p.detail).join("\n");
      expect(details).toMatch(/SEARCH oauth_clients USING INDEX oauth_clients_list_idx \(account_id=\?/);
      expect(details).not.toMatch(/TEMP B-TREE/);
      if (source.includes("> (?, ?)")) expect(details).toMatch(/\(created_at,client_id\)>\(\?,\?\)/);
    }
    db.close();
  });
});

describe("SQLite store: refused opens leave the file untouched", () => {
  /** This library's columns as a hand-written table; `extra` is appended to the column list. */
  const ours = (extra = "") =>
    `CREATE TABLE oauth_clients (client_id TEXT PRIMARY KEY, ${["account_id", "visibility", "client_name", "grant_types", "response_types",
      "redirect_uris", "scopes", "optional_scopes", "token_endpoint_auth_method", "allowed_cors_origins",
      "post_logout_redirect_uris", "client_uri", "logo_uri", "policy_uri", "tos_uri", "client_uri_verification",
      "secret_hash", "rotated_secret_hash", "rotated_at", "created_at", "updated_at", "promoted_at", "version"].join(", ")}${extra})`;

  it.each([
    {
      file: "with another application's oauth_clients table",
      setup: ["CREATE TABLE oauth_clients (id INTEGER PRIMARY KEY, name TEXT)", "INSERT INTO oauth_clients (name) VALUES ('theirs')"],
      reason: /table oauth_clients exists but is not this library's: it has none of this library's columns \(its columns: id, name\)$/,
    },
    {
      file: "whose oauth_clients table lacks some of this library's columns",
      setup: [ours().replace(", promoted_at, version", "")],
      reason: /table oauth_clients exists but is not this library's: missing columns promoted_at, version$/,
    },
    {
      file: "whose table differs only in the case of its name",
      setup: ["CREATE TABLE OAUTH_CLIENTS (id INTEGER PRIMARY KEY)"],
      reason: /table oauth_clients exists but is not this library's: it has none of this library's columns \(its columns: id\)$/,
    },
    {
      file: "whose oauth_clients table has a column this library does not know",
      setup: [ours(", note")],
      reason: /table oauth_clients exists but is not this library's: unexpected columns note$/,
    },
    {
      file: "whose oauth_clients table has these columns but another primary key",
      setup: [ours(", PRIMARY KEY (account_id)").replace("client_id TEXT PRIMARY KEY", "client_id TEXT")],
      reason: /table oauth_clients exists but is not this library's: client_id is not its primary key$/,
    },
    {
      file: "with a view named oauth_clients",
      setup: ["CREATE VIEW oauth_clients AS SELECT 1 AS client_id"],
      reason: /oauth_clients exists but is a view, not this library's table$/,
    },
    {
      file: "with a newer schema version",
      setup: [ours(), `PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 1}`],
      reason: new RegExp(
        `schema version ${SQLITE_SCHEMA_VERSION + 1} \\(PRAGMA user_version\\) is newer than this oauth-client-registry supports \\(${SQLITE_SCHEMA_VERSION}\\)`,
      ),
    },
    {
      file: "in WAL mode with a newer schema version",
      setup: ["PRAGMA journal_mode = WAL", "CREATE TABLE theirs (x)", `PRAGMA user_version = ${SQLITE_SCHEMA_VERSION + 7}`],
      reason: new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 7} .* is newer`),
    },
  ])("refuses a file $file, naming the file and the reason, and leaves it byte-identical", ({ setup, reason }) => {
    const file = newFile();
    const db = new Database(file);
    for (const statement of setup) db.exec(statement);
    db.close();
    const before = fingerprint(file);
    expect(before.sideFiles).toEqual([]);

    let error: unknown;
    try {
      createSqliteStore(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message.startsWith(`cannot open the SQLite client store at ${JSON.stringify(file)}: `)).toBe(true);
    expect(message).toMatch(reason);
    expect(fingerprint(file)).toEqual(before);
  });

  it("refuses a caller's Database with a foreign table without writing to it", () => {
    const file = newFile();
    const db = new Database(file);
    db.exec("CREATE TABLE oauth_clients (id INTEGER PRIMARY KEY)");
    const before = fingerprint(file);
    expect(() => createSqliteStore(db)).toThrow(/not this library's: it has none of this library's columns/);
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get()).toBe(1);
    db.close();
    expect(fingerprint(file)).toEqual(before);
  });

  it("adopts a hand-made table with exactly this library's columns: adds the list index and records the schema", async () => {
    const file = newFile();
    const db = new Database(file);
    db.exec(ours());
    db.close();
    const store = createSqliteStore(file);
    const record = makeStoredClient();
    expect(await store.insert(record)).toBe(true);
    await store.close();
    const check = new Database(file, { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").pluck().all()).toEqual([
      "oauth_clients_list_idx",
      "oauth_clients_claims_owner_idx",
      "oauth_clients_claims_expiry_idx",
    ]);
    check.close();
  });
});

describe("SQLite store: waiting for another connection's lock", () => {
  it("keeps serving reads and the event loop while a write waits, then completes the write once the lock is released", async () => {
    const file = newFile();
    const store = createSqliteStore(file, { lockTimeoutMs: 60_000 });
    const existing = makeStoredClient();
    await store.insert(existing);
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");

    const events: string[] = [];
    const waiting = makeStoredClient();
    const write = store.insert(waiting).then((inserted) => {
      events.push("write");
      return inserted;
    });
    expect(await store.get(existing.account_id, existing.client_id)).toStrictEqual(existing);
    events.push("read of another client");
    await nextTurn();
    events.push("immediate");
    await new Promise((resolve) => setTimeout(resolve, 20));
    events.push("timer");
    expect(events).toEqual(["read of another client", "immediate", "timer"]);

    holder.exec("COMMIT");
    holder.close();
    expect(await write).toBe(true);
    expect(events.at(-1)).toBe("write");
    expect(await store.getById(waiting.client_id)).toStrictEqual(waiting);
    await store.close();
  });

  it.each([{ lockTimeoutMs: 20 }, { busyTimeoutMs: 20 }])(
    "with %j, a write still locked out at the deadline fails with StorageUnavailableError and stores nothing",
    async (options) => {
      const file = newFile();
      const store = createSqliteStore(file, options);
      const holder = new Database(file);
      holder.exec("BEGIN IMMEDIATE");
      const record = makeStoredClient();
      try {
        const attempt = store.insert(record);
        await expect(attempt).rejects.toBeInstanceOf(StorageUnavailableError);
        await expect(attempt).rejects.toThrow(
          "the database stayed locked by another connection for longer than lockTimeoutMs (20 ms); retry shortly",
        );
        await expect(attempt).rejects.toMatchObject({ code: "storage_unavailable", status: 503 });
      } finally {
        holder.exec("ROLLBACK");
        holder.close();
      }
      expect(await store.getById(record.client_id)).toBeNull();
      expect(await store.insert(record)).toBe(true);
      await store.close();
    },
  );

  it("answers 503 with x-should-retry and Retry-After over HTTP while the database stays locked", async () => {
    const file = newFile();
    const store = createSqliteStore(file, { lockTimeoutMs: 0 });
    const handler = createFetchHandler(createOAuthClientRegistry(store), { authorize: () => true, onError: () => {} });
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    try {
      const response = await handler(
        new Request("http://localhost/client/v4/accounts/acct/oauth_clients", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            client_name: "Locked out",
            grant_types: ["authorization_code"],
            response_types: ["code"],
            redirect_uris: ["https://app.example.com/cb"],
            scopes: [],
            token_endpoint_auth_method: "client_secret_basic",
          }),
        }),
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("x-should-retry")).toBe("true");
      expect(response.headers.get("retry-after")).toBe("1");
      const body = (await response.json()) as { errors: { message: string }[] };
      expect(body.errors[0]!.message).toMatch(/locked by another connection/);
      expect(body.errors[0]!.message).not.toContain(file);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    await store.close();
  });

  it("lets a read that meets an exclusive lock wait asynchronously too", async () => {
    // In rollback-journal mode an EXCLUSIVE lock keeps readers out as well.
    const file = newFile();
    const db = new Database(file);
    const store = createSqliteStore(db, { lockTimeoutMs: 60_000 });
    const record = makeStoredClient();
    await store.insert(record);
    const holder = new Database(file);
    holder.exec("BEGIN EXCLUSIVE");
    let settled = false;
    const read = store.getById(record.client_id).finally(() => (settled = true));
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    holder.exec("COMMIT");
    holder.close();
    expect(await read).toStrictEqual(record);
    db.close();
  });

  it("fails a call still waiting for a lock when the store is closed, with StorageUnavailableError", async () => {
    const file = newFile();
    const store = createSqliteStore(file, { lockTimeoutMs: 60_000 });
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    const write = store.insert(makeStoredClient());
    await store.close();
    await expect(write).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(write).rejects.toThrow("the SQLite store was closed while a call waited for a lock");
    holder.exec("ROLLBACK");
    holder.close();
  });

  it("never lets a caller's Database wait inside SQLite, and leaves its busy timeout as the caller set it", async () => {
    const file = newFile();
    const db = new Database(file, { timeout: 4000 });
    db.pragma("journal_mode = WAL");
    const store = createSqliteStore(db, { lockTimeoutMs: 60_000 });
    const holder = new Database(file);
    holder.exec("BEGIN IMMEDIATE");
    let settled = false;
    const write = store.insert(makeStoredClient()).finally(() => (settled = true));
    await nextTurn();
    expect(settled).toBe(false);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(4000);
    holder.exec("COMMIT");
    holder.close();
    expect(await write).toBe(true);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(4000);
    db.close();
  });

  it("rejects lock timeouts that are not non-negative integers", () => {
    expect(() => createSqliteStore(":memory:", { lockTimeoutMs: -1 })).toThrow(/lockTimeoutMs must be a non-negative integer/);
    expect(() => createSqliteStore(":memory:", { busyTimeoutMs: 1.5 })).toThrow(/busyTimeoutMs must be a non-negative integer/);
  });
});

describe("SQLite store: damaged files", () => {
  it("refuses a file with damaged pages at open, saying it is malformed, and leaves it as it was", async () => {
    const { file } = await fileWithClients(150);
    damagePages(file);
    const before = fingerprint(file);
    expect(() => createSqliteStore(file)).toThrow(
      new RegExp(
        `^cannot open the SQLite client store at ${escapeRegExp(JSON.stringify(file))}: ` +
          `the database file is malformed \\(PRAGMA quick_check: .*\\); restore it from a backup$`,
      ),
    );
    expect(fingerprint(file)).toEqual(before);
  });

  it("makes serve refuse to start on a damaged file with a clear message", async () => {
    const { file } = await fileWithClients(150);
    damagePages(file);
    const lines: string[] = [];
    const output = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const starting = serve(parseServeArgs(["--port", "0", "--db", file], {}), { OAUTH_REGISTRY_API_TOKEN: "t" }, output);
    await expect(starting).rejects.toBeInstanceOf(StartupError);
    await expect(starting).rejects.toThrow(
      new RegExp(`^cannot open SQLite database ${escapeRegExp(file)}: the database file is malformed \\(PRAGMA quick_check: .*\\); restore it from a backup$`),
    );
    expect(lines.filter((line) => line.includes("listening"))).toEqual([]);
  });

  it("with quickCheck: false, reports damage found later as an InternalError saying the file is malformed", async () => {
    const { file, account } = await fileWithClients(150);
    damagePages(file);
    const store = createSqliteStore(file, { quickCheck: false });
    const listing = store.list(account, { limit: 10 });
    await expect(listing).rejects.toBeInstanceOf(InternalError);
    await expect(listing).rejects.toThrow(
      `the SQLite database file ${JSON.stringify(file)} is malformed (SQLITE_CORRUPT: database disk image is malformed); restore it from a backup`,
    );

    // Over HTTP that is a 500 whose logged error says why.
    const logged: unknown[] = [];
    const handler = createFetchHandler(createOAuthClientRegistry(store), {
      authorize: () => true,
      onError: (error) => logged.push(error),
    });
    const response = await handler(new Request(`http://localhost/client/v4/accounts/${account}/oauth_clients`));
    expect(response.status).toBe(500);
    expect(logged).toHaveLength(1);
    expect((logged[0] as Error).message).toMatch(/^the SQLite database file .* is malformed/);
    await store.close();
  });

  it("runs the quick check on a caller's Database only when asked", async () => {
    const { file } = await fileWithClients(150);
    damagePages(file);
    const db = new Database(file);
    expect(() => createSqliteStore(db)).not.toThrow();
    expect(() => createSqliteStore(db, { quickCheck: true })).toThrow(/the database file is malformed/);
    db.close();
  });
});

describe("SQLite store: durability", () => {
  it("runs its own connection with synchronous = FULL by default, on a new file and on a reopened one", async () => {
    const file = newFile();
    for (let open = 0; open < 2; open++) {
      const { store, connection } = openWithConnection(() => createSqliteStore(file));
      expect(connection.pragma("synchronous", { simple: true })).toBe(2);
      expect(connection.pragma("journal_mode", { simple: true })).toBe("wal");
      await store.close();
    }
  });

  it.each([
    ["normal", 1],
    ["full", 2],
    ["extra", 3],
  ] as const)("sets synchronous = %s when asked", async (synchronous, value) => {
    const { store, connection } = openWithConnection(() => createSqliteStore(newFile(), { synchronous }));
    expect(connection.pragma("synchronous", { simple: true })).toBe(value);
    await store.close();
  });

  it("leaves a caller's Database at its own synchronous setting unless one is given", () => {
    const db = new Database(newFile());
    db.pragma("synchronous = OFF");
    createSqliteStore(db);
    expect(db.pragma("synchronous", { simple: true })).toBe(0);
    createSqliteStore(db, { synchronous: "normal" });
    expect(db.pragma("synchronous", { simple: true })).toBe(1);
    db.close();
  });

  it("refuses an unknown synchronous mode", () => {
    expect(() => createSqliteStore(":memory:", { synchronous: "off" as "full" })).toThrow(/synchronous must be one of normal, full, extra/);
  });
});
